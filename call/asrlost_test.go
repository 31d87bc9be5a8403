package call

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/transcript"
)

// lostASR is a recogniser whose caller streams are lost after their first
// Final: Results closes, as a remote provider's does when it fails for
// good mid-call.
type lostASR struct{ asr.Recognizer }

func (r lostASR) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	s, err := r.Recognizer.NewStream(ctx, opts)
	if err != nil || !strings.HasSuffix(opts.Label, "/caller") {
		return s, err
	}
	out := make(chan asr.Result, 8)
	go func() {
		defer close(out)
		for res := range s.Results() {
			out <- res
			if res.Kind == asr.Final {
				go func() { // the rest goes nowhere
					for range s.Results() {
					}
				}()
				return
			}
		}
	}()
	return lostStream{Stream: s, out: out}, nil
}

type lostStream struct {
	asr.Stream
	out chan asr.Result
}

func (s lostStream) Results() <-chan asr.Result { return s.out }

// TestRecogniserLostMidCall: the caller's recogniser fails after the
// caller's first words. The call goes on (the agent's channel is still
// transcribed), ends normally, and its ticket says the transcript is
// incomplete.
func TestRecogniserLostMidCall(t *testing.T) {
	f := newLiveFixture(t, map[string][]string{
		"caller": {"where is my order", "it never came"},
		"agent":  {"let me check that for you"},
	}, func(o *Options) {
		o.ASR = lostASR{o.ASR}
		o.Post = &PostCall{Store: o.Store, Scorecard: qa.DefaultScorecard(), RepeatWindow: -1}
	})
	time.Sleep(300 * time.Millisecond)
	say(f.customer, 600, 800*time.Millisecond)
	say(f.customer, 600, 800*time.Millisecond) // heard by nobody: the recogniser is gone
	if _, err := f.m.call(f.id); err != nil {
		t.Fatalf("the call ended when its recogniser was lost: %v", err)
	}
	say(f.alice, 1000, 1200*time.Millisecond)
	segs := f.hangup(t)
	var caller, agent []string
	for _, s := range segs {
		if s.Speaker == transcript.Caller {
			caller = append(caller, s.Text)
		} else {
			agent = append(agent, s.Text)
		}
	}
	if !slices.Equal(caller, []string{"where is my order"}) || !slices.Equal(agent, []string{"let me check that for you"}) {
		t.Fatalf("transcript: caller %q, agent %q", caller, agent)
	}
	var tags []string
	waitFor(t, "the ticket", func() bool {
		tks, err := f.st.TicketsByCall(context.Background(), f.id)
		if err != nil || len(tks) == 0 {
			return false
		}
		tags = tks[0].Tags
		return true
	})
	if !slices.Contains(tags, "incomplete_transcript") {
		t.Fatalf("ticket tags %v lack incomplete_transcript", tags)
	}
}

// TestListenAfterRecogniserLost: once the caller's recogniser is gone
// mid-IVR (its results closed), Listen takes keys: the keypad is the
// fallback, and the call is marked for an incomplete transcript.
func TestListenAfterRecogniserLost(t *testing.T) {
	st := resultStream{out: make(chan asr.Result)}
	c, phone := turnCall(t, st)
	close(st.out)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = phone.SendDTMF('2', 100*time.Millisecond)
	}()
	in, err := c.Listen(ctx, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if in.Digit != '2' {
		t.Fatalf("input %+v, want the key 2", in)
	}
	if !c.asrFailed || c.callerASR != nil {
		t.Fatalf("recogniser lost but asrFailed=%v, stream %v", c.asrFailed, c.callerASR)
	}
}
