package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/ivr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/recordings"
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

	joinCh    chan agentJoin
	hangCh    chan string
	reconnCh  chan reconnect
	xferCh    chan xfer
	referDone chan referOut
	ctlCh     chan ctlOp // live call control (control.go)
	done      chan struct{}
	bridged   atomic.Bool // the owner takes ctlCh
	// queueConsult: a queue's agent is being offered a consultation of
	// this call (consult.go); their answer is a consultation's.
	queueConsult atomic.Bool

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
	early     *earlyTurn // session.go: the utterance a Tentative ended
	segs      []transcript.Segment
	asrFailed bool
	mix       *mixer
	decision  ivr.Decision
	lang      string
	visits    []store.IVRVisit
	referring bool       // a transfer to a number is under way
	outbound  *agentJoin // click-to-call: the agent who placed it
	// Live call control (control.go): owner-only.
	hold     *holdState
	dtmf     *dtmfSender
	consult  *consultState
	monitors map[string]*monitor
	handover *agentJoin // a completed consultation's new agent
	recPause *recPause  // the recording is paused (recpause.go)
	view     liveView   // what LiveCalls shows; the owner writes it
	// The end: when serve returned (the hang-up), and when the
	// recognisers' last results were in.
	endedAt, flushedAt time.Time
	flushLog           []any // each stream's flush time, for the log
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
	// The record is written even if the caller hangs up meanwhile (a
	// short call must not lose its start to a cancelled write).
	sctx, cancelStore := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	err := o.Store.CreateCall(sctx, c.rec)
	cancelStore()
	if err != nil {
		c.log.Error("store call", "err", err)
	}
	c.log.Info("call started", "from", c.in.From, "to", c.in.To, "codec", c.in.Leg.Codec().Name)

	var rec *media.Recorder
	if o.Record {
		rel := recordings.Path(c.in.ID, c.start)
		abs := filepath.Join(o.DataDir, rel)
		r, err := openRecording(abs, c.in.Leg.Codec())
		if err == nil {
			rec, c.rec.RecordingPath = r, rel
		} else {
			c.log.Warn("recording disabled", "err", err)
		}
	}
	c.m.markLive(c.rec, c.log) // removed once the post-call work is queued
	// Recognisers outlive the caller's hang-up long enough to finish the
	// last utterance (flushASR), so they get their own context.
	asrCtx, cancelASR := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelASR()
	c.asrCtx = asrCtx
	if !asr.WantsAudio(o.ASR) {
		// No recognition configured (nil, or provider none): keys only, and nothing decoded
		// for a recogniser (a relayed call's recording takes its legs'
		// frames as they are decoded).
	} else if s, err := o.ASR.NewStream(asrCtx, asr.StreamOptions{Label: c.in.ID + "/caller", Narrowband: narrowband(c.in.Leg), Turns: true}); err == nil {
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

	// Tear down media: stop the mixer, then let the recognisers finish
	// the last utterances (both at once, while the rest is torn down),
	// close the agent leg and the recording, collect the last results.
	c.endedAt = time.Now()
	stopMix()
	<-mixDone
	c.closeASR()
	c.logMedia()
	c.rec.Quality = c.quality()
	if c.agentLeg != nil {
		c.agentLeg.Close()
	}
	if rec != nil {
		if err := rec.Close(); err != nil {
			c.log.Warn("recording close", "err", err)
		}
		if o.SealRecording != nil {
			if err := o.SealRecording(c.rec.RecordingPath); err != nil {
				c.log.Error("recording not encrypted yet (retried at the next start)", "err", err)
			}
		}
	}
	c.flushASR()
	c.finish(disposition)
}

// serve runs IVR → queue → bridge and returns the disposition.
func (c *Call) serve(ctx context.Context) string {
	o := c.m.opts
	if j := c.outbound; j != nil { // click-to-call: no IVR, no queue
		c.log.Info("outbound call answered", "agent", j.agent)
		disposition, next := c.bridge(ctx, *j)
		o.Router.ReleaseCall(j.agent, c.in.ID)
		if next == nil {
			return disposition
		}
		c.rec.Queue = next.Queue
		return c.queued(ctx, transferPrompt)
	}
	d, err := ivr.Run(ctx, c, o.Flow, o.NLU)
	// The IVR no longer takes turns: what the caller says from here on
	// is transcript, and needs no Tentatives.
	if t, ok := c.callerASR.(asr.TurnTaker); ok {
		t.SetTurns(false)
	}
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
		"dtmf", d.ViaDTMF, "misses", d.Misses, "early_turn", d.EarlyTurn, "utterance", c.m.opts.Redaction.Text(d.Utterance))
	if err := o.Store.UpdateCall(ctx, c.rec); err != nil {
		c.log.Warn("store call", "err", err)
	}
	if d.Outcome == ivr.OutcomeHangup { // the flow said goodbye
		if d.Contained {
			return "contained in IVR"
		}
		return "ended by IVR"
	}
	// A call in early media is answered when it leaves the IVR: queueing
	// and talking to an agent are billed time.
	if c.in.Answer != nil {
		if err := c.in.Answer(ctx); err != nil {
			c.log.Info("answer after early media failed", "err", err)
			c.rec.IVROutcome = store.IVRAbandoned
			return "caller hung up before the answer"
		}
	}
	// Queue first, so agents are offered the call while the caller hears
	// the confirmation.
	contact := routing.Contact{CallID: c.in.ID, Queue: d.Queue,
		Priority: routing.PriorityOf(d.Priority), From: c.in.From, Intent: d.Intent,
		PreferredAgent: c.lastAgent(ctx), Sentiment: c.mood()}
	if err := o.Router.Enqueue(contact); err != nil {
		c.log.Error("enqueue", "err", err)
		return "routing error"
	}
	c.log.Info("queued", "queue", d.Queue, "since_start", time.Since(c.start).Round(time.Millisecond))
	return c.queued(ctx, strings.TrimSpace(o.Flow.ConfirmText(d)+" "+o.HoldText))
}

// queued waits for an agent (the call is in a queue), bridges, and
// waits again after each transfer; it returns the disposition.
func (c *Call) queued(ctx context.Context, prompt string) string {
	o := c.m.opts
	for {
		queued := time.Now()
		join, w := c.waitForAgent(ctx, prompt)
		c.m.observer().QueueWait(c.rec.Queue, time.Since(queued), w == waitJoined)
		switch w {
		case waitHungUp:
			o.Router.Cancel(c.in.ID)
			return "caller hung up in queue"
		case waitCallback:
			return "callback requested"
		case waitMaxWait:
			return c.maxWait(ctx)
		}
		disposition, next := c.bridge(ctx, join)
		o.Router.ReleaseCall(join.agent, c.in.ID)
		if next == nil {
			return disposition
		}
		// Transferred: the call is queued again; the caller waits.
		c.rec.Queue = next.Queue
		prompt = transferPrompt
	}
}

// bridge connects caller and agent until either hangs up, or the agent
// transfers the call to a queue or another agent (next, queued again).
func (c *Call) bridge(ctx context.Context, j agentJoin) (disposition string, next *routing.Contact) {
	o := c.m.opts
	c.agent, c.agentLeg = j.agent, j.leg
	if c.agentASR == nil { // the agent channel's timeline starts with the first agent
		c.agentAt = time.Since(c.start)
	}
	c.rec.Agent = j.agent
	if c.rec.AnsweredAt.IsZero() { // a transferred call keeps its first answer
		c.rec.AnsweredAt = time.Now()
	}
	if err := o.Store.UpdateCall(ctx, c.rec); err != nil {
		c.log.Warn("store call", "err", err)
	}
	if c.agentASR == nil && !c.asrFailed && asr.WantsAudio(o.ASR) { // the first agent; transfers keep the stream
		if s, err := o.ASR.NewStream(c.asrCtx, asr.StreamOptions{Label: c.in.ID + "/agent", Narrowband: narrowband(j.leg)}); err == nil {
			c.agentASR = s
		} else {
			c.log.Warn("agent ASR unavailable", "err", err)
			c.asrFailed = true
		}
	}
	c.mix.setAgent(j.leg, c.agentASR)
	c.view.set(func(v *LiveCall) {
		v.Agent, v.From, v.Queue, v.Intent, v.AnsweredAt = j.agent, c.in.From, c.rec.Queue, c.rec.Intent, c.rec.AnsweredAt
	})
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
	phone := agentEvents(j.leg)
	defer c.bridgeOpened()() // hold, keys and consultations end with the bridge
	// handOff ends the agent's part after a transfer: the agent's desktop
	// and phone let go, the caller waits for the target.
	handOff := func(to string) {
		o.Events.Publish(c.agent, Event{Type: "call_transferred", CallID: c.in.ID, Text: to})
		c.mix.setAgent(nil, c.agentASR)
		c.agentLeg.Close()
		c.agentLeg = nil
		c.agent = ""
		c.view.set(func(v *LiveCall) { v.Agent = "" })
	}
	for {
		select {
		case <-ctx.Done():
			return "caller hung up", nil
		case who := <-c.hangCh:
			if who != c.agent {
				continue // a late hang-up from an agent who transferred the call
			}
			return "agent " + who + " hung up", nil
		case <-legDone:
			// A reloaded agent page reconnects with a new leg; the caller
			// hears nothing meanwhile but stays on the line.
			c.log.Info("agent connection lost; waiting for a reconnect", "grace", reconnectGrace)
			legDone, lost = nil, time.After(reconnectGrace)
		case <-lost:
			return "agent connection lost", nil
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
		case x := <-c.xferCh:
			ct, err := c.startTransfer(ctx, x)
			if err != nil {
				x.done(err)
				continue
			}
			if ct == nil { // a number: the answer comes with c.referDone
				continue
			}
			x.done(nil)
			handOff(ct.Queue)
			return "transferred", ct
		case ev := <-phone:
			if x, ok := c.referXfer(ev); ok {
				ct, err := c.startTransfer(ctx, x)
				if err != nil {
					x.done(err)
					continue
				}
				if ct != nil {
					x.done(nil)
					handOff(ct.Queue)
					return "transferred", ct
				}
			}
		case r := <-c.referDone:
			c.referring = false
			r.x.done(r.err)
			if r.err != nil {
				c.log.Info("transfer to a number failed", "number", r.t.number, "err", r.err)
				o.Events.Publish(c.agent, Event{Type: "transfer_failed", CallID: c.in.ID, Text: r.err.Error()})
				continue
			}
			handOff(r.t.number)
			return "transferred to " + r.t.number, nil
		case op := <-c.ctlCh:
			if ct, to := c.runControl(ctx, op); ct != nil { // a completed consultation
				handOff(to)
				return "transferred", ct
			}
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
		c.addSegment(segmentOf(transcript.Caller, r, 0))
	}
}

func (c *Call) onAgentResult(r asr.Result, ok bool) {
	if !ok {
		c.agentASR, c.asrFailed = nil, true
		return
	}
	if r.Kind == asr.Final && strings.TrimSpace(r.Text) != "" {
		c.addSegment(segmentOf(transcript.Agent, r, c.agentAt.Milliseconds()))
	}
}

// segmentOf is a final result as a transcript line of speaker, its times
// (and its words' times, when the recogniser gave them) shifted by off ms
// from the stream's start to the call's.
func segmentOf(speaker transcript.Speaker, r asr.Result, off int64) transcript.Segment {
	s := transcript.Segment{Speaker: speaker, StartMS: r.StartMS + off, EndMS: r.EndMS + off,
		Text: r.Text, Confidence: r.Confidence}
	for _, w := range r.Words {
		if strings.TrimSpace(w.Text) == "" {
			continue
		}
		s.Words = append(s.Words, transcript.Word{Text: w.Text, StartMS: w.StartMS + off, EndMS: w.EndMS + off})
	}
	return s
}

// addSegment adds a line to the transcript and shows it to the agent.
// What people said is redacted first (card data, CVV codes, national
// IDs; e-mails as configured), with the lines said just before as
// context, so no such number reaches an agent's or supervisor's page or
// the store.
func (c *Call) addSegment(s transcript.Segment) {
	if s.Speaker != transcript.System {
		var ok bool
		if s, ok = c.unpaused(s); !ok {
			return
		}
		s = c.m.opts.Redaction.Segment(c.redactContext(s), s)
	}
	c.segs = append(c.segs, s)
	if c.agent != "" {
		c.publish(s)
	}
}

// redactContext is what was said in the redactContextSpan before s (at
// most redactContextLines lines, in time order), for Redaction.After: a
// line of s's speaker runs on into s, another speaker's ends with a line
// break so that numbers of two people do not join.
func (c *Call) redactContext(s transcript.Segment) string {
	var prev []transcript.Segment
	for i := len(c.segs) - 1; i >= 0 && len(c.segs)-i <= 2*redactContextLines; i-- {
		p := c.segs[i]
		if p.Speaker != transcript.System && p.StartMS <= s.StartMS && p.EndMS >= s.StartMS-redactContextSpan.Milliseconds() {
			prev = append(prev, p)
		}
	}
	sort.SliceStable(prev, func(i, j int) bool { return prev[i].StartMS < prev[j].StartMS })
	if len(prev) > redactContextLines {
		prev = prev[len(prev)-redactContextLines:]
	}
	var b strings.Builder
	for i, p := range prev {
		b.WriteString(p.Text)
		next := s.Speaker
		if i+1 < len(prev) {
			next = prev[i+1].Speaker
		}
		if next == p.Speaker {
			b.WriteByte(' ')
		} else {
			b.WriteByte('\n')
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// How far back redaction looks for context: a security code is said soon
// after it is asked for.
const (
	redactContextSpan  = 15 * time.Second
	redactContextLines = 3
)

func (c *Call) publish(s transcript.Segment) {
	if s.Speaker == transcript.System {
		return
	}
	c.m.opts.Events.Publish(c.agent, Event{Type: "transcript", CallID: c.in.ID, Speaker: string(s.Speaker),
		Text: s.Text, StartMS: s.StartMS, EndMS: s.EndMS})
}

// closeASR ends both streams' audio, so that the recognisers decode the
// utterances the hang-up cut, in parallel; flushASR collects them.
func (c *Call) closeASR() {
	for _, s := range []asr.Stream{c.callerASR, c.agentASR} {
		if s != nil {
			go s.Close()
		}
	}
}

// flushASR collects the streams' last results (closeASR closed them),
// from both at once, for at most DrainWait.
func (c *Call) flushASR() {
	deadline := time.After(c.m.opts.DrainWait)
	caller, agent := c.callerResults(), c.agentResults()
	for caller != nil || agent != nil {
		select {
		case r, ok := <-caller:
			if !ok {
				caller = nil
				c.flushLog = append(c.flushLog, "caller_flush_ms", time.Since(c.endedAt).Milliseconds())
				continue
			}
			c.onCallerResult(r, true)
		case r, ok := <-agent:
			if !ok {
				agent = nil
				c.flushLog = append(c.flushLog, "agent_flush_ms", time.Since(c.endedAt).Milliseconds())
				continue
			}
			c.onAgentResult(r, true)
		case <-deadline:
			c.log.Warn("ASR did not flush in time; transcript may be incomplete")
			c.asrFailed = true
			caller, agent = nil, nil
		}
	}
	// A provider that lost an utterance says so here.
	for _, s := range []asr.Stream{c.callerASR, c.agentASR} {
		if s == nil {
			continue
		}
		if err := asr.StreamErr(s); err != nil {
			c.log.Warn("speech recognition lost audio; transcript incomplete", "err", err)
			c.asrFailed = true
		}
	}
	c.flushedAt = time.Now()
}

// finish hands the call's record, transcript, ticket and evaluation to
// the post-call workers (postjob.go), by way of the outbox; the call is
// over once they are kept there.
func (c *Call) finish(disposition string) {
	o := c.m.opts
	c.rec.EndedAt, c.rec.Disposition = c.endedAt, disposition
	if c.rec.EndedAt.IsZero() {
		c.rec.EndedAt = time.Now()
	}
	sort.SliceStable(c.segs, func(i, j int) bool { return c.segs[i].StartMS < c.segs[j].StartMS })
	o.Redaction.Segments(c.segs) // the IVR's prompts; people's lines were redacted as they came
	tr := transcript.Transcript{CallID: c.in.ID, CallerNumber: c.in.From, Intent: c.rec.Intent, Agent: c.rec.Agent,
		Segments: c.segs, Incomplete: c.asrFailed, Slots: maps.Clone(c.decision.Slots)}
	rec, endedAt, flushedAt, flushLog, agent, log := c.rec, c.endedAt, c.flushedAt, c.flushLog, c.agent, c.log
	c.m.postLater(&PostJob{Call: c.rec, Visits: c.visits, Transcript: tr}, c.log, func(res Result, err error) {
		if retried := new(retriedError); err != nil && !errors.As(err, &retried) {
			// Not kept for a retry (no outbox, or it could not be written):
			// the work is lost. A retried one was logged at WARN.
			log.Error("post-call work not done", "err", err)
		}
		c.m.observer().CallEnded(rec)
		// How long the hang-up took to become a stored ticket: tearing
		// down and the recognisers' last utterances, then the post-call
		// work (waiting for a worker included).
		done := time.Now()
		args := append([]any{"disposition", disposition, "segments", len(tr.Segments), "ticket", res.TicketID,
			"flush_ms", flushedAt.Sub(endedAt).Milliseconds()}, flushLog...)
		log.Info("call ended", append(args, "post_ms", done.Sub(flushedAt).Milliseconds(),
			"hangup_to_ticket_ms", done.Sub(endedAt).Milliseconds())...)
		if agent != "" && res.TicketID != "" {
			o.Events.Publish(agent, Event{Type: "call_ended", CallID: rec.ID, TicketID: res.TicketID})
		}
	})
	c.m.unmarkLive(c.in.ID, c.log)
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
	args := []any{"caller_frames", c.mix.callerFrames, "agent_frames", c.mix.agentFrames, "relayed_bridges", c.mix.relays}
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
