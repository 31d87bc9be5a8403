package call

import (
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// TestLiveTranscriptRedacted: what the agent's page (and supervisors')
// is sent during the call and what is stored are redacted before they
// leave the call: a card number read in two breaths, a security code
// said in answer to the agent's question, and (configured) an e-mail.
func TestLiveTranscriptRedacted(t *testing.T) {
	f := newLiveFixture(t, map[string][]string{
		"caller": {
			"my card number is four one one one one one one one",
			"one one one one one one one one",
			"seven three seven",
			"it is ann dot lee at example dot com",
			"my order is seven three seven",
		},
		"agent": {"can you read me the security code on the back"},
	}, func(o *Options) { o.Redaction = tickets.Redaction{Emails: true} })
	time.Sleep(300 * time.Millisecond)
	say(f.customer, 600, 700*time.Millisecond)
	say(f.customer, 600, 700*time.Millisecond)
	say(f.alice, 1000, 700*time.Millisecond)
	say(f.customer, 600, 500*time.Millisecond)
	say(f.customer, 600, 700*time.Millisecond)
	time.Sleep(16 * time.Second / 10) // an order number said later is no security code
	say(f.customer, 600, 500*time.Millisecond)
	segs := f.hangup(t)

	want := []string{
		"my card number is four one one one one one one one", // half a card: nothing to mask yet
		"[card ending 1111]",
		"[cvv]",
		"it is [email]",
		"my order is seven three seven",
	}
	var live []string
	for _, ev := range f.events.ofType("transcript") {
		if ev.Speaker == string(transcript.Caller) {
			live = append(live, ev.Text)
		}
	}
	var stored []transcript.Segment
	for _, s := range segs {
		if s.Speaker == transcript.Caller {
			stored = append(stored, s)
		}
	}
	if strings.Join(live, "|") != strings.Join(want, "|") {
		t.Errorf("sent to the agent's page:\n%q\nwant\n%q", live, want)
	}
	if len(stored) != len(want) {
		t.Fatalf("stored caller lines %+v", stored)
	}
	for i, s := range stored {
		if s.Text != want[i] {
			t.Errorf("stored line %d = %q, want %q", i, s.Text, want[i])
		}
		var ws []string
		for _, w := range s.Words {
			ws = append(ws, w.Text)
		}
		if j := strings.Join(ws, " "); j != s.Text {
			t.Errorf("stored line %d %q has words %q", i, s.Text, j)
		}
	}
	if f.asr.streams[0].loudMS() < 2000 {
		t.Errorf("the recogniser heard %d ms of the caller", f.asr.streams[0].loudMS())
	}
}
