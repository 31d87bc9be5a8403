package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDemoQueueRouting(t *testing.T) {
	c, err := Parse("demo", Demo())
	if err != nil {
		t.Fatal(err)
	}
	q, _ := c.Queue("orders")
	if q.Strategy != "longest_idle" || len(q.Steps) != 3 || q.Steps[0].MinProficiency != 5 ||
		q.Steps[1].After.D() != 30*time.Second || q.Steps[2].Overflow != "general" || q.SLATarget.D() != 20*time.Second {
		t.Fatalf("orders = %+v", q)
	}
	if q.WrapUp != nil {
		t.Fatalf("orders wrap_up = %v, want the routing default", *q.WrapUp)
	}
	if r, _ := c.Queue("returns"); r.WrapUp == nil || r.WrapUp.D() != 10*time.Second {
		t.Fatalf("returns = %+v", r)
	}
	if c.Routing.StickyDays != 30 {
		t.Fatalf("sticky_days = %d", c.Routing.StickyDays)
	}
}

func TestBadQueueRoutingNamesField(t *testing.T) {
	orders := "  - name: orders\n    skill: orders\n"
	tests := []struct {
		name, add, want string
	}{
		{"strategy", "    strategy: fastest\n", `queues[0].strategy: want longest_idle, least_occupied, most_skilled or round_robin, got "fastest"`},
		{"proficiency", "    steps: [{after: 0s, min_proficiency: 12}]\n", "queues[0].steps[0].min_proficiency: must be 1-10"},
		{"order", "    steps: [{after: 30s, min_proficiency: 3}, {after: 10s, min_proficiency: 1}]\n", "queues[0].steps[1].after: must not be negative or earlier"},
		{"overflow", "    steps: [{after: 90s, overflow: nowhere}]\n", `queues[0].steps[0].overflow: names queue "nowhere"`},
		{"self overflow", "    steps: [{after: 90s, overflow: orders}]\n", `queues[0].steps[0].overflow: names queue "orders"`},
		{"empty step", "    steps: [{after: 90s}]\n", "queues[0].steps[0]: sets neither"},
		{"sticky", "    sticky_seconds: -1\n", "queues[0].sticky_seconds: must be 0-3600"},
		{"wrap", "    wrap_up: -5s\n", "queues[0].wrap_up: must not be negative"},
		{"announce", "    announce_every: 5s\n", "queues[0].announce_every: want 0 (never) or at least 10s, got 5s"},
		{"max wait", "    max_wait: -1m\n", "queues[0].max_wait: must not be negative"},
		{"on max wait", "    on_max_wait: music\n", `queues[0].on_max_wait: want voicemail or hangup, got "music"`},
		{"sla", "    sla_target: -5s\n", "queues[0].sla_target: must not be negative"},
	}
	base := string(Demo())
	i := strings.Index(base, orders)
	if i < 0 {
		t.Fatal("demo has no block-style orders queue; the test is stale")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := base[:i+len(orders)] + tc.add + base[i+len(orders):]
			// the demo's own orders lines would conflict: drop them
			for _, k := range []string{"strategy", "steps", "sla_target", "sticky_seconds", "wrap_up"} {
				if strings.HasPrefix(tc.add, "    "+k+":") {
					rest := y[i+len(orders)+len(tc.add):]
					if j := strings.Index(rest, "    "+k+":"); j >= 0 && j < strings.Index(rest, "  - name:") {
						end := j + strings.Index(rest[j:], "\n") + 1
						y = y[:i+len(orders)+len(tc.add)] + rest[:j] + rest[end:]
					}
				}
			}
			_, err := Parse("test.yaml", []byte(y))
			var fe *FieldError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a field error containing %q", err, tc.want)
			}
		})
	}
}
