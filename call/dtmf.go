package call

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/contactd/contactd/media"
)

// DTMF from the agent's keypad to the caller's side (which may be another
// company's IVR): RFC 4733 telephone-events when the caller's leg
// negotiated them, else in-band tones (ITU-T Q.23) that take the place of
// the agent's audio while they play. One sender goroutine per bridge
// sends the keys in order.

const (
	dtmfTone   = 120 * time.Millisecond // each key's tone
	dtmfPause  = 80 * time.Millisecond  // between keys
	maxDTMFKey = 32                     // keys per request
)

// dtmfSender sends the agent's keys.
type dtmfSender struct {
	keys chan rune
	stop chan struct{}
	done chan struct{}
	fed  bool // owner-only: the mixer holds the agent back for tones
}

// SendDTMF sends digits (0-9, *, #, A-D) to the caller's side of callID
// for the call's agent. It returns once the keys are queued.
func (m *Manager) SendDTMF(ctx context.Context, callID, agent, digits string) error {
	digits = strings.ToUpper(strings.TrimSpace(digits))
	if digits == "" || len(digits) > maxDTMFKey {
		return fmt.Errorf("%w: digits: want 1 to %d keys", ErrBadArg, maxDTMFKey)
	}
	for _, r := range digits {
		if !strings.ContainsRune("0123456789*#ABCD", r) {
			return fmt.Errorf("%w: digits: %q is not a keypad key (0-9, *, #, A-D)", ErrBadArg, r)
		}
	}
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		if err := c.mine(agent); err != nil {
			return err
		}
		if c.hold != nil {
			return fmt.Errorf("%w: resume the call to send keys", ErrOnHold)
		}
		return c.queueDTMF(digits)
	})
}

// queueDTMF hands digits to the bridge's sender, starting it if needed.
func (c *Call) queueDTMF(digits string) error {
	d := c.dtmf
	if d == nil {
		d = &dtmfSender{keys: make(chan rune, 2*maxDTMFKey), stop: make(chan struct{}), done: make(chan struct{})}
		c.dtmf = d
		go func() { defer close(d.done); c.sendKeys(d) }()
	}
	if len(digits) > cap(d.keys)-len(d.keys) {
		return fmt.Errorf("%w: keys are still being sent", ErrBusy)
	}
	for _, r := range digits {
		d.keys <- r
	}
	c.log.Info("sending keys to the caller's side", "agent", c.agent, "keys", len(digits))
	return nil
}

// stopDTMF ends the bridge's sender and gives the agent back their voice.
func (c *Call) stopDTMF() {
	d := c.dtmf
	if d == nil {
		return
	}
	c.dtmf = nil
	close(d.stop)
	<-d.done
	if d.fed {
		c.mix.do(func(_ context.Context, x *mixExt) { x.fed = false })
	}
}

// sendKeys runs on its own goroutine until d.stop.
func (c *Call) sendKeys(d *dtmfSender) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-d.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	leg := c.in.Leg
	rfc, _ := leg.(interface {
		SendDTMF(rune, time.Duration) error
	})
	inband := rfc == nil
	for {
		var k rune
		select {
		case k = <-d.keys:
		case <-d.stop:
			return
		}
		if !inband {
			err := rfc.SendDTMF(k, dtmfTone)
			if err == nil {
				select {
				case <-time.After(dtmfPause):
				case <-d.stop:
					return
				}
				continue
			}
			if !errors.Is(err, media.ErrNoDTMF) {
				c.log.Warn("sending a key failed", "err", err)
				continue
			}
			inband = true // no telephone-event on this leg: tones from now on
		}
		if !c.setFed(d, true) {
			return
		}
		for {
			feed(ctx, leg, dtmfTones(k), false)
			more := false
			select {
			case k = <-d.keys:
				more = true
			default:
			}
			if !more || ctx.Err() != nil {
				break
			}
		}
		if !c.setFed(d, false) {
			return
		}
	}
}

// setFed asks the owner to hold the agent's audio back from the caller
// (tones playing) or to let it through, and waits until it has.
func (c *Call) setFed(d *dtmfSender, on bool) bool {
	applied := make(chan struct{})
	c.post(d.stop, func(context.Context) error {
		if c.dtmf == d {
			d.fed = on
			c.mix.do(func(_ context.Context, x *mixExt) { x.fed = on })
		}
		close(applied)
		return nil
	})
	select {
	case <-applied:
		return true
	case <-d.stop:
		return false
	}
}

var (
	dtmfRowHz = [4]float64{697, 770, 852, 941}
	dtmfColHz = [4]float64{1209, 1336, 1477, 1633}
	dtmfPad   = [4]string{"123A", "456B", "789C", "*0#D"}
)

// dtmfTones is key k as a Q.23 tone pair (each tone at -9 dBFS) followed by
// the pause, at media.SampleRate; nil for a key not on the pad.
func dtmfTones(k rune) []int16 {
	for r, row := range dtmfPad {
		col := strings.IndexRune(row, k)
		if col < 0 {
			continue
		}
		n := int(dtmfTone.Seconds() * media.SampleRate)
		out := make([]int16, n+int(dtmfPause.Seconds()*media.SampleRate))
		lo, hi := dtmfRowHz[r], dtmfColHz[col]
		for i := range n {
			t := float64(i) / media.SampleRate
			out[i] = int16(0.35 * 32767 * (math.Sin(2*math.Pi*lo*t) + math.Sin(2*math.Pi*hi*t)))
		}
		return out
	}
	return nil
}
