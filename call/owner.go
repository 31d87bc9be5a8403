package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/ivr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// Call is one contact, owned by the goroutine running Manager.Serve.
type Call struct {
	m     *Manager
	in    Inbound
	log   *slog.Logger
	start time.Time

	joinCh   chan agentJoin
	hangCh   chan string
	reconnCh chan reconnect
	done     chan struct{}

	ctxMu   sync.Mutex
	callCtx context.Context

	// Owner-only state.
	rec       store.Call
	asrCtx    context.Context
	callerASR asr.Stream
	agentASR  asr.Stream
	agent     string
	agentLeg  media.Leg
	agentAt   time.Duration // offset of the agent stream from call start
	pending   []ivr.Input
	segs      []transcript.Segment
	asrFailed bool
	mix       *mixer
	decision  ivr.Decision
	lang      string
	visits    []store.IVRVisit
}

func (c *Call) ctx() context.Context {
	c.ctxMu.Lock()
	defer c.ctxMu.Unlock()
	if c.callCtx == nil {
		return context.Background()
	}
	return c.callCtx
}

// run is the whole call.
func (c *Call) run(parent context.Context) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(errors.New("call over"))
	c.ctxMu.Lock()
	c.callCtx = ctx
	c.ctxMu.Unlock()
	defer close(c.done)

	o := c.m.opts
	c.rec = store.Call{ID: c.in.ID, From: c.in.From, To: c.in.To, StartedAt: c.start}
	if err := o.Store.CreateCall(ctx, c.rec); err != nil {
		c.log.Error("store call", "err", err)
	}
	c.log.Info("call started", "from", c.in.From, "to", c.in.To, "codec", c.in.Leg.Codec().Name)

	var rec *media.Recorder
	if o.Record {
		rel := recordingPath(c.in.ID)
		abs := filepath.Join(o.DataDir, rel)
		if err := ensureDir(filepath.Dir(abs)); err == nil {
			if r, err := media.NewRecorder(abs); err == nil {
				rec, c.rec.RecordingPath = r, rel
			} else {
				c.log.Warn("recording disabled", "err", err)
			}
		}
	}
	// Recognisers outlive the caller's hang-up long enough to finish the
	// last utterance (flushASR), so they get their own context.
	asrCtx, cancelASR := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelASR()
	c.asrCtx = asrCtx
	if s, err := o.ASR.NewStream(asrCtx, asr.StreamOptions{Label: c.in.ID + "/caller", Narrowband: narrowband(c.in.Leg)}); err == nil {
		c.callerASR = s
	} else {
		c.log.Warn("caller ASR unavailable; DTMF only", "err", err)
		c.asrFailed = true
	}
	c.mix = newMixer(c.in.Leg, rec, c.callerASR)
	mixDone := make(chan struct{})
	mixCtx, stopMix := context.WithCancel(context.Background())
	go func() { defer close(mixDone); c.mix.run(mixCtx) }()

	disposition := c.serve(ctx)
	if cause := context.Cause(ctx); ctx.Err() != nil && cause != nil {
		disposition = cause.Error()
	}
	if c.agent != "" {
		o.Events.Publish(c.agent, Event{Type: "call_ended", CallID: c.in.ID})
	}

	// Tear down media: stop the mixer, close the agent leg, flush ASR.
	stopMix()
	<-mixDone
	c.logMedia()
	c.rec.Quality = c.quality()
	if c.agentLeg != nil {
		c.agentLeg.Close()
	}
	if rec != nil {
		if err := rec.Close(); err != nil {
			c.log.Warn("recording close", "err", err)
		}
	}
	c.flushASR()
	c.finish(disposition)
}

// serve runs IVR → queue → bridge and returns the disposition.
func (c *Call) serve(ctx context.Context) string {
	o := c.m.opts
	d, err := ivr.Run(ctx, c, o.Flow, o.NLU)
	if err != nil {
		if ctx.Err() != nil {
			c.rec.IVROutcome = store.IVRAbandoned
			return "caller hung up in IVR"
		}
		c.log.Error("ivr", "err", err)
		return "ivr error: " + err.Error()
	}
	c.decision = d
	c.rec.Intent, c.rec.Queue = d.Intent, d.Queue
	switch {
	case d.Outcome == ivr.OutcomeHangup && d.Contained:
		c.rec.IVROutcome = store.IVRContained
	case d.Outcome == ivr.OutcomeHangup:
		c.rec.IVROutcome = store.IVREnded
	default:
		c.rec.IVROutcome = store.IVRTransferred
	}
	c.log.Info("ivr decision", "intent", d.Intent, "queue", d.Queue, "confidence", d.Confidence,
		"dtmf", d.ViaDTMF, "misses", d.Misses, "utterance", d.Utterance)
	if err := o.Store.UpdateCall(ctx, c.rec); err != nil {
		c.log.Warn("store call", "err", err)
	}
	if d.Outcome == ivr.OutcomeHangup { // the flow said goodbye
		if d.Contained {
			return "contained in IVR"
		}
		return "ended by IVR"
	}
	// Queue first, so agents are offered the call while the caller hears
	// the confirmation.
	if err := o.Router.Enqueue(routing.Contact{CallID: c.in.ID, Queue: d.Queue,
		Priority: routing.PriorityOf(d.Priority), From: c.in.From, Intent: d.Intent,
		PreferredAgent: c.lastAgent(ctx), Sentiment: c.mood()}); err != nil {
		c.log.Error("enqueue", "err", err)
		return "routing error"
	}
	c.log.Info("queued", "queue", d.Queue, "since_start", time.Since(c.start).Round(time.Millisecond))
	join, ok := c.waitForAgent(ctx, strings.TrimSpace(o.Flow.ConfirmText(d)+" "+o.HoldText))
	if !ok {
		o.Router.Cancel(c.in.ID)
		return "caller hung up in queue"
	}
	defer o.Router.Release(join.agent)
	return c.bridge(ctx, join)
}

// waitForAgent says prompt, then plays music, until an agent joins or the
// caller hangs up.
func (c *Call) waitForAgent(ctx context.Context, prompt string) (agentJoin, bool) {
	var audio []int16
	if prompt != "" {
		if pcm, err := c.voice().Synthesize(ctx, prompt); err == nil {
			c.addSegment(transcript.Segment{Speaker: transcript.System, StartMS: time.Since(c.start).Milliseconds(),
				EndMS: time.Since(c.start).Milliseconds() + int64(len(pcm))*1000/media.SampleRate, Text: prompt})
			audio = pcm
		} else {
			c.log.Warn("tts failed; prompt skipped", "err", err)
		}
	}
	music := media.MusicOnHold()
	pos := 0
	leg := c.in.Leg
	for {
		select {
		case <-ctx.Done():
			return agentJoin{}, false
		case j := <-c.joinCh:
			leg.Flush()
			return j, true
		case r, ok := <-c.callerResults():
			c.onCallerResult(r, ok)
			if ok && r.Kind == asr.Final {
				// An angry caller waiting moves up the queue.
				_ = c.m.opts.Router.SetSentiment(c.in.ID, c.mood())
			}
		case <-leg.DTMF():
		case ev := <-c.in.Events:
			c.onSignal(ev)
		default:
			if len(music) == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(media.FrameDuration):
				}
				continue
			}
			if len(audio) > 0 { // the prompt first
				n := min(media.FrameSamples, len(audio))
				if err := leg.WriteFrame(audio[:n]); err != nil {
					return agentJoin{}, false
				}
				audio = audio[n:]
				continue
			}
			end := pos + media.FrameSamples
			if end > len(music) {
				pos, end = 0, media.FrameSamples
			}
			if err := leg.WriteFrame(music[pos:end]); err != nil {
				return agentJoin{}, false
			}
			pos = end
		}
	}
}

// bridge connects caller and agent until either hangs up.
func (c *Call) bridge(ctx context.Context, j agentJoin) string {
	o := c.m.opts
	c.agent, c.agentLeg = j.agent, j.leg
	c.agentAt = time.Since(c.start)
	c.rec.Agent, c.rec.AnsweredAt = j.agent, time.Now()
	if err := o.Store.UpdateCall(ctx, c.rec); err != nil {
		c.log.Warn("store call", "err", err)
	}
	if s, err := o.ASR.NewStream(c.asrCtx, asr.StreamOptions{Label: c.in.ID + "/agent", Narrowband: narrowband(j.leg)}); err == nil {
		c.agentASR = s
	} else {
		c.log.Warn("agent ASR unavailable", "err", err)
		c.asrFailed = true
	}
	c.mix.setAgent(j.leg, c.agentASR)
	c.log.Info("agent joined", "agent", j.agent)
	o.Events.Publish(j.agent, Event{Type: "call_answered", CallID: c.in.ID})
	// The agent sees what was said before they joined.
	for _, s := range c.segs {
		c.publish(s)
	}
	var legDone <-chan struct{}
	var lost <-chan time.Time
	if d, ok := j.leg.(interface{ Done() <-chan struct{} }); ok {
		legDone = d.Done()
	}
	for {
		select {
		case <-ctx.Done():
			return "caller hung up"
		case who := <-c.hangCh:
			return "agent " + who + " hung up"
		case <-legDone:
			// A reloaded agent page reconnects with a new leg; the caller
			// hears nothing meanwhile but stays on the line.
			c.log.Info("agent connection lost; waiting for a reconnect", "grace", reconnectGrace)
			legDone, lost = nil, time.After(reconnectGrace)
		case <-lost:
			return "agent connection lost"
		case rc := <-c.reconnCh:
			if rc.agent != c.agent {
				rc.reply <- fmt.Errorf("%w: %s is not on this call", ErrNotYours, rc.agent)
				continue
			}
			old := c.agentLeg
			c.agentLeg = rc.leg
			c.mix.setAgent(rc.leg, c.agentASR)
			old.Close()
			legDone, lost = nil, nil
			if d, ok := rc.leg.(interface{ Done() <-chan struct{} }); ok {
				legDone = d.Done()
			}
			c.log.Info("agent reconnected", "agent", rc.agent)
			rc.reply <- nil
		case r, ok := <-c.callerResults():
			c.onCallerResult(r, ok)
		case r, ok := <-c.agentResults():
			c.onAgentResult(r, ok)
		case <-c.in.Leg.DTMF():
		case ev := <-c.in.Events:
			c.onSignal(ev)
		}
	}
}

func (c *Call) callerResults() <-chan asr.Result {
	if c.callerASR == nil {
		return nil
	}
	return c.callerASR.Results()
}

func (c *Call) agentResults() <-chan asr.Result {
	if c.agentASR == nil {
		return nil
	}
	return c.agentASR.Results()
}

// onCallerResult records a caller result and returns it for the IVR.
func (c *Call) onCallerResult(r asr.Result, ok bool) {
	if !ok {
		c.callerASR, c.asrFailed = nil, true
		return
	}
	if r.Kind == asr.Final && strings.TrimSpace(r.Text) != "" {
		c.addSegment(transcript.Segment{Speaker: transcript.Caller, StartMS: r.StartMS, EndMS: r.EndMS,
			Text: r.Text, Confidence: r.Confidence})
	}
}

func (c *Call) onAgentResult(r asr.Result, ok bool) {
	if !ok {
		c.agentASR, c.asrFailed = nil, true
		return
	}
	if r.Kind == asr.Final && strings.TrimSpace(r.Text) != "" {
		off := c.agentAt.Milliseconds()
		c.addSegment(transcript.Segment{Speaker: transcript.Agent, StartMS: r.StartMS + off, EndMS: r.EndMS + off,
			Text: r.Text, Confidence: r.Confidence})
	}
}

func (c *Call) addSegment(s transcript.Segment) {
	c.segs = append(c.segs, s)
	if c.agent != "" {
		c.publish(s)
	}
}

func (c *Call) publish(s transcript.Segment) {
	if s.Speaker == transcript.System {
		return
	}
	c.m.opts.Events.Publish(c.agent, Event{Type: "transcript", CallID: c.in.ID, Speaker: string(s.Speaker),
		Text: s.Text, StartMS: s.StartMS, EndMS: s.EndMS})
}

// flushASR closes the streams and collects their last results.
func (c *Call) flushASR() {
	deadline := time.After(c.m.opts.DrainWait)
	for _, st := range []struct {
		s  asr.Stream
		on func(asr.Result, bool)
	}{{c.callerASR, c.onCallerResult}, {c.agentASR, c.onAgentResult}} {
		if st.s == nil {
			continue
		}
		go st.s.Close()
		results := st.s.Results()
	drain:
		for {
			select {
			case r, ok := <-results:
				if !ok {
					break drain
				}
				st.on(r, true)
			case <-deadline:
				c.log.Warn("ASR did not flush in time; transcript may be incomplete")
				c.asrFailed = true
				break drain
			}
		}
		// A provider that lost an utterance says so here.
		if err := asr.StreamErr(st.s); err != nil {
			c.log.Warn("speech recognition lost audio; transcript incomplete", "err", err)
			c.asrFailed = true
		}
	}
}

// finish stores the call, its transcript, ticket and evaluation.
func (c *Call) finish(disposition string) {
	o := c.m.opts
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.rec.EndedAt, c.rec.Disposition = time.Now(), disposition
	if err := o.Store.UpdateCall(ctx, c.rec); err != nil {
		c.log.Error("store call", "err", err)
	}
	sort.SliceStable(c.segs, func(i, j int) bool { return c.segs[i].StartMS < c.segs[j].StartMS })
	tickets.RedactSegments(c.segs) // no card number, CVV or national ID is stored
	if err := o.Store.AddSegments(ctx, c.in.ID, c.segs); err != nil {
		c.log.Error("store transcript", "err", err)
	}
	if err := o.Store.AddIVRVisits(ctx, c.visits); err != nil {
		c.log.Error("store ivr visits", "err", err)
	}
	tr := transcript.Transcript{CallID: c.in.ID, CallerNumber: c.in.From, Intent: c.rec.Intent, Agent: c.agent,
		Segments: c.segs, Incomplete: c.asrFailed}
	var ticketID string
	if o.Post != nil {
		res, err := o.Post.Process(ctx, tr)
		if err != nil {
			c.log.Error("post-call", "err", err)
		}
		ticketID = res.TicketID
	}
	c.log.Info("call ended", "disposition", disposition, "segments", len(c.segs), "ticket", ticketID)
	if c.agent != "" && ticketID != "" {
		o.Events.Publish(c.agent, Event{Type: "call_ended", CallID: c.in.ID, TicketID: ticketID})
	}
}

// quality is each leg's measured audio quality, for the call record.
func (c *Call) quality() map[string]store.MediaQuality {
	type measured interface {
		Quality() media.Quality
		Stats() media.Stats
	}
	q := map[string]store.MediaQuality{}
	for name, leg := range map[string]media.Leg{"caller": c.in.Leg, "agent": c.agentLeg} {
		m, ok := leg.(measured)
		if leg == nil || !ok {
			continue
		}
		mq, st := m.Quality(), m.Stats()
		q[name] = store.MediaQuality{Codec: leg.Codec().Name, PacketsIn: st.PacketsIn,
			PacketsLost: uint64(max(mq.PacketsLost, 0)), LossPct: mq.LossPercent, JitterMS: mq.JitterMS,
			RTTMS: mq.RTTMS, MOS: mq.MOS}
	}
	if len(q) == 0 {
		return nil
	}
	return q
}

// logMedia logs how much audio each side delivered, with the legs' own
// counters where they have them.
func (c *Call) logMedia() {
	type statser interface{ Stats() media.Stats }
	args := []any{"caller_frames", c.mix.callerFrames, "agent_frames", c.mix.agentFrames}
	if s, ok := c.in.Leg.(statser); ok {
		args = append(args, "caller_leg", s.Stats())
	}
	if s, ok := c.agentLeg.(statser); ok && c.agentLeg != nil {
		args = append(args, "agent_leg", s.Stats())
	}
	c.log.Info("call media", args...)
}

// lastAgent is the agent who last handled this caller within the sticky
// window, for the router's sticky-agent offer; "" when none.
func (c *Call) lastAgent(ctx context.Context) string {
	days := c.m.opts.StickyDays
	if days <= 0 || c.in.From == "" {
		return ""
	}
	cs, err := c.m.opts.Store.CallsByCaller(ctx, c.in.From, 5)
	if err != nil {
		c.log.Warn("caller history", "err", err)
		return ""
	}
	since := time.Now().AddDate(0, 0, -days)
	for _, past := range cs {
		if past.ID != c.in.ID && past.Agent != "" && past.StartedAt.After(since) {
			return past.Agent
		}
	}
	return ""
}

// NodeEvent implements ivr.Observer; the flow calls it on the call's own
// goroutine, so the visit list needs no lock.
func (m *Manager) NodeEvent(ev ivr.NodeEvent) {
	c, err := m.call(ev.CallID)
	if err != nil {
		return
	}
	if !ev.Exit {
		c.visits = append(c.visits, store.IVRVisit{CallID: ev.CallID, Flow: ev.Flow, Node: ev.Node,
			Kind: string(ev.Kind), EnteredAt: ev.At})
		return
	}
	for i := len(c.visits) - 1; i >= 0; i-- {
		if v := &c.visits[i]; v.Node == ev.Node && v.LeftAt.IsZero() {
			v.LeftAt, v.ExitTo = ev.At, ev.To
			return
		}
	}
}

// mood is the caller's sentiment so far, -1 (angry) to 1 (happy), from
// the lexicon the ticket writer uses.
func (c *Call) mood() float64 {
	var score float64
	for _, s := range c.segs {
		if s.Speaker == transcript.Caller {
			score += tickets.LineSentiment(s.Text)
		}
	}
	return max(-1, min(1, score/3))
}

// reconnectGrace is how long a call waits for the agent's page to come back.
const reconnectGrace = 15 * time.Second

type reconnect struct {
	agent string
	leg   media.Leg
	reply chan error
}

// narrowband reports whether a leg carries telephone-band (8 kHz) audio,
// which the recogniser decodes with its channel adaptation.
func narrowband(leg media.Leg) bool {
	switch leg.Codec().Name {
	case "PCMU", "PCMA":
		return true
	}
	return false
}
