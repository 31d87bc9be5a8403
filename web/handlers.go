package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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
	out := map[string]any{"username": u.Username, "role": u.Role}
	if a, ok := s.opts.Router.Agent(u.Username); ok {
		out["agent"] = a
	}
	writeJSON(w, http.StatusOK, out)
}

type userJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserJSON(u store.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Role: u.Role, CreatedAt: u.CreatedAt}
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
	case !validRole(req.Role):
		writeError(w, http.StatusBadRequest, "role: want admin, supervisor, qa or agent")
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
	writeJSON(w, http.StatusCreated, toUserJSON(u))
}

// CreateUser stores a user; an agent-role user is also registered as an
// agent with no skills yet, and gets digest secrets for a SIP phone in
// realm (none when realm is empty).
func CreateUser(ctx context.Context, st store.Store, rt *routing.Router, realm, username, password, role string) (store.User, error) {
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
	Transcript   []transcript.Segment          `json:"transcript,omitempty"`
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
		Quality: c.Quality, IVROutcome: c.IVROutcome}
	if c.RecordingPath != "" {
		out.RecordingURL = "/api/v1/calls/" + c.ID + "/recording"
	}
	return out
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit: want a number 1-1000")
			return
		}
		limit = n
	}
	cs, err := s.opts.Store.ListCalls(r.Context(), limit)
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
	c, err := s.opts.Store.Call(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
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

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	c, err := s.opts.Store.Call(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.RecordingPath == "" || strings.Contains(c.RecordingPath, "..") {
		writeError(w, http.StatusNotFound, "no recording for this call")
		return
	}
	f, err := os.Open(filepath.Join(s.opts.DataDir, c.RecordingPath))
	if err != nil {
		writeError(w, http.StatusNotFound, "recording file missing")
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, c.ID+".wav", st.ModTime(), f)
}

type sdpJSON struct {
	SDP string `json:"sdp"`
}

func (s *Server) answerCall(w http.ResponseWriter, r *http.Request) {
	var req sdpJSON
	if !decode(w, r, &req) {
		return
	}
	if !strings.HasPrefix(strings.TrimSpace(req.SDP), "v=0") {
		writeError(w, http.StatusBadRequest, "sdp: want an SDP offer starting with v=0")
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

func (s *Server) importCall(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CallerNumber string               `json:"caller_number"`
		Intent       string               `json:"intent"`
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
	var callerText []string
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
		}
		if sg.Speaker == transcript.Caller {
			callerText = append(callerText, sg.Text)
		}
	}
	segs := append([]transcript.Segment(nil), req.Transcript...)
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].StartMS < segs[j].StartMS })
	intent := req.Intent
	if intent == "" {
		intent = s.intentOf(callerText)
	}
	res, err := s.opts.Importer.Import(r.Context(), transcript.Transcript{CallerNumber: req.CallerNumber, Segments: segs}, intent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

// intentOf classifies the caller's lines: the most confident one wins, so
// chit-chat ("hi there") doesn't drown the request.
func (s *Server) intentOf(lines []string) string {
	best, bestConf := "unknown", 0.0
	for _, l := range lines {
		if in, c := s.opts.NLU.Classify(l); in != "unknown" && c > bestConf {
			best, bestConf = in, c
		}
	}
	if best == "unknown" && len(lines) > 0 {
		best, _ = s.opts.NLU.Classify(strings.Join(lines, " "))
	}
	return best
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("call_id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "call_id: required")
		return
	}
	ts, err := s.opts.Store.TicketsByCall(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": ts})
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	t, err := s.opts.Store.Ticket(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
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
	es, err := s.opts.Store.EvaluationsByCall(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"evaluations": es})
}

func (s *Server) getEvaluation(w http.ResponseWriter, r *http.Request) {
	e, err := s.opts.Store.Evaluation(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
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
