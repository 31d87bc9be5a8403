package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

func callIDs(cs []store.Call) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// evidenceTexts is every evidence text of the call's evaluations.
func evidenceTexts(t *testing.T, s store.Store, callID string) []string {
	t.Helper()
	es, err := s.EvaluationsByCall(ctx(t), callID)
	must(t, err, "EvaluationsByCall")
	var out []string
	for _, e := range es {
		for _, it := range e.Items {
			for _, ev := range it.Evidence {
				out = append(out, ev.Text)
			}
		}
	}
	return out
}

func quotedEvaluation(id, callID, text string) qa.Evaluation {
	return qa.Evaluation{ID: id, CallID: callID, Scorecard: "default", Score: 10, MaxScore: 10, CreatedAt: base,
		Items: []qa.Item{{Key: "greeting", Label: "Greeting", Passed: true, Score: 10, Max: 10,
			Evidence: []qa.Evidence{{Speaker: transcript.Agent, StartMS: 100, Text: text}}}}}
}

// testRetention: recordings and transcripts of old calls go, per queue
// and for the calls of every other queue; newer calls and other queues'
// stay.
func testRetention(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	day := 24 * time.Hour
	mk := func(id, queue string, age time.Duration) {
		must(t, s.CreateCall(c, store.Call{ID: id, From: "+1555", StartedAt: base.Add(-age), Queue: queue,
			RecordingPath: "recordings/" + id + ".wav"}), "CreateCall "+id)
		must(t, s.AddSegments(c, id, []transcript.Segment{{Speaker: transcript.Caller, StartMS: 0, EndMS: 900, Text: "my card is on file " + id},
			{Speaker: transcript.Agent, StartMS: 1000, EndMS: 1900, Text: "thanks"}}), "AddSegments "+id)
		must(t, s.CreateEvaluation(c, quotedEvaluation("ev-"+id, id, "my card is on file "+id)), "CreateEvaluation "+id)
	}
	mk("b-old", "billing", 40*day)
	mk("b-older", "billing", 50*day)
	mk("b-new", "billing", 5*day)
	mk("o-old", "orders", 40*day)
	mk("n-old", "", 40*day) // never reached a queue
	cutoff := base.Add(-30 * day)

	got, err := s.ExpiredRecordings(c, store.RetentionScope{Queues: []string{"billing"}, Before: cutoff})
	must(t, err, "ExpiredRecordings billing")
	equal(t, callIDs(got), []string{"b-older", "b-old"}, "expired billing recordings, oldest first")
	got, err = s.ExpiredRecordings(c, store.RetentionScope{Queues: []string{"billing"}, Except: true, Before: cutoff})
	must(t, err, "ExpiredRecordings others")
	equal(t, callIDs(got), []string{"n-old", "o-old"}, "expired recordings of every other queue")
	got, err = s.ExpiredRecordings(c, store.RetentionScope{Except: true, Before: cutoff, Limit: 2})
	must(t, err, "ExpiredRecordings all")
	equal(t, callIDs(got), []string{"b-older", "b-old"}, "all queues, limit 2")
	got, err = s.ExpiredRecordings(c, store.RetentionScope{Before: cutoff})
	must(t, err, "ExpiredRecordings no queues")
	equal(t, callIDs(got), []string{}, "a scope of no queues selects nothing")

	must(t, s.ClearRecording(c, "b-older"), "ClearRecording")
	wantErr(t, s.ClearRecording(c, "nope"), store.ErrNotFound, "ClearRecording absent")
	got, _ = s.ExpiredRecordings(c, store.RetentionScope{Queues: []string{"billing"}, Before: cutoff})
	equal(t, callIDs(got), []string{"b-old"}, "a cleared recording is not selected again")
	if cl, _ := s.Call(c, "b-older"); cl.RecordingPath != "" || cl.Queue != "billing" {
		t.Errorf("cleared call: %+v", cl)
	}

	calls, segs, err := s.PurgeTranscripts(c, store.RetentionScope{Queues: []string{"billing"}, Before: cutoff, Limit: 1})
	must(t, err, "PurgeTranscripts")
	if calls != 1 || segs != 2 {
		t.Errorf("PurgeTranscripts limit 1 = %d calls, %d segments", calls, segs)
	}
	calls, segs, err = s.PurgeTranscripts(c, store.RetentionScope{Queues: []string{"billing"}, Before: cutoff})
	must(t, err, "PurgeTranscripts rest")
	if calls != 1 || segs != 2 {
		t.Errorf("PurgeTranscripts rest = %d calls, %d segments", calls, segs)
	}
	calls, _, _ = s.PurgeTranscripts(c, store.RetentionScope{Queues: []string{"billing"}, Before: cutoff})
	equal(t, calls, 0, "PurgeTranscripts again")
	for id, kept := range map[string]bool{"b-old": false, "b-older": false, "b-new": true, "o-old": true, "n-old": true} {
		sg, err := s.Segments(c, id)
		must(t, err, "Segments "+id)
		if (len(sg) == 2) != kept {
			t.Errorf("%s: %d segments after the billing purge, kept=%t", id, len(sg), kept)
		}
		ev := evidenceTexts(t, s, id)
		if len(ev) != 1 || (ev[0] == store.Erased) == kept {
			t.Errorf("%s: evidence %q after the billing purge, kept=%t", id, ev, kept)
		}
	}
	calls, segs, err = s.PurgeTranscripts(c, store.RetentionScope{Queues: []string{"billing"}, Except: true, Before: cutoff})
	must(t, err, "PurgeTranscripts others")
	if calls != 2 || segs != 4 {
		t.Errorf("PurgeTranscripts others = %d calls, %d segments", calls, segs)
	}
	if sg, _ := s.Segments(c, "b-new"); len(sg) != 2 {
		t.Error("the new call's transcript went")
	}
}

// testErasure: one customer's recordings, transcripts and ticket PII go
// in one call; the rows and their statistics stay; others' stay whole.
func testErasure(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	c = tickets.WithActor(c, "admin")
	const num, other = "+15550100", "+15550199"
	for i, cl := range []store.Call{
		{ID: "e1", From: num, StartedAt: base, EndedAt: base.Add(time.Minute), Queue: "billing", Agent: "alice",
			Intent: "billing", RecordingPath: "recordings/e1.wav"},
		{ID: "e2", From: num, StartedAt: base.Add(time.Hour), Queue: "billing", Intent: "billing"},
		{ID: "x1", From: other, StartedAt: base, RecordingPath: "recordings/x1.wav", Intent: "sales"},
	} {
		must(t, s.CreateCall(c, cl), "CreateCall")
		must(t, s.AddSegments(c, cl.ID, []transcript.Segment{{Speaker: transcript.Caller, StartMS: int64(i), EndMS: 900,
			Text: "my account number is four four one two nine seven"}}), "AddSegments")
		must(t, s.CreateEvaluation(c, quotedEvaluation("ev-"+cl.ID, cl.ID, "account four four one")), "CreateEvaluation")
	}
	acct := tickets.Customer{Phone: num, ID: "acct:441297", AccountNumber: "441297"}
	mk := func(id, callID string, cust tickets.Customer) tickets.Ticket {
		return tickets.Ticket{ID: id, CallID: callID, Category: "billing", Priority: tickets.PriorityHigh, Status: tickets.StatusOpen,
			Subject: "Charged twice, account 441297", Summary: "Jane Roe at " + cust.Phone + " was charged twice.",
			Entities: map[string]string{"account_number": "441297", "name": "Jane Roe"}, Tags: []string{"billing"},
			Customer: cust, FollowUps: []tickets.FollowUp{{Action: "Call Jane back on " + cust.Phone}}, CreatedAt: base, UpdatedAt: base}
	}
	fromOtherPhone := acct
	fromOtherPhone.Phone = "+15550777" // the same account from another phone
	byPhoneOnly := tickets.Customer{Phone: num, ID: "tel:" + num}
	stranger := tickets.Customer{Phone: other, ID: "tel:" + other}
	for _, tk := range []tickets.Ticket{mk("te1", "e1", acct), mk("te2", "c-elsewhere", fromOtherPhone),
		mk("te3", "c-imported", byPhoneOnly), mk("tx1", "x1", stranger)} {
		must(t, s.CreateTicket(c, tk), "CreateTicket "+tk.ID)
	}
	// e2 was a repeat contact linked to te1; an agent edited te1's summary.
	must(t, s.AddTicketEvents(c, []tickets.Event{{TicketID: "te1", At: base, Actor: "system", Field: tickets.FieldLinkedCall, New: "e2"}}), "link")
	te1, _ := s.Ticket(c, "te1")
	te1.Summary = "Jane Roe (DOB 1980-02-03) charged twice"
	must(t, s.UpdateTicket(c, te1), "UpdateTicket")
	_, err := s.AddTicketNote(c, tickets.Note{TicketID: "te1", Author: "alice", Body: "Jane's email is jane@example.com", Internal: true})
	must(t, err, "AddTicketNote")

	// Two callbacks to the number are pending (one asked for on e2), one to the stranger.
	for _, cb := range []store.Callback{
		{ID: "cb-e2", CallID: "e2", Number: num, Queue: "billing", WaitingSince: base, CreatedAt: base},
		{ID: "cb-e9", CallID: "e9", Number: num, Queue: "billing", WaitingSince: base.Add(time.Minute), CreatedAt: base},
		{ID: "cb-x1", CallID: "x1", Number: other, Queue: "sales", WaitingSince: base, CreatedAt: base},
	} {
		must(t, s.AddCallback(c, cb), "AddCallback "+cb.ID)
	}

	at := base.Add(48 * time.Hour)
	e, err := s.EraseCustomer(c, num, at)
	must(t, err, "EraseCustomer")
	equal(t, e.Callbacks, []string{"cb-e2", "cb-e9"}, "erased callbacks")
	pending, err := s.PendingCallbacks(c, 0)
	must(t, err, "PendingCallbacks")
	if len(pending) != 1 || pending[0].ID != "cb-x1" || pending[0].Number != other {
		t.Errorf("callbacks after erasure: %+v, want the stranger's alone", pending)
	}
	equal(t, e.Calls, []string{"e1", "e2"}, "erased calls")
	equal(t, e.Recordings, []string{"recordings/e1.wav"}, "recordings to delete")
	if e.Segments != 2 || e.Tickets != 3 || e.Notes != 1 || e.Evaluations != 2 {
		t.Errorf("erasure counts %+v, want 2 segments, 3 tickets, 1 note, 2 evaluations", e)
	}
	for _, id := range []string{"e1", "e2"} {
		cl, err := s.Call(c, id)
		must(t, err, "Call "+id)
		if cl.From != store.Erased || cl.RecordingPath != "" || cl.Queue != "billing" || cl.Intent != "billing" {
			t.Errorf("erased call %+v", cl)
		}
		if sg, _ := s.Segments(c, id); len(sg) != 0 {
			t.Errorf("%s: transcript kept: %v", id, sg)
		}
		equal(t, evidenceTexts(t, s, id), []string{store.Erased}, id+" evidence")
	}
	for _, id := range []string{"te1", "te2", "te3"} {
		tk, err := s.Ticket(c, id)
		must(t, err, "Ticket "+id)
		if tk.Subject != store.Erased || tk.Summary != store.Erased || tk.Customer != (tickets.Customer{}) || len(tk.Entities) != 0 ||
			len(tk.FollowUps) != 0 || !slices.Contains(tk.Tags, store.ErasedTag) {
			t.Errorf("erased ticket %s: %+v", id, tk)
		}
		if tk.Category != "billing" || tk.Priority != tickets.PriorityHigh || tk.Status != tickets.StatusOpen || !tk.CreatedAt.Equal(ms(base)) {
			t.Errorf("erased ticket %s lost its statistics: %+v", id, tk)
		}
	}
	notes, _ := s.TicketNotes(c, "te1")
	if len(notes) != 1 || notes[0].Body != store.Erased || notes[0].Author != "alice" {
		t.Errorf("notes after erasure: %+v", notes)
	}
	evs, _ := s.TicketEvents(c, "te1")
	var erased bool
	for _, ev := range evs {
		if strings.Contains(ev.Old+ev.New, "Jane") || strings.Contains(ev.Old+ev.New, "441297") {
			t.Errorf("audit trail keeps personal data: %+v", ev)
		}
		erased = erased || (ev.Field == "erased" && ev.Actor == "admin" && ev.At.Equal(ms(at)))
	}
	if !erased {
		t.Errorf("no erased event in %+v", evs)
	}
	// Search finds the stranger's ticket (same words), none of the erased.
	for q, want := range map[string][]string{"Jane": {"tx1"}, "441297": {"tx1"}, "jane@example.com": {}, "15550100": {}} {
		ts, err := s.ListTickets(c, tickets.Filter{Query: q})
		must(t, err, "ListTickets "+q)
		equal(t, ids(ts), want, "search "+q+" after erasure")
	}
	ts, err := s.ListTickets(c, tickets.Filter{Customer: num})
	must(t, err, "ListTickets by customer")
	equal(t, ids(ts), []string{}, "tickets of the erased number")
	if cs, _ := s.CallsByCaller(c, num, 10); len(cs) != 0 {
		t.Errorf("caller history after erasure: %v", callIDs(cs))
	}
	// The other customer is untouched.
	if tk, _ := s.Ticket(c, "tx1"); tk.Subject == store.Erased || tk.Customer != stranger {
		t.Errorf("stranger's ticket: %+v", tk)
	}
	if cl, _ := s.Call(c, "x1"); cl.From != other || cl.RecordingPath == "" {
		t.Errorf("stranger's call: %+v", cl)
	}
	if sg, _ := s.Segments(c, "x1"); len(sg) != 1 {
		t.Error("stranger's transcript went")
	}
	equal(t, evidenceTexts(t, s, "x1"), []string{"account four four one"}, "stranger's evidence")

	again, err := s.EraseCustomer(c, num, at)
	must(t, err, "EraseCustomer again")
	if len(again.Calls) != 0 || again.Tickets != 0 || len(again.Callbacks) != 0 {
		t.Errorf("second erasure found %+v", again)
	}
	if _, err := s.EraseCustomer(c, " ", at); err == nil {
		t.Error("erasing an empty number succeeded")
	}
	if _, err := s.EraseCustomer(c, store.Erased, at); err == nil {
		t.Error("erasing the erased marker succeeded")
	}
}

func ids(ts []tickets.Ticket) []string {
	out := []string{}
	for _, x := range ts {
		out = append(out, x.ID)
	}
	return out
}

// testCallsSince pages through calls oldest first from a start time.
func testCallsSince(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	for i := range 7 {
		// Two calls share each start time: the ID breaks the tie.
		must(t, s.CreateCall(c, store.Call{ID: fmt.Sprintf("p%d", i), StartedAt: base.Add(time.Duration(i/2) * time.Minute)}), "CreateCall")
	}
	var got []string
	p := store.CallPage{Since: base.Add(time.Minute), Limit: 2}
	for range 10 {
		cs, err := s.CallsSince(c, p)
		must(t, err, "CallsSince")
		got = append(got, callIDs(cs)...)
		if len(cs) < p.Limit {
			break
		}
		last := cs[len(cs)-1]
		p.AfterStarted, p.AfterID = last.StartedAt, last.ID
	}
	equal(t, got, []string{"p2", "p3", "p4", "p5", "p6"}, "pages since base+1m")
	all, err := s.CallsSince(c, store.CallPage{})
	must(t, err, "CallsSince all")
	equal(t, len(all), 7, "all calls")
}
