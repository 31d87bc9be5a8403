package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
)

// Hub fans events out to the WebSocket connections of each user. It is the
// router's Notifier and the call manager's event sink. Supervisors and
// admins also watch everyone: they get every agent's state, call and
// transcript events with an "agent" field naming whose they are (the
// wallboard and its angry-caller alerts).
type Hub struct {
	log      *slog.Logger
	mu       sync.Mutex
	conns    map[string]map[*conn]struct{} // username → connections
	watchers map[*conn]string              // supervisor/admin connections → username
}

type conn struct {
	send chan []byte
}

// NewHub returns an empty hub.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{log: log, conns: map[string]map[*conn]struct{}{}, watchers: map[*conn]string{}}
}

var (
	_ routing.Notifier = (*Hub)(nil)
	_ call.Events      = (*Hub)(nil)
)

func (h *Hub) send(user string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("hub marshal", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns[user] {
		select {
		case c.send <- b:
		default: // a stuck browser must not stall routing; it resyncs on reconnect
		}
	}
}

// watch sends v to every supervisor/admin connection but user's own.
func (h *Hub) watch(user string, v any) {
	h.mu.Lock()
	n := len(h.watchers)
	h.mu.Unlock()
	if n == 0 {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("hub marshal", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c, name := range h.watchers {
		if name == user {
			continue
		}
		select {
		case c.send <- b:
		default:
		}
	}
}

// AgentState implements routing.Notifier.
func (h *Hub) AgentState(user string, st routing.State) {
	h.send(user, map[string]any{"type": "agent_state", "state": st})
	h.watch(user, map[string]any{"type": "agent_state", "state": st, "agent": user})
}

// Offer implements routing.Notifier.
func (h *Hub) Offer(o routing.Offer) {
	h.send(o.Agent, map[string]any{"type": "offer", "call_id": o.CallID, "from": o.From,
		"intent": o.Intent, "queue": o.Queue, "timeout_ms": o.Timeout.Milliseconds()})
}

// OfferRevoked implements routing.Notifier.
func (h *Hub) OfferRevoked(user, callID string) {
	h.send(user, map[string]any{"type": "offer_revoked", "call_id": callID})
}

// Publish implements call.Events.
func (h *Hub) Publish(user string, ev call.Event) {
	h.send(user, ev)
	h.watch(user, struct {
		call.Event
		Agent string `json:"agent"`
	}{ev, user})
}

// add registers c as one of user's connections; supervisors and admins
// also watch every agent.
func (h *Hub) add(user, role string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[user] == nil {
		h.conns[user] = map[*conn]struct{}{}
	}
	h.conns[user][c] = struct{}{}
	if role == store.RoleSupervisor || role == store.RoleAdmin {
		h.watchers[c] = user
	}
}

func (h *Hub) remove(user string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watchers, c)
	delete(h.conns[user], c)
	if len(h.conns[user]) == 0 {
		delete(h.conns, user)
	}
}

// events upgrades to a WebSocket and streams the user's events. The first
// message is the agent's current state, so a reloaded page resyncs.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if t, ok := bearer(r); ok {
		tok = t
	}
	if tok == "" {
		writeError(w, http.StatusUnauthorized, "missing token")
		return
	}
	u, err := s.userForToken(r.Context(), tok)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "invalid or expired token")
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	c := &conn{send: make(chan []byte, 64)}
	s.opts.Hub.add(u.Username, u.Role, c)
	defer s.opts.Hub.remove(u.Username, c)
	ctx := ws.CloseRead(r.Context())
	if a, ok := s.opts.Router.Agent(u.Username); ok {
		s.opts.Hub.AgentState(u.Username, a.State)
		if a.Offering != "" {
			if c, err := s.opts.Store.Call(ctx, a.Offering); err == nil {
				s.opts.Hub.Offer(routing.Offer{Contact: routing.Contact{CallID: c.ID, Queue: c.Queue,
					From: c.From, Intent: c.Intent}, Agent: u.Username})
			}
		}
	}
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		}
	}
}
