package call

import (
	"context"
	"errors"
	"sync"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
)

// Phones reaches agents' registered SIP phones. The application implements
// it over the SIP server's registrar.
type Phones interface {
	// Registered reports whether the agent has a phone that can ring now.
	Registered(agent string) bool
	// Ring calls the agent's phone and returns its leg once answered. The
	// leg's Close hangs the phone up; it reports the phone hanging up
	// through a Done() <-chan struct{} method. Ring gives up when ctx ends.
	Ring(ctx context.Context, agent, callerNumber string) (media.Leg, error)
}

// phoneOffers rings agents' desk phones for the router's offers. It is a
// routing.Notifier; the web hub tells browsers about the same offers.
type phoneOffers struct {
	m      *Manager
	phones Phones

	mu      sync.Mutex
	ringing map[string]context.CancelFunc // call ID → stop ringing
	wg      sync.WaitGroup
}

var _ routing.Notifier = (*phoneOffers)(nil)

// PhoneNotifier returns the routing.Notifier that rings desk phones for
// offers to agents who have one registered. Close the manager's phone
// offers with StopPhones.
func (m *Manager) PhoneNotifier(p Phones) routing.Notifier {
	m.phones = &phoneOffers{m: m, phones: p, ringing: map[string]context.CancelFunc{}}
	return m.phones
}

// StopPhones stops ringing and waits for the ringing goroutines.
func (m *Manager) StopPhones() {
	if m.phones == nil {
		return
	}
	m.phones.mu.Lock()
	for _, cancel := range m.phones.ringing {
		cancel()
	}
	m.phones.mu.Unlock()
	m.phones.wg.Wait()
}

func (p *phoneOffers) AgentState(string, routing.State) {}

// Offer rings the agent's phone; answering it is accepting the offer, and
// a phone that rejects or doesn't answer passes the call on.
func (p *phoneOffers) Offer(o routing.Offer) {
	if !p.phones.Registered(o.Agent) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	p.mu.Lock()
	p.ringing[o.CallID] = cancel
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() {
			p.mu.Lock()
			delete(p.ringing, o.CallID)
			p.mu.Unlock()
			cancel()
		}()
		leg, err := p.phones.Ring(ctx, o.Agent, o.From)
		if err != nil {
			if !errors.Is(ctx.Err(), context.Canceled) { // not revoked: the phone said no
				p.m.opts.Log.Info("desk phone did not answer", "call_id", o.CallID, "agent", o.Agent, "err", err)
				_ = p.m.opts.Router.Reject(o.Agent, o.CallID)
			}
			return
		}
		if err := p.m.join(o.CallID, o.Agent, leg); err != nil {
			p.m.opts.Log.Info("desk phone answered too late", "call_id", o.CallID, "agent", o.Agent, "err", err)
			leg.Close()
		}
	}()
}

// OfferRevoked stops ringing the phone.
func (p *phoneOffers) OfferRevoked(_ string, callID string) {
	p.mu.Lock()
	cancel := p.ringing[callID]
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
