package tickets_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/tickets"
)

type heard struct {
	mu sync.Mutex
	bs []tickets.Breach
	ts []tickets.Ticket
}

func (h *heard) SLABreach(_ context.Context, b tickets.Breach, t tickets.Ticket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bs, h.ts = append(h.bs, b), append(h.ts, t)
}

// TestWatcherEscalatesOnce: two watchers (two nodes) check the same store
// at once; each breach is escalated and announced once, urgent stays
// urgent, and solved tickets are left alone.
func TestWatcherEscalatesOnce(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	mk := func(id, prio, status string) tickets.Ticket {
		return tickets.Ticket{ID: id, CallID: "c-" + id, Category: "billing", Priority: prio, Status: status, Entities: map[string]string{},
			Tags: []string{"billing"}, CreatedAt: base, UpdatedAt: base, FirstResponseDue: base.Add(time.Hour), ResolutionDue: base.Add(4 * time.Hour)}
	}
	for _, tk := range []tickets.Ticket{mk("low", tickets.PriorityLow, tickets.StatusNew), mk("urg", tickets.PriorityUrgent, tickets.StatusOpen),
		mk("done", tickets.PriorityNormal, tickets.StatusSolved)} {
		if err := st.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	h := &heard{}
	now := func() time.Time { return base.Add(2 * time.Hour) } // first responses due, resolutions not yet
	var wg sync.WaitGroup
	for range 2 {
		w := &tickets.Watcher{Store: st, Notify: []tickets.BreachNotifier{h}, Now: now, Log: slog.New(slog.DiscardHandler)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.Check(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var got []string
	for i, b := range h.bs {
		got = append(got, b.TicketID+"/"+b.Target+"/"+h.ts[i].Priority)
	}
	slices.Sort(got)
	if want := []string{"low/first_response/normal", "urg/first_response/urgent"}; !slices.Equal(got, want) {
		t.Errorf("announced %v, want %v", got, want)
	}
	for _, id := range []string{"low", "urg"} {
		tk, _ := st.Ticket(ctx, id)
		if n := len(slices.DeleteFunc(slices.Clone(tk.Tags), func(s string) bool { return s != tickets.TagSLABreached })); n != 1 {
			t.Errorf("%s tags %v", id, tk.Tags)
		}
	}
	// Later the resolution targets pass too: each is its own breach.
	w := &tickets.Watcher{Store: st, Notify: []tickets.BreachNotifier{h}, Now: func() time.Time { return base.Add(5 * time.Hour) },
		Log: slog.New(slog.DiscardHandler)}
	if n, err := w.Check(ctx); n != 2 || err != nil {
		t.Errorf("resolution pass flagged %d (%v), want 2", n, err)
	}
	if tk, _ := st.Ticket(ctx, "low"); tk.Priority != tickets.PriorityHigh {
		t.Errorf("low after two breaches: %s, want high", tk.Priority)
	}
}
