package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
)

// QA review desk API: the review queue, overrides, the agent's
// acknowledgement, calibration and reports. Reviewers are users with role
// qa, supervisor or admin; an agent sees and answers their own evaluations.

func isReviewer(u store.User) bool {
	return u.Role == store.RoleQA || u.Role == store.RoleSupervisor || u.Role == store.RoleAdmin
}

// parseDay reads YYYY-MM-DD (UTC midnight) or RFC 3339.
// qaListEvaluations is GET /qa/evaluations: with call_id the call's
// evaluations, otherwise the review queue filtered by below (percent),
// auto_fail, agent, queue, team, from, to (YYYY-MM-DD or RFC 3339; to is
// exclusive) and limit. A supervisor in a team sees that team's.
func (s *Server) qaListEvaluations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("call_id") != "" {
		s.listEvaluations(w, r)
		return
	}
	var f store.EvaluationFilter
	if v := q.Get("below"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 101 {
			writeError(w, http.StatusBadRequest, "below: want a percentage 1-101")
			return
		}
		f.BelowPct = n
	}
	switch v := q.Get("auto_fail"); v {
	case "", "false", "0":
	case "true", "1":
		f.AutoFailed = true
	default:
		writeError(w, http.StatusBadRequest, "auto_fail: want true or false")
		return
	}
	f.Agent, f.Queue = q.Get("agent"), q.Get("queue")
	team, ok := teamFilter(w, r)
	if !ok {
		return
	}
	f.Team = team
	var err error
	if f.From, f.To, err = queryRange(q); err == nil {
		f.Limit, err = queryLimit(q, 100)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	u := userOf(r)
	if !isReviewer(u) {
		f.Agent = u.Username // agents see their own
	}
	es, err := s.opts.Store.ListEvaluations(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if es == nil {
		es = []store.EvaluationSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"evaluations": es})
}

// qaReviews is GET /qa/evaluations/{id}/reviews: the override rows, the
// calibrations and their agreement (with the automatic verdicts as "auto").
func (s *Server) qaReviews(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	ev, ok := s.evaluationOr404(w, r)
	if !ok {
		return
	}
	rs, err := s.opts.Store.Reviews(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cals, err := s.opts.Store.Calibrations(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []qa.Override{}
	}
	if cals == nil {
		cals = []qa.Calibration{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"reviews": rs, "calibrations": cals, "agreement": qa.Agree(cals, &ev)})
}

// qaOverride is POST /qa/evaluations/{id}/overrides {item, passed, score?,
// comment}: a reviewer replaces one item's result.
func (s *Server) qaOverride(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Item    string `json:"item"`
		Passed  *bool  `json:"passed"`
		Score   *int   `json:"score"`
		Comment string `json:"comment"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.Item == "":
		writeError(w, http.StatusBadRequest, "item: required")
		return
	case req.Passed == nil:
		writeError(w, http.StatusBadRequest, "passed: required (true or false)")
		return
	case strings.TrimSpace(req.Comment) == "":
		writeError(w, http.StatusBadRequest, "comment: required")
		return
	case len(req.Comment) > 4000:
		writeError(w, http.StatusBadRequest, "comment: at most 4000 bytes")
		return
	case req.Score != nil && *req.Score < 0:
		writeError(w, http.StatusBadRequest, "score: must not be negative")
		return
	}
	if _, ok := s.evaluationOr404(w, r); !ok { // a supervisor in a team: their team's
		return
	}
	o := qa.Override{Reviewer: userOf(r).Username, Item: req.Item, NewPassed: *req.Passed, NewScore: -1,
		Comment: strings.TrimSpace(req.Comment), CreatedAt: time.Now()}
	if req.Score != nil {
		o.NewScore = *req.Score
	}
	ev, o, err := s.opts.Store.OverrideItem(r.Context(), chi.URLParam(r, "id"), o)
	if err != nil {
		if errors.Is(err, qa.ErrUnknownItem) || errors.Is(err, qa.ErrBadReview) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditEvalOverride, "evaluation:"+ev.ID, fmt.Sprintf("item=%s passed=%t", o.Item, o.NewPassed))
	writeJSON(w, http.StatusCreated, map[string]any{"evaluation": ev, "review": o})
}

// qaAck is POST /qa/evaluations/{id}/ack {status, comment}: the call's
// agent (or a supervisor or admin) acknowledges or disputes it.
func (s *Server) qaAck(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status  string `json:"status"`
		Comment string `json:"comment"`
	}
	if !decode(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	ev, ok := s.evaluationOr404(w, r)
	if !ok {
		return
	}
	u := userOf(r)
	if u.Role != store.RoleAdmin && u.Role != store.RoleSupervisor {
		c, err := s.opts.Store.Call(r.Context(), ev.CallID)
		if err != nil || c.Agent != u.Username {
			writeError(w, http.StatusForbidden, "only the call's agent may acknowledge or dispute its evaluation")
			return
		}
	}
	a := qa.Ack{Status: req.Status, By: u.Username, Comment: strings.TrimSpace(req.Comment), At: time.Now()}
	if err := a.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.opts.Store.AckEvaluation(r.Context(), id, a); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditEvalAck, "evaluation:"+id, "status="+a.Status)
	ev, err := s.opts.Store.Evaluation(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

// qaCalibrate is POST /qa/evaluations/{id}/calibrations {items:{key:passed},
// comment}: the reviewer's own judgement; it answers with the agreement.
func (s *Server) qaCalibrate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Items   map[string]bool `json:"items"`
		Comment string          `json:"comment"`
	}
	if !decode(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	ev, ok := s.evaluationOr404(w, r)
	if !ok {
		return
	}
	if len(req.Items) == 0 {
		writeError(w, http.StatusBadRequest, "items: judge at least one item")
		return
	}
	known := map[string]bool{}
	for _, it := range ev.Items {
		known[it.Key] = true
	}
	for k := range req.Items {
		if !known[k] {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("items: %q is not an item of this evaluation", k))
			return
		}
	}
	c := qa.Calibration{EvaluationID: id, Reviewer: userOf(r).Username, Items: req.Items, Comment: strings.TrimSpace(req.Comment), CreatedAt: time.Now()}
	if err := s.opts.Store.SaveCalibration(r.Context(), c); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditEvalCalibration, "evaluation:"+id, "")
	cals, err := s.opts.Store.Calibrations(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"calibrations": cals, "agreement": qa.Agree(cals, &ev)})
}

// qaReport is GET /qa/reports?from=&to=&sl_seconds=&team=&format=json|csv&
// table=agent_week|team_week|items|summary. The period defaults to the
// last 28 days; a supervisor in a team gets that team's.
func (s *Server) qaReport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.Add(-28 * 24 * time.Hour)
	if v := q.Get("from"); v != "" {
		t, err := parseDay(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "from: want YYYY-MM-DD or an RFC 3339 time")
			return
		}
		from = t
	}
	if v := q.Get("to"); v != "" {
		t, err := parseDay(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "to: want YYYY-MM-DD or an RFC 3339 time")
			return
		}
		to = t
		if len(v) == len("2006-01-02") {
			to = to.Add(24 * time.Hour)
		}
	}
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		writeError(w, http.StatusBadRequest, "from/to: want from before to and at most a year apart")
		return
	}
	sl := 20
	if v := q.Get("sl_seconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			writeError(w, http.StatusBadRequest, "sl_seconds: want 1-3600")
			return
		}
		sl = n
	}
	team, ok := teamFilter(w, r)
	if !ok {
		return
	}
	rep, err := s.opts.Store.QAReport(r.Context(), store.ReportFilter{From: from, To: to, SLSeconds: sl, Team: team})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch q.Get("format") {
	case "", "json":
		if rep.ScoreByAgentWeek == nil {
			rep.ScoreByAgentWeek = []store.AgentWeekScore{}
		}
		if rep.ScoreByTeamWeek == nil {
			rep.ScoreByTeamWeek = []store.TeamWeekScore{}
		}
		if rep.ItemFailures == nil {
			rep.ItemFailures = []store.ItemFailure{}
		}
		writeJSON(w, http.StatusOK, rep)
	case "csv":
		var rows [][]string
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
		switch table := q.Get("table"); table {
		case "", "agent_week":
			rows = append(rows, []string{"agent", "week", "evaluations", "avg_pct"})
			for _, a := range rep.ScoreByAgentWeek {
				rows = append(rows, []string{a.Agent, a.Week, strconv.Itoa(a.Evaluations), f(a.AvgPct)})
			}
		case "team_week":
			rows = append(rows, []string{"team", "week", "evaluations", "avg_pct"})
			for _, a := range rep.ScoreByTeamWeek {
				rows = append(rows, []string{a.Team, a.Week, strconv.Itoa(a.Evaluations), f(a.AvgPct)})
			}
		case "items":
			rows = append(rows, []string{"item", "label", "evaluated", "failed", "rate"})
			for _, it := range rep.ItemFailures {
				rows = append(rows, []string{it.Key, it.Label, strconv.Itoa(it.Evaluated), strconv.Itoa(it.Failed), f(it.Rate)})
			}
		case "summary":
			rows = append(rows, []string{"metric", "value"},
				[]string{"calls", strconv.Itoa(rep.Calls)}, []string{"answered", strconv.Itoa(rep.Answered)},
				[]string{"evaluations", strconv.Itoa(rep.Evaluations)},
				[]string{"avg_handle_seconds", f(rep.AvgHandleSeconds)}, []string{"fcr_rate", f(rep.FCRRate)},
				[]string{"service_level", f(rep.ServiceLevel)}, []string{"sl_seconds", strconv.Itoa(rep.SLSeconds)},
				[]string{"abandoned", strconv.Itoa(rep.Abandoned)}, []string{"abandon_rate", f(rep.AbandonRate)},
				[]string{"ivr_containment", f(rep.IVRContainment)})
			var intents []string
			for k := range rep.IntentMix {
				intents = append(intents, k)
			}
			sort.Strings(intents)
			for _, k := range intents {
				rows = append(rows, []string{"intent:" + k, strconv.Itoa(rep.IntentMix[k])})
			}
		default:
			writeError(w, http.StatusBadRequest, "table: want agent_week, team_week, items or summary")
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="qa-report.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.WriteAll(rows)
	default:
		writeError(w, http.StatusBadRequest, "format: want json or csv")
	}
}
