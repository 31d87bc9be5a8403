package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
)

// ListEvaluations returns the review queue: evaluations matching f with
// their call's agent, queue and caller, newest first.
func (s *Store) ListEvaluations(ctx context.Context, f store.EvaluationFilter) ([]store.EvaluationSummary, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.BelowPct > 0 {
		where = append(where, "e.score * 100 < "+arg(f.BelowPct)+" * e.max_score")
	}
	if f.AutoFailed {
		where = append(where, "e.auto_failed = 1")
	}
	if f.Agent != "" {
		where = append(where, "c.agent = "+arg(f.Agent))
	}
	if f.Queue != "" {
		where = append(where, "c.queue = "+arg(f.Queue))
	}
	if f.Team != "" {
		where = append(where, "u.team = "+arg(f.Team))
	}
	if !f.From.IsZero() {
		where = append(where, "e.created_at >= "+arg(Time(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "e.created_at < "+arg(Time(f.To)))
	}
	q := `SELECT ` + prefixed("e.", evalCols) + `, COALESCE(c.agent, ''), COALESCE(u.team, ''), COALESCE(c.queue, ''), COALESCE(c.from_uri, ''),
		c.started_at, (SELECT count(*) FROM qa_reviews r WHERE r.evaluation_id = e.id)
		FROM qa_evaluations e LEFT JOIN calls c ON c.id = e.call_id LEFT JOIN users u ON u.username = c.agent AND c.agent <> ''`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY e.created_at DESC" + s.d.NullsLast + ", e.id DESC LIMIT " + arg(limitOr(f.Limit))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "store: list evaluations")
	}
	out, err := collect(rows, func(r Row) (store.EvaluationSummary, error) {
		var es store.EvaluationSummary
		var autoFailed int
		var ack qa.Ack
		e := &es.Evaluation
		err := r.Scan(&e.ID, &e.CallID, &e.Scorecard, &e.Score, &e.MaxScore, jsonCol{&e.Items}, NullTime{&e.CreatedAt},
			&autoFailed, &e.Method, &ack.Status, &ack.By, &ack.Comment, NullTime{&ack.At},
			&es.Agent, &es.Team, &es.Queue, &es.CallerNumber, NullTime{&es.CallStartedAt}, &es.Reviews)
		e.AutoFailed = autoFailed != 0
		if ack.Status != "" {
			e.Ack = &ack
		}
		return es, err
	})
	return out, wrap(err, "store: list evaluations")
}

// OverrideItem applies o to the evaluation and keeps it as a review row
// in one transaction.
func (s *Store) OverrideItem(ctx context.Context, evaluationID string, o qa.Override) (qa.Evaluation, qa.Override, error) {
	var ev qa.Evaluation
	if o.ID == "" {
		o.ID = newID()
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now()
	}
	o.EvaluationID = evaluationID
	err := s.db.InTx(ctx, func(tx DB) error {
		cur, err := scanEval(tx.QueryRow(ctx, qEvaluation, evaluationID))
		if err != nil {
			return err
		}
		if ev, o, err = cur.Apply(o); err != nil {
			return err
		}
		items, err := encodeJSON(ev.Items)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE qa_evaluations SET score = $2, max_score = $3, items = $4, auto_failed = $5 WHERE id = $1`,
			ev.ID, ev.Score, ev.MaxScore, items, boolInt(ev.AutoFailed)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO qa_reviews (id, evaluation_id, reviewer, item, old_passed, new_passed, old_score, new_score, comment, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, o.ID, evaluationID, o.Reviewer, o.Item, boolInt(o.OldPassed),
			boolInt(o.NewPassed), o.OldScore, o.NewScore, o.Comment, Time(o.CreatedAt))
		return err
	})
	if errors.Is(err, qa.ErrUnknownItem) || errors.Is(err, qa.ErrBadReview) {
		return ev, o, fmt.Errorf("store: override evaluation %q: %w", evaluationID, err)
	}
	o.CreatedAt = ms(o.CreatedAt)
	return ev, o, wrap(err, "store: override evaluation %q", evaluationID)
}

func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// Reviews returns the evaluation's override rows, oldest first.
func (s *Store) Reviews(ctx context.Context, evaluationID string) ([]qa.Override, error) {
	rows, err := s.db.Query(ctx, `SELECT id, evaluation_id, reviewer, item, old_passed, new_passed, old_score, new_score, comment, created_at
		FROM qa_reviews WHERE evaluation_id = $1 ORDER BY created_at, id`, evaluationID)
	if err != nil {
		return nil, wrap(err, "store: reviews of %q", evaluationID)
	}
	out, err := collect(rows, func(r Row) (qa.Override, error) {
		var o qa.Override
		var op, np int
		err := r.Scan(&o.ID, &o.EvaluationID, &o.Reviewer, &o.Item, &op, &np, &o.OldScore, &o.NewScore, &o.Comment, NullTime{&o.CreatedAt})
		o.OldPassed, o.NewPassed = op != 0, np != 0
		return o, err
	})
	return out, wrap(err, "store: reviews of %q", evaluationID)
}

// AckEvaluation records the agent's acknowledgement or dispute, replacing
// an earlier one.
func (s *Store) AckEvaluation(ctx context.Context, evaluationID string, a qa.Ack) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("store: ack evaluation %q: %w", evaluationID, err)
	}
	n, err := s.db.Exec(ctx, `UPDATE qa_evaluations SET ack_status = $2, ack_by = $3, ack_comment = $4, ack_at = $5 WHERE id = $1`,
		evaluationID, a.Status, a.By, a.Comment, Time(a.At))
	return notFound(n, err, "store: ack evaluation %q", evaluationID)
}

// SaveCalibration stores c, replacing the reviewer's earlier calibration
// of the same evaluation.
func (s *Store) SaveCalibration(ctx context.Context, c qa.Calibration) error {
	if c.Reviewer == "" || c.EvaluationID == "" {
		return errors.New("store: save calibration: empty reviewer or evaluation")
	}
	items, err := encodeJSON(c.Items)
	if err != nil {
		return fmt.Errorf("store: save calibration: %w", err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO qa_calibrations (evaluation_id, reviewer, items, comment, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (evaluation_id, reviewer) DO UPDATE SET items = EXCLUDED.items, comment = EXCLUDED.comment, created_at = EXCLUDED.created_at`,
		c.EvaluationID, c.Reviewer, items, c.Comment, Time(c.CreatedAt))
	return wrap(err, "store: save calibration of %q", c.EvaluationID)
}

// Calibrations returns the evaluation's calibrations by reviewer.
func (s *Store) Calibrations(ctx context.Context, evaluationID string) ([]qa.Calibration, error) {
	rows, err := s.db.Query(ctx, `SELECT evaluation_id, reviewer, items, comment, created_at FROM qa_calibrations
		WHERE evaluation_id = $1 ORDER BY reviewer`, evaluationID)
	if err != nil {
		return nil, wrap(err, "store: calibrations of %q", evaluationID)
	}
	out, err := collect(rows, func(r Row) (qa.Calibration, error) {
		var c qa.Calibration
		err := r.Scan(&c.EvaluationID, &c.Reviewer, jsonCol{&c.Items}, &c.Comment, NullTime{&c.CreatedAt})
		return c, err
	})
	return out, wrap(err, "store: calibrations of %q", evaluationID)
}

// week is the Monday of t's ISO week, YYYY-MM-DD (UTC).
func week(t time.Time) string {
	t = t.UTC()
	d := (int(t.Weekday()) + 6) % 7
	return t.AddDate(0, 0, -d).Format("2006-01-02")
}

type reportCall struct {
	id, from, intent, queue, ivr, team string
	start, answered, ended             time.Time
}

// QAReport reads the calls of [from, to+7 days) (the extra week for
// first-contact resolution) and the evaluations of [from, to) and
// aggregates them, narrowed to f.Team's answered calls when it is set
// (service level, abandonment and IVR containment stay centre-wide).
func (s *Store) QAReport(ctx context.Context, f store.ReportFilter) (store.QAReport, error) {
	from, to, slSeconds := f.From, f.To, f.SLSeconds
	if slSeconds <= 0 {
		slSeconds = 20
	}
	rep := store.QAReport{From: from, To: to, Team: f.Team, SLSeconds: slSeconds, IntentMix: map[string]int{}}
	if !to.After(from) {
		return rep, fmt.Errorf("store: qa report: to must be after from")
	}
	rows, err := s.db.Query(ctx, `SELECT c.id, c.from_uri, c.intent, c.queue, c.ivr_outcome, COALESCE(u.team, ''), c.started_at,
		c.answered_at, c.ended_at FROM calls c LEFT JOIN users u ON u.username = c.agent AND c.agent <> ''
		WHERE c.started_at >= $1 AND c.started_at < $2 ORDER BY c.started_at, c.id`, Time(from), Time(to.Add(7*24*time.Hour)))
	if err != nil {
		return rep, wrap(err, "store: qa report calls")
	}
	calls, err := collect(rows, func(r Row) (reportCall, error) {
		var c reportCall
		err := r.Scan(&c.id, &c.from, &c.intent, &c.queue, &c.ivr, &c.team, NullTime{&c.start}, NullTime{&c.answered}, NullTime{&c.ended})
		return c, err
	})
	if err != nil {
		return rep, wrap(err, "store: qa report calls")
	}
	lastByNumber := map[string][]time.Time{}
	for _, c := range calls {
		if c.from != "" {
			lastByNumber[c.from] = append(lastByNumber[c.from], c.start)
		}
	}
	var handle time.Duration
	var queued, withinSL, resolved, ivrCalls, contained int
	for _, c := range calls {
		if !c.start.Before(to) {
			continue
		}
		if f.Team == "" || c.team == f.Team {
			rep.Calls++
			if c.intent != "" {
				rep.IntentMix[c.intent]++
			}
		}
		if c.ivr != "" {
			ivrCalls++
			if c.ivr == store.IVRContained {
				contained++
			}
		}
		if c.queue != "" {
			queued++
			if c.answered.IsZero() {
				rep.Abandoned++
			} else if c.answered.Sub(c.start) <= time.Duration(slSeconds)*time.Second {
				withinSL++
			}
		}
		if c.answered.IsZero() || (f.Team != "" && c.team != f.Team) {
			continue
		}
		rep.Answered++
		if c.ended.After(c.answered) {
			handle += c.ended.Sub(c.answered)
		}
		repeat := false
		for _, t := range lastByNumber[c.from] {
			if t.After(c.start) && !t.After(c.start.Add(7*24*time.Hour)) {
				repeat = true
				break
			}
		}
		if !repeat {
			resolved++
		}
	}
	if rep.Answered > 0 {
		rep.AvgHandleSeconds = handle.Seconds() / float64(rep.Answered)
		rep.FCRRate = float64(resolved) / float64(rep.Answered)
	}
	if queued > 0 {
		rep.ServiceLevel = float64(withinSL) / float64(queued)
		rep.AbandonRate = float64(rep.Abandoned) / float64(queued)
	}
	if ivrCalls > 0 {
		rep.IVRContainment = float64(contained) / float64(ivrCalls)
	}

	evs, err := s.ListEvaluations(ctx, store.EvaluationFilter{From: from, To: to, Team: f.Team, Limit: 100_000})
	if err != nil {
		return rep, err
	}
	type acc struct {
		n   int
		pct float64
	}
	byAW := map[[2]string]*acc{}
	byTW := map[[2]string]*acc{}
	items := map[string]*store.ItemFailure{}
	for _, e := range evs {
		rep.Evaluations++
		at := e.CallStartedAt
		if at.IsZero() {
			at = e.CreatedAt
		}
		k := [2]string{e.Agent, week(at)}
		if byAW[k] == nil {
			byAW[k] = &acc{}
		}
		tk := [2]string{e.Team, k[1]}
		if byTW[tk] == nil {
			byTW[tk] = &acc{}
		}
		for _, a := range []*acc{byAW[k], byTW[tk]} {
			a.n++
			if e.MaxScore > 0 {
				a.pct += 100 * float64(e.Score) / float64(e.MaxScore)
			}
		}
		for _, it := range e.Items {
			if it.Pending {
				continue
			}
			f := items[it.Key]
			if f == nil {
				f = &store.ItemFailure{Key: it.Key, Label: it.Label}
				items[it.Key] = f
			}
			f.Evaluated++
			if !it.Passed {
				f.Failed++
			}
		}
	}
	for k, a := range byAW {
		rep.ScoreByAgentWeek = append(rep.ScoreByAgentWeek, store.AgentWeekScore{Agent: k[0], Week: k[1], Evaluations: a.n, AvgPct: a.pct / float64(a.n)})
	}
	sort.Slice(rep.ScoreByAgentWeek, func(i, j int) bool {
		a, b := rep.ScoreByAgentWeek[i], rep.ScoreByAgentWeek[j]
		if a.Week != b.Week {
			return a.Week < b.Week
		}
		return a.Agent < b.Agent
	})
	for k, a := range byTW {
		rep.ScoreByTeamWeek = append(rep.ScoreByTeamWeek, store.TeamWeekScore{Team: k[0], Week: k[1], Evaluations: a.n, AvgPct: a.pct / float64(a.n)})
	}
	sort.Slice(rep.ScoreByTeamWeek, func(i, j int) bool {
		a, b := rep.ScoreByTeamWeek[i], rep.ScoreByTeamWeek[j]
		if a.Week != b.Week {
			return a.Week < b.Week
		}
		return a.Team < b.Team
	})
	for _, f := range items {
		f.Rate = float64(f.Failed) / float64(f.Evaluated)
		rep.ItemFailures = append(rep.ItemFailures, *f)
	}
	sort.Slice(rep.ItemFailures, func(i, j int) bool {
		a, b := rep.ItemFailures[i], rep.ItemFailures[j]
		if a.Rate != b.Rate {
			return a.Rate > b.Rate
		}
		return a.Key < b.Key
	})
	return rep, nil
}
