package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// PostCall turns a finished call's transcript into a ticket and a QA
// evaluation and stores both. Live calls and imported ones share it.
type PostCall struct {
	Store     store.Store
	Scorecard qa.Scorecard
	Now       func() time.Time
}

// Result names what PostCall wrote.
type Result struct {
	CallID       string `json:"call_id"`
	TicketID     string `json:"ticket_id"`
	EvaluationID string `json:"evaluation_id"`
}

// Process drafts and stores the ticket and evaluation for tr.
func (p *PostCall) Process(ctx context.Context, tr transcript.Transcript) (Result, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	t := tickets.Draft(tr, tickets.DraftOptions{})
	t.ID, t.CallID = NewID("tkt"), tr.CallID
	t.CreatedAt, t.UpdatedAt = now(), now()
	if err := p.Store.CreateTicket(ctx, t); err != nil {
		return Result{CallID: tr.CallID}, fmt.Errorf("call: store ticket: %w", err)
	}
	e := qa.Score(p.Scorecard, tr)
	e.ID, e.CallID, e.CreatedAt = NewID("qa"), tr.CallID, now()
	if err := p.Store.CreateEvaluation(ctx, e); err != nil {
		return Result{CallID: tr.CallID, TicketID: t.ID}, fmt.Errorf("call: store evaluation: %w", err)
	}
	return Result{CallID: tr.CallID, TicketID: t.ID, EvaluationID: e.ID}, nil
}

// Import stores a call recorded elsewhere (a transcript from another PBX)
// and runs the post-call pipeline on it.
func (p *PostCall) Import(ctx context.Context, tr transcript.Transcript, intent string) (Result, error) {
	if tr.CallID == "" {
		tr.CallID = NewID("call")
	}
	tr.Intent = intent
	start := p.now()
	var endMS int64
	for _, s := range tr.Segments {
		if s.EndMS > endMS {
			endMS = s.EndMS
		}
	}
	c := store.Call{ID: tr.CallID, From: tr.CallerNumber, To: "import", StartedAt: start,
		EndedAt: start.Add(time.Duration(endMS) * time.Millisecond), Intent: intent, Disposition: "imported"}
	if err := p.Store.CreateCall(ctx, c); err != nil {
		return Result{}, fmt.Errorf("call: store imported call: %w", err)
	}
	if err := p.Store.AddSegments(ctx, tr.CallID, tr.Segments); err != nil {
		return Result{}, fmt.Errorf("call: store imported transcript: %w", err)
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
