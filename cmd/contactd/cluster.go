package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/cluster"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/web"
)

// Several nodes on one Postgres (package cluster, deploy/cluster.md):
// CONTACTD_CLUSTER=1 turns it on; CONTACTD_NODE_ID (default host:http-port)
// and CONTACTD_NODE_URL (default http://<http addr>) name the node;
// CONTACTD_CLUSTER_HEARTBEAT, _DEAD_AFTER and _LEASE set its timing. Off,
// nothing here runs and a node works alone exactly as before.

// acdPort is the ACD as serve wires it: the router alone, or the cluster's.
type acdPort interface {
	call.ACD
	web.ACD
	SetAgent(username string, skills map[string]int, maxCalls int)
}

// clusterNode is this process's membership; nil when alone.
type clusterNode struct {
	node   *cluster.Node
	acd    *cluster.ACD
	phones *cluster.PhoneBook
	stop   context.CancelFunc
	done   chan struct{}
}

type clusterSettings struct {
	on       bool
	id, url  string
	tick     time.Duration
	deadTime time.Duration
	lease    time.Duration
}

func readClusterSettings(cfg *config.Config, getenv func(string) string) (clusterSettings, error) {
	var s clusterSettings
	switch strings.ToLower(strings.TrimSpace(getenv("CONTACTD_CLUSTER"))) {
	case "", "0", "false", "off", "no":
		return s, nil
	case "1", "true", "on", "yes":
		s.on = true
	default:
		return s, fmt.Errorf("CONTACTD_CLUSTER=%q: want 1 or 0", getenv("CONTACTD_CLUSTER"))
	}
	if cfg.Database == "" {
		return s, errors.New("CONTACTD_CLUSTER=1 needs a shared Postgres: set CONTACTD_DATABASE_URL")
	}
	s.id = getenv("CONTACTD_NODE_ID")
	if s.id == "" {
		s.id = cluster.DefaultNodeID(cfg.HTTP.Addr)
	}
	s.url = getenv("CONTACTD_NODE_URL")
	if s.url == "" {
		host, port, err := net.SplitHostPort(cfg.HTTP.Addr)
		if err != nil || host == "" || net.ParseIP(host).IsUnspecified() {
			return s, fmt.Errorf("set CONTACTD_NODE_URL: the HTTP address %q does not say how other nodes reach this one", cfg.HTTP.Addr)
		}
		scheme := "http://"
		if cfg.HTTP.TLSCert != "" {
			scheme = "https://"
		}
		s.url = scheme + net.JoinHostPort(host, port)
	}
	for name, dst := range map[string]*time.Duration{"CONTACTD_CLUSTER_HEARTBEAT": &s.tick, "CONTACTD_CLUSTER_DEAD_AFTER": &s.deadTime,
		"CONTACTD_CLUSTER_LEASE": &s.lease} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return s, fmt.Errorf("%s=%q: want a duration such as 1s", name, v)
			}
			*dst = d
		}
	}
	return s, nil
}

// joinCluster registers the node and builds the shared ACD; engine builds
// a router configured like this node's.
func joinCluster(ctx context.Context, cfg *config.Config, s clusterSettings, log *slog.Logger,
	engine func(routing.Notifier, func(routing.StateChange)) *routing.Router, stateLog func(routing.StateChange)) (*clusterNode, error) {
	n, err := cluster.Join(ctx, cfg.Database, cluster.Config{NodeID: s.id, URL: s.url, SIP: cfg.SIP.Addr,
		Heartbeat: s.tick, DeadAfter: s.deadTime, Lease: s.lease, Log: log})
	if err != nil {
		return nil, err
	}
	a, err := cluster.NewACD(n, cluster.ACDOptions{Engine: engine, OnStateChange: stateLog,
		OfferTimeout: cfg.Routing.OfferTimeout.D(), Tick: s.tick})
	if err != nil {
		n.Leave()
		return nil, err
	}
	return &clusterNode{node: n, acd: a}, nil
}

// start runs the ACD's listener (and, when elected, the dispatcher) and the
// phone book's publisher.
func (c *clusterNode) start(srv *sip.Server, acd acdPort, log *slog.Logger) {
	ctx, stop := context.WithCancel(context.Background())
	c.stop, c.done = stop, make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.acd.Run(ctx) }()
	go func() { defer wg.Done(); publishPhones(ctx, c.phones, srv, acd, log) }()
	go func() { wg.Wait(); close(c.done) }()
}

// deskPhones rings phones registered on any node.
func (c *clusterNode) deskPhones(local deskPhones, log *slog.Logger) clusterPhones {
	if c.phones == nil {
		c.phones = c.node.Phones()
	}
	return clusterPhones{local: local, book: c.phones, log: log}
}

// leave stops the ACD and marks the node left.
func (c *clusterNode) leave() {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	c.node.Leave()
}

// fence says why this node must not take new calls or agents now (its
// cluster lease ran out); "" alone or while it holds its lease.
func (c *clusterNode) fence() string {
	if c == nil {
		return ""
	}
	return c.node.Fence()
}

// handler passes requests about other nodes' calls to them.
func (c *clusterNode) handler(h http.Handler) http.Handler {
	if c == nil {
		return h
	}
	return c.node.Proxy(h)
}

// clusterPhones rings an agent's desk phone wherever it registered: on this
// node through the local registrar, on another through its published
// contact (the INVITE goes to the SIP front, which relays it to the phone).
type clusterPhones struct {
	local deskPhones
	book  *cluster.PhoneBook
	log   *slog.Logger
}

func (c clusterPhones) remote(agent string) (cluster.Phone, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p, ok, err := c.book.Remote(ctx, agent)
	if err != nil {
		c.log.Warn("cluster: look up a desk phone", "agent", agent, "err", err)
	}
	return p, ok
}

func (c clusterPhones) Registered(agent string) bool {
	if c.local.Registered(agent) {
		return true
	}
	_, ok := c.remote(agent)
	return ok
}

func (c clusterPhones) Ring(ctx context.Context, agent, caller string) (media.Leg, error) {
	if c.local.Registered(agent) {
		return c.local.Ring(ctx, agent, caller)
	}
	p, ok := c.remote(agent)
	if !ok {
		return nil, fmt.Errorf("agent %s has no registered phone", agent)
	}
	b := sip.Binding{User: agent, Contact: p.Contact, Transport: p.Transport}
	if p.Source != "" {
		if p.Transport == "tcp" || p.Transport == "tls" {
			b.Source, _ = net.ResolveTCPAddr("tcp", p.Source)
		} else {
			b.Source, _ = net.ResolveUDPAddr("udp", p.Source)
		}
	}
	oc, err := c.local.srv.Dial(ctx, b, sip.DialConfig{From: caller})
	if err != nil {
		return nil, err
	}
	return &phoneLeg{RTPLeg: oc.Leg(), oc: oc}, nil
}

// publishPhones keeps this node's registered desk phones in the cluster's
// phone book until ctx ends: every 2 s, the agents re-read every 30 s.
func publishPhones(ctx context.Context, book *cluster.PhoneBook, srv *sip.Server, acd acdPort, log *slog.Logger) {
	var users []string
	var listed time.Time
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if time.Since(listed) > 30*time.Second {
			users = users[:0]
			for _, a := range acd.Agents() {
				users = append(users, a.Username)
			}
			listed = time.Now()
		}
		var phones []cluster.Phone
		for _, u := range users {
			if bs := srv.Contacts(u); len(bs) > 0 {
				p := cluster.Phone{User: u, Contact: bs[0].Contact, Transport: bs[0].Transport, Expires: bs[0].Expires}
				if bs[0].Source != nil {
					p.Source = bs[0].Source.String()
				}
				phones = append(phones, p)
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := book.Sync(sctx, phones); err != nil && ctx.Err() == nil {
			log.Warn("cluster: publish desk phones", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// queueConfig is one configured queue as the router takes it.
func queueConfig(q config.Queue) routing.QueueConfig {
	rq := routing.QueueConfig{Name: q.Name, Skill: q.Skill, Strategy: routing.Strategy(q.Strategy),
		SLATarget: q.SLATarget.D(), Sticky: time.Duration(q.StickySeconds) * time.Second}
	for _, s := range q.Steps {
		rq.Steps = append(rq.Steps, routing.Step{After: s.After.D(), MinProficiency: s.MinProficiency, Overflow: s.Overflow})
	}
	if q.WrapUp != nil {
		rq.WrapUp = routing.NoWrapUp
		if q.WrapUp.D() > 0 {
			rq.WrapUp = q.WrapUp.D()
		}
	}
	return rq
}
