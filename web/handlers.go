package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/ivr/kb"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	out := map[string]any{"username": u.Username, "role": u.Role, "team": u.Team}
	if a, ok := s.opts.Router.Agent(u.Username); ok {
		out["agent"] = a
	}
	writeJSON(w, http.StatusOK, out)
}

type userJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	Team      string    `json:"team,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserJSON(u store.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Role: u.Role, Team: u.Team, CreatedAt: u.CreatedAt}
}

func validRole(r string) bool {
	switch r {
	case store.RoleAdmin, store.RoleSupervisor, store.RoleQA, store.RoleAgent:
		return true
	}
	return false
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Role     string `json:"role"`
		Team     string `json:"team"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case !config.ValidUsername(req.Username):
		writeError(w, http.StatusBadRequest, "username: want 1-64 letters, digits, '.', '_' or '-'")
		return
	case len(req.Password) < 8:
		writeError(w, http.StatusBadRequest, "password: must be at least 8 characters")
		return
	case len(req.Password) > maxPassword:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("password: at most %d bytes", maxPassword))
		return
	case !validRole(req.Role):
		writeError(w, http.StatusBadRequest, "role: want admin, supervisor, qa or agent")
		return
	case req.Team != "" && !config.ValidTeam(req.Team):
		writeError(w, http.StatusBadRequest, "team: want a lower-case name (a-z, 0-9, '_', '.', '-')")
		return
	}
	u, err := CreateUser(r.Context(), s.opts.Store, s.opts.Router, s.opts.SIPRealm, req.Username, req.Password, req.Role)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			writeError(w, http.StatusConflict, "username already taken")
			return
		}
		s.fail(w, r, err)
		return
	}
	detail := "role=" + u.Role
	if req.Team != "" {
		if err := s.opts.Store.SetUserTeam(r.Context(), u.Username, req.Team); err != nil {
			s.fail(w, r, err)
			return
		}
		u.Team, detail = req.Team, detail+" team="+req.Team
	}
	s.audit(r, AuditUserCreate, "user:"+u.Username, detail)
	writeJSON(w, http.StatusCreated, toUserJSON(u))
}

// CreateUser stores a user; an agent-role user is also registered as an
// agent with no skills yet, and gets digest secrets for a SIP phone in
// realm (none when realm is empty).
func CreateUser(ctx context.Context, st store.Store, rt interface {
	SetAgent(username string, skills map[string]int, maxCalls int)
}, realm, username, password, role string) (store.User, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{ID: call.NewID("usr"), Username: username, PasswordHash: hash, Role: role, CreatedAt: time.Now()}
	if role == store.RoleAgent && realm != "" {
		u.SIPHA1MD5 = sip.HA1("MD5", username, realm, password)
		u.SIPHA1SHA256 = sip.HA1("SHA-256", username, realm, password)
	}
	if err := st.CreateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	if role == store.RoleAgent {
		a := store.Agent{Username: username, Skills: map[string]int{}, MaxCalls: 1, State: string(routing.Offline), StateSince: time.Now()}
		if err := st.UpsertAgent(ctx, a); err != nil {
			return u, err
		}
		rt.SetAgent(username, a.Skills, a.MaxCalls)
	}
	return u, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.opts.Store.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, toUserJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"agents": s.opts.Router.Agents()})
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "username")
	if !mayActFor(userOf(r), name) {
		writeError(w, http.StatusForbidden, "you may only see your own agent record")
		return
	}
	a, ok := s.opts.Router.Agent(name)
	if !ok {
		writeError(w, http.StatusNotFound, "no such agent")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) putAgent(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "username")
	var req struct {
		Skills   map[string]int `json:"skills"`
		MaxCalls int            `json:"max_calls"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.MaxCalls == 0 {
		req.MaxCalls = 1
	}
	if req.MaxCalls < 1 || req.MaxCalls > 10 {
		writeError(w, http.StatusBadRequest, "max_calls: must be 1-10")
		return
	}
	for sk, p := range req.Skills {
		if sk == "" || p < 1 || p > 10 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("skills.%s: proficiency must be 1-10, got %d", sk, p))
			return
		}
	}
	u, err := s.opts.Store.UserByName(r.Context(), name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no such user; create it with POST /api/v1/users first")
			return
		}
		s.fail(w, r, err)
		return
	}
	if u.Role != store.RoleAgent {
		writeError(w, http.StatusConflict, "user "+name+" has role "+u.Role+", not agent")
		return
	}
	a := store.Agent{Username: name, Skills: req.Skills, MaxCalls: req.MaxCalls}
	if a.Skills == nil {
		a.Skills = map[string]int{}
	}
	if v, ok := s.opts.Router.Agent(name); ok {
		a.State, a.StateSince = string(v.State), v.Since
	} else {
		a.State, a.StateSince = string(routing.Offline), time.Now()
	}
	if err := s.opts.Store.UpsertAgent(r.Context(), a); err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Router.SetAgent(name, a.Skills, a.MaxCalls)
	s.audit(r, AuditAgentUpdate, "user:"+name, fmt.Sprintf("skills=%v max_calls=%d", a.Skills, a.MaxCalls))
	v, _ := s.opts.Router.Agent(name)
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) setAgentState(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "username")
	if !mayActFor(userOf(r), name) {
		writeError(w, http.StatusForbidden, "you may only change your own state")
		return
	}
	var req struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	if !decode(w, r, &req) {
		return
	}
	st := routing.State(req.State)
	if st != routing.Available && st != routing.Break && st != routing.Offline {
		writeError(w, http.StatusBadRequest, "state: want available, break or offline")
		return
	}
	if err := s.opts.Router.SetState(name, st, req.Reason); err != nil {
		s.fail(w, r, err)
		return
	}
	v, _ := s.opts.Router.Agent(name)
	writeJSON(w, http.StatusOK, map[string]any{"state": v.State})
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"queues": s.opts.Router.Queues()})
}

type callJSON struct {
	ID           string                        `json:"id"`
	From         string                        `json:"from"`
	To           string                        `json:"to"`
	StartedAt    *time.Time                    `json:"started_at"`
	AnsweredAt   *time.Time                    `json:"answered_at"`
	EndedAt      *time.Time                    `json:"ended_at"`
	Intent       string                        `json:"intent"`
	Queue        string                        `json:"queue"`
	Agent        string                        `json:"agent"`
	Disposition  string                        `json:"disposition"`
	RecordingURL string                        `json:"recording_url"`
	Quality      map[string]store.MediaQuality `json:"quality,omitempty"`
	IVROutcome   string                        `json:"ivr_outcome,omitempty"`
	// RecordingPauses are the spans the recording was paused for.
	RecordingPauses []store.RecordingPause `json:"recording_pauses,omitempty"`
	Transcript      []transcript.Segment   `json:"transcript,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toCallJSON(c store.Call) callJSON {
	out := callJSON{ID: c.ID, From: c.From, To: c.To, StartedAt: timePtr(c.StartedAt), AnsweredAt: timePtr(c.AnsweredAt),
		EndedAt: timePtr(c.EndedAt), Intent: c.Intent, Queue: c.Queue, Agent: c.Agent, Disposition: c.Disposition,
		Quality: c.Quality, IVROutcome: c.IVROutcome, RecordingPauses: c.RecordingPauses}
	if c.RecordingPath != "" {
		out.RecordingURL = "/api/v1/calls/" + c.ID + "/recording"
	}
	return out
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r.URL.Query(), 50)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var cs []store.Call
	if u := userOf(r); scoped(u) {
		cs, err = s.opts.Store.ListCallsOf(r.Context(), u.Username, limit)
	} else {
		cs, err = s.opts.Store.ListCalls(r.Context(), limit)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]callJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, toCallJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": out})
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	c, ok := s.callOr404(w, r, chi.URLParam(r, "id"))
	if !ok {
		return
	}
	segs, err := s.opts.Store.Segments(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := toCallJSON(c)
	out.Transcript = segs
	if out.Transcript == nil {
		out.Transcript = []transcript.Segment{}
	}
	writeJSON(w, http.StatusOK, out)
}

// getRecording is GET /calls/{id}/recording[?download=1]: the WAV to
// play, or with download=1 as an attachment, decrypted when it is
// encrypted at rest. It takes a bearer token or a signed URL (signed.go). Each play (a request from the
// start of the file) and each download is audited; without an audit entry
// the recording is not served.
func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	c, ok := s.callOr404(w, r, chi.URLParam(r, "id"))
	if !ok {
		return
	}
	if c.RecordingPath == "" || strings.Contains(c.RecordingPath, "..") {
		writeError(w, http.StatusNotFound, "no recording for this call")
		return
	}
	f, err := s.files().Open(c.RecordingPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		writeError(w, http.StatusNotFound, "recording file missing")
		return
	case err != nil:
		s.opts.Log.Error("recording unreadable", "call_id", c.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "recording unreadable: "+err.Error())
		return
	}
	defer f.Close()
	action := AuditRecordingPlay
	if v := r.URL.Query().Get("download"); v == "1" || v == "true" {
		action = AuditRecordingDown
		w.Header().Set("Content-Disposition", `attachment; filename="`+c.ID+`.wav"`)
	}
	// A player's follow-up range requests are the same play.
	if rg := r.Header.Get("Range"); rg == "" || strings.HasPrefix(rg, "bytes=0-") {
		if err := s.appendAudit(r, userOf(r).Username, action, "call:"+c.ID, ""); err != nil {
			s.fail(w, r, fmt.Errorf("audit %s: %w", action, err))
			return
		}
	}
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, c.ID+".wav", f.ModTime, f)
}

type sdpJSON struct {
	SDP string `json:"sdp"`
}

func (s *Server) answerCall(w http.ResponseWriter, r *http.Request) {
	var req sdpJSON
	if !decode(w, r, &req) {
		return
	}
	if !sdpOffer(w, req.SDP) {
		return
	}
	answer, err := s.opts.Calls.AnswerWebRTC(r.Context(), chi.URLParam(r, "id"), userOf(r).Username, req.SDP)
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError && strings.Contains(err.Error(), "agent leg") {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sdpJSON{SDP: answer})
}

func (s *Server) rejectCall(w http.ResponseWriter, r *http.Request) {
	if err := s.opts.Calls.Reject(chi.URLParam(r, "id"), userOf(r).Username); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) hangupCall(w http.ResponseWriter, r *http.Request) {
	if err := s.opts.Calls.Hangup(chi.URLParam(r, "id"), userOf(r).Username); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// importCall is POST /calls/import: a transcript as JSON, or a recording
// as a WAV upload (wavimport.go).
func (s *Server) importCall(w http.ResponseWriter, r *http.Request) {
	if isWAVUpload(r) {
		s.importWAV(w, r)
		return
	}
	var req struct {
		CallerNumber string               `json:"caller_number"`
		Intent       string               `json:"intent"`
		Agent        string               `json:"agent"`
		Transcript   []transcript.Segment `json:"transcript"`
	}
	if !decode(w, r, &req) {
		return
	}
	if len(req.Transcript) == 0 {
		writeError(w, http.StatusBadRequest, "transcript: at least one segment is required")
		return
	}
	if len(req.Transcript) > 10000 {
		writeError(w, http.StatusBadRequest, "transcript: at most 10000 segments")
		return
	}
	for i, sg := range req.Transcript {
		switch {
		case sg.Speaker != transcript.Caller && sg.Speaker != transcript.Agent:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("transcript[%d].speaker: want caller or agent, got %q", i, sg.Speaker))
			return
		case sg.StartMS < 0 || sg.EndMS < sg.StartMS:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("transcript[%d]: want 0 <= start_ms <= end_ms", i))
			return
		case strings.TrimSpace(sg.Text) == "":
			writeError(w, http.StatusBadRequest, fmt.Sprintf("transcript[%d].text: must not be empty", i))
			return
		case len(sg.Words) > 1000:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("transcript[%d].words: at most 1000", i))
			return
		}
		for j, wd := range sg.Words {
			if wd.StartMS < 0 || wd.EndMS < wd.StartMS || strings.TrimSpace(wd.Text) == "" {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("transcript[%d].words[%d]: want text and 0 <= start_ms <= end_ms", i, j))
				return
			}
		}
	}
	segs := append([]transcript.Segment(nil), req.Transcript...)
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].StartMS < segs[j].StartMS })
	s.finishImport(w, r, importJob{tr: transcript.Transcript{CallerNumber: req.CallerNumber, Agent: req.Agent, Segments: segs},
		intent: req.Intent})
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("call_id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "call_id: required")
		return
	}
	if scoped(userOf(r)) {
		if _, ok := s.callOr404(w, r, id); !ok {
			return
		}
	}
	ts, err := s.opts.Store.TicketsByCall(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": ts})
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ticketOr404(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) listEvaluations(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("call_id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "call_id: required")
		return
	}
	if u := userOf(r); scoped(u) || teamOf(u) != "" {
		c, ok := s.callOr404(w, r, id)
		if !ok {
			return
		}
		if in, err := s.inTeam(r.Context(), teamOf(u), c); err != nil || !in {
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeError(w, http.StatusNotFound, "no such call")
			return
		}
	}
	es, err := s.opts.Store.EvaluationsByCall(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"evaluations": es})
}

func (s *Server) getEvaluation(w http.ResponseWriter, r *http.Request) {
	e, ok := s.evaluationOr404(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) classify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if !decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		writeError(w, http.StatusBadRequest, "text: must not be empty")
		return
	}
	if len(req.Text) > 2000 {
		writeError(w, http.StatusBadRequest, "text: at most 2000 characters")
		return
	}
	intent, conf := s.opts.NLU.Classify(req.Text)
	writeJSON(w, http.StatusOK, map[string]any{"intent": intent, "confidence": conf})
}

// callerHistory is the caller card: the number's recent calls and tickets.
func (s *Server) callerHistory(w http.ResponseWriter, r *http.Request) {
	// chi routes on the raw path, so an encoded "+" (%2B) arrives encoded.
	number, err := url.PathUnescape(chi.URLParam(r, "number"))
	if err != nil || number == "" || len(number) > 64 {
		writeError(w, http.StatusBadRequest, "number: want 1-64 characters")
		return
	}
	cs, err := s.opts.Store.CallsByCaller(r.Context(), number, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ok, err := s.mayReadCaller(r.Context(), userOf(r), number, cs); err != nil {
		s.fail(w, r, err)
		return
	} else if !ok {
		writeError(w, http.StatusNotFound, "no history for this number")
		return
	}
	ts, err := s.opts.Store.TicketsByCaller(r.Context(), number, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	calls := make([]callJSON, 0, len(cs))
	for _, c := range cs {
		calls = append(calls, toCallJSON(c))
	}
	if ts == nil {
		ts = []tickets.Ticket{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"number": number, "calls": calls, "tickets": ts})
}

// searchKB is knowledge suggestions: the best passages for q (e.g. the
// live transcript's last caller lines).
func (s *Server) searchKB(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" || len(q) > 2000 {
		writeError(w, http.StatusBadRequest, "q: want 1-2000 characters")
		return
	}
	k := 3
	if v := r.URL.Query().Get("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			writeError(w, http.StatusBadRequest, "k: want a number 1-20")
			return
		}
		k = n
	}
	hits := []kb.Hit{}
	if s.opts.KB != nil {
		if h := s.opts.KB.Search(q, k); h != nil {
			hits = h
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": hits})
}
