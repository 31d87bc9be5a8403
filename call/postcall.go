package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// RepeatWindow is how long after a ticket the same customer calling about
// the same category is a repeat contact.
const RepeatWindow = 7 * 24 * time.Hour

// PostCall turns a finished call's transcript into a ticket and a QA
// evaluation and stores both. Live calls and imported ones share it.
// Transcripts are redacted (cards, CVVs, national IDs) before anything is
// stored or sent anywhere.
type PostCall struct {
	Store     store.Store
	Scorecard qa.Scorecard
	Now       func() time.Time
	// Writer drafts tickets; nil: the embedded writer with default rules.
	Writer *tickets.Writer
	// SLA sets due times on new tickets; nil: DefaultSLATargets around the
	// clock.
	SLA *tickets.SLAPolicy
	// BasePriority is each intent's configured priority (when no rule
	// holds).
	BasePriority map[string]string
	// VIP reports whether a caller number belongs to a VIP; nil: nobody.
	VIP func(number string) bool
	// RepeatWindow overrides the package's RepeatWindow; negative turns
	// repeat-contact linking off.
	RepeatWindow time.Duration
	// Judge scores the call; nil: the scorecard's rules.
	Judge qa.Scorer
	Log   *slog.Logger
	// Redaction is what is masked beyond card data, CVV codes and
	// national IDs (always masked).
	Redaction tickets.Redaction
}

// Result names what PostCall wrote.
type Result struct {
	CallID       string `json:"call_id"`
	TicketID     string `json:"ticket_id"`
	EvaluationID string `json:"evaluation_id"`
	// Repeat is set when the call was linked to the customer's open
	// ticket instead of opening a new one.
	Repeat bool `json:"repeat,omitempty"`
}

// Process drafts and stores the ticket and evaluation for tr. When the
// customer (account number, else caller number) has an open ticket of the
// same category from the last seven days, the call is added to it as a
// note and its ID is returned instead of a new ticket's.
func (p *PostCall) Process(ctx context.Context, tr transcript.Transcript) (Result, error) {
	now := p.now()
	tr = p.Redaction.Transcript(tr)
	ctx = tickets.WithActor(ctx, tickets.ActorSystem)
	opts := tickets.DraftOptions{Now: now, BasePriority: p.BasePriority[tr.Intent]}
	if p.VIP != nil && tr.CallerNumber != "" {
		opts.VIP = p.VIP(tr.CallerNumber)
	}
	w := p.Writer
	if w == nil {
		w = &tickets.Writer{}
	}
	t := w.Write(ctx, tr, opts)
	res := Result{CallID: tr.CallID}
	prev, err := p.openTicket(ctx, t, now)
	switch {
	case err == nil:
		if err := p.link(ctx, prev, t, tr, now); err != nil {
			return res, err
		}
		res.TicketID, res.Repeat = prev.ID, true
	case errors.Is(err, store.ErrNotFound):
		t.ID, t.CallID = NewID("tkt"), tr.CallID
		t.CreatedAt, t.UpdatedAt = now, now
		if hasAgent(tr) { // the agent answered the customer on the call
			t.FirstResponseAt = now
		}
		sla := p.SLA
		if sla == nil {
			sla = &tickets.SLAPolicy{}
		}
		sla.Apply(&t)
		if err := p.Store.CreateTicket(ctx, t); err != nil {
			return res, fmt.Errorf("call: store ticket: %w", err)
		}
		res.TicketID = t.ID
	default:
		return res, fmt.Errorf("call: find open ticket: %w", err)
	}
	res.EvaluationID, err = p.evaluate(ctx, tr, now)
	return res, err
}

// evaluate scores the (redacted) transcript and stores the evaluation.
func (p *PostCall) evaluate(ctx context.Context, tr transcript.Transcript, now time.Time) (string, error) {
	var e qa.Evaluation
	if p.Judge != nil {
		e = p.Judge.Score(ctx, p.Scorecard, tr, tr.Agent)
	} else {
		e = qa.ScoreCall(p.Scorecard, tr, tr.Agent)
	}
	e.ID, e.CallID, e.CreatedAt = NewID("qa"), tr.CallID, now
	if err := p.Store.CreateEvaluation(ctx, e); err != nil {
		return "", fmt.Errorf("call: store evaluation: %w", err)
	}
	return e.ID, nil
}

// ProcessOnce is Process for work that may have been done in part (an
// outbox job retried after a failure or a crash): a call that already
// has its ticket (or was linked to one) gets no second one, and one that
// has its evaluation gets no second one either.
func (p *PostCall) ProcessOnce(ctx context.Context, tr transcript.Transcript) (Result, error) {
	res := Result{CallID: tr.CallID}
	ts, err := p.Store.TicketsByCall(ctx, tr.CallID)
	if err != nil {
		return res, fmt.Errorf("call: tickets of %s: %w", tr.CallID, err)
	}
	if len(ts) == 0 {
		return p.Process(ctx, tr)
	}
	res.TicketID, res.Repeat = ts[0].ID, ts[0].CallID != tr.CallID
	es, err := p.Store.EvaluationsByCall(ctx, tr.CallID)
	if err != nil {
		return res, fmt.Errorf("call: evaluations of %s: %w", tr.CallID, err)
	}
	if len(es) > 0 {
		res.EvaluationID = es[0].ID
		return res, nil
	}
	res.EvaluationID, err = p.evaluate(tickets.WithActor(ctx, tickets.ActorSystem), p.Redaction.Transcript(tr), p.now())
	return res, err
}

// openTicket finds the customer's open ticket of t's category within the
// repeat window, by account and then by phone number.
func (p *PostCall) openTicket(ctx context.Context, t tickets.Ticket, now time.Time) (tickets.Ticket, error) {
	window := p.RepeatWindow
	if window == 0 {
		window = RepeatWindow
	}
	if window < 0 || t.Category == tickets.CategoryUnknown {
		return tickets.Ticket{}, store.ErrNotFound
	}
	ids := []string{t.Customer.ID}
	if tel := tickets.CustomerID(t.Customer.Phone, ""); tel != "" && tel != t.Customer.ID {
		ids = append(ids, tel)
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		prev, err := p.Store.OpenTicket(ctx, id, t.Category, now.Add(-window))
		if !errors.Is(err, store.ErrNotFound) {
			return prev, err
		}
	}
	return tickets.Ticket{}, store.ErrNotFound
}

// link adds a repeat call to the open ticket prev: a note with the new
// call's summary, the repeat tag, the higher of the two priorities, newly
// heard entities and follow-ups.
func (p *PostCall) link(ctx context.Context, prev, t tickets.Ticket, tr transcript.Transcript, now time.Time) error {
	body := fmt.Sprintf("Repeat contact (call %s, caller %s, sentiment %s): %s", tr.CallID, tr.CallerNumber, t.Sentiment, t.Summary)
	if _, err := p.Store.AddTicketNote(ctx, tickets.Note{TicketID: prev.ID, Author: tickets.ActorSystem, Body: body,
		Internal: true, CreatedAt: now}); err != nil {
		return fmt.Errorf("call: note repeat contact: %w", err)
	}
	if !slices.Contains(prev.Tags, "repeat_contact") {
		prev.Tags = append(prev.Tags, "repeat_contact")
	}
	if tickets.PriorityRank(t.Priority) > tickets.PriorityRank(prev.Priority) {
		prev.Priority = t.Priority
	}
	if prev.Entities == nil {
		prev.Entities = map[string]string{}
	}
	for k, v := range t.Entities {
		if _, ok := prev.Entities[k]; !ok {
			prev.Entities[k] = v
		}
	}
	prev.FollowUps = append(prev.FollowUps, t.FollowUps...)
	if t.Outcome == tickets.OutcomeFollowUp {
		prev.Outcome = tickets.OutcomeFollowUp
	}
	prev.Sentiment, prev.SentimentEnd = t.Sentiment, t.SentimentEnd
	if prev.Status == tickets.StatusPending || prev.Status == tickets.StatusOnHold {
		prev.Status = tickets.StatusOpen // the customer is back
	}
	prev.UpdatedAt = now
	if err := p.Store.UpdateTicket(ctx, prev); err != nil {
		return fmt.Errorf("call: update repeat ticket: %w", err)
	}
	if err := p.Store.AddTicketEvents(ctx, []tickets.Event{{TicketID: prev.ID, At: now, Actor: tickets.ActorSystem,
		Field: tickets.FieldLinkedCall, New: tr.CallID}}); err != nil {
		return fmt.Errorf("call: record linked call: %w", err)
	}
	if p.Log != nil {
		p.Log.Info("repeat contact linked", "call_id", tr.CallID, "ticket", prev.ID, "customer", prev.Customer.ID)
	}
	return nil
}

func hasAgent(tr transcript.Transcript) bool {
	for _, s := range tr.Segments {
		if s.Speaker == transcript.Agent && strings.TrimSpace(s.Text) != "" {
			return true
		}
	}
	return false
}

// Import stores a call recorded elsewhere (a transcript from another PBX)
// and runs the post-call pipeline on it. The transcript is redacted
// before it is stored.
func (p *PostCall) Import(ctx context.Context, tr transcript.Transcript, intent string) (Result, error) {
	if tr.CallID == "" {
		tr.CallID = NewID("call")
	}
	tr.Intent = intent
	tr = p.Redaction.Transcript(tr)
	start := p.now()
	var endMS int64
	for _, s := range tr.Segments {
		if s.EndMS > endMS {
			endMS = s.EndMS
		}
	}
	// Stored open, with its transcript, then ended: a call that shows as
	// ended has its transcript (as for live calls, postjob.go).
	c := store.Call{ID: tr.CallID, From: tr.CallerNumber, To: "import", StartedAt: start, Intent: intent}
	if err := p.Store.CreateCall(ctx, c); err != nil {
		return Result{}, fmt.Errorf("call: store imported call: %w", err)
	}
	if err := p.Store.AddSegments(ctx, tr.CallID, tr.Segments); err != nil {
		return Result{}, fmt.Errorf("call: store imported transcript: %w", err)
	}
	c.EndedAt, c.Disposition = start.Add(time.Duration(endMS)*time.Millisecond), "imported"
	if err := p.Store.UpdateCall(ctx, c); err != nil {
		return Result{}, fmt.Errorf("call: end imported call: %w", err)
	}
	return p.Process(ctx, tr)
}

func (p *PostCall) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// NewID returns a random ID with a readable prefix, e.g. "call_3f9a…".
func NewID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}
