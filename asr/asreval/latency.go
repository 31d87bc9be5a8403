package asreval

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/media/g711"
)

// Narrowband returns 16 kHz pcm as a G.711 µ-law call leg delivers it:
// down to 8 kHz, through µ-law and back up to 16 kHz.
func Narrowband(pcm []int16) []int16 {
	nb := media.Resample(pcm, asr.SampleRate, 8000)
	ulaw := g711.EncodeUlaw(nil, nb)
	return media.Resample(g711.DecodeUlaw(nil, ulaw), 8000, asr.SampleRate)
}

// frame is the pacing of the streaming pass: 20 ms, an RTP packet.
const frame = asr.SampleRate / 50

// latency collects the streaming pass's measurements.
type latency struct {
	lats      []time.Duration
	refWords  int
	errors    int
	finals    int
	tail      time.Duration
	noiseSeed uint32
}

type final struct {
	at  time.Time
	res asr.Result
}

// measure writes pcm and a closing near-silence to a new stream of rec in
// real time and records, for each Final, the time from the write that
// completed the end-of-speech silence to its arrival.
// It returns the Finals' text, joined, its word errors against ref and
// the largest latency of its Finals.
func (l *latency) measure(ctx context.Context, rec asr.Recognizer, pcm []int16, ref []string, opts Options) (string, int, time.Duration, error) {
	if l.tail == 0 {
		l.tail = vad.Config{}.Defaults().Tail
	}
	st, err := rec.NewStream(ctx, asr.StreamOptions{Label: "asr-eval", Narrowband: opts.Narrowband})
	if err != nil {
		return "", 0, 0, fmt.Errorf("asreval: stream: %w", err)
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
	// The file between 300 ms of near-silence (a call is quiet before the
	// caller speaks, and the VAD learns the noise floor there) and
	// SilenceEnd+400 ms of it: ±2 LSB of deterministic noise.
	lead := int(0.3 * asr.SampleRate)
	pad := int((opts.SilenceEnd + 400*time.Millisecond).Seconds() * asr.SampleRate)
	audio := make([]int16, lead+len(pcm)+pad)
	copy(audio[lead:], pcm)
	for i := range audio {
		if i < lead || i >= lead+len(pcm) {
			l.noiseSeed = l.noiseSeed*1664525 + 1013904223
			audio[i] = int16(l.noiseSeed>>30) - 2
		}
	}
	n := (len(audio) + frame - 1) / frame
	written := make([]time.Time, n)
	t0 := time.Now()
	var werr error
	for k := range n {
		// A packet is sent once its 20 ms of audio exist.
		if d := time.Until(t0.Add(time.Duration(k+1) * 20 * time.Millisecond)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				werr = ctx.Err()
			}
		}
		if werr != nil {
			break
		}
		st.Write(audio[k*frame : min((k+1)*frame, len(audio))])
		written[k] = time.Now()
	}
	st.Close()
	fs := <-got
	if werr != nil {
		return "", 0, 0, fmt.Errorf("asreval: %w", werr)
	}
	var texts []string
	var worst time.Duration
	for _, f := range fs {
		l.finals++
		texts = append(texts, f.res.Text)
		// The VAD ends an utterance once SilenceEnd has passed after its
		// last speech frame; EndMS is that frame's end plus the tail kept.
		end := time.Duration(f.res.EndMS)*time.Millisecond - l.tail + opts.SilenceEnd
		k := int(math.Ceil(float64(end)/float64(20*time.Millisecond))) - 1
		k = max(0, min(k, n-1))
		lat := max(0, f.at.Sub(written[k]))
		l.lats = append(l.lats, lat)
		worst = max(worst, lat)
	}
	hyp := Words(strings.Join(texts, " "))
	e := EditDistance(ref, hyp)
	l.refWords += len(ref)
	l.errors += e
	return strings.Join(hyp, " "), e, worst, nil
}

func (l *latency) summarise(s *Summary) {
	s.Finals = l.finals
	if l.refWords > 0 {
		s.StreamWER = float64(l.errors) / float64(l.refWords)
	}
	if len(l.lats) == 0 {
		return
	}
	slices.Sort(l.lats)
	pct := func(p float64) time.Duration {
		return l.lats[min(len(l.lats)-1, int(math.Ceil(p*float64(len(l.lats))))-1)]
	}
	s.LatP50, s.LatP95, s.LatMax = pct(0.5), pct(0.95), l.lats[len(l.lats)-1]
}
