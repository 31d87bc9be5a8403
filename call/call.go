package call

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/ivr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/tts"
)

// Errors.
var (
	ErrNoSuchCall = errors.New("call: no such call")
	ErrDraining   = errors.New("call: server is shutting down")
	ErrNotYours   = errors.New("call: this call is not yours")
)

// Inbound is a call the SIP layer answered.
type Inbound struct {
	ID   string
	From string
	To   string
	Leg  media.Leg
	// Events are in-dialog signals from the caller's phone (INFO digits,
	// hold); may be nil.
	Events <-chan sip.CallEvent
	// Entry is the IVR node to start in (the trunk's DID table); empty:
	// the flow's start.
	Entry string
	// Answer, when set, answers a call that is still in early media (183):
	// the IVR runs before the answer, and the owner answers when the call
	// leaves the IVR for a queue. nil: the call is already answered.
	Answer func(ctx context.Context) error
	// Refer, when set, asks the caller's side to call number instead of
	// us (a transfer out, REFER), for requester, who must be allowed to
	// call that number out. It returns once the number answered, or why
	// not.
	Refer func(ctx context.Context, requester, number string) error
}

// Event is something an agent's desktop should see.
type Event struct {
	Type     string `json:"type"` // call_answered, transcript, call_ended
	CallID   string `json:"call_id"`
	Speaker  string `json:"speaker,omitempty"`
	Text     string `json:"text,omitempty"`
	StartMS  int64  `json:"start_ms,omitempty"`
	EndMS    int64  `json:"end_ms,omitempty"`
	TicketID string `json:"ticket_id,omitempty"`
	// Live call control: the other party (consulted agent, supervisor),
	// a supervisor's mode, the caller's number, how long a hold lasted.
	Peer   string `json:"peer,omitempty"`
	Mode   string `json:"mode,omitempty"`
	From   string `json:"from,omitempty"`
	HoldMS int64  `json:"hold_ms,omitempty"`
}

// Events delivers events to an agent (and whoever watches them).
type Events interface {
	Publish(agent string, ev Event)
}

// AgentLegFactory makes the agent's media leg from the browser's SDP offer.
type AgentLegFactory func(ctx context.Context, offerSDP string) (media.Leg, string, error)

// ACD is what calls need from the routing engine: the *routing.Router on
// one node, the cluster's shared ACD (package cluster) on several.
type ACD interface {
	Agent(username string) (routing.AgentView, bool)
	Enqueue(c routing.Contact) error
	Cancel(callID string)
	Accept(username, callID string) error
	Reject(username, callID string) error
	Claim(username string) error
	// ReleaseCall ends the agent's part in call callID (the call the
	// agent's Accept or Claim was for).
	ReleaseCall(username, callID string)
	SetSentiment(callID string, sentiment float64) error
	Position(callID string) (routing.Position, error)
	Handoff(oldID, newID string) (routing.Contact, error)
	HasQueue(name string) bool
}

// Options are a Manager's parts.
type Options struct {
	Store    store.Store
	Router   ACD
	ASR      asr.Recognizer // nil, or one that wants no audio (asr.WantsAudio: provider none): calls open no streams and are not transcribed; the IVR takes keys
	TTS      tts.Synthesizer
	Voices   map[string]tts.Synthesizer // per IVR language; TTS otherwise
	NLU      ivr.IntentClassifier
	Flow     ivr.FlowConfig
	HoldText string // said once before music on hold
	DataDir  string
	Record   bool
	NewLeg   AgentLegFactory
	// Dialer places outside calls (click-to-call); nil: none.
	Dialer Dialer
	// Queues are the queues' policies for waiting callers, by name.
	Queues    map[string]QueuePolicy
	Events    Events
	Post      *PostCall
	Log       *slog.Logger
	DrainWait time.Duration // how long ASR may take to flush at hang-up
	// PostWorkers is how many ended calls' post-call work runs at once
	// (0: half the CPUs, at least one).
	PostWorkers int
	// StickyDays: a caller's last agent within this many days gets the
	// first offer (routing's sticky agent); 0 turns it off.
	StickyDays int
	// Outbox, when set, keeps each ended call's post-call work on disk
	// until it is done (postjob.go); RunOutbox retries it.
	Outbox *outbox.Box
	// Live, when set, keeps a marker per call in progress (live.go), so
	// that the next start closes the calls a crash cut short
	// (RecoverInterrupted).
	Live *outbox.Box
	// SealRecording, when set, is called with a finished recording's
	// path (relative to DataDir), to encrypt it at rest.
	SealRecording func(rel string) error
	// Observer is told about queue waits and ended calls (metrics).
	Observer Observer
	// Redaction is what is masked in transcripts beyond card data, CVV
	// codes and national IDs (always masked), live and stored.
	Redaction tickets.Redaction
}

// Manager runs every call of this node.
type Manager struct {
	opts     Options
	mu       sync.Mutex
	calls    map[string]*Call
	wg       sync.WaitGroup
	draining bool          // guarded by mu
	stop     chan struct{} // closed by Drain: pending callbacks stop waiting
	phones   *phoneOffers
	// armed are the callbacks waiting for an agent, by ID (guarded by mu).
	armed map[string]*armedCallback
	// Post-call work waiting for a worker, and the workers running
	// (postjob.go; guarded by mu).
	postQ       []postTask
	postWorkers int
	postBehind  bool // the queue overflowed into the outbox (logged once)
}

// NewManager returns a manager; it starts nothing.
func NewManager(opts Options) *Manager {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Events == nil {
		opts.Events = nopEvents{}
	}
	if opts.DrainWait == 0 {
		opts.DrainWait = 3 * time.Second
	}
	m := &Manager{opts: opts, calls: map[string]*Call{}, stop: make(chan struct{}), armed: map[string]*armedCallback{}}
	if m.opts.Flow.Observer == nil {
		m.opts.Flow.Observer = m // IVR analytics go with the call's record
	}
	return m
}

// SetEvents sets the event sink (the web hub is built after the manager).
func (m *Manager) SetEvents(e Events) { m.opts.Events = e }

// Active is the number of calls in progress.
func (m *Manager) Active() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

// Drain makes the manager refuse new calls. Pending callbacks stop
// waiting (they stay stored, for RearmCallbacks at the next start).
func (m *Manager) Drain() {
	m.mu.Lock()
	if !m.draining {
		close(m.stop)
	}
	m.draining = true
	m.mu.Unlock()
}

// Wait blocks until every call has finished (including post-call work) or ctx ends.
func (m *Manager) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Serve runs an inbound call to its end; it returns when the call is over
// and its ticket and evaluation are written. ctx ends when the caller hangs up.
func (m *Manager) Serve(ctx context.Context, in Inbound) {
	// Checking draining and counting the call under one lock orders every
	// Add before Drain returns, so Wait never races with Add.
	m.mu.Lock()
	if m.draining {
		m.mu.Unlock()
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	defer m.wg.Done()
	c := m.newCall(in)
	m.mu.Lock()
	m.calls[in.ID] = c
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.calls, in.ID)
		m.mu.Unlock()
	}()
	c.run(ctx)
}

func (m *Manager) newCall(in Inbound) *Call {
	return &Call{
		m:         m,
		in:        in,
		log:       m.opts.Log.With("call_id", in.ID),
		start:     time.Now(),
		joinCh:    make(chan agentJoin), // unbuffered: a join is taken by the owner or refused
		hangCh:    make(chan string, 1),
		reconnCh:  make(chan reconnect),
		xferCh:    make(chan xfer),
		referDone: make(chan referOut, 1),
		ctlCh:     make(chan ctlOp),
		done:      make(chan struct{}),
	}
}

func (m *Manager) call(id string) (*Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchCall, id)
	}
	return c, nil
}

// AnswerWebRTC is the agent answering an offered call from the browser: it
// builds the agent's WebRTC leg from the SDP offer, claims the offer, and
// hands the leg to the call's owner. It returns the SDP answer.
func (m *Manager) AnswerWebRTC(ctx context.Context, callID, agent, offerSDP string) (string, error) {
	c, err := m.call(callID)
	if err != nil {
		return "", err
	}
	if v, ok := m.opts.Router.Agent(agent); !ok || v.Offering != callID {
		return "", fmt.Errorf("%w: no offer of %s for %s", ErrNotYours, callID, agent)
	}
	if c.queueConsult.Load() {
		// The offer is a consultation of a queue (the call has an agent):
		// answered as one.
		return m.AnswerConsult(ctx, callID, agent, offerSDP)
	}
	leg, answer, err := m.opts.NewLeg(c.ctx(), offerSDP)
	if err != nil {
		return "", fmt.Errorf("call: agent leg: %w", err)
	}
	if err := m.join(callID, agent, leg); err != nil {
		leg.Close()
		return "", err
	}
	return answer, nil
}

// join claims the agent's offer and hands the agent's leg to the call's
// owner. On error the caller still owns leg.
func (m *Manager) join(callID, agent string, leg media.Leg) error {
	c, err := m.call(callID)
	if err != nil {
		return err
	}
	if err := m.opts.Router.Accept(agent, callID); err != nil {
		return fmt.Errorf("%w: %w", ErrNotYours, err)
	}
	select {
	case c.joinCh <- agentJoin{agent: agent, leg: leg}:
		return nil
	case <-c.done:
		m.opts.Router.ReleaseCall(agent, callID)
		return fmt.Errorf("%w: %s has ended", ErrNoSuchCall, callID)
	}
}

// ReconnectWebRTC gives a call whose agent page was reloaded a new WebRTC
// leg, without dropping the caller (web.Reconnector).
func (m *Manager) ReconnectWebRTC(ctx context.Context, callID, agent, offerSDP string) (string, error) {
	c, err := m.call(callID)
	if err != nil {
		return "", err
	}
	leg, answer, err := m.opts.NewLeg(c.ctx(), offerSDP)
	if err != nil {
		return "", fmt.Errorf("call: agent leg: %w", err)
	}
	rc := reconnect{agent: agent, leg: leg, reply: make(chan error, 1)}
	select {
	case c.reconnCh <- rc:
	case <-c.done:
		leg.Close()
		return "", fmt.Errorf("%w: %s has ended", ErrNoSuchCall, callID)
	case <-ctx.Done():
		leg.Close()
		return "", ctx.Err()
	}
	if err := <-rc.reply; err != nil {
		leg.Close()
		return "", err
	}
	return answer, nil
}

// Reject is the agent declining an offered call.
func (m *Manager) Reject(callID, agent string) error {
	if err := m.opts.Router.Reject(agent, callID); err != nil {
		return fmt.Errorf("%w: %w", ErrNotYours, err)
	}
	return nil
}

// Hangup is the agent ending the call.
func (m *Manager) Hangup(callID, agent string) error {
	c, err := m.call(callID)
	if err != nil {
		return err
	}
	select {
	case c.hangCh <- agent:
	default:
	}
	return nil
}

type agentJoin struct {
	agent string
	leg   media.Leg
	queue string // a completed consultation of a queue: the call's queue now
}

type nopEvents struct{}

func (nopEvents) Publish(string, Event) {}

// newRecorder creates a call's recording in the caller's format: G.711
// at 8 kHz when the caller speaks G.711 (the telephone network's band and
// its own bytes: nothing above 4 kHz to keep, a quarter the size of 16 kHz
// PCM, and a relayed call's packets are recorded as they are), else 16 kHz
// PCM.
func newRecorder(abs string, c media.Codec) (*media.Recorder, error) {
	switch {
	case strings.EqualFold(c.Name, "PCMU"):
		return media.NewRecorderG711(abs, false)
	case strings.EqualFold(c.Name, "PCMA"):
		return media.NewRecorderG711(abs, true)
	}
	return media.NewRecorderRate(abs, media.SampleRate)
}

// openRecording creates the recording file and its directory. Removing a
// shard's last recording removes the directory (recordings.Files.Remove),
// so a directory that went between the two is made again, once.
func openRecording(abs string, c media.Codec) (*media.Recorder, error) {
	var err error
	for range 2 {
		if err = os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
			return nil, err
		}
		var r *media.Recorder
		if r, err = newRecorder(abs, c); !errors.Is(err, fs.ErrNotExist) {
			return r, err
		}
	}
	return nil, err
}
