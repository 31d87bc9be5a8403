package tickets

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

type actorKey struct{}

// WithActor returns ctx carrying who is making changes, for the audit
// trail the store writes on every ticket change.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor stored, ActorSystem when none.
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return ActorSystem
}

// FieldLinkedCall is the audit field recording a call linked to an
// existing ticket (a repeat contact); New is the call's ID.
const FieldLinkedCall = "linked_call"

// ValidStatus reports whether s is a ticket status.
func ValidStatus(s string) bool { return slices.Contains(Statuses, s) }

// Diff lists the audited fields that differ between old and t as events
// by actor at at (TicketID set, ID zero). UpdatedAt and the SLA clocks are
// not audited: they follow from the changes that are.
func Diff(old, t Ticket, actor string, at time.Time) []Event {
	type field struct{ name, old, new string }
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	fields := []field{
		{"category", old.Category, t.Category},
		{"sub_category", old.SubCategory, t.SubCategory},
		{"priority", old.Priority, t.Priority},
		{"status", old.Status, t.Status},
		{"assignee", old.Assignee, t.Assignee},
		{"team", old.Team, t.Team},
		{"subject", old.Subject, t.Subject},
		{"summary", old.Summary, t.Summary},
		{"outcome", old.Outcome, t.Outcome},
		{"sentiment", old.Sentiment, t.Sentiment},
		{"tags", js(nonNil(old.Tags)), js(nonNil(t.Tags))},
		{"entities", js(nonNilMap(old.Entities)), js(nonNilMap(t.Entities))},
		{"follow_ups", js(nonNil(old.FollowUps)), js(nonNil(t.FollowUps))},
		{"customer", js(old.Customer), js(t.Customer)},
		{"call_id", old.CallID, t.CallID},
	}
	var out []Event
	for _, f := range fields {
		if f.old != f.new {
			out = append(out, Event{TicketID: t.ID, At: at, Actor: actor, Field: f.name, Old: f.old, New: f.new})
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
