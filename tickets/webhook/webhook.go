package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// Event types.
const (
	TicketCreated = "ticket.created"
	TicketUpdated = "ticket.updated"
	// TicketSLABreached: an SLA target passed while the ticket was open
	// (the breach watcher); the payload's breach says which.
	TicketSLABreached = "ticket.sla_breached"
)

// EventTypes lists the event types an endpoint may subscribe to.
var EventTypes = []string{TicketCreated, TicketUpdated, TicketSLABreached}

// Errors of Replay.
var (
	ErrUnknownEndpoint = errors.New("webhook: the endpoint is no longer configured")
	ErrQueueFull       = errors.New("webhook: delivery queue full; try again later")
)

// Endpoint is one subscriber. Events empty means every event.
type Endpoint struct {
	URL    string   `yaml:"url" json:"url"`
	Secret string   `yaml:"secret" json:"-"`
	Events []string `yaml:"events" json:"events"`
}

// Validate names the first bad field.
func (e Endpoint) Validate() error {
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: want an http(s) URL, got %q", e.URL)
	}
	if len(e.Secret) < 16 {
		return errors.New("secret: want at least 16 characters")
	}
	for i, ev := range e.Events {
		if !slices.Contains(EventTypes, ev) {
			return fmt.Errorf("events[%d]: want one of %v, got %q", i, EventTypes, ev)
		}
	}
	return nil
}

// Payload is the JSON body of a delivery.
type Payload struct {
	ID     string         `json:"id"` // unique per event; receivers dedupe on it
	Type   string         `json:"type"`
	At     time.Time      `json:"at"`
	Ticket tickets.Ticket `json:"ticket"`
	// Breach is the SLA target a ticket.sla_breached event is about.
	Breach *tickets.Breach `json:"breach,omitempty"`
}

// Delivery is one payload on its way to one endpoint.
type Delivery struct {
	URL      string
	Body     []byte
	Attempts int
	LastErr  string
	EventID  string
	Type     string
	TicketID string
	next     time.Time
	secret   string
	callID   string
}

// DeadLetterStore keeps deliveries given up on (store.Store is one).
type DeadLetterStore interface {
	AddDeadLetter(ctx context.Context, d store.DeadLetter) (int64, error)
}

// Signature is the X-Contactd-Signature header value of body under
// secret.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Options tune a Dispatcher; zero values take the defaults.
type Options struct {
	MaxAttempts int           // 0: 6
	Backoff     time.Duration // first retry delay, doubling; 0: 1s
	MaxBackoff  time.Duration // 0: 5m
	Timeout     time.Duration // per request; 0: 10s
	QueueSize   int           // 0: 1000
	Client      *http.Client
	Log         *slog.Logger
	// DeadLetter is called for each delivery given up on (besides the
	// log line and DeadLetters).
	DeadLetter func(Delivery)
	// Store, when set, keeps each delivery given up on durably, for the
	// admin API to list and replay (store.Store is one).
	Store DeadLetterStore
}

var _ tickets.BreachNotifier = (*Dispatcher)(nil)

// Dispatcher delivers events to endpoints.
type Dispatcher struct {
	eps  []Endpoint
	opts Options

	in     chan Delivery
	mu     sync.Mutex
	dead   []Delivery
	seq    uint64
	closed chan struct{}
	done   chan struct{}
	once   sync.Once
	start  sync.Once
}

// New returns a Dispatcher for the endpoints; call Run to start it.
func New(eps []Endpoint, opts Options) (*Dispatcher, error) {
	for i, e := range eps {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("webhooks[%d].%w", i, err)
		}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 6
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1000
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{eps: eps, opts: opts, in: make(chan Delivery, opts.QueueSize),
		closed: make(chan struct{}), done: make(chan struct{})}, nil
}

// Publish queues event typ about t for every subscribed endpoint. It never
// blocks; when the queue is full the event is dropped and logged.
func (d *Dispatcher) Publish(typ string, t tickets.Ticket) {
	d.publish(Payload{Type: typ, Ticket: t})
}

// SLABreach publishes ticket.sla_breached about t (tickets.BreachNotifier).
func (d *Dispatcher) SLABreach(_ context.Context, b tickets.Breach, t tickets.Ticket) {
	d.publish(Payload{Type: TicketSLABreached, Ticket: t, Breach: &b})
}

func (d *Dispatcher) publish(p Payload) {
	if d == nil || len(d.eps) == 0 {
		return
	}
	d.mu.Lock()
	d.seq++
	p.ID = fmt.Sprintf("evt_%d_%d", time.Now().UnixNano(), d.seq)
	d.mu.Unlock()
	p.At = time.Now().UTC()
	body, err := json.Marshal(p)
	if err != nil {
		d.opts.Log.Error("webhook: encode", "err", err)
		return
	}
	t := p.Ticket
	for _, e := range d.eps {
		if len(e.Events) > 0 && !slices.Contains(e.Events, p.Type) {
			continue
		}
		select {
		case d.in <- Delivery{URL: e.URL, Body: body, EventID: p.ID, Type: p.Type, TicketID: t.ID, secret: e.Secret, callID: t.CallID}:
		default:
			d.opts.Log.Warn("webhook: queue full, event dropped", "url", e.URL, "type", p.Type, "ticket", t.ID, "call_id", t.CallID)
		}
	}
}

// Replay queues a dead letter again, to the endpoint of its URL as now
// configured (signed with its current secret), with a fresh set of
// attempts. The body is unchanged, so receivers that saw it already can
// tell by its id. ErrUnknownEndpoint when no endpoint has that URL any
// more, ErrQueueFull when the queue is.
func (d *Dispatcher) Replay(dl store.DeadLetter) error {
	if d == nil {
		return ErrUnknownEndpoint
	}
	i := slices.IndexFunc(d.eps, func(e Endpoint) bool { return e.URL == dl.URL })
	if i < 0 {
		return ErrUnknownEndpoint
	}
	select {
	case d.in <- Delivery{URL: dl.URL, Body: []byte(dl.Body), EventID: dl.EventID, Type: dl.EventType, TicketID: dl.TicketID,
		secret: d.eps[i].Secret}:
		return nil
	default:
		return ErrQueueFull
	}
}

// Run delivers until ctx ends or Close is called. Deliveries still
// waiting for a retry then are dropped (and logged).
func (d *Dispatcher) Run(ctx context.Context) error {
	started := false
	d.start.Do(func() { started = true })
	if !started {
		return errors.New("webhook: Run called twice")
	}
	defer close(d.done)
	var retry []Delivery
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Wake for the earliest retry.
		if len(retry) > 0 {
			next := retry[0].next
			for _, r := range retry[1:] {
				if r.next.Before(next) {
					next = r.next
				}
			}
			timer.Reset(max(time.Until(next), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			d.dropping(retry)
			return nil
		case <-d.closed:
			d.dropping(retry)
			return nil
		case dl := <-d.in:
			if r, again := d.attempt(ctx, dl); again {
				retry = append(retry, r)
			}
		case <-timer.C:
			now := time.Now()
			var keep []Delivery
			for _, r := range retry {
				if r.next.After(now) {
					keep = append(keep, r)
					continue
				}
				if r2, again := d.attempt(ctx, r); again {
					keep = append(keep, r2)
				}
			}
			retry = keep
		}
	}
}

func (d *Dispatcher) dropping(retry []Delivery) {
	for _, r := range retry {
		d.opts.Log.Warn("webhook: stopped with a delivery pending", "url", r.URL, "attempts", r.Attempts, "ticket", r.TicketID, "call_id", r.callID)
	}
}

// attempt posts dl once; it returns the delivery to retry and true, or
// false when it succeeded or was dead-lettered.
func (d *Dispatcher) attempt(ctx context.Context, dl Delivery) (Delivery, bool) {
	dl.Attempts++
	err := d.post(ctx, dl)
	if err == nil {
		return dl, false
	}
	dl.LastErr = err.Error()
	if dl.Attempts >= d.opts.MaxAttempts {
		d.opts.Log.Error("webhook: dead letter", "url", dl.URL, "attempts", dl.Attempts, "ticket", dl.TicketID, "call_id", dl.callID, "err", err)
		d.mu.Lock()
		d.dead = append(d.dead, dl)
		d.mu.Unlock()
		d.keep(dl)
		if d.opts.DeadLetter != nil {
			d.opts.DeadLetter(dl)
		}
		return dl, false
	}
	wait := d.opts.Backoff << (dl.Attempts - 1)
	if wait > d.opts.MaxBackoff || wait <= 0 {
		wait = d.opts.MaxBackoff
	}
	dl.next = time.Now().Add(wait)
	d.opts.Log.Warn("webhook: delivery failed, will retry", "url", dl.URL, "attempt", dl.Attempts, "in", wait, "ticket", dl.TicketID,
		"call_id", dl.callID, "err", err)
	return dl, true
}

func (d *Dispatcher) post(ctx context.Context, dl Delivery) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(dl.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "contactd-webhook/1")
	req.Header.Set("X-Contactd-Signature", Signature(dl.secret, dl.Body))
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// keep stores a dead letter durably when a store is configured. It runs
// on the delivery goroutine, bounded by a timeout, and does not depend on
// Run's context: a letter given up on at shutdown is still kept.
func (d *Dispatcher) keep(dl Delivery) {
	if d.opts.Store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := d.opts.Store.AddDeadLetter(ctx, store.DeadLetter{EventID: dl.EventID, EventType: dl.Type, URL: dl.URL,
		TicketID: dl.TicketID, Body: string(dl.Body), Attempts: dl.Attempts, LastError: dl.LastErr, CreatedAt: time.Now()})
	if err != nil {
		d.opts.Log.Error("webhook: could not keep the dead letter; it is in memory only", "url", dl.URL, "ticket", dl.TicketID, "err", err)
		return
	}
	d.opts.Log.Info("webhook: dead letter kept for replay", "id", id, "url", dl.URL, "ticket", dl.TicketID)
}

// DeadLetters returns the deliveries given up on since the start (the
// durable list is the store's, when Options.Store is set).
func (d *Dispatcher) DeadLetters() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.dead)
}

// Close stops Run and waits for it to return; safe to call twice, and
// when Run was never started.
func (d *Dispatcher) Close() {
	d.once.Do(func() { close(d.closed) })
	started := true
	d.start.Do(func() { started = false; close(d.done) })
	if started {
		<-d.done
	}
}
