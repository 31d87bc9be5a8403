package asreval

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
)

// StreamsOptions configure RunStreams.
type StreamsOptions struct {
	// Steps are the numbers of concurrent streams to try, in order; the
	// run stops after the first step that fails the criterion.
	Steps []int
	// Duration is how much audio each stream plays per step (default
	// 20 s); the last utterance started is played to its end.
	Duration time.Duration
	// Gap is the near-silence between two utterances of a stream
	// (default 1 s): a caller waiting for the IVR's answer.
	Gap time.Duration
	// SilenceEnd is the recogniser's end-of-speech silence (default the
	// vad default, 600 ms).
	SilenceEnd time.Duration
	// MaxP95 is the timeliness criterion: a step passes when the p95 of
	// its final-result latencies is at most this (default 300 ms) and no
	// audio or utterance was dropped.
	MaxP95 time.Duration
	// Narrowband sends the audio through G.711 and asks for the
	// recogniser's narrowband model.
	Narrowband bool
}

func (o StreamsOptions) withDefaults() StreamsOptions {
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Gap <= 0 {
		o.Gap = time.Second
	}
	if o.SilenceEnd <= 0 {
		o.SilenceEnd = vad.Config{}.Defaults().SilenceEnd
	}
	if o.MaxP95 <= 0 {
		o.MaxP95 = 300 * time.Millisecond
	}
	return o
}

// StepResult is one step of RunStreams.
type StepResult struct {
	Streams    int
	Utterances int // files played, all streams
	Finals     int // non-empty and empty Finals received
	// Dropped audio (samples) and utterances, all streams (see
	// asr.SegmentedStream.Dropped): a stream that falls behind drops.
	DroppedSamples, DroppedUtts int64
	LatP50, LatP95, LatMax      time.Duration
	// WriteLateMax is how late the latest 20 ms write was against its
	// schedule: when it is large, the load generator itself was starved.
	WriteLateMax time.Duration
	Speech       time.Duration // audio of the files played, all streams
	Stream       time.Duration // stream time (files, gaps, lead-in and tail), all streams
	Wall         time.Duration
	CPU          time.Duration // user+system CPU of this process during the step
	// SpecHits and SpecMisses are the recogniser's speculative decodes
	// used and wasted, when its streams tell them.
	SpecHits, SpecMisses int64
	OK                   bool
}

// CPURTF is the process CPU per second of speech played.
func (s StepResult) CPURTF() float64 {
	if s.Speech <= 0 {
		return 0
	}
	return s.CPU.Seconds() / s.Speech.Seconds()
}

// Duty is the share of stream time that is speech (file audio).
func (s StepResult) Duty() float64 {
	if s.Stream <= 0 {
		return 0
	}
	return s.Speech.Seconds() / s.Stream.Seconds()
}

// Dropper is a stream that counts the audio it dropped.
type Dropper interface {
	Dropped() (samples, utterances int64)
}

// Speculator is a stream that counts its speculative decodes.
type Speculator interface {
	Speculations() (hits, misses int64)
}

// ReadList reads the audio of every file of an asr-eval list.
func ReadList(listPath string) ([][]int16, error) {
	f, err := os.Open(listPath)
	if err != nil {
		return nil, fmt.Errorf("asreval: %w", err)
	}
	defer f.Close()
	dir := filepath.Dir(listPath)
	var out [][]int16
	sc := bufio.NewScanner(f)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		path, _, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("asreval: %s:%d: want path<TAB>reference text", listPath, lineNo)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		pcm, err := ReadWAVFile(path)
		if err != nil {
			return nil, fmt.Errorf("asreval: %w", err)
		}
		out = append(out, pcm)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("asreval: %s: %w", listPath, err)
	}
	if len(out) == 0 {
		return nil, errors.New("asreval: the list has no files")
	}
	return out, nil
}

// RunStreams plays the list's files on Steps[i] concurrent streams of rec,
// each paced in real time in 20 ms frames, and measures whether the
// recogniser keeps up: final-result latency (as in the latency pass: from
// the write that completes the end-of-speech silence to the Final), audio
// dropped, and the process's CPU. It prints one STREAMS= line per step and
// MAX_STREAMS=, the largest passing step, at the end.
func RunStreams(ctx context.Context, rec asr.Recognizer, listPath string, out io.Writer, opts StreamsOptions) ([]StepResult, error) {
	opts = opts.withDefaults()
	files, err := ReadList(listPath)
	if err != nil {
		return nil, err
	}
	if opts.Narrowband {
		for i := range files {
			files[i] = Narrowband(files[i])
		}
	}
	var res []StepResult
	best := 0
	for _, n := range opts.Steps {
		if n <= 0 {
			return res, fmt.Errorf("asreval: streams step %d: want a positive count", n)
		}
		r, err := runStep(ctx, rec, files, n, opts)
		if err != nil {
			return res, err
		}
		res = append(res, r)
		fmt.Fprintf(out, "STREAMS=%d UTTS=%d FINALS=%d DROPPED=%d/%d LAT_P50=%d LAT_P95=%d LAT_MAX=%d WRITE_LATE_MAX=%d SPEECH_S=%.1f STREAM_S=%.1f WALL_S=%.1f CPU_S=%.2f CPU_RTF=%.4f DUTY=%.3f SPEC=%d/%d OK=%t\n",
			r.Streams, r.Utterances, r.Finals, r.DroppedSamples, r.DroppedUtts,
			r.LatP50.Milliseconds(), r.LatP95.Milliseconds(), r.LatMax.Milliseconds(), r.WriteLateMax.Milliseconds(),
			r.Speech.Seconds(), r.Stream.Seconds(), r.Wall.Seconds(), r.CPU.Seconds(), r.CPURTF(), r.Duty(),
			r.SpecHits, r.SpecMisses, r.OK)
		if !r.OK {
			break
		}
		best = max(best, n)
	}
	fmt.Fprintf(out, "MAX_STREAMS=%d (p95 final latency <= %d ms, nothing dropped)\n", best, opts.MaxP95.Milliseconds())
	return res, nil
}

// streamRun is one stream's share of a step.
type streamRun struct {
	utts      int
	speech    int // samples of file audio
	total     int // samples written
	lats      []time.Duration
	finals    int
	late      time.Duration
	dropS     int64
	dropU     int64
	hits, mis int64
	err       error
}

func runStep(ctx context.Context, rec asr.Recognizer, files [][]int16, n int, opts StreamsOptions) (StepResult, error) {
	cpu0 := cpuTime()
	t0 := time.Now()
	runs := make([]streamRun, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Streams start spread over the first gap, each on its own
			// sequence of files, so utterance ends do not line up.
			start := t0.Add(time.Duration(i) * opts.Gap / time.Duration(n))
			runs[i] = playStream(ctx, rec, files, i, start, opts)
		}()
	}
	wg.Wait()
	r := StepResult{Streams: n, Wall: time.Since(t0), CPU: cpuTime() - cpu0}
	var lats []time.Duration
	for _, s := range runs {
		if s.err != nil {
			return r, s.err
		}
		r.Utterances += s.utts
		r.Finals += s.finals
		r.DroppedSamples += s.dropS
		r.DroppedUtts += s.dropU
		r.Speech += samplesDur(s.speech)
		r.Stream += samplesDur(s.total)
		r.WriteLateMax = max(r.WriteLateMax, s.late)
		r.SpecHits += s.hits
		r.SpecMisses += s.mis
		lats = append(lats, s.lats...)
	}
	if len(lats) > 0 {
		slices.Sort(lats)
		pct := func(p float64) time.Duration {
			return lats[min(len(lats)-1, int(math.Ceil(p*float64(len(lats))))-1)]
		}
		r.LatP50, r.LatP95, r.LatMax = pct(0.5), pct(0.95), lats[len(lats)-1]
	}
	r.OK = len(lats) > 0 && r.LatP95 <= opts.MaxP95 && r.DroppedSamples == 0 && r.DroppedUtts == 0
	return r, nil
}

func samplesDur(n int) time.Duration { return time.Duration(n) * time.Second / asr.SampleRate }

// playStream writes lead-in noise, then files (from the i-th on, stepping
// by a stride prime to most list lengths) separated by Gap of noise, until
// Duration of audio is written, then the closing silence; all in 20 ms
// frames from start on, paced in real time.
func playStream(ctx context.Context, rec asr.Recognizer, files [][]int16, i int, start time.Time, opts StreamsOptions) streamRun {
	var sr streamRun
	if d := time.Until(start); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			sr.err = ctx.Err()
			return sr
		}
	}
	st, err := rec.NewStream(ctx, asr.StreamOptions{Label: fmt.Sprintf("streams-%d", i), Narrowband: opts.Narrowband})
	if err != nil {
		sr.err = fmt.Errorf("asreval: stream: %w", err)
		return sr
	}
	got := make(chan []final, 1)
	go func() {
		var fs []final
		for r := range st.Results() {
			if r.Kind == asr.Final {
				fs = append(fs, final{time.Now(), r})
			}
		}
		got <- fs
	}()
	seed := uint32(i)*2654435761 + 1
	noise := func(n int) []int16 {
		p := make([]int16, n)
		for k := range p {
			seed = seed*1664525 + 1013904223
			p[k] = int16(seed>>30) - 2
		}
		return p
	}
	// The whole timeline first: it is what a caller would send.
	audio := noise(int(0.3 * asr.SampleRate))
	want := int(opts.Duration.Seconds() * asr.SampleRate)
	for k := 0; sr.speech < want; k++ {
		f := files[(i*7+k*13)%len(files)]
		audio = append(audio, f...)
		audio = append(audio, noise(int(opts.Gap.Seconds()*asr.SampleRate))...)
		sr.speech += len(f)
		sr.utts++
	}
	audio = append(audio, noise(int((opts.SilenceEnd+400*time.Millisecond).Seconds()*asr.SampleRate))...)
	sr.total = len(audio)

	frames := (len(audio) + frame - 1) / frame
	written := make([]time.Time, frames)
	t0 := time.Now()
	for k := range frames {
		due := t0.Add(time.Duration(k+1) * 20 * time.Millisecond)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				sr.err = ctx.Err()
			}
		}
		if sr.err != nil {
			break
		}
		st.Write(audio[k*frame : min((k+1)*frame, len(audio))])
		written[k] = time.Now()
		sr.late = max(sr.late, written[k].Sub(due))
	}
	st.Close()
	fs := <-got
	if d, ok := st.(Dropper); ok {
		sr.dropS, sr.dropU = d.Dropped()
	}
	if sp, ok := st.(Speculator); ok {
		sr.hits, sr.mis = sp.Speculations()
	}
	if sr.err != nil {
		sr.err = fmt.Errorf("asreval: %w", sr.err)
		return sr
	}
	tail := vad.Config{}.Defaults().Tail
	for _, f := range fs {
		sr.finals++
		end := time.Duration(f.res.EndMS)*time.Millisecond - tail + opts.SilenceEnd
		k := int(math.Ceil(float64(end)/float64(20*time.Millisecond))) - 1
		k = max(0, min(k, frames-1))
		sr.lats = append(sr.lats, max(0, f.at.Sub(written[k])))
	}
	return sr
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
