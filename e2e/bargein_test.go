package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
)

// TestBargeIn measures, the way a caller experiences it, how fast the IVR
// stops talking when the caller starts: an Opus caller waits until the
// greeting has played for a second, starts speaking, and the time from its
// first voiced frame to the last frame of the greeting it hears (then half
// a second of quiet) is the barge-in delay. The goal is 200 ms;
// measured at the caller's ear it includes the caller's own packetisation
// and jitter buffer (60–100 ms on a loaded machine), so the bound there is
// 250 ms; the 200 ms goal is checked where contactd stops the prompt: the
// time of its log line "barge-in: prompt stopped" (same machine, same
// clock) after the caller's first voiced frame left.
func TestBargeIn(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	s := startServer(t, buildBinary(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, speech := speechWAV(t, "I want to check the status of my order please", media.SampleRate, 0)
	// espeak starts with a little silence: time from the first voiced frame.
	lead := 0
	for lead+media.FrameSamples <= len(speech) && media.RMS(speech[lead:lead+media.FrameSamples]) < 300 {
		lead += media.FrameSamples
	}
	speech = speech[lead:]
	const calls = 3
	var delays, server []time.Duration
	for i := 0; i < calls; i++ {
		c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: fmt.Sprintf("+1555020%d", i),
			Codecs: []string{"opus"}})
		must(t, err)
		e := &ear{}
		go e.run(c.Leg())
		quiet := sendSilence(ctx, c.Leg())
		waitUntil(t, "the greeting", 30*time.Second, func() bool {
			b := e.bursts(time.Second)
			return len(b) >= 1 && time.Since(b[0]) > time.Second
		})
		quiet()
		t0 := time.Now() // the first voiced frame leaves now
		go func() { _ = media.Play(ctx, c.Leg(), speech) }()
		var stopped time.Time
		waitUntil(t, "the greeting to stop", 10*time.Second, func() bool {
			stopped = e.lastLoudBeforeQuiet(t0, 500*time.Millisecond)
			return !stopped.IsZero()
		})
		d := stopped.Sub(t0)
		var at time.Time
		waitUntil(t, "contactd's barge-in log line", 5*time.Second, func() bool {
			at = loggedAfter(s.logs.String(), "barge-in: prompt stopped", t0)
			return !at.IsZero()
		})
		t.Logf("call %d: the caller started at %s; contactd stopped the prompt %v later, the caller heard it stop %v later",
			i, t0.UTC().Format("15:04:05.000"), at.Sub(t0).Round(time.Millisecond), d.Round(time.Millisecond))
		delays = append(delays, d)
		server = append(server, at.Sub(t0))
		_ = c.Hangup(ctx)
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	sort.Slice(server, func(i, j int) bool { return server[i] < server[j] })
	t.Logf("barge-in delay in contactd: median %v, max %v; at the caller's ear: median %v, max %v",
		server[len(server)/2], server[len(server)-1], delays[len(delays)/2], delays[len(delays)-1])
	if server[len(server)-1] > 200*time.Millisecond {
		t.Errorf("contactd took up to %v to stop the prompt, want within 200ms", server[len(server)-1])
	}
	if delays[len(delays)-1] > 250*time.Millisecond {
		t.Errorf("barge-in took up to %v at the caller's ear, want within 250ms", delays[len(delays)-1])
	}
}

// loggedAfter is the time of the first log line (slog text, time=RFC 3339)
// containing msg that was written at or after t0; zero when none.
func loggedAfter(logs, msg string, t0 time.Time) time.Time {
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, msg) || !strings.HasPrefix(line, "time=") {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err == nil && !at.Before(t0.Truncate(time.Millisecond)) {
			return at
		}
	}
	return time.Time{}
}

// lastLoudBeforeQuiet is the arrival time of the last loud frame heard
// after t0 that is followed by at least quiet of silence; zero until such
// a stretch has been heard.
func (e *ear) lastLoudBeforeQuiet(t0 time.Time, quiet time.Duration) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	last := t0
	for _, f := range e.frames {
		if f.at.Before(t0) {
			continue
		}
		if media.RMS(f.pcm) >= 300 {
			if f.at.Sub(last) >= quiet {
				return last
			}
			last = f.at
		}
	}
	if time.Since(last) >= quiet {
		return last
	}
	return time.Time{}
}
