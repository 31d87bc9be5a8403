package sqlite

import (
	"context"
	"sync"

	"github.com/contactd/contactd/store"
)

// writeGate admits one writer at a time to SQLite's single write
// connection, foreground writers before background ones
// (store.Background), each class in arrival order. database/sql's own
// queue for the connection has no order at all, so under a burst of
// post-call writes a call's set-up could wait behind hundreds of them.
type writeGate struct {
	mu     sync.Mutex
	busy   bool
	fg, bg []chan struct{}
}

// acquire waits for the writer's turn, or ctx's end.
func (g *writeGate) acquire(ctx context.Context) error {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	bg := store.IsBackground(ctx)
	if bg {
		g.bg = append(g.bg, ch)
	} else {
		g.fg = append(g.fg, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-ch: // handed the turn just now: pass it on
			g.handOff()
		default:
			if bg {
				g.bg = remove(g.bg, ch)
			} else {
				g.fg = remove(g.fg, ch)
			}
		}
		return ctx.Err()
	}
}

// release ends a turn.
func (g *writeGate) release() {
	g.mu.Lock()
	g.handOff()
	g.mu.Unlock()
}

// handOff gives the turn to the next waiter, or frees the gate; g.mu is
// held.
func (g *writeGate) handOff() {
	q := &g.fg
	if len(*q) == 0 {
		q = &g.bg
	}
	if len(*q) == 0 {
		g.busy = false
		return
	}
	ch := (*q)[0]
	(*q)[0] = nil
	*q = (*q)[1:]
	close(ch)
}

func remove(q []chan struct{}, ch chan struct{}) []chan struct{} {
	for i, c := range q {
		if c == ch {
			return append(q[:i], q[i+1:]...)
		}
	}
	return q
}
