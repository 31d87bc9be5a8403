package call

import (
	"context"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/ivr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/tts/espeak"
)

// resultStream is a caller stream whose results the test sends.
type resultStream struct{ out chan asr.Result }

func (s resultStream) Write([]int16)              {}
func (s resultStream) Results() <-chan asr.Result { return s.out }
func (s resultStream) Close() error               { return nil }

// turnCall is a Call with only what Say and Listen use: its leg is one end
// of a loopback RTP pair, the other end (returned) is the caller's phone.
func turnCall(t *testing.T, st resultStream) (*Call, *media.RTPLeg) {
	t.Helper()
	cfg := media.RTPConfig{IP: net.IPv4(127, 0, 0, 1), PortMin: 43000, PortMax: 43998}
	a, err := media.NewRTPLeg(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := media.NewRTPLeg(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := a.Start(b.LocalAddr(), media.PCMU, 101); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(a.LocalAddr(), media.PCMU, 101); err != nil {
		t.Fatal(err)
	}
	m := &Manager{opts: Options{TTS: espeak.New(espeak.Options{})}}
	return &Call{m: m, in: Inbound{ID: "turn", Leg: a}, log: slog.Default(), start: time.Now(), callerASR: st}, b
}

// judgeOrder ends the turn on "where is my order", and finds "about my"
// cut mid-phrase.
func judgeOrder(text string) ivr.Turn {
	switch {
	case strings.HasSuffix(text, "order"):
		return ivr.TurnWhole
	case strings.HasSuffix(text, " my"):
		return ivr.TurnCut
	}
	return ivr.TurnOpen
}

func TestListenTurnEndsAtWholePause(t *testing.T) {
	st := resultStream{out: make(chan asr.Result, 16)}
	c, _ := turnCall(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A pause the judge finds open, then one it finds whole: the turn
	// ends there, before the Final.
	st.out <- asr.Result{Kind: asr.SpeechStart, StartMS: 1000}
	st.out <- asr.Result{Kind: asr.Tentative, Text: "where is", StartMS: 800, EndMS: 1500}
	st.out <- asr.Result{Kind: asr.Tentative, Text: "where is my order", StartMS: 800, EndMS: 2200}
	in, err := c.ListenTurn(ctx, 5*time.Second, judgeOrder)
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "where is my order" || !in.Early {
		t.Fatalf("input %+v, want the whole pause, early", in)
	}
	// The Final of that utterance (the caller went on) is no input; the
	// next utterance's is.
	st.out <- asr.Result{Kind: asr.Final, Text: "where is my order please", StartMS: 810, EndMS: 2900}
	st.out <- asr.Result{Kind: asr.SpeechStart, StartMS: 4000}
	st.out <- asr.Result{Kind: asr.Final, Text: "billing", StartMS: 3800, EndMS: 4600}
	in, err = c.ListenTurn(ctx, 5*time.Second, judgeOrder)
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "billing" || in.Early {
		t.Fatalf("input %+v, want the next utterance's Final", in)
	}

	// Without a judge (Listen), tentatives are not input.
	st.out <- asr.Result{Kind: asr.SpeechStart, StartMS: 6000}
	st.out <- asr.Result{Kind: asr.Tentative, Text: "where is my order", StartMS: 5800, EndMS: 7000}
	st.out <- asr.Result{Kind: asr.Final, Text: "where is my order", StartMS: 5800, EndMS: 7000}
	in, err = c.Listen(ctx, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "where is my order" || in.Early {
		t.Fatalf("Listen: %+v, want the Final", in)
	}
}

func TestListenTurnWaitsAfterCutPhrase(t *testing.T) {
	st := resultStream{out: make(chan asr.Result, 16)}
	c, _ := turnCall(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// The VAD ended an utterance at "about my": the rest, after the
	// pause, is joined to it.
	st.out <- asr.Result{Kind: asr.Final, Text: "i have a question about my", StartMS: 800, EndMS: 2000, Confidence: 0.8}
	go func() {
		time.Sleep(300 * time.Millisecond)
		st.out <- asr.Result{Kind: asr.SpeechStart, StartMS: 2900}
		st.out <- asr.Result{Kind: asr.Final, Text: "bill", StartMS: 2700, EndMS: 3300, Confidence: 0.6}
	}()
	in, err := c.ListenTurn(ctx, 5*time.Second, judgeOrder)
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "i have a question about my bill" || in.Confidence != 0.6 {
		t.Fatalf("input %+v, want both utterances joined", in)
	}

	// Nothing follows: after cutWait, the cut words are the input.
	st.out <- asr.Result{Kind: asr.Final, Text: "it is about my", StartMS: 5000, EndMS: 6000}
	start := time.Now()
	in, err = c.ListenTurn(ctx, 5*time.Second, judgeOrder)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); in.Text != "it is about my" || waited < cutWait || waited > 4*time.Second {
		t.Fatalf("input %+v after %v, want the cut words after %v", in, waited, cutWait)
	}
}

// TestSayIgnoresSpentFinal: the Final of an utterance whose pause ended
// the turn, arriving while the next prompt plays, does not stop it; a new
// utterance does.
func TestSayIgnoresSpentFinal(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	st := resultStream{out: make(chan asr.Result, 16)}
	c, phone := turnCall(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st.out <- asr.Result{Kind: asr.SpeechStart, StartMS: 1000}
	st.out <- asr.Result{Kind: asr.Tentative, Text: "where is my order", StartMS: 800, EndMS: 2200}
	if in, err := c.ListenTurn(ctx, 5*time.Second, judgeOrder); err != nil || !in.Early {
		t.Fatalf("input %+v, %v", in, err)
	}
	st.out <- asr.Result{Kind: asr.Final, Text: "where is my order", StartMS: 800, EndMS: 2200}
	start := time.Now()
	barged, err := c.Say(ctx, "Thanks. Connecting you to orders.")
	if err != nil {
		t.Fatal(err)
	}
	if barged || time.Since(start) < time.Second {
		t.Fatalf("prompt stopped (barged %v) after %v by the spent Final", barged, time.Since(start))
	}
	if len(c.pending) != 0 {
		t.Fatalf("pending input %+v", c.pending)
	}
	drain(phone)

	st.out <- asr.Result{Kind: asr.Final, Text: "billing", StartMS: 5000, EndMS: 5600}
	barged, err = c.Say(ctx, "Thanks. Connecting you to orders.")
	if err != nil || !barged || len(c.pending) != 1 || c.pending[0].Text != "billing" {
		t.Fatalf("a new utterance: barged %v, err %v, pending %+v", barged, err, c.pending)
	}
}

// drain empties the phone's received frames.
func drain(l *media.RTPLeg) {
	for {
		select {
		case <-l.Frames():
		default:
			return
		}
	}
}

// endingStream is a resultStream whose utterances can end sooner
// (asr.PauseEnder); it records the requests.
type endingStream struct {
	resultStream
	ends chan [2]int64 // at ms, silence ms
}

func (s endingStream) EndPause(atMS int64, silence time.Duration) {
	s.ends <- [2]int64{atMS, silence.Milliseconds()}
}

// TestListenTurnShortPause: words the judge finds complete but not to act
// on at once (ivr.TurnShort) ask the recogniser to end the utterance after
// shortSilence, at that pause; the turn still ends on the Final. Open
// words ask nothing.
func TestListenTurnShortPause(t *testing.T) {
	st := endingStream{resultStream{out: make(chan asr.Result, 16)}, make(chan [2]int64, 4)}
	c, _ := turnCall(t, st.resultStream)
	c.callerASR = st
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	judge := func(text string) ivr.Turn {
		if text == "what is the weather like" {
			return ivr.TurnShort
		}
		return ivr.TurnOpen
	}
	st.out <- asr.Result{Kind: asr.SpeechStart, StartMS: 1000}
	st.out <- asr.Result{Kind: asr.Tentative, Text: "what is", StartMS: 800, EndMS: 1500}
	st.out <- asr.Result{Kind: asr.Tentative, Text: "what is the weather like", StartMS: 800, EndMS: 2300}
	st.out <- asr.Result{Kind: asr.Final, Text: "what is the weather like", StartMS: 800, EndMS: 2350}
	in, err := c.ListenTurn(ctx, 5*time.Second, judge)
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "what is the weather like" || in.Early {
		t.Fatalf("input %+v, want the Final", in)
	}
	select {
	case e := <-st.ends:
		if e != [2]int64{2300, shortSilence.Milliseconds()} {
			t.Fatalf("EndPause(%d ms, %d ms), want at the short pause (2300), %v", e[0], e[1], shortSilence)
		}
	default:
		t.Fatal("no EndPause for the complete words")
	}
	if len(st.ends) != 0 {
		t.Fatalf("%d more EndPause requests (the open pause asked too)", len(st.ends))
	}
	if shortSilence >= 600*time.Millisecond || shortSilence < 300*time.Millisecond {
		t.Fatalf("shortSilence %v: want a pause clearly shorter than the end-of-speech silence, and not a breath", shortSilence)
	}
}
