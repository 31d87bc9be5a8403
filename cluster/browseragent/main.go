// Command browseragent is one agent in a real headless Chromium (fake
// microphone), on the agent page of one node: it logs in, goes available,
// and for each offer clicks Answer, waits for the WebRTC connection and the
// caller's audio, talks for a while and clicks Hang up. The node it is on
// passes the answer to the node that owns the call, so with calls spread
// over a cluster most calls it takes are another node's. It is part of
// deploy/cluster-test.sh; every wait is bounded and the run by -duration.
//
// At the end it prints one JSON object with each call it answered: the
// call id, when, whether the peer connection reached "connected", and the
// audio packets and energy the page received; and how often the page's
// events socket reconnected. Behind a load balancer (-node is its URL) the
// page's socket moves to another node when its node dies. A call the page
// cannot end (its node died under it) is left by reloading the page.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/contactd/contactd/web/webtest"
)

type callResult struct {
	CallID     string  `json:"call_id"`
	AnsweredAt int64   `json:"answered_at"` // Unix seconds
	Connected  bool    `json:"connected"`
	Packets    int     `json:"inbound_packets"`
	Energy     float64 `json:"inbound_energy"`
	Error      string  `json:"error,omitempty"`
}

type report struct {
	Node  string       `json:"node"`
	User  string       `json:"user"`
	Calls []callResult `json:"calls"`
	// Reconnects counts the page's events socket coming back after it
	// closed (resumed or resynced), over every page load; Reloads the
	// page loads after a call could not be ended.
	Reconnects int    `json:"reconnects"`
	Reloads    int    `json:"reloads"`
	Error      string `json:"error,omitempty"`
}

func main() {
	node := flag.String("node", "", "node URL, e.g. http://127.0.0.13:28080")
	user := flag.String("user", "", "agent username")
	pass := flag.String("password", "", "agent password")
	talk := flag.Duration("talk", 3*time.Second, "talk time per call")
	dur := flag.Duration("duration", 2*time.Minute, "run this long")
	flag.Parse()
	if *node == "" || *user == "" {
		log.Fatal("browseragent: -node and -user are required")
	}
	sctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(sctx, *dur)
	defer cancel()
	rep := report{Node: *node, User: *user}
	err := run(ctx, *node, *user, *pass, *talk, &rep)
	if err != nil && ctx.Err() == nil {
		rep.Error = err.Error()
	}
	b, _ := json.Marshal(rep)
	fmt.Println(string(b))
}

func run(ctx context.Context, node, user, pass string, talk time.Duration, rep *report) error {
	b, err := webtest.Start(ctx, webtest.Options{Headless: true, ActionTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer b.Close()
	login := func() error {
		if err := b.Navigate(node + "/agent"); err != nil {
			return err
		}
		for _, step := range []func() error{
			func() error { return b.SetValue("#username", user) },
			func() error { return b.SetValue("#password", pass) },
			func() error { return b.Click("#login") },
			func() error {
				return b.WaitJS(ctx, "window.contactd.loggedIn && window.contactd.wsConnected", 20*time.Second)
			},
			func() error { return b.Click("#go-available") },
			func() error { return b.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second) },
		} {
			if err := step(); err != nil {
				return fmt.Errorf("log in: %w", err)
			}
		}
		return nil
	}
	// The page counts its socket's reconnects; sampled while it is up
	// (the browser goes with ctx), added up over page loads.
	base := 0
	sample := func() {
		var n int
		if err := b.Eval("window.contactd.resumes + window.contactd.resyncs", &n); err == nil {
			rep.Reconnects = base + n
		}
	}
	if err := login(); err != nil {
		return err
	}
	log.Printf("browseragent: %s available on %s", user, node)
	for ctx.Err() == nil {
		sample()
		if err := b.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", time.Second); err != nil {
			if ctx.Err() != nil || time.Until(deadline(ctx)) <= 0 {
				return nil // no more offers before the end
			}
			continue
		}
		var id string
		if err := b.Eval("window.contactd.offer.call_id", &id); err != nil {
			return err
		}
		res := callResult{CallID: id, AnsweredAt: time.Now().Unix()}
		if err := b.Click("#answer"); err != nil {
			res.Error = err.Error()
			rep.Calls = append(rep.Calls, res)
			continue
		}
		if err := b.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second); err != nil {
			res.Error = "not connected: " + err.Error()
		} else {
			res.Connected = true
		}
		// The caller's audio arrives from the call's node.
		var st struct {
			InboundAudioEnergy float64 `json:"inboundAudioEnergy"`
			InboundPackets     int     `json:"inboundPackets"`
		}
		end := time.Now().Add(talk)
		for time.Now().Before(end) && ctx.Err() == nil {
			time.Sleep(250 * time.Millisecond)
			_ = b.Eval("window.contactd.stats()", &st)
		}
		res.Packets, res.Energy = st.InboundPackets, st.InboundAudioEnergy
		if err := b.Click("#hangup"); err != nil && res.Error == "" {
			res.Error = "hang up: " + err.Error()
		}
		rep.Calls = append(rep.Calls, res)
		log.Printf("browseragent: call %s connected=%v packets=%d", id, res.Connected, res.Packets)
		if err := b.WaitJS(ctx, "!window.contactd.inCall", 15*time.Second); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The call's node died under it: load the page again.
			log.Printf("browseragent: call %s did not end on the page (%v); reloading", id, err)
			sample()
			base = rep.Reconnects
			rep.Reloads++
			if err := login(); err != nil {
				return err
			}
			continue
		}
		_ = b.Click("#wu-skip") // wrap-up form: nothing to add
		if err := b.WaitJS(ctx, "window.contactd.state === 'available' && !window.contactd.offer", 20*time.Second); err != nil {
			if err := b.Click("#go-available"); err != nil {
				return err
			}
		}
	}
	return nil
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}
