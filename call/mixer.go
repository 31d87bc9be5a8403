package call

import (
	"context"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/media"
)

// mixer moves a call's audio: both legs' frames to the recording and to
// their ASR streams, and across the bridge once the agent has joined. It runs
// on its own goroutine, started and stopped by the call's owner.
type mixer struct {
	caller    media.Leg
	rec       *media.Recorder
	callerASR asr.Stream
	join      chan mixJoin

	// Counters, read by the owner after run has returned.
	callerFrames, agentFrames int
}

type mixJoin struct {
	leg media.Leg
	asr asr.Stream
}

func newMixer(caller media.Leg, rec *media.Recorder, callerASR asr.Stream) *mixer {
	return &mixer{caller: caller, rec: rec, callerASR: callerASR, join: make(chan mixJoin, 1)}
}

func (m *mixer) setAgent(leg media.Leg, s asr.Stream) { m.join <- mixJoin{leg: leg, asr: s} }

// gapFill is how long a leg may send nothing (silence suppression / DTX, a
// lost burst) before the mixer feeds silence to that leg's recogniser, so
// that its endpointer still sees the end of an utterance.
const gapFill = 200 * time.Millisecond

func (m *mixer) run(ctx context.Context) {
	callerFrames := m.caller.Frames()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastCaller, lastAgent := time.Now(), time.Now()
	silence := make([]int16, media.FrameSamples)
	fill := func(s asr.Stream, last, now time.Time) {
		if s != nil && now.Sub(last) > gapFill {
			for i := 0; i < 5; i++ { // 100 ms, one tick's worth
				s.Write(silence)
			}
		}
	}
	var agent media.Leg
	var agentASR asr.Stream
	var agentFrames <-chan []int16
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-m.join:
			agent, agentASR, agentFrames = j.leg, j.asr, j.leg.Frames()
			lastAgent = time.Now()
		case now := <-tick.C:
			fill(m.callerASR, lastCaller, now)
			fill(agentASR, lastAgent, now)
		case f, ok := <-callerFrames:
			if !ok {
				callerFrames = nil
				continue
			}
			lastCaller = time.Now()
			m.callerFrames++
			if m.rec != nil {
				m.rec.WriteCaller(f)
			}
			if m.callerASR != nil {
				m.callerASR.Write(f)
			}
			if agent != nil {
				_ = agent.Forward(f)
			}
		case f, ok := <-agentFrames:
			if !ok {
				agentFrames = nil
				continue
			}
			lastAgent = time.Now()
			m.agentFrames++
			if m.rec != nil {
				m.rec.WriteAgent(f)
			}
			if agentASR != nil {
				agentASR.Write(f)
			}
			_ = m.caller.Forward(f)
		}
	}
}
