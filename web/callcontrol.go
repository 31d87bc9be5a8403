package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
)

// Transferer moves a bridged call to a queue, an agent or a number
// (call.Manager.Transfer). by is the agent asking, "" for a supervisor.
type Transferer interface {
	Transfer(ctx context.Context, callID, by, target string) error
}

// Originator places an agent's outside call (call.Manager.OriginateWebRTC
// and Originate, which rings the agent's desk phone first).
type Originator interface {
	OriginateWebRTC(ctx context.Context, agent, number, offerSDP string) (callID, answerSDP string, err error)
	Originate(ctx context.Context, agent, number string, agentLeg media.Leg) (string, error)
}

// callAbility is Options.Calls as the optional ability T (the call
// manager's transfer, hold, consultation… methods); without it the
// request is answered 501 "this server cannot " + what.
func callAbility[T any](s *Server, w http.ResponseWriter, what string) (T, bool) {
	a, ok := s.opts.Calls.(T)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this server cannot "+what)
	}
	return a, ok
}

// sdpOffer is whether sdp is an SDP offer; when not, it answers 400.
func sdpOffer(w http.ResponseWriter, sdp string) bool {
	if !strings.HasPrefix(strings.TrimSpace(sdp), "v=0") {
		writeError(w, http.StatusBadRequest, "sdp: want an SDP offer starting with v=0")
		return false
	}
	return true
}

// callControlStatus maps call-control errors to HTTP statuses.
func callControlStatus(err error) int {
	switch {
	case errors.Is(err, call.ErrBadTarget):
		return http.StatusBadRequest
	case errors.Is(err, call.ErrNotPermitted):
		return http.StatusForbidden
	case errors.Is(err, call.ErrNoDialer):
		return http.StatusNotImplemented
	case errors.Is(err, routing.ErrAgentAway), errors.Is(err, call.ErrNotBridged), errors.Is(err, call.ErrDraining):
		return http.StatusConflict
	}
	return statusOf(err)
}

// transferCall: POST /calls/{id}/transfer {"target": "queue:billing" |
// "agent:carol" | "+15551234567"}. An agent transfers their own call; a
// supervisor or admin any call.
func (s *Server) transferCall(w http.ResponseWriter, r *http.Request) {
	t, ok := callAbility[Transferer](s, w, "transfer calls")
	if !ok {
		return
	}
	var req struct {
		Target string `json:"target"`
	}
	if !decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Target) == "" {
		writeError(w, http.StatusBadRequest, "target: required (queue:NAME, agent:NAME or a phone number)")
		return
	}
	u := userOf(r)
	by := u.Username
	if u.Role != store.RoleAgent {
		by = ""
	}
	if err := t.Transfer(r.Context(), chi.URLParam(r, "id"), by, req.Target); err != nil {
		s.liveFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// dialOut: POST /calls/outbound {"number": "+15551234567", "sdp": "v=0…"}.
// With an SDP offer the agent talks from the browser (the answer comes
// back); without one their registered desk phone rings first.
func (s *Server) dialOut(w http.ResponseWriter, r *http.Request) {
	o, ok := callAbility[Originator](s, w, "place outside calls")
	if !ok {
		return
	}
	var req struct {
		Number string `json:"number"`
		SDP    string `json:"sdp"`
	}
	if !decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Number) == "" {
		writeError(w, http.StatusBadRequest, "number: required")
		return
	}
	agent := userOf(r).Username
	var resp struct {
		CallID string `json:"call_id"`
		SDP    string `json:"sdp,omitempty"`
	}
	var err error
	if strings.TrimSpace(req.SDP) != "" {
		if !sdpOffer(w, req.SDP) {
			return
		}
		resp.CallID, resp.SDP, err = o.OriginateWebRTC(r.Context(), agent, req.Number, req.SDP)
	} else {
		resp.CallID, err = o.Originate(r.Context(), agent, req.Number, nil)
	}
	if err != nil {
		s.liveFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}
