package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/none"
)

// TestASRWrapperKeepsWantsAudio: wrapping provider none for the latency
// metric keeps it a recogniser that wants no audio (calls open no
// streams), and a recogniser that wants audio still does.
func TestASRWrapperKeepsWantsAudio(t *testing.T) {
	m := New()
	if asr.WantsAudio(m.Recognizer(none.Recognizer{})) {
		t.Error("wrapped provider none wants audio")
	}
	if !asr.WantsAudio(m.Recognizer(burstASR{})) {
		t.Error("a wrapped recogniser that wants audio does not")
	}
}

// turnStream records what the call asks of the recogniser's stream.
type turnStream struct {
	burstStream
	turns []bool
	ends  []int64
}

func (s *turnStream) SetTurns(on bool)                     { s.turns = append(s.turns, on) }
func (s *turnStream) EndPause(atMS int64, _ time.Duration) { s.ends = append(s.ends, atMS) }

type turnASR struct {
	burstASR
	s asr.Stream
}

func (r turnASR) NewStream(context.Context, asr.StreamOptions) (asr.Stream, error) { return r.s, nil }

// TestASRWrapperPassesTurnsOn: the latency wrapper keeps the stream's
// turn-taking controls (the IVR's SetTurns(false), EndPause at a pause)
// reaching the recogniser.
func TestASRWrapperPassesTurnsOn(t *testing.T) {
	inner := &turnStream{burstStream: burstStream{out: make(chan asr.Result)}}
	s, err := New().Recognizer(turnASR{s: inner}).NewStream(context.Background(), asr.StreamOptions{Label: "c/caller", Turns: true})
	if err != nil {
		t.Fatal(err)
	}
	tt, ok := s.(asr.TurnTaker)
	if !ok {
		t.Fatal("the wrapped stream is no TurnTaker")
	}
	tt.SetTurns(false)
	pe, ok := s.(asr.PauseEnder)
	if !ok {
		t.Fatal("the wrapped stream is no PauseEnder")
	}
	pe.EndPause(1234, 350*time.Millisecond)
	if len(inner.turns) != 1 || inner.turns[0] || len(inner.ends) != 1 || inner.ends[0] != 1234 {
		t.Fatalf("turns %v, ends %v reached the stream", inner.turns, inner.ends)
	}
	// A stream without them: no panic.
	plain, _ := New().Recognizer(turnASR{s: &burstStream{out: make(chan asr.Result)}}).NewStream(context.Background(), asr.StreamOptions{})
	plain.(asr.TurnTaker).SetTurns(false)
	plain.(asr.PauseEnder).EndPause(1, time.Second)
}
