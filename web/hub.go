package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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
//
// Replay. Every event gets a sequence number ("seq"), increasing across
// the whole server, and goes into a bounded ring per scope: one per user
// (their own events, kept from their first connection until they have been
// gone for ringKeep) and one shared by the watchers. A client that lost
// its socket reconnects with ?since=<last seq>&epoch=<epoch> and gets the
// events it missed, in order, before the live ones; when a ring no longer
// reaches back that far (evicted, too old, another server process) it gets
// a "resync" message instead and reloads its state. A connection whose
// buffer overflows (a stuck browser) is closed rather than silently
// skipped, so it resumes from what it last saw.
type Hub struct {
	log   *slog.Logger
	epoch string // this process's; seqs start again at 1 in the next
	now   func() time.Time

	// Limits, changed by tests only.
	userRing, watchRing int           // entries
	ringKeep            time.Duration // an entry's longest stay; a gone user's ring's too

	mu        sync.Mutex
	seq       uint64
	conns     map[string]map[*conn]struct{} // username → connections
	watchers  map[*conn]string              // supervisor/admin connections → username
	rings     map[string]*ring              // username → their events
	watched   *ring                         // events for watchers, labelled with the agent
	watchGone time.Time                     // when the last watcher left (zero while one is on)
	swept     time.Time
}

// Ring sizes: a user's own events (an agent's call yields some tens) and
// everything watchers see (every agent's, transcripts included).
const (
	defaultUserRing  = 256
	defaultWatchRing = 16384
	defaultRingKeep  = 10 * time.Minute
	sweepEvery       = 30 * time.Second
)

type conn struct {
	send     chan []byte
	overflow chan struct{} // closed when send was full: the client must resume
	full     bool          // guarded by Hub.mu
}

// ring is a circular buffer of recent events of one scope.
type ring struct {
	buf     []ringEntry
	head, n int
	dropped uint64    // the highest seq evicted: replay from below it is impossible
	gone    time.Time // user rings: when their last connection closed (zero while one is open)
}

type ringEntry struct {
	seq   uint64
	at    time.Time
	agent string // watch ring: whose event it is
	b     []byte
}

func newRing(size int) *ring { return &ring{buf: make([]ringEntry, size)} }

func (r *ring) push(e ringEntry) {
	if r.n == len(r.buf) {
		r.dropped = max(r.dropped, r.buf[r.head].seq)
		r.buf[r.head] = ringEntry{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
}

// prune evicts the entries older than cutoff.
func (r *ring) prune(cutoff time.Time) {
	for r.n > 0 && r.buf[r.head].at.Before(cutoff) {
		r.dropped = max(r.dropped, r.buf[r.head].seq)
		r.buf[r.head] = ringEntry{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
}

// after returns the entries with seq > since, oldest first.
func (r *ring) after(since uint64, skipAgent string) []ringEntry {
	var out []ringEntry
	for i := 0; i < r.n; i++ {
		e := r.buf[(r.head+i)%len(r.buf)]
		if e.seq > since && (skipAgent == "" || e.agent != skipAgent) {
			out = append(out, e)
		}
	}
	return out
}

// NewHub returns an empty hub.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &Hub{log: log, epoch: hex.EncodeToString(b[:]), now: time.Now,
		userRing: defaultUserRing, watchRing: defaultWatchRing, ringKeep: defaultRingKeep,
		conns: map[string]map[*conn]struct{}{}, watchers: map[*conn]string{},
		rings: map[string]*ring{}, watched: newRing(defaultWatchRing)}
}

var (
	_ routing.Notifier = (*Hub)(nil)
	_ call.Events      = (*Hub)(nil)
	_ call.Watcher     = (*Hub)(nil)
)

// withSeq puts "seq":n first in the JSON object b.
func withSeq(b []byte, n uint64) []byte {
	out := make([]byte, 0, len(b)+28)
	out = append(out, `{"seq":`...)
	out = strconv.AppendUint(out, n, 10)
	if len(b) > 2 {
		out = append(out, ',')
		out = append(out, b[1:]...)
	} else {
		out = append(out, '}')
	}
	return out
}

// emit sends own to user's connections and watched (when not nil) to
// every watcher but user, both under one new seq, and keeps them for
// replay.
func (h *Hub) emit(user string, own, watched any) {
	var ob, wb []byte
	var err error
	if own != nil {
		if ob, err = json.Marshal(own); err != nil {
			h.log.Error("hub marshal", "err", err)
			return
		}
	}
	if watched != nil {
		if wb, err = json.Marshal(watched); err != nil {
			h.log.Error("hub marshal", "err", err)
			return
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.sweep(now)
	h.seq++
	seq := h.seq
	if ob != nil {
		b := withSeq(ob, seq)
		if r := h.rings[user]; r != nil {
			r.prune(now.Add(-h.ringKeep))
			r.push(ringEntry{seq: seq, at: now, b: b})
		}
		for c := range h.conns[user] {
			h.deliver(c, b)
		}
	}
	if wb != nil {
		// Kept while a watcher is on, or was lately (to resume); else
		// a returning watcher resyncs.
		if len(h.watchers) > 0 || (!h.watchGone.IsZero() && now.Sub(h.watchGone) < h.ringKeep) {
			b := withSeq(wb, seq)
			h.watched.prune(now.Add(-h.ringKeep))
			h.watched.push(ringEntry{seq: seq, at: now, agent: user, b: b})
			for c, name := range h.watchers {
				if name != user {
					h.deliver(c, b)
				}
			}
		} else {
			h.watched.dropped = seq
		}
	}
}

// deliver queues b on c; a full queue ends c (the client resumes). h.mu held.
func (h *Hub) deliver(c *conn, b []byte) {
	if c.full {
		return
	}
	select {
	case c.send <- b:
	default:
		c.full = true
		close(c.overflow)
	}
}

// sweep drops the rings of users gone for longer than ringKeep, at most
// every sweepEvery. h.mu held.
func (h *Hub) sweep(now time.Time) {
	if now.Sub(h.swept) < sweepEvery {
		return
	}
	h.swept = now
	for u, r := range h.rings {
		if !r.gone.IsZero() && now.Sub(r.gone) > h.ringKeep {
			delete(h.rings, u)
		}
	}
	h.watched.prune(now.Add(-h.ringKeep))
}

// AgentState implements routing.Notifier.
func (h *Hub) AgentState(user string, st routing.State) {
	h.emit(user, map[string]any{"type": "agent_state", "state": st},
		map[string]any{"type": "agent_state", "state": st, "agent": user})
}

// Offer implements routing.Notifier.
func (h *Hub) Offer(o routing.Offer) {
	h.emit(o.Agent, offerMsg(o), nil)
}

// offerMsg is an offer as the agent's desktop gets it: "offer", or for a
// consultation of a queue (ConsultBy) "consult_offer" from that agent,
// answered with /calls/{id}/consult/answer (or /answer) and declined with
// /consult/decline (or /reject).
func offerMsg(o routing.Offer) map[string]any {
	m := map[string]any{"type": "offer", "call_id": o.CallID, "from": o.From,
		"intent": o.Intent, "queue": o.Queue, "timeout_ms": o.Timeout.Milliseconds()}
	if o.ConsultBy != "" {
		m["type"], m["peer"] = "consult_offer", o.ConsultBy
	}
	return m
}

// OfferRevoked implements routing.Notifier.
func (h *Hub) OfferRevoked(user, callID string) {
	h.emit(user, map[string]any{"type": "offer_revoked", "call_id": callID}, nil)
}

type watchedEvent struct {
	call.Event
	Agent string `json:"agent"`
}

// Publish implements call.Events.
func (h *Hub) Publish(user string, ev call.Event) {
	h.emit(user, ev, watchedEvent{ev, user})
}

// Watch implements call.Watcher: ev goes to supervisors and admins only,
// labelled with agent (a supervisor listening in, which the agent is not
// told).
func (h *Hub) Watch(agent string, ev call.Event) {
	h.emit(agent, nil, watchedEvent{ev, agent})
}

// Seq is the last sequence number given out.
func (h *Hub) Seq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// resume is where a client asks to pick up: after seq since of epoch.
type resume struct {
	ok    bool // the client asked to resume
	epoch string
	since uint64
}

// join is what a new connection starts with.
type join struct {
	seq      uint64      // the last seq before the connection's live events
	resumed  bool        // replay holds everything the client missed
	replay   []ringEntry // oldest first
	why      string      // why not resumed, when the client asked
	watching bool
}

// add registers c as one of user's connections (supervisors and admins
// also watch every agent) and, when the client resumes, collects the
// events it missed. Registering and collecting under one lock means every
// event is either replayed or delivered live, once.
func (h *Hub) add(user, role string, c *conn, rs resume) join {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.sweep(now)
	if h.conns[user] == nil {
		h.conns[user] = map[*conn]struct{}{}
	}
	h.conns[user][c] = struct{}{}
	j := join{seq: h.seq, watching: role == store.RoleSupervisor || role == store.RoleAdmin}
	if j.watching {
		h.watchers[c] = user
		h.watchGone = time.Time{}
	}
	r := h.rings[user]
	if r != nil {
		r.prune(now.Add(-h.ringKeep))
	}
	switch {
	case !rs.ok:
	case rs.epoch != h.epoch:
		j.why = "the server restarted"
	case rs.since > h.seq:
		j.why = "unknown position"
	case r == nil:
		j.why = "no events kept for you"
	case r.dropped > rs.since:
		j.why = "too far behind"
	case j.watching && h.watched.dropped > rs.since:
		j.why = "too far behind"
	default:
		j.resumed = true
		own := r.after(rs.since, "")
		if j.watching {
			h.watched.prune(now.Add(-h.ringKeep))
			j.replay = mergeSeq(own, h.watched.after(rs.since, user))
		} else {
			j.replay = own
		}
	}
	if r == nil {
		r = newRing(h.userRing)
		h.rings[user] = r
	}
	r.gone = time.Time{}
	return j
}

// mergeSeq merges two seq-ordered lists.
func mergeSeq(a, b []ringEntry) []ringEntry {
	out := make([]ringEntry, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].seq < b[0].seq {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

func (h *Hub) remove(user string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[c]; ok {
		delete(h.watchers, c)
		if len(h.watchers) == 0 {
			h.watchGone = h.now()
		}
	}
	delete(h.conns[user], c)
	if len(h.conns[user]) == 0 {
		delete(h.conns, user)
		if r := h.rings[user]; r != nil {
			r.gone = h.now()
		}
	}
}

// parseResume reads ?since=&epoch=; ok is false when since is absent.
func parseResume(r *http.Request) resume {
	q := r.URL.Query()
	s := q.Get("since")
	if s == "" {
		return resume{}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		// A garbled position resumes nothing: the client resyncs.
		return resume{ok: true, epoch: "\x00bad"}
	}
	return resume{ok: true, epoch: q.Get("epoch"), since: n}
}

// Buffered events per connection: a watcher's stream is every agent's.
const (
	connBuffer    = 256
	watcherBuffer = 2048
)

// events upgrades to a WebSocket and streams the user's events.
//
// The first message is {"type":"hello","epoch":…,"last":…,"resumed":…}
// ("last": the seq the stream starts after).
// A fresh connection (no ?since=) then gets the agent's current state and
// offer (no seq: a snapshot), then live events. A connection with
// ?since=N&epoch=E gets, when the rings still hold them, every event after
// N ("resumed":true, "replayed": how many), then live ones; otherwise
// {"type":"resync","reason":…} then the snapshot, and the client reloads
// the rest of its state over the REST API.
//
// The guard has checked the token (from ?token=); the upgrade checks
// Origin: a page of another origin may not open it unless
// Options.AllowedOrigins lists it (403). At every ping the session is
// checked again, and the socket closes with 1008 (policy violation) once
// it has ended — logout, expiry or a revoked API token. A client too slow
// for its events is closed with 1013 (try again later) and resumes.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	tok, _ := r.Context().Value(tokenKey).(string)
	rs := parseResume(r)
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.opts.AllowedOrigins})
	if err != nil {
		s.opts.Log.Info("events: refused WebSocket", "user", u.Username, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	defer ws.CloseNow()
	hub := s.opts.Hub
	size := connBuffer
	if u.Role == store.RoleSupervisor || u.Role == store.RoleAdmin {
		size = watcherBuffer
	}
	c := &conn{send: make(chan []byte, size), overflow: make(chan struct{})}
	j := hub.add(u.Username, u.Role, c, rs)
	defer hub.remove(u.Username, c)
	ctx := ws.CloseRead(r.Context())
	write := func(b []byte) error {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return ws.Write(wctx, websocket.MessageText, b)
	}
	writeJSON := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return write(b)
	}
	if rs.ok && !j.resumed {
		s.opts.Log.Debug("events: resync", "user", u.Username, "since", rs.since, "why", j.why)
		if writeJSON(map[string]any{"type": "resync", "epoch": hub.epoch, "last": j.seq, "reason": j.why}) != nil {
			return
		}
	} else if writeJSON(map[string]any{"type": "hello", "epoch": hub.epoch, "last": j.seq, "resumed": j.resumed, "replayed": len(j.replay)}) != nil {
		return
	}
	if j.resumed {
		for _, e := range j.replay {
			if write(e.b) != nil {
				return
			}
		}
	} else if a, ok := s.opts.Router.Agent(u.Username); ok {
		// The snapshot: what the client should show now. Live events
		// after j.seq follow; one of them may repeat it.
		if writeJSON(map[string]any{"type": "agent_state", "state": a.State}) != nil {
			return
		}
		if a.Offering != "" {
			if c, err := s.opts.Store.Call(ctx, a.Offering); err == nil {
				ct := routing.Contact{CallID: c.ID, Queue: c.Queue, From: c.From, Intent: c.Intent}
				if l, ok := s.opts.Calls.(LiveLister); ok {
					for _, v := range l.LiveCalls() {
						if v.CallID == c.ID && v.Agent != "" && v.ConsultState == "ringing" {
							// A call with an agent is offered as a consultation of a queue.
							ct.ConsultBy, ct.Queue = v.Agent, strings.TrimPrefix(v.Consult, "queue:")
						}
					}
				}
				o := offerMsg(routing.Offer{Contact: ct, Agent: u.Username})
				if writeJSON(o) != nil {
					return
				}
			}
		}
	}
	ping := time.NewTicker(s.wsCheck)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.overflow:
			ws.Close(websocket.StatusTryAgainLater, "events fell behind; resume")
			return
		case b := <-c.send:
			if write(b) != nil {
				return
			}
		case <-ping.C:
			// An open socket does not keep the session alive: only
			// requests do, so an unattended page still idles out.
			if _, err := s.principal(ctx, tok, false); err != nil {
				if isNotFound(err) {
					ws.Close(websocket.StatusPolicyViolation, "session ended")
					return
				}
				s.opts.Log.Warn("events: session check", "user", u.Username, "err", err)
			}
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		}
	}
}
