package tickets

import (
	"strconv"
	"time"

	"github.com/contactd/contactd/transcript"
)

// followUpCues mark an agent line that promises work after the call.
var followUpCues = []string{
	"call you back", "ring you back", "get back to you", "be in touch", "follow up", "follow this up",
	"escalated", "escalate", "ill escalate", "engineer will", "an engineer", "booked a", "book a",
	"investigate", "look into", "looking into", "raise a", "raised a", "chase", "ill send", "well send",
	"i will send", "we will send", "ill email", "well email", "ill arrange", "well arrange", "arranged a",
	"ive arranged", "ill check with", "ill speak to", "pass this to", "passed this to", "passed it to",
	"refer this", "ill call", "we will call", "well call", "someone will", "a technician", "callback",
	"visit", "open a case", "opened a case",
}

// resolvedCues mark an agent line that settles the matter on the call.
var resolvedCues = []string{
	"refunded", "processed", "ive reset", "has been reset", "fixed", "resolved", "cancelled", "canceled",
	"ive updated", "has been updated", "applied", "waived", "credited", "sorted", "ive issued", "unlocked",
	"ive sent", "is on its way", "will be delivered", "ive changed", "all done", "thats done", "up and running",
	"working now", "back online",
}

// followUps decides the call's outcome and lists the promised work, each
// with its due date when the line names one (relative to now).
func followUps(tr transcript.Transcript, now time.Time) (string, []FollowUp) {
	agent := spoken(tr, transcript.Agent)
	if len(agent) == 0 {
		return OutcomeFollowUp, []FollowUp{{Action: "Review the call: no agent took part."}}
	}
	var out []FollowUp
	for _, s := range agent {
		w := wordsOf(s.Text)
		if !anyPhrase(w, followUpCues) {
			continue
		}
		f := FollowUp{Action: sentence(Redact(s.Text), 200)}
		if d, ok := dueDate(w, now); ok {
			f.Due = d
		}
		out = append(out, f)
	}
	if len(out) > 0 {
		return OutcomeFollowUp, out
	}
	return OutcomeResolved, nil
}

var numberWords = map[string]int{
	"one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "fourteen": 14, "twenty": 20, "thirty": 30, "couple": 2, "few": 3,
}

var weekdayNames = map[string]time.Weekday{
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
}

// dueDate reads when promised work is due from a line's words: today,
// tomorrow, a weekday (the next one), "within three working days", "in 48
// hours", "next week", "end of the week". Working days skip weekends.
func dueDate(w []string, now time.Time) (time.Time, bool) {
	day := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, now.Location())
	}
	for i, x := range w {
		switch x {
		case "today", "tonight":
			return day(now), true
		case "tomorrow":
			return day(now.AddDate(0, 0, 1)), true
		}
		if wd, ok := weekdayNames[x]; ok {
			d := (int(wd) - int(now.Weekday()) + 7) % 7
			if d == 0 {
				d = 7
			}
			return day(now.AddDate(0, 0, d)), true
		}
		if x == "week" && i > 0 && (w[i-1] == "next" || w[i-1] == "the") {
			if w[i-1] == "the" && i > 2 && w[i-2] == "of" && w[i-3] == "end" {
				d := (int(time.Friday) - int(now.Weekday()) + 7) % 7
				return day(now.AddDate(0, 0, d)), true
			}
			if w[i-1] == "next" {
				return day(now.AddDate(0, 0, 7)), true
			}
		}
		if (x == "days" || x == "day" || x == "hours") && i > 0 {
			k := i - 1
			working := false
			if w[k] == "working" || w[k] == "business" {
				working = true
				k--
			}
			if k < 0 {
				continue
			}
			n, ok := numberWords[w[k]]
			if !ok {
				v, err := strconv.Atoi(w[k])
				if err != nil || v <= 0 || v > 365 {
					continue
				}
				n = v
			}
			if x == "hours" {
				return now.Add(time.Duration(n) * time.Hour), true
			}
			if !working {
				return day(now.AddDate(0, 0, n)), true
			}
			t := day(now)
			for n > 0 {
				t = t.AddDate(0, 0, 1)
				if t.Weekday() != time.Saturday && t.Weekday() != time.Sunday {
					n--
				}
			}
			return t, true
		}
	}
	return time.Time{}, false
}
