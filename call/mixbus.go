package call

import (
	"context"
	"math"

	"github.com/contactd/contactd/media"
)

// mixExt is the mixer's state beyond the plain two-party bridge: the
// caller on hold or being fed in-band tones, an agent consulting another,
// and supervisors' monitor legs. The mixer has one only while one of these
// is on (mixer.x); a plain call takes the direct path and pays nothing.
//
// Every party is a source and a destination. Each destination hears a set
// of sources (routes); one source is forwarded as it comes, several are
// summed by a sum: a frame waits until every source of the destination
// has one (or its own source sends again), then they go out added and
// clipped. The sources' 20 ms clocks are not locked together, so a sum
// adds at most one frame (20 ms) of delay.
type mixExt struct {
	caller media.Leg
	agent  media.Leg // as last seen by the mixer; a change rebuilds the routes

	held bool // the caller is on hold: neither side hears the other
	fed  bool // the owner feeds the caller (tones): the agent is not heard
	// consult is the agent the call's agent consults while the caller is
	// on hold; they hear each other only.
	consult     media.Leg
	consultStop chan struct{}
	// monitors are supervisors' legs, by supervisor.
	monitors map[string]*monitorLeg

	in     chan extFrame // frames from the extra legs' readers
	routes map[string][]*sum
}

// monitorLeg is a supervisor on the call: listen hears caller and agent;
// whisper is also heard by the agent; barge by both.
type monitorLeg struct {
	leg  media.Leg
	mode string
	stop chan struct{}
}

// Monitor modes.
const (
	ModeListen  = "listen"
	ModeWhisper = "whisper"
	ModeBarge   = "barge"
)

// extFrame is a frame from an extra leg; a nil frame says the leg closed.
type extFrame struct {
	key string
	f   []int16
}

// Source keys of the parties.
const (
	keyCaller  = "caller"
	keyAgent   = "agent"
	keyConsult = "consult"
	keyMonitor = "monitor:"
)

// do runs fn on the mixer goroutine with the extended state, made when
// needed and dropped when idle. Only the owner calls it, and only while the
// mixer runs (between the call's start and its tear-down).
func (m *mixer) do(fn func(ctx context.Context, x *mixExt)) {
	m.ctl <- func(ctx context.Context) {
		if m.x == nil {
			m.x = newMixExt(m.caller)
		}
		fn(ctx, m.x)
		m.x.rebuild()
		if m.x.idle() {
			m.x = nil
		}
	}
}

// extIn is the extra legs' frames, nil on the direct path.
func (m *mixer) extIn() <-chan extFrame {
	if m.x == nil {
		return nil
	}
	return m.x.in
}

func newMixExt(caller media.Leg) *mixExt {
	return &mixExt{caller: caller, monitors: map[string]*monitorLeg{}, in: make(chan extFrame, 32)}
}

// idle reports whether nothing needs the extended path any more.
func (x *mixExt) idle() bool {
	return !x.held && !x.fed && x.consult == nil && len(x.monitors) == 0
}

// rebuild works out who hears whom.
func (x *mixExt) rebuild() {
	hears := map[media.Leg][]string{}
	add := func(dst media.Leg, src string) {
		if dst != nil {
			hears[dst] = append(hears[dst], src)
		}
	}
	if !x.held && !x.fed && x.agent != nil {
		add(x.caller, keyAgent)
	}
	if !x.held && x.agent != nil {
		add(x.agent, keyCaller)
	}
	if x.consult != nil && x.agent != nil {
		add(x.agent, keyConsult)
		add(x.consult, keyAgent)
	}
	for name, m := range x.monitors {
		add(m.leg, keyCaller)
		if x.agent != nil {
			add(m.leg, keyAgent)
		}
		if m.mode == ModeWhisper || m.mode == ModeBarge {
			add(x.agent, keyMonitor+name)
		}
		if m.mode == ModeBarge && !x.held && !x.fed && x.agent != nil {
			add(x.caller, keyMonitor+name)
		}
	}
	x.routes = map[string][]*sum{}
	for dst, srcs := range hears {
		s := &sum{out: dst, srcs: srcs, pend: make([][]int16, len(srcs))}
		for _, k := range srcs {
			x.routes[k] = append(x.routes[k], s)
		}
	}
}

// sync notes the mixer's current agent leg.
func (x *mixExt) sync(agent media.Leg) {
	if agent != x.agent {
		x.agent = agent
		x.rebuild()
	}
}

// route sends frame f of source key to everyone who hears it.
func (x *mixExt) route(key string, f []int16) {
	for _, s := range x.routes[key] {
		s.add(key, f)
	}
}

// fromCaller routes a caller frame.
func (x *mixExt) fromCaller(f []int16, agent media.Leg) {
	x.sync(agent)
	x.route(keyCaller, f)
}

// fromAgent routes an agent frame and returns what the recording and the
// agent's recogniser get: silence while the caller is on hold (a
// consultation is not part of the call's record).
func (x *mixExt) fromAgent(f []int16, agent media.Leg) []int16 {
	x.sync(agent)
	x.route(keyAgent, f)
	if x.held {
		return make([]int16, len(f))
	}
	return f
}

// fromExtra routes a frame of the consultation or a monitor leg.
func (x *mixExt) fromExtra(ef extFrame, agent media.Leg) {
	x.sync(agent)
	if ef.f == nil { // the leg closed
		if ef.key == keyConsult {
			return // the owner ends the consultation
		}
		if name, ok := cutMonitor(ef.key); ok {
			if m := x.monitors[name]; m != nil {
				close(m.stop)
				delete(x.monitors, name)
				x.rebuild()
			}
		}
		return
	}
	x.route(ef.key, ef.f)
}

func cutMonitor(key string) (string, bool) {
	if len(key) > len(keyMonitor) && key[:len(keyMonitor)] == keyMonitor {
		return key[len(keyMonitor):], true
	}
	return "", false
}

// read forwards leg's frames to the mixer until stop, the leg closing or
// the mixer stopping.
func (x *mixExt) read(ctx context.Context, key string, leg media.Leg, stop <-chan struct{}) {
	frames := leg.Frames()
	for {
		var f []int16
		var ok bool
		select {
		case f, ok = <-frames:
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
		if !ok {
			f = nil
		}
		select {
		case x.in <- extFrame{key: key, f: f}:
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
	}
}

// setMonitor adds the supervisor's leg or changes its mode.
func (x *mixExt) setMonitor(ctx context.Context, name string, leg media.Leg, mode string) {
	if m := x.monitors[name]; m != nil {
		if m.leg == leg {
			m.mode = mode
			return
		}
		close(m.stop)
	}
	m := &monitorLeg{leg: leg, mode: mode, stop: make(chan struct{})}
	x.monitors[name] = m
	go x.read(ctx, keyMonitor+name, leg, m.stop)
}

// setConsult adds (or, with nil, removes) the consulted agent's leg.
func (x *mixExt) setConsult(ctx context.Context, leg media.Leg) {
	if x.consultStop != nil {
		close(x.consultStop)
		x.consult, x.consultStop = nil, nil
	}
	if leg != nil {
		x.consult, x.consultStop = leg, make(chan struct{})
		go x.read(ctx, keyConsult, leg, x.consultStop)
	}
}

// dropMonitor takes the supervisor off the call.
func (x *mixExt) dropMonitor(name string) {
	if m := x.monitors[name]; m != nil {
		close(m.stop)
		delete(x.monitors, name)
	}
}

// sum mixes the sources of one destination.
type sum struct {
	out  media.Leg
	srcs []string
	pend [][]int16 // per source, the frame waiting to go out
	acc  []int32
}

// add takes f from src; a destination with one source gets it at once.
func (s *sum) add(src string, f []int16) {
	if len(s.srcs) == 1 {
		_ = s.out.Forward(f)
		return
	}
	i := 0
	for i < len(s.srcs) && s.srcs[i] != src {
		i++
	}
	if i == len(s.srcs) {
		return
	}
	if s.pend[i] != nil { // this source is a frame ahead of another
		s.flush()
	}
	s.pend[i] = f
	for _, p := range s.pend {
		if p == nil {
			return
		}
	}
	s.flush()
}

// flush sends the waiting frames summed and clipped.
func (s *sum) flush() {
	n := 0
	for _, p := range s.pend {
		n = max(n, len(p))
	}
	if n == 0 {
		return
	}
	if cap(s.acc) < n {
		s.acc = make([]int32, n)
	}
	acc := s.acc[:n]
	clear(acc)
	for i, p := range s.pend {
		for j, v := range p {
			acc[j] += int32(v)
		}
		s.pend[i] = nil
	}
	out := make([]int16, n)
	for j, v := range acc {
		out[j] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
	}
	_ = s.out.Forward(out)
}
