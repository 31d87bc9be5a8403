package call

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/transcript"
)

// The caller's time in a queue: the confirmation and hold message, music,
// and per the queue's policy their place in line with the estimated wait,
// an offer to be called back instead, and at the longest wait a voicemail
// that becomes a ticket.

// QueuePolicy is what a queue does for its waiting callers.
type QueuePolicy struct {
	// AnnounceEvery: place in line and estimated wait, after the hold
	// message and then this often; 0 = never.
	AnnounceEvery time.Duration
	// Callback offers, with each announcement, to call the caller back
	// keeping their place (needs a Dialer).
	Callback bool
	// MaxWait ends the wait with OnMaxWait: "voicemail" (default) or
	// "hangup"; 0 = no limit.
	MaxWait   time.Duration
	OnMaxWait string
}

// waitOutcome is how a wait in the queue ended.
type waitOutcome int

const (
	waitJoined   waitOutcome = iota // an agent took the call
	waitHungUp                      // the caller hung up
	waitCallback                    // the caller chose a callback; the call ends
	waitMaxWait                     // the queue's longest wait passed
)

// Prompts of the queue.
const (
	callbackKey     = '1'
	callbackOffer   = "To be called back instead, keeping your place in line, press 1."
	callbackConfirm = "Thank you. We will call you back at this number when it is your turn. Goodbye."
	voicemailPrompt = "All our agents are still busy. Please leave a message after the tone, and we will get back to you. Press the hash key when you are done."
	voicemailThanks = "Thank you for your message. Goodbye."
	busyGoodbye     = "All our agents are still busy. Please call again later. Goodbye."
	// voicemailMax bounds a message; voicemailSilence ends one after speech.
	voicemailMax     = 90 * time.Second
	voicemailSilence = 4 * time.Second
)

// announcement is the place-in-line message for pos.
func announcement(ahead int, wait time.Duration, callback bool) string {
	s := fmt.Sprintf("You are number %d in line.", ahead+1)
	switch m := int((wait + 30*time.Second) / time.Minute); {
	case wait <= 0:
	case m < 1:
		s += " The estimated wait is less than a minute."
	case m == 1:
		s += " The estimated wait is about one minute."
	default:
		s += fmt.Sprintf(" The estimated wait is about %d minutes.", m)
	}
	if callback {
		s += " " + callbackOffer
	}
	return s
}

// waitForAgent says prompt, then plays music (with the queue's
// announcements) until an agent joins, the caller hangs up or chooses a
// callback, or the longest wait passes.
func (c *Call) waitForAgent(ctx context.Context, prompt string) (agentJoin, waitOutcome) {
	o := c.m.opts
	pol := o.Queues[c.rec.Queue]
	// Whether the trunk lets the agent who takes it call the number back is
	// checked then; a refusal reaches that agent.
	canCallback := pol.Callback && o.Dialer != nil && isNumber(c.in.From)
	var audio []int16
	say := func(text string) {
		pcm, err := c.voice().Synthesize(ctx, text)
		if err != nil {
			c.log.Warn("tts failed; prompt skipped", "err", err)
			return
		}
		now := time.Since(c.start).Milliseconds()
		c.addSegment(transcript.Segment{Speaker: transcript.System, StartMS: now,
			EndMS: now + int64(len(pcm))*1000/media.SampleRate, Text: text})
		audio = append(audio, pcm...)
	}
	if prompt != "" {
		say(prompt)
	}
	var announce <-chan time.Time
	if pol.AnnounceEvery > 0 {
		// The first one right after the hold message.
		t := time.NewTimer(time.Duration(len(audio)) * time.Second / media.SampleRate)
		defer t.Stop()
		announce = t.C
	}
	var maxWait <-chan time.Time
	if pol.MaxWait > 0 {
		t := time.NewTimer(pol.MaxWait)
		defer t.Stop()
		maxWait = t.C
	}
	offered := false // a callback offer was made
	music := media.MusicOnHold()
	pos := 0
	leg := c.in.Leg
	onDigit := func(d rune) bool {
		return d == callbackKey && offered && canCallback
	}
	for {
		select {
		case <-ctx.Done():
			return agentJoin{}, waitHungUp
		case j := <-c.joinCh:
			leg.Flush()
			return j, waitJoined
		case r, ok := <-c.callerResults():
			c.onCallerResult(r, ok)
			if ok && r.Kind == asr.Final {
				// An angry caller waiting moves up the queue.
				_ = o.Router.SetSentiment(c.in.ID, c.mood())
			}
		case d := <-leg.DTMF():
			if onDigit(d) && c.startCallback(ctx) {
				return agentJoin{}, waitCallback
			}
		case ev := <-c.in.Events:
			if d := c.onSignal(ev); d != 0 && onDigit(d) && c.startCallback(ctx) {
				return agentJoin{}, waitCallback
			}
		case <-announce:
			if p, err := o.Router.Position(c.in.ID); err == nil && p.EstimatedWait > 0 {
				say(announcement(p.Ahead, p.EstimatedWait, canCallback))
				offered = offered || canCallback
			}
			announce = time.After(pol.AnnounceEvery)
		case <-maxWait:
			o.Router.Cancel(c.in.ID)
			leg.Flush()
			return agentJoin{}, waitMaxWait
		default:
			if len(audio) > 0 { // prompts first
				n := min(media.FrameSamples, len(audio))
				if err := leg.WriteFrame(audio[:n]); err != nil {
					return agentJoin{}, waitHungUp
				}
				audio = audio[n:]
				continue
			}
			if len(music) == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(media.FrameDuration):
				}
				continue
			}
			end := pos + media.FrameSamples
			if end > len(music) {
				pos, end = 0, media.FrameSamples
			}
			if err := leg.WriteFrame(music[pos:end]); err != nil {
				return agentJoin{}, waitHungUp
			}
			pos = end
		}
	}
}

// sayAll speaks text to the end (no barge-in), for goodbyes.
func (c *Call) sayAll(ctx context.Context, text string) {
	pcm, err := c.voice().Synthesize(ctx, text)
	if err != nil {
		c.log.Warn("tts failed; prompt skipped", "err", err)
		return
	}
	now := time.Since(c.start).Milliseconds()
	c.addSegment(transcript.Segment{Speaker: transcript.System, StartMS: now,
		EndMS: now + int64(len(pcm))*1000/media.SampleRate, Text: text})
	c.in.Leg.Flush()
	_ = media.Play(ctx, c.in.Leg, pcm)
}

// startCallback hands the caller's place in line to a callback and tells
// them so; false when the router no longer has the call (an agent is
// about to take it). The callback is stored (store.Callback) until an
// agent's call to the number is placed, so a restart re-arms it
// (RearmCallbacks).
func (c *Call) startCallback(ctx context.Context) bool {
	m := c.m
	id := NewID("cb")
	ct, err := m.opts.Router.Handoff(c.in.ID, id)
	if err != nil {
		c.log.Info("callback not possible", "err", err)
		return false
	}
	now := time.Now()
	rec := store.Callback{ID: id, CallID: c.in.ID, Number: c.in.From, Queue: c.rec.Queue, Intent: c.rec.Intent,
		Priority: int(ct.Priority), VIP: ct.VIP, Value: ct.Value, Sentiment: ct.Sentiment, PreferredAgent: ct.PreferredAgent,
		WaitingSince: ct.Since, ExpiresAt: now.Add(callbackWait), CreatedAt: now}
	if err := m.opts.Store.AddCallback(ctx, rec); err != nil {
		// It still waits in this process; a restart would lose it.
		c.log.Error("callback not stored", "callback_id", id, "err", err)
	}
	if !m.armCallback(rec) {
		m.opts.Router.Cancel(id) // shutting down: the stored callback is re-armed at the next start
		return false
	}
	c.log.Info("caller chose a callback", "callback_id", id)
	c.sayAll(ctx, callbackConfirm)
	return true
}

// callbackWait bounds how long a callback waits for an agent.
const callbackWait = 8 * time.Hour

// armedCallback is a callback waiting for an agent in this process.
type armedCallback struct {
	number    string
	cancelled chan struct{} // closed by CancelCallbacks
}

// armCallback starts waiting for an agent to take rec, which the router
// has queued under rec.ID; false when the manager is draining.
func (m *Manager) armCallback(rec store.Callback) bool {
	cb := m.newCall(Inbound{ID: rec.ID, From: rec.Number, To: "callback:" + rec.CallID})
	cb.rec.Intent, cb.rec.Queue = rec.Intent, rec.Queue
	a := &armedCallback{number: rec.Number, cancelled: make(chan struct{})}
	m.mu.Lock()
	if m.draining {
		m.mu.Unlock()
		return false
	}
	m.calls[rec.ID] = cb
	m.armed[rec.ID] = a
	m.wg.Add(1)
	m.mu.Unlock()
	go m.runCallback(cb, a, rec.ExpiresAt)
	return true
}

// CancelCallbacks stops the callbacks to number that are waiting for an
// agent in this process (a customer's erasure): they leave the queue and
// are never placed; their stored records go too. A callback an agent has
// already taken is a call in progress and is not stopped. It returns the
// IDs of the callbacks stopped.
func (m *Manager) CancelCallbacks(number string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, a := range m.armed {
		if a.number == number {
			close(a.cancelled)
			delete(m.armed, id)
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// WithdrawCallbacks takes the callbacks with these IDs out of the routing
// queues wherever they wait: with several nodes sharing the queues
// (package cluster), one armed on another node is never offered, so never
// dialled (it lingers there until it expires, then finds its stored record
// gone).
func (m *Manager) WithdrawCallbacks(ids []string) {
	for _, id := range ids {
		m.opts.Router.Cancel(id)
	}
}

// takeCallback marks id as taken by an agent; false when it was
// cancelled first.
func (m *Manager) takeCallback(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.armed[id]
	delete(m.armed, id)
	return ok
}

// RearmCallbacks queues again, each in its caller's place in line, the
// callbacks a previous run stored and never placed; expired ones are
// dropped. Call it once at start, after the queues are configured. A
// callback whose queue no longer exists stays stored (and is logged): it
// is re-armed once the queue is back.
func (m *Manager) RearmCallbacks(ctx context.Context) (int, error) {
	o := m.opts
	pending, err := o.Store.PendingCallbacks(ctx, maxRearm)
	if err != nil {
		return 0, fmt.Errorf("call: pending callbacks: %w", err)
	}
	n := 0
	for _, rec := range pending {
		log := o.Log.With("callback_id", rec.ID)
		if !rec.ExpiresAt.IsZero() && time.Now().After(rec.ExpiresAt) {
			log.Warn("callback expired while contactd was down", "number", rec.Number, "asked", rec.CreatedAt)
			if err := o.Store.DeleteCallback(ctx, rec.ID); err != nil {
				log.Warn("expired callback not deleted", "err", err)
			}
			continue
		}
		if o.Dialer == nil {
			log.Warn("callback kept: no trunk can call out", "number", rec.Number)
			continue
		}
		ct := routing.Contact{CallID: rec.ID, Queue: rec.Queue, Priority: routing.Priority(rec.Priority), From: rec.Number,
			Intent: rec.Intent, VIP: rec.VIP, Value: rec.Value, Sentiment: rec.Sentiment, PreferredAgent: rec.PreferredAgent,
			Since: rec.WaitingSince}
		if err := o.Router.Enqueue(ct); err != nil {
			log.Warn("callback kept, not queued", "queue", rec.Queue, "err", err)
			continue
		}
		if !m.armCallback(rec) {
			o.Router.Cancel(rec.ID)
			return n, ErrDraining
		}
		n++
	}
	if n > 0 {
		o.Log.Info("callbacks re-armed", "count", n)
	}
	return n, nil
}

// AdoptCallback makes this node wait for an agent to take rec and then
// dial it, as if it had taken the call: in a cluster (package cluster) a
// live node adopts the callbacks of a node that died or left. The
// callback's place on the waiting list is the caller's (the cluster's)
// to keep: it is not enqueued here.
func (m *Manager) AdoptCallback(rec store.Callback) error {
	if m.opts.Dialer == nil {
		return ErrNoDialer
	}
	if !rec.ExpiresAt.IsZero() && time.Now().After(rec.ExpiresAt) {
		return fmt.Errorf("call: callback %s expired at %s", rec.ID, rec.ExpiresAt.Format(time.RFC3339))
	}
	if _, err := m.call(rec.ID); err == nil {
		return nil // already waiting here
	}
	if !m.armCallback(rec) {
		return ErrDraining
	}
	m.opts.Log.Info("callback adopted", "callback_id", rec.ID, "number", rec.Number, "queue", rec.Queue)
	return nil
}

// maxRearm bounds the callbacks read at start.
const maxRearm = 100_000

// runCallback waits for an agent to take the callback, then calls the
// customer for them and runs the call. The stored callback goes once the
// call is placed (answered or not) or when it expires; at shutdown it
// stays, to be re-armed.
func (m *Manager) runCallback(c *Call, a *armedCallback, expires time.Time) {
	defer m.wg.Done()
	defer func() {
		m.mu.Lock()
		delete(m.calls, c.in.ID)
		if m.armed[c.in.ID] == a {
			delete(m.armed, c.in.ID)
		}
		m.mu.Unlock()
	}()
	forget := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.opts.Store.DeleteCallback(ctx, c.in.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.log.Warn("placed callback not deleted: a restart will call again", "err", err)
		}
	}
	if expires.IsZero() {
		expires = time.Now().Add(callbackWait)
	}
	timeout := time.NewTimer(time.Until(expires))
	defer timeout.Stop()
	select {
	case j := <-c.joinCh:
		if m.takeCallback(c.in.ID) {
			m.callCustomer(c, j, c.in.From, forget)
			return
		}
		// Cancelled as the agent took it: the agent is let go.
		m.outboundFailed(c, j, "the callback was cancelled", errors.New("the customer's data was erased"))
		forget()
	case <-a.cancelled:
		m.opts.Router.Cancel(c.in.ID)
		c.log.Info("callback cancelled: the customer's data was erased")
		forget()
	case <-timeout.C:
		m.opts.Router.Cancel(c.in.ID)
		c.log.Warn("callback expired before an agent was free", "number", c.in.From)
		forget()
	case <-m.stop:
		m.opts.Router.Cancel(c.in.ID)
		c.log.Info("callback kept for the next start", "number", c.in.From)
	}
	close(c.done) // an agent taking it meanwhile is let go (join)
}

// maxWait ends a wait that reached the queue's longest: a voicemail (the
// caller's words become the ticket) or a goodbye. It returns the
// disposition.
func (c *Call) maxWait(ctx context.Context) string {
	pol := c.m.opts.Queues[c.rec.Queue]
	if pol.OnMaxWait == "hangup" {
		c.sayAll(ctx, busyGoodbye)
		return "max wait reached"
	}
	c.sayAll(ctx, voicemailPrompt)
	_ = media.Play(ctx, c.in.Leg, media.Tone(1000, 400*time.Millisecond, media.SampleRate, 0.3))
	c.log.Info("recording a voicemail", "queue", c.rec.Queue)
	limit := time.NewTimer(voicemailMax)
	defer limit.Stop()
	var quiet <-chan time.Time // after speech, this much silence ends it
	for {
		select {
		case <-ctx.Done():
			return "voicemail"
		case <-limit.C:
			c.sayAll(ctx, voicemailThanks)
			return "voicemail"
		case <-quiet:
			c.sayAll(ctx, voicemailThanks)
			return "voicemail"
		case d := <-c.in.Leg.DTMF():
			if d == '#' {
				c.sayAll(ctx, voicemailThanks)
				return "voicemail"
			}
		case ev := <-c.in.Events:
			if c.onSignal(ev) == '#' {
				c.sayAll(ctx, voicemailThanks)
				return "voicemail"
			}
		case r, ok := <-c.callerResults():
			c.onCallerResult(r, ok)
			if ok && r.Kind == asr.Final {
				quiet = time.After(voicemailSilence)
			} else if ok && r.Kind == asr.SpeechStart {
				quiet = nil
			}
		}
	}
}
