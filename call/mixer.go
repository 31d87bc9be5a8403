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
//
// A plain two-party bridge whose legs speak the same codec over RTP (the
// SIP phone to SIP phone G.711 case) is relayed: each leg forwards every
// packet to the other as it arrives (media.RTPLeg.RelayTo), with no
// jitter buffer, decoding or clock in the way, and the mixer only records
// and transcribes the frames the legs still play out. Anything else (a
// WebRTC leg, different codecs, hold, tones, a consultation, a supervisor)
// goes through the mixer, decoded: it turns the relay off while it lasts.
type mixer struct {
	caller    media.Leg
	rec       *media.Recorder
	callerASR asr.Stream
	agentASR  asr.Stream // the bridged agent channel's recogniser
	join      chan mixJoin
	// Live call control (mixbus.go): ctl runs the owner's changes on this
	// goroutine; x is nil unless hold, a consultation or a monitor is on.
	ctl chan func(context.Context)
	x   *mixExt
	// recPaused: the recording is paused (recpause.go); the recording and
	// both recognisers get silence in place of the audio, which the
	// parties still hear.
	recPaused bool

	// relayed is the agent leg the caller's relay is on with (nil: the
	// mixer forwards).
	relayed media.Leg

	// direct: the caller's and the agent's relayed leg records itself
	// as its packets arrive (syncDirect).
	direct [2]bool

	// Counters, read by the owner after run has returned.
	callerFrames, agentFrames int
	relays                    int // bridges relayed
}

// relayer is a leg that can forward its packets to another leg without
// decoding them (media.RTPLeg), and deliver its frames at the codec's own
// rate to a consumer that takes either (NativeFrames).
type relayer interface {
	RelayTo(dst media.Leg) error
	NativeFrames(on bool)
	RecordTo(sink func(g711 []byte, alaw bool)) error
}

// setRelay turns the relay on between the caller and agent when nothing
// else needs the mixer and their codecs allow it, and off otherwise.
func (m *mixer) setRelay(agent media.Leg) {
	defer m.syncDirect()
	want := agent != nil && m.x == nil
	if want && m.relayed == agent {
		return
	}
	if m.relayed != nil {
		m.stopRelay()
	}
	if !want {
		return
	}
	a, ok1 := m.caller.(relayer)
	b, ok2 := agent.(relayer)
	if !ok1 || !ok2 {
		return
	}
	if a.RelayTo(agent) != nil {
		return
	}
	if b.RelayTo(m.caller) != nil {
		_ = a.RelayTo(nil)
		return
	}
	m.relayed = agent
	m.relays++
	// While relayed, a channel nobody transcribes is only recorded: its
	// frames come as decoded (8 kHz for G.711), not upsampled.
	a.NativeFrames(m.callerASR == nil)
	b.NativeFrames(m.agentASR == nil)
	// Decoded frames still queued would go out after relayed packets.
	m.caller.Flush()
	agent.Flush()
}

func (m *mixer) stopRelay() {
	if m.relayed == nil {
		return
	}
	m.direct = [2]bool{} // the relay's end ends them
	if a, ok := m.caller.(relayer); ok {
		_ = a.RelayTo(nil)
		a.NativeFrames(false)
	}
	if b, ok := m.relayed.(relayer); ok {
		_ = b.RelayTo(nil)
		b.NativeFrames(false)
	}
	m.relayed = nil
}

// syncDirect lets each relayed leg whose channel nobody transcribes hand
// its audio to the recording as its packets arrive (RecordTo), and stops
// it otherwise: while the recording is paused (the mixer writes its
// silence), or once a recogniser listens.
func (m *mixer) syncDirect() {
	for i, side := range []struct {
		leg media.Leg
		asr asr.Stream
	}{{m.caller, m.callerASR}, {m.relayed, m.agentASR}} {
		r, ok := side.leg.(relayer)
		want := ok && m.relayed != nil && side.asr == nil && m.rec != nil && !m.recPaused
		if want == m.direct[i] || !ok {
			continue
		}
		ch := media.CallerChannel
		if i == 1 {
			ch = media.AgentChannel
		}
		if want {
			m.direct[i] = r.RecordTo(m.rec.Sink(ch)) == nil
		} else {
			_ = r.RecordTo(nil)
			m.direct[i] = false
		}
	}
}

type mixJoin struct {
	leg media.Leg
	asr asr.Stream
}

func newMixer(caller media.Leg, rec *media.Recorder, callerASR asr.Stream) *mixer {
	return &mixer{caller: caller, rec: rec, callerASR: callerASR, join: make(chan mixJoin, 1), ctl: make(chan func(context.Context))}
}

// setAgent bridges leg to the caller; a nil leg ends the bridge, and the
// agent channel's recogniser s goes on getting silence so that its
// timeline stays the call's.
func (m *mixer) setAgent(leg media.Leg, s asr.Stream) { m.join <- mixJoin{leg: leg, asr: s} }

// gapFill is how long a leg may send nothing (silence suppression / DTX, a
// lost burst) before the mixer feeds silence to that leg's recogniser, so
// that its endpointer still sees the end of an utterance.
const gapFill = 200 * time.Millisecond

func (m *mixer) run(ctx context.Context) {
	callerFrames := m.caller.Frames()
	// The tick feeds recognisers silence through gaps: without one (no
	// speech recognition) it is not run at all, a wake-up less ten times
	// a second per call.
	var tick *time.Ticker
	var tickC <-chan time.Time
	startTick := func() {
		if tick == nil && (m.callerASR != nil || m.agentASR != nil) {
			tick = time.NewTicker(100 * time.Millisecond)
			tickC = tick.C
		}
	}
	startTick()
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
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
	var agentFrames <-chan []int16
	defer m.stopRelay()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-m.join: // a nil leg detaches the agent (a transfer)
			agent, m.agentASR, agentFrames = j.leg, j.asr, nil
			if j.leg != nil {
				agentFrames = j.leg.Frames()
			}
			lastAgent = time.Now()
			startTick()
			m.setRelay(agent)
		case fn := <-m.ctl:
			fn(ctx)
			m.setRelay(agent) // off while hold, tones, a consultation or a monitor is on
		case ef := <-m.extIn():
			m.x.fromExtra(ef, agent)
		case now := <-tickC:
			fill(m.callerASR, lastCaller, now)
			fill(m.agentASR, lastAgent, now)
		case f, ok := <-callerFrames:
			if !ok {
				callerFrames = nil
				continue
			}
			lastCaller = time.Now()
			m.callerFrames++
			// A frame's length gives its rate: 8 kHz ones come from a
			// relayed G.711 leg (NativeFrames), for the recording.
			kept := m.kept(f)
			if m.rec != nil {
				m.rec.Write(media.CallerChannel, kept, len(kept)*50)
			}
			if m.callerASR != nil {
				m.callerASR.Write(wide(kept))
			}
			if m.x != nil {
				m.x.fromCaller(wide(f), agent) // the bus may keep it
			} else {
				if agent != nil && m.relayed == nil {
					_ = agent.Forward(wide(f))
				}
				media.ReleaseFrame(f)
			}
		case f, ok := <-agentFrames:
			if !ok {
				agentFrames = nil
				continue
			}
			lastAgent = time.Now()
			m.agentFrames++
			got := f
			if m.x != nil {
				f = m.x.fromAgent(wide(f), agent) // routed; silence on hold
			} else if m.relayed == nil {
				_ = m.caller.Forward(wide(f))
			}
			f = m.kept(f)
			if m.rec != nil {
				m.rec.Write(media.AgentChannel, f, len(f)*50)
			}
			if m.agentASR != nil {
				m.agentASR.Write(wide(f))
			}
			if m.x == nil {
				media.ReleaseFrame(got)
			}
		}
	}
}

// wide is frame f at 16 kHz: a native 8 kHz frame (NativeFrames) still
// queued when the mixer needs 16 kHz audio again is upsampled.
func wide(f []int16) []int16 {
	if len(f) == media.FrameSamples || len(f) == 0 {
		return f
	}
	return media.Resample(f, len(f)*50, media.SampleRate)
}
