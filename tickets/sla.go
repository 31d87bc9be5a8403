package tickets

import (
	"fmt"
	"sort"
	"time"

	opening "github.com/contactd/contactd/hours"
)

// Calendar is business hours in a time zone, in the IVR flow's format:
// {"mon-fri": "08:00-20:00", "sat": "09:00-13:00, 14:00-17:00", "sun":
// "closed"}, plus holidays ("2025-12-25"). SLA clocks only run inside it.
// A nil Calendar, or one without hours, is open around the clock.
type Calendar struct {
	loc      *time.Location
	hours    map[time.Weekday][]span
	holidays map[string]bool
}

type span = opening.Span // minutes since midnight, [From, To)

// NewCalendar parses business hours; errors name the bad key.
func NewCalendar(timezone string, hours map[string]string, holidays []string) (*Calendar, error) {
	c := &Calendar{loc: time.UTC, hours: map[time.Weekday][]span{}, holidays: map[string]bool{}}
	if timezone != "" {
		loc, err := time.LoadLocation(timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone: unknown time zone %q (want an IANA name like Europe/London)", timezone)
		}
		c.loc = loc
	}
	keys := make([]string, 0, len(hours))
	for k := range hours {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		days, err := opening.ParseDays(k)
		if err != nil {
			return nil, fmt.Errorf("hours.%s: %w", k, err)
		}
		spans, err := opening.ParseSpans(hours[k])
		if err != nil {
			return nil, fmt.Errorf("hours.%s: %w", k, err)
		}
		for _, d := range days {
			if _, dup := c.hours[d]; dup {
				return nil, fmt.Errorf("hours.%s: %s is already given by another entry", k, d)
			}
			c.hours[d] = spans
		}
	}
	for i, h := range holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			return nil, fmt.Errorf("holidays[%d]: want a date like 2025-12-25, got %q", i, h)
		}
		c.holidays[h] = true
	}
	return c, nil
}

// Add returns the instant d of business time after from. Without hours it
// is from.Add(d).
func (c *Calendar) Add(from time.Time, d time.Duration) time.Time {
	if c == nil || len(c.hours) == 0 || d <= 0 {
		return from.Add(d)
	}
	t := from.In(c.loc)
	left := d
	for i := 0; i < 3*366; i++ { // a calendar with hours on some weekday ends within years
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
		if !c.holidays[day.Format("2006-01-02")] {
			for _, s := range c.hours[day.Weekday()] {
				start := day.Add(time.Duration(s.From) * time.Minute)
				end := day.Add(time.Duration(s.To) * time.Minute)
				if t.After(start) {
					start = t
				}
				if !end.After(start) {
					continue
				}
				if avail := end.Sub(start); avail >= left {
					return start.Add(left).In(from.Location())
				} else {
					left -= avail
				}
			}
		}
		t = day.AddDate(0, 0, 1)
	}
	return from.Add(d) // no business hours at all: fall back to the wall clock
}

// SLATarget is how long, in business time, the first response and the
// resolution may take; zero means no target.
type SLATarget struct {
	FirstResponse time.Duration `yaml:"first_response" json:"first_response"`
	Resolution    time.Duration `yaml:"resolution" json:"resolution"`
}

// SLAPolicy is the targets by priority on a calendar.
type SLAPolicy struct {
	Calendar *Calendar
	Targets  map[string]SLATarget // by priority; nil means DefaultSLATargets
}

// DefaultSLATargets are business-time targets by priority.
var DefaultSLATargets = map[string]SLATarget{
	PriorityUrgent: {FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour},
	PriorityHigh:   {FirstResponse: time.Hour, Resolution: 8 * time.Hour},
	PriorityNormal: {FirstResponse: 4 * time.Hour, Resolution: 24 * time.Hour},
	PriorityLow:    {FirstResponse: 8 * time.Hour, Resolution: 40 * time.Hour},
}

// Apply sets t's due times from its CreatedAt and priority.
func (p SLAPolicy) Apply(t *Ticket) {
	targets := p.Targets
	if targets == nil {
		targets = DefaultSLATargets
	}
	tg, ok := targets[t.Priority]
	if !ok || t.CreatedAt.IsZero() {
		return
	}
	t.FirstResponseDue, t.ResolutionDue = time.Time{}, time.Time{}
	if tg.FirstResponse > 0 {
		t.FirstResponseDue = p.Calendar.Add(t.CreatedAt, tg.FirstResponse)
	}
	if tg.Resolution > 0 {
		t.ResolutionDue = p.Calendar.Add(t.CreatedAt, tg.Resolution)
	}
}

// SLA targets a Breach names.
const (
	TargetFirstResponse = "first_response"
	TargetResolution    = "resolution"
)

// Breach is one SLA target of a ticket that passed unmet while the ticket
// was open.
type Breach struct {
	TicketID string    `json:"ticket_id"`
	Target   string    `json:"target"` // TargetFirstResponse or TargetResolution
	Due      time.Time `json:"due"`
}

// FieldSLA is the audit field of a flagged breach; New is
// "<target>_breached".
const FieldSLA = "sla"

// SLABreached reports whether a target of t passed unmet by now: no first
// response (or a late one) after FirstResponseDue, no resolution (or a
// late one) after ResolutionDue.
func (t Ticket) SLABreached(now time.Time) bool {
	late := func(due, done time.Time) bool {
		if due.IsZero() {
			return false
		}
		if done.IsZero() {
			return now.After(due)
		}
		return done.After(due)
	}
	return late(t.FirstResponseDue, t.FirstResponseAt) || late(t.ResolutionDue, t.SolvedAt)
}

// Lifecycle updates the SLA clocks of a ticket changed from old to t by
// actor at now: the first change by a person is the first response,
// solving or closing stops the resolution clock and reopening restarts
// it. System changes (actor "" or "system") are not responses.
//
// Clocks t leaves zero keep old's values, so a caller that rebuilt the
// ticket from a form does not reset them.
func Lifecycle(old Ticket, t *Ticket, actor string, now time.Time) {
	keep := func(dst *time.Time, v time.Time) {
		if dst.IsZero() {
			*dst = v
		}
	}
	keep(&t.FirstResponseAt, old.FirstResponseAt)
	keep(&t.FirstResponseDue, old.FirstResponseDue)
	keep(&t.ResolutionDue, old.ResolutionDue)
	keep(&t.FirstResponseBreachedAt, old.FirstResponseBreachedAt)
	keep(&t.ResolutionBreachedAt, old.ResolutionBreachedAt)
	if Done(old.Status) && Done(t.Status) {
		keep(&t.SolvedAt, old.SolvedAt)
	}
	human := actor != "" && actor != ActorSystem
	if human && t.FirstResponseAt.IsZero() {
		t.FirstResponseAt = now
	}
	switch {
	case Done(t.Status) && t.SolvedAt.IsZero():
		t.SolvedAt = now
	case !Done(t.Status) && Done(old.Status):
		t.SolvedAt = time.Time{}
	}
}

// ActorSystem is the audit trail's actor for changes contactd makes itself.
const ActorSystem = "system"
