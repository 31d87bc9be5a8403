package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/store"
)

// Live call control from the agent desktop (hold, keypad, consultative
// transfer) and the supervisor's monitor leg (listen, whisper, barge).
// Each is an optional ability of Options.Calls (call.Manager has them
// all); without it the route answers 501.

// AuditCallMonitor is a supervisor listening to, whispering on or barging
// into a call (detail "mode=…").
const AuditCallMonitor = "call.monitor"

// Recording pause and resume (PCI: the caller reads out card details),
// by the call's agent or a supervisor (target "call:ID").
const (
	AuditRecordingPause  = "call.recording_pause"
	AuditRecordingResume = "call.recording_resume"
)

// RecordingPauser pauses and resumes a live call's recording (see
// call/recpause.go): user is the call's agent, or any call's supervisor.
type RecordingPauser interface {
	PauseRecording(ctx context.Context, callID, user string, supervisor, on bool) error
}

// LiveControl holds a call and sends keys to the caller's side.
type LiveControl interface {
	Hold(ctx context.Context, callID, agent string, on bool) error
	SendDTMF(ctx context.Context, callID, agent, digits string) error
}

// Consulter runs consultative transfers (see call/consult.go).
type Consulter interface {
	Consult(ctx context.Context, callID, agent, target string) error
	AnswerConsult(ctx context.Context, callID, agent, offerSDP string) (string, error)
	DeclineConsult(ctx context.Context, callID, agent string) error
	CancelConsult(ctx context.Context, callID, agent string) error
	CompleteConsult(ctx context.Context, callID, agent string) error
}

// Monitorer puts supervisors on live calls.
type Monitorer interface {
	Monitor(ctx context.Context, callID, supervisor, mode, offerSDP string) (string, error)
	StopMonitor(ctx context.Context, callID, supervisor string) error
}

// LiveLister lists the calls in progress with their live state (hold,
// consultation, supervisors on them): the wallboard's snapshot.
type LiveLister interface {
	LiveCalls() []call.LiveCall
}

// liveCallRoutes registers the routes under /api/v1.
func (s *Server) liveCallRoutes(r chi.Router) {
	r.Get("/calls/live", s.liveCalls)
	r.Post("/calls/{id}/hold", s.holdCall(true))
	r.Post("/calls/{id}/resume", s.holdCall(false))
	r.Post("/calls/{id}/dtmf", s.sendDTMF)
	r.Post("/calls/{id}/consult", s.consultCall)
	r.Post("/calls/{id}/consult/answer", s.answerConsult)
	r.Post("/calls/{id}/consult/{action}", s.consultAction) // decline, cancel, complete
	r.Post("/calls/{id}/monitor", s.monitorCall)
	r.Delete("/calls/{id}/monitor", s.stopMonitor)
	r.Post("/calls/{id}/recording/pause", s.pauseRecording(true))
	r.Post("/calls/{id}/recording/resume", s.pauseRecording(false))
}

// pauseRecording: POST /calls/{id}/recording/pause and /resume, for the
// call's agent or a supervisor; audited. A pause on a paused recording,
// or a resume of a running one, is 409.
func (s *Server) pauseRecording(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rp, ok := callAbility[RecordingPauser](s, w, "pause recordings")
		if !ok {
			return
		}
		u, id := userOf(r), chi.URLParam(r, "id")
		supervisor := u.Role == store.RoleSupervisor || u.Role == store.RoleAdmin
		if err := rp.PauseRecording(r.Context(), id, u.Username, supervisor, on); err != nil {
			s.liveFail(w, r, err)
			return
		}
		action := AuditRecordingPause
		if !on {
			action = AuditRecordingResume
		}
		s.audit(r, action, "call:"+id, "")
		w.WriteHeader(http.StatusNoContent)
	}
}

// liveStatus maps call-control errors to HTTP statuses.
func liveStatus(err error) int {
	switch {
	case errors.Is(err, call.ErrBadArg):
		return http.StatusBadRequest
	case errors.Is(err, call.ErrOnHold), errors.Is(err, call.ErrBusy), errors.Is(err, call.ErrNoConsult):
		return http.StatusConflict
	}
	return callControlStatus(err)
}

// liveFail answers err: the caller's fault with its message, ours as 500.
func (s *Server) liveFail(w http.ResponseWriter, r *http.Request, err error) {
	if st := liveStatus(err); st != http.StatusInternalServerError {
		writeError(w, st, err.Error())
		return
	}
	s.fail(w, r, err)
}

// holdCall: POST /calls/{id}/hold and /resume, for the call's agent. The
// caller hears music on hold meanwhile.
func (s *Server) holdCall(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lc, ok := callAbility[LiveControl](s, w, "hold calls or send keys")
		if !ok {
			return
		}
		if err := lc.Hold(r.Context(), chi.URLParam(r, "id"), userOf(r).Username, on); err != nil {
			s.liveFail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// sendDTMF: POST /calls/{id}/dtmf {"digits": "12#"}.
func (s *Server) sendDTMF(w http.ResponseWriter, r *http.Request) {
	lc, ok := callAbility[LiveControl](s, w, "hold calls or send keys")
	if !ok {
		return
	}
	var req struct {
		Digits string `json:"digits"`
	}
	if !decode(w, r, &req) {
		return
	}
	if err := lc.SendDTMF(r.Context(), chi.URLParam(r, "id"), userOf(r).Username, req.Digits); err != nil {
		s.liveFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// consultCall: POST /calls/{id}/consult {"target": "agent:bob" |
// "queue:billing"} puts the caller on hold and offers the consultation to
// the target agent, or through the queue to the agent its rules pick next.
func (s *Server) consultCall(w http.ResponseWriter, r *http.Request) {
	c, ok := callAbility[Consulter](s, w, "run consultative transfers")
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
		writeError(w, http.StatusBadRequest, "target: required (agent:NAME or queue:NAME)")
		return
	}
	if err := c.Consult(r.Context(), chi.URLParam(r, "id"), userOf(r).Username, req.Target); err != nil {
		s.liveFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// answerConsult: POST /calls/{id}/consult/answer {"sdp"} is the consulted
// agent's browser joining; the SDP answer comes back.
func (s *Server) answerConsult(w http.ResponseWriter, r *http.Request) {
	c, ok := callAbility[Consulter](s, w, "run consultative transfers")
	if !ok {
		return
	}
	var req sdpJSON
	if !decode(w, r, &req) {
		return
	}
	if !sdpOffer(w, req.SDP) {
		return
	}
	answer, err := c.AnswerConsult(r.Context(), chi.URLParam(r, "id"), userOf(r).Username, req.SDP)
	if err != nil {
		s.liveFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sdpJSON{SDP: answer})
}

// consultAction: POST /calls/{id}/consult/decline (the consulted agent,
// before answering), /cancel (either agent) and /complete (the call's
// agent: the call goes to the consulted agent).
func (s *Server) consultAction(w http.ResponseWriter, r *http.Request) {
	c, ok := callAbility[Consulter](s, w, "run consultative transfers")
	if !ok {
		return
	}
	id, agent := chi.URLParam(r, "id"), userOf(r).Username
	var err error
	switch chi.URLParam(r, "action") {
	case "decline":
		err = c.DeclineConsult(r.Context(), id, agent)
	case "cancel":
		err = c.CancelConsult(r.Context(), id, agent)
	case "complete":
		err = c.CompleteConsult(r.Context(), id, agent)
	default:
		writeError(w, http.StatusNotFound, "no such consult action: want answer, decline, cancel or complete")
		return
	}
	if err != nil {
		s.liveFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// monitorCall: POST /calls/{id}/monitor {"mode": "listen|whisper|barge",
// "sdp": "v=0…"} opens the supervisor's leg (the SDP answer comes back);
// without sdp it switches the mode of the leg they have (204).
func (s *Server) monitorCall(w http.ResponseWriter, r *http.Request) {
	mo, ok := callAbility[Monitorer](s, w, "monitor calls")
	if !ok {
		return
	}
	var req struct {
		Mode string `json:"mode"`
		SDP  string `json:"sdp"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Mode == "" {
		req.Mode = call.ModeListen
	}
	if req.SDP != "" && !sdpOffer(w, req.SDP) {
		return
	}
	answer, err := mo.Monitor(r.Context(), chi.URLParam(r, "id"), userOf(r).Username, req.Mode, req.SDP)
	if err != nil {
		s.liveFail(w, r, err)
		return
	}
	s.audit(r, AuditCallMonitor, "call:"+chi.URLParam(r, "id"), "mode="+req.Mode)
	if answer == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, sdpJSON{SDP: answer})
}

// stopMonitor: DELETE /calls/{id}/monitor takes the supervisor off.
func (s *Server) stopMonitor(w http.ResponseWriter, r *http.Request) {
	mo, ok := callAbility[Monitorer](s, w, "monitor calls")
	if !ok {
		return
	}
	if err := mo.StopMonitor(r.Context(), chi.URLParam(r, "id"), userOf(r).Username); err != nil {
		s.liveFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// liveCalls is GET /calls/live: every call an agent or a supervisor is on,
// with who has it, since when, and its hold, consultation and monitors —
// what the events say of it, for a wallboard opened mid-call.
func (s *Server) liveCalls(w http.ResponseWriter, r *http.Request) {
	ll, ok := callAbility[LiveLister](s, w, "list live calls")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": ll.LiveCalls()})
}
