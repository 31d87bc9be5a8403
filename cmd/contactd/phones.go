package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/store"
)

// sipRealm is the digest realm agents' phones use, or "" without a registrar.
func sipRealm(cfg *config.Config) string {
	if !cfg.SIP.Registrar {
		return ""
	}
	return cfg.SIP.Realm
}

// sipCredentials gives the registrar the digest secrets kept with users.
type sipCredentials struct{ st store.Store }

func (c sipCredentials) HA1(ctx context.Context, username, _ /*realm: the configured one*/, algorithm string) (string, bool, error) {
	u, err := c.st.UserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if u.Role != store.RoleAgent {
		return "", false, nil // only agents take calls on phones
	}
	switch algorithm {
	case "MD5":
		return u.SIPHA1MD5, u.SIPHA1MD5 != "", nil
	case "SHA-256":
		return u.SIPHA1SHA256, u.SIPHA1SHA256 != "", nil
	}
	return "", false, nil
}

// deskPhones rings agents' registered phones through the SIP server.
type deskPhones struct{ srv *sip.Server }

func (d deskPhones) Registered(agent string) bool { return len(d.srv.Contacts(agent)) > 0 }

func (d deskPhones) Ring(ctx context.Context, agent, caller string) (media.Leg, error) {
	bs := d.srv.Contacts(agent)
	if len(bs) == 0 {
		return nil, fmt.Errorf("agent %s has no registered phone", agent)
	}
	oc, err := d.srv.Dial(ctx, bs[0], sip.DialConfig{From: caller})
	if err != nil {
		return nil, err
	}
	return &phoneLeg{RTPLeg: oc.Leg(), oc: oc}, nil
}

// phoneLeg is an answered desk phone as the call's agent leg: closing it
// hangs the phone up, and Done reports the phone hanging up.
type phoneLeg struct {
	*media.RTPLeg
	oc *sip.OutboundCall
}

func (p *phoneLeg) Done() <-chan struct{} { return p.oc.Done() }

// Events are the phone's in-dialog requests: a transfer key's REFER.
func (p *phoneLeg) Events() <-chan sip.CallEvent { return p.oc.Events() }

func (p *phoneLeg) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.oc.Hangup(ctx)
}

// trunkDialer places agents' outside calls through the first trunk whose
// outbound policy lets the agent call the number.
type trunkDialer struct {
	srv    *sip.Server
	trunks []config.Trunk
}

// orNil is the dialer, or nil when no trunk can call out.
func (d *trunkDialer) orNil() call.Dialer {
	for _, t := range d.trunks {
		if t.Outbound.URI != "" {
			return d
		}
	}
	return nil
}

// trunkFor is the first trunk that lets requester call number.
func (d *trunkDialer) trunkFor(requester, number string) (string, error) {
	var errs []error
	for _, t := range d.trunks {
		if t.Outbound.URI == "" {
			continue
		}
		err := d.srv.MayCallOut(t.Name, requester, number)
		if err == nil {
			return t.Name, nil
		}
		errs = append(errs, err)
	}
	return "", refusal(errs)
}

// refusal is why no trunk lets a requester call a number: it is
// call.ErrNotPermitted and each trunk's reason (sip.ErrNotPermitted),
// and reads "number not permitted: REASON; REASON".
type refusal []error

func (r refusal) Error() string {
	reasons := make([]string, len(r))
	for i, err := range r {
		reasons[i] = strings.TrimPrefix(err.Error(), sip.ErrNotPermitted.Error()+": ")
	}
	return call.ErrNotPermitted.Error() + ": " + strings.Join(reasons, "; ")
}

func (r refusal) Is(target error) bool { return target == call.ErrNotPermitted }
func (r refusal) Unwrap() []error      { return r }

func (d *trunkDialer) Check(requester, number string) error {
	_, err := d.trunkFor(requester, number)
	return err
}

func (d *trunkDialer) CallOut(ctx context.Context, requester, number string) (media.Leg, error) {
	trunk, err := d.trunkFor(requester, number)
	if err != nil {
		return nil, err
	}
	oc, err := d.srv.CallOut(ctx, trunk, number, sip.DialConfig{Requester: requester})
	if err != nil {
		return nil, err
	}
	return &phoneLeg{RTPLeg: oc.Leg(), oc: oc}, nil
}

// notifiers fans the router's news out to several listeners.
type notifiers []routing.Notifier

func (ns notifiers) AgentState(u string, s routing.State) {
	for _, n := range ns {
		n.AgentState(u, s)
	}
}

func (ns notifiers) Offer(o routing.Offer) {
	for _, n := range ns {
		n.Offer(o)
	}
}

func (ns notifiers) OfferRevoked(u, callID string) {
	for _, n := range ns {
		n.OfferRevoked(u, callID)
	}
}
