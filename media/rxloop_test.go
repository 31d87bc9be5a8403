package media

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReadersCarryManyLegs: forty relayed legs are read by the media
// readers (a goroutine per CPU), not a goroutine per socket; every bridge
// relays all its packets in order while half the bridges are torn down
// mid-stream (a leg closed while its partner still relays into it), and
// a closed leg's sockets are gone.
func TestReadersCarryManyLegs(t *testing.T) {
	const pairs = 10
	pickReader() // the readers start with the first leg; count them out
	before := runtime.NumGoroutine()
	type pairT struct {
		callerPeer, agentPeer *rtpPeer
		a, b                  *RTPLeg
	}
	ps := make([]pairT, pairs)
	for i := range ps {
		p := &ps[i]
		p.callerPeer = newRTPPeer(t, uint32(0x1000+i), 1, 1)
		p.agentPeer = newRTPPeer(t, uint32(0x2000+i), 1, 1)
		p.a = startLegTo(t, p.callerPeer, PCMU, 101, 0)
		p.b = startLegTo(t, p.agentPeer, PCMU, 101, 0)
		bridge(t, p.a, p.b)
	}
	// Each started leg runs its 20 ms clock; its sockets take none.
	// (The peers' own readers are 2 per pair.)
	if n := runtime.NumGoroutine() - before; n > pairs*(2+2)+2 {
		t.Fatalf("%d goroutines for %d relayed legs: want one each (the clock), not one per socket", n-2*pairs, 2*pairs)
	}

	const packets = 25
	var wg sync.WaitGroup
	for i := range ps {
		p := &ps[i]
		wg.Add(2)
		go func() { defer wg.Done(); p.callerPeer.sendAudio(t, p.a, packets, 0x20) }()
		go func() {
			defer wg.Done()
			if i%2 == 1 {
				// Tear this bridge's agent leg down mid-stream while the
				// caller's side still relays into it.
				p.agentPeer.sendAudio(t, p.b, packets/2, 0x40)
				p.b.Close()
				return
			}
			p.agentPeer.sendAudio(t, p.b, packets, 0x40)
		}()
	}
	wg.Wait()
	for i := range ps {
		p := &ps[i]
		if i%2 == 1 {
			if _, err := p.b.conn.WriteToUDP([]byte{0}, p.agentPeer.addr()); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("write on a closed leg's socket: %v, want net.ErrClosed", err)
			}
			continue
		}
		up := p.agentPeer.waitFor(t, packets)
		down := p.callerPeer.waitFor(t, packets)
		for j := range packets {
			if !bytes.Equal(up[j].pkt.Payload, bytes.Repeat([]byte{0x20 + byte(j)}, 160)) ||
				!bytes.Equal(down[j].pkt.Payload, bytes.Repeat([]byte{0x40 + byte(j)}, 160)) {
				t.Fatalf("bridge %d: packet %d out of order or changed", i, j)
			}
		}
		checkOneStream(t, up)
		checkOneStream(t, down)
	}
}

// TestUDPSockFamilies: a socket bound to every address takes IPv4 and
// IPv6 peers (IPv4 as mapped addresses); one bound to an IPv4 address
// refuses an IPv6 destination with an error, not a crash; a closed
// socket reads and writes net.ErrClosed, and closes once.
func TestUDPSockFamilies(t *testing.T) {
	any, err := listenUDP(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer any.Close()
	v4, err := listenUDP(net.IPv4(127, 0, 0, 1), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer v4.Close()
	// Three datagrams queued: recvmmsg takes them, in order.
	for _, m := range []string{"hello", "there", "!"} {
		if _, err := any.WriteToUDP([]byte(m), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: v4.LocalAddr().Port}); err != nil {
			t.Fatalf("dual-stack socket to an IPv4 peer: %v", err)
		}
	}
	batch := newRxBatch()
	var got []string
	for deadline := time.Now().Add(2 * time.Second); len(got) < 3; time.Sleep(5 * time.Millisecond) {
		n, err := v4.readBatch(batch)
		for i := range n {
			got = append(got, string(batch.datagram(i)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %q: %v", got, err)
		}
	}
	if fmt.Sprint(got) != "[hello there !]" {
		t.Fatalf("read %q", got)
	}
	// A datagram longer than a buffer is flagged, not taken for a short one.
	if _, err := any.WriteToUDP(make([]byte, rxBufSize+100), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: v4.LocalAddr().Port}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if n, _ := v4.readBatch(batch); n == 1 {
			if !batch.truncated(0) {
				t.Fatal("an oversized datagram is not flagged truncated")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the oversized datagram never arrived")
		}
	}
	if _, err := v4.readBatch(batch); err != unix.EAGAIN {
		t.Fatalf("read with nothing waiting: %v, want EAGAIN", err)
	}
	if _, err := v4.WriteToUDP([]byte("x"), &net.UDPAddr{IP: net.IPv6loopback, Port: 9}); err == nil {
		t.Fatal("an IPv4 socket sent to an IPv6 address")
	}
	if _, err := v4.WriteToUDP([]byte("x"), nil); err == nil {
		t.Fatal("sent to no address")
	}
	if _, err := any.WriteToUDP([]byte("x"), &net.UDPAddr{IP: net.IPv6loopback, Port: v4.LocalAddr().Port}); err != nil {
		t.Fatalf("dual-stack socket to an IPv6 address: %v", err)
	}
	if err := v4.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v4.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	if _, err := v4.readBatch(batch); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := v4.WriteToUDP([]byte("x"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: any.LocalAddr().Port}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := listenUDP(net.IPv4(127, 0, 0, 1), any.LocalAddr().Port); err == nil || !errBindInUse(err) {
		t.Fatalf("binding a taken port: %v, want in use", err)
	}
}
