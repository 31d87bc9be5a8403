//go:build cgo

package sphinx_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/sphinx"
)

// TestLiveTentativeAtPause checks that a request's words are a Tentative
// at the pause after it without a decode of the utterance starting there:
// the pool's one decoder is kept busy with long utterances (so no
// speculative decode can start), the request is written, and its
// Tentative must come while the pool is still busy, from the live decoder
// that followed the utterance as it was written. With live_decoders "0",
// or on a stream not opened for turn-taking (an agent's), the same audio
// gets no Tentative before the pool is free, nor once the consumer has
// said it takes no more turns (asr.TurnTaker). The test does not depend on
// the machine's speed: the busy decoder has minutes of audio queued until
// the request is written, and the request's Tentative needs none of it.
func TestLiveTentativeAtPause(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	request := trimSilence(synth(t, "Where is my order? I have been waiting for two weeks."))
	if len(request) < 2*asr.SampleRate {
		t.Fatalf("request is %d ms: want longer than live_head_ms", len(request)/16)
	}
	var audio []int16
	audio = append(audio, make([]int16, asr.SampleRate/2)...)
	audio = append(audio, request...)
	audio = append(audio, make([]int16, asr.SampleRate)...)
	pauseMS := int64(500 + len(request)/16)
	var long []int16
	for range 2 {
		long = append(long, synth(t, "I want to check the status of my order, my order number is 4 7 1 9 2, and I want a refund for the broken dishwasher.")...)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		nlive      string
		turns, off bool // off: SetTurns(false) before the request
	}{{"1", true, false}, {"0", true, false}, {"1", false, false}, {"1", true, true}} {
		t.Run(fmt.Sprintf("live_decoders=%s,turns=%v,off=%v", tc.nlive, tc.turns, tc.off), func(t *testing.T) {
			r, err := sphinx.New(context.Background(), asr.Config{Phrases: demoPhrases, DataDir: dir,
				Options: map[string]string{"decoders": "1", "narrowband_mllr": "none", "general_words": "0", "live_decoders": tc.nlive}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			// Keep the one decoder busy until the request has been
			// written: one long utterance decoding, many more queued
			// (minutes of audio), dropped once the request is in.
			busyCtx, stopBusy := context.WithCancel(ctx)
			var busy sync.WaitGroup
			var busyDone atomic.Bool
			for range 60 {
				busy.Add(1)
				go func() {
					defer busy.Done()
					if _, err := r.Recognize(busyCtx, long); err != nil && busyCtx.Err() == nil {
						t.Error(err)
					}
				}()
			}
			defer busy.Wait()
			time.Sleep(50 * time.Millisecond) // let them queue
			st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/live", Turns: tc.turns})
			if err != nil {
				t.Fatal(err)
			}
			if tc.off {
				st.(asr.TurnTaker).SetTurns(false)
			}
			type got struct {
				r        asr.Result
				poolBusy bool
			}
			var results []got
			done := make(chan struct{})
			go func() {
				defer close(done)
				for res := range st.Results() {
					results = append(results, got{res, !busyDone.Load()})
				}
			}()
			// In real time, as a call's audio comes: the live decoder
			// keeps up with it, and the pause is a pause.
			writeRealTime(st, audio)
			busyDone.Store(true)
			stopBusy()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			<-done
			if n, u := st.(interface{ Dropped() (int64, int64) }).Dropped(); n != 0 || u != 0 {
				t.Fatalf("dropped %d samples, %d utterances", n, u)
			}
			var early *asr.Result
			var final *asr.Result
			for i, g := range results {
				t.Logf("%v %d..%d %q (pool busy: %v)", g.r.Kind, g.r.StartMS, g.r.EndMS, g.r.Text, g.poolBusy)
				switch {
				case g.r.Kind == asr.Tentative && g.poolBusy && early == nil:
					early = &results[i].r
				case g.r.Kind == asr.Final:
					final = &results[i].r
				}
			}
			if final == nil || !strings.Contains(final.Text, "order") {
				t.Fatalf("final %+v: want one saying order", final)
			}
			tent, _ := st.(interface{ Live() (int64, int64) }).Live()
			if tc.nlive == "0" || !tc.turns || tc.off {
				if early != nil || tent != 0 {
					t.Errorf("Tentative %+v while the pool was busy, %d live", early, tent)
				}
				return
			}
			if early == nil || tent == 0 {
				t.Fatalf("no Tentative while the pool was busy (%d from the live decoder)", tent)
			}
			if !strings.HasPrefix(early.Text, "where is my order") {
				t.Errorf("live Tentative %q: want the request's words (final %q)", early.Text, final.Text)
			}
			if d := early.StartMS - final.StartMS; d < -30 || d > 30 {
				t.Errorf("Tentative starts at %d ms, its Final at %d", early.StartMS, final.StartMS)
			}
			if early.EndMS < pauseMS || early.EndMS > pauseMS+400 {
				t.Errorf("Tentative ends at %d ms: want the pause after the request, at %d ms", early.EndMS, pauseMS)
			}
			for i, w := range early.Words {
				if w.StartMS < early.StartMS || w.EndMS > early.EndMS || (i > 0 && w.StartMS < early.Words[i-1].StartMS) {
					t.Errorf("word times out of place: %+v in %d..%d", early.Words, early.StartMS, early.EndMS)
					break
				}
			}
		})
	}
}
