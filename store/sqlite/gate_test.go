package sqlite

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/store"
)

// Foreground writers waiting for the writer go before background ones,
// each class in arrival order; a waiter whose context ends leaves the
// queue without taking or losing a turn.
func TestWriteGateOrder(t *testing.T) {
	var g writeGate
	ctx := context.Background()
	if err := g.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	queued := 0
	start := func(name string, c context.Context) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.acquire(c); err != nil {
				mu.Lock()
				order = append(order, name+":"+err.Error())
				mu.Unlock()
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			g.release()
		}()
		// Queued before the next one starts.
		deadline := time.Now().Add(5 * time.Second)
		for {
			g.mu.Lock()
			n := len(g.fg) + len(g.bg)
			g.mu.Unlock()
			if n > 0 && n == queued+1 || time.Now().After(deadline) {
				queued = n
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	bg := store.Background(ctx)
	cancelled, cancel := context.WithCancel(ctx)
	start("bg1", bg)
	start("fg1", ctx)
	start("bg2", bg)
	start("gone", cancelled)
	start("fg2", ctx)
	cancel()
	for deadline := time.Now().Add(5 * time.Second); ; {
		mu.Lock()
		n := len(order)
		mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	g.release()
	wg.Wait()
	want := []string{"gone:context canceled", "fg1", "fg2", "bg1", "bg2"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if g.busy {
		t.Fatal("the gate is still taken after every writer left")
	}
}
