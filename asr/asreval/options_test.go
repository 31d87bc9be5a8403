package asreval

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
)

func tone(hz float64, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/asr.SampleRate))
	}
	return pcm
}

func rms(pcm []int16) float64 {
	var s float64
	for _, v := range pcm[len(pcm)/4 : 3*len(pcm)/4] {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(pcm)/2))
}

func TestNarrowband(t *testing.T) {
	tests := []struct {
		hz       float64
		min, max float64 // RMS after the channel (input RMS ≈ 5657)
	}{
		{300, 5300, 6000},  // speech band passes (µ-law noise only)
		{1000, 5300, 6000}, //
		{3500, 4000, 6000}, // near the top of the band (resampler roll-off)
		{6000, 0, 100},     // above 4 kHz: gone
	}
	for _, tc := range tests {
		in := tone(tc.hz, asr.SampleRate)
		out := Narrowband(in)
		if d := len(out) - len(in); d < -2 || d > 2 {
			t.Fatalf("%v Hz: length %d, want %d", tc.hz, len(out), len(in))
		}
		if r := rms(out); r < tc.min || r > tc.max {
			t.Errorf("%v Hz: RMS %.0f, want %.0f..%.0f", tc.hz, r, tc.min, tc.max)
		}
	}
}

// fakeRec hears a fixed text, decodes in decodeTime, and records whether
// it was asked for its narrowband model.
type fakeRec struct {
	text       string
	decodeTime time.Duration
	narrow     atomic.Int32
	wide       atomic.Int32
}

func (f *fakeRec) Recognize(ctx context.Context, pcm []int16) (asr.Result, error) {
	f.wide.Add(1)
	return asr.Result{Kind: asr.Final, Text: f.text}, nil
}

func (f *fakeRec) RecognizeOptions(ctx context.Context, pcm []int16, o asr.StreamOptions) (asr.Result, error) {
	if !o.Narrowband {
		return f.Recognize(ctx, pcm)
	}
	f.narrow.Add(1)
	return asr.Result{Kind: asr.Final, Text: f.text}, nil
}

func (f *fakeRec) Vocabulary() []string { return []string{"check", "my", "order"} }

func (f *fakeRec) NewStream(ctx context.Context, o asr.StreamOptions) (asr.Stream, error) {
	return asr.NewSegmentedStream(ctx, func(ctx context.Context, pcm []int16) (asr.Result, error) {
		time.Sleep(f.decodeTime)
		if o.Narrowband {
			f.narrow.Add(1)
		}
		return asr.Result{Text: f.text}, nil
	}, asr.SegmentedOptions{}), nil
}

func (f *fakeRec) Close() error { return nil }

// speechWAV is a WAV of 0.6 s silence, 0.8 s of a voiced-like tone and
// 0.3 s silence at 8 kHz.
func speechWAV(t *testing.T) []byte {
	t.Helper()
	b := wav(t, 8000, 1, 1, 1)
	// Overwrite the data with silence-tone-silence.
	data := b[44:]
	for i := 0; i < len(data)/2; i++ {
		v := int16(0)
		if i >= 2400 && i < 6400 {
			v = int16(6000 * math.Sin(2*math.Pi*200*float64(i)/8000))
		}
		data[2*i], data[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	return b
}

func TestRunOptionsNarrowbandOOVLatency(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.wav"), speechWAV(t), 0o644)
	os.WriteFile(filepath.Join(dir, "b.wav"), speechWAV(t), 0o644)
	list := filepath.Join(dir, "list.tsv")
	os.WriteFile(list, []byte("a.wav\tcheck my order\nb.wav\tcheck my parcel\n"), 0o644)
	rec := &fakeRec{text: "check my order", decodeTime: 80 * time.Millisecond}
	var out bytes.Buffer
	sum, err := RunOptions(context.Background(), rec, list, &out, Options{Narrowband: true, Latency: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if rec.wide.Load() != 0 || rec.narrow.Load() != 4 {
		t.Errorf("calls: wide %d narrow %d, want 0 and 4 (2 whole files + 2 stream finals)", rec.wide.Load(), rec.narrow.Load())
	}
	if sum.OOVWords != 1 || math.Abs(sum.OOV-1.0/6) > 1e-9 {
		t.Errorf("OOV %d %.3f, want 1 word, 1/6", sum.OOVWords, sum.OOV)
	}
	if sum.Errors != 1 || math.Abs(sum.StreamWER-1.0/6) > 1e-9 {
		t.Errorf("errors %d stream WER %.3f, want 1 and 1/6", sum.Errors, sum.StreamWER)
	}
	// Latency is the decode time plus scheduling: at least 80 ms, and
	// well under the 20 ms frame + 80 ms + slack; a wrong end-of-speech
	// estimate would be off by hundreds of ms.
	if sum.Finals != 2 || sum.LatP50 < 60*time.Millisecond || sum.LatMax > 250*time.Millisecond {
		t.Errorf("finals %d p50 %v max %v, want 2 finals at about 80-100 ms", sum.Finals, sum.LatP50, sum.LatMax)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !regexp.MustCompile(`^WER=0\.1667 RTF=[0-9.]+$`).MatchString(lines[len(lines)-1]) {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	if !strings.Contains(out.String(), "LAT_P95=") || !strings.Contains(out.String(), "OOV=0.1667") {
		t.Errorf("no LAT_P95/OOV line in\n%s", out.String())
	}

	// Without options: the wideband Recognize, no OOV without a vocabulary.
	sum, err = Run(context.Background(), echo{map[int]string{1: "check my order"}}, list, &out)
	if err != nil || sum.OOV != -1 || sum.Finals != 0 {
		t.Errorf("plain run: %+v %v", sum, err)
	}
}

func TestFlags(t *testing.T) {
	dir := t.TempDir()
	phrases := filepath.Join(dir, "p.txt")
	os.WriteFile(phrases, []byte("# adaptation texts\nplease enter your number\n\nthank you\n"), 0o644)
	var f Flags
	fs := flag.NewFlagSet("asr-eval", flag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse([]string{"--lm", "general", "--phrases", phrases, "--narrowband", "--latency",
		"--set", "-fwdflat=no", "--set", "decoders = 2", "--streams", "1,4,8", "--stream-seconds", "5"}); err != nil {
		t.Fatal(err)
	}
	if so := f.StreamsOptions(0); fmt.Sprint(so.Steps) != "[1 4 8]" || so.Duration != 5*time.Second || !so.Narrowband {
		t.Errorf("streams options %+v", so)
	}
	for _, bad := range [][]string{{"--set", "novalue"}, {"--streams", "1,x"}, {"--streams", "0"}} {
		var g Flags
		fs := flag.NewFlagSet("asr-eval", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		g.Register(fs)
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
	orig := map[string]string{"decoders": "1"}
	cfg := asr.Config{Phrases: []string{"where is my order"}, Options: orig}
	if err := f.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Options["lm"] != "general" || cfg.Options["decoders"] != "2" || cfg.Options["-fwdflat"] != "no" || orig["lm"] != "" || orig["decoders"] != "1" {
		t.Errorf("options %v (original %v)", cfg.Options, orig)
	}
	if strings.Join(cfg.Phrases, "|") != "where is my order|please enter your number|thank you" {
		t.Errorf("phrases %q", cfg.Phrases)
	}
	if o := f.Options(time.Second); !o.Narrowband || !o.Latency || o.SilenceEnd != time.Second {
		t.Errorf("options %+v", o)
	}
	f.Phrases = filepath.Join(dir, "missing.txt")
	if err := f.Apply(&cfg); err == nil {
		t.Error("missing phrases file: want error")
	}
}

func TestRunStreams(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.wav"), speechWAV(t), 0o644)
	list := filepath.Join(dir, "list.tsv")
	os.WriteFile(list, []byte("a.wav\tcheck my order\n"), 0o644)

	// A decoder that keeps up: every step passes, each stream's two
	// utterances give a Final about 60 ms after the silence ends. The
	// criterion is 1 s, not the default 300 ms, so that a loaded machine
	// (scheduling delays of 100-200 ms under -race) does not fail it; the
	// slow decoder below takes 2 s.
	fast := &fakeRec{text: "check my order", decodeTime: 60 * time.Millisecond}
	var out bytes.Buffer
	opts := StreamsOptions{Steps: []int{1, 3}, Duration: 1500 * time.Millisecond, Gap: 500 * time.Millisecond, MaxP95: time.Second}
	res, err := RunStreams(context.Background(), fast, list, &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if len(res) != 2 || !res[0].OK || !res[1].OK {
		t.Fatalf("fast decoder: want both steps to pass, got %+v", res)
	}
	for _, r := range res {
		if r.Utterances != 2*r.Streams || r.Finals != r.Utterances || r.DroppedSamples != 0 {
			t.Errorf("step %d: %d utterances, %d finals, %d dropped; want 2 per stream, one final each, none dropped", r.Streams, r.Utterances, r.Finals, r.DroppedSamples)
		}
		if r.LatP50 < 40*time.Millisecond || r.LatMax > 900*time.Millisecond {
			t.Errorf("step %d: latency p50 %v max %v, want about 60 ms", r.Streams, r.LatP50, r.LatMax)
		}
		if d := r.Duty(); d < 0.3 || d > 0.6 {
			t.Errorf("step %d: duty %.2f, want 2 s of speech in about 4.3 s", r.Streams, d)
		}
	}
	if !strings.Contains(out.String(), "MAX_STREAMS=3 (p95 final latency <= 1000 ms") {
		t.Errorf("no MAX_STREAMS=3 in\n%s", out.String())
	}

	// A decoder slower than the criterion: the first step fails and the
	// run stops there.
	slow := &fakeRec{text: "check my order", decodeTime: 2 * time.Second}
	out.Reset()
	opts.Steps = []int{1, 2}
	res, err = RunStreams(context.Background(), slow, list, &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].OK || res[0].LatP95 < 1900*time.Millisecond {
		t.Fatalf("slow decoder: want one failing step with p95 >= 2 s, got %+v", res)
	}
	if !strings.Contains(out.String(), "MAX_STREAMS=0 ") {
		t.Errorf("no MAX_STREAMS=0 in\n%s", out.String())
	}
	if _, err := RunStreams(context.Background(), fast, filepath.Join(dir, "none.tsv"), &out, opts); err == nil {
		t.Error("missing list: want error")
	}
}
