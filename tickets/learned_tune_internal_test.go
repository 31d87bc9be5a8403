package tickets

import (
	"flag"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/contactd/contactd/tickets/ticketstest"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/ivr"
)

var tune = flag.Bool("tune", false, "TestLearnedSettings: measure the learned models' settings by leave-one-out on the dev set")

// TestLearnedSettings measures, by leave-one-out on testdata/dev, the
// settings with which the learned models are used (the package's
// constants topicTemper, learnedWeight, angerTemper and angerThreshold)
// against the values around them, and logs the table they were chosen
// from. It takes a while and only reports: run it with
// go test ./tickets -run TestLearnedSettings -tune -v.
func TestLearnedSettings(t *testing.T) {
	if !*tune {
		t.Skip("run with -tune")
	}
	cfg, err := config.Parse("demo", config.Demo())
	if err != nil {
		t.Fatal(err)
	}
	// As contactd trains it: the intents and the out-of-scope class.
	ex, err := cfg.ClassifierExamples()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ivr.TrainClassifier(ex)
	if err != nil {
		t.Fatal(err)
	}
	clf, cats := ivr.Simple{C: c}, c.Intents()
	known := map[string]bool{}
	for _, k := range cats {
		known[k] = true
	}
	type devCall = ticketstest.Call
	dev := ticketstest.MustLoad(t, filepath.Join("testdata", "dev"))
	calls := make([]TrainingCall, len(dev))
	for i, d := range dev {
		calls[i] = TrainingCall{Category: d.Category, Angry: d.Angry, Lines: d.Transcript}
	}
	// The rules and cues were written on d01–d395: leave-one-out there
	// flatters the settings that lean on them, so the calls from d396 on
	// are counted apart.
	late := func(id string) bool {
		n, err := strconv.Atoi(strings.TrimPrefix(id, "d"))
		return err == nil && n >= 396
	}
	m := train(calls)
	loo := func(f func(i int, d devCall)) {
		for i, d := range dev {
			m.add(calls[i], -1)
			f(i, d)
			m.add(calls[i], 1)
		}
	}
	for _, temper := range []float64{0.5, 0.75, 1, 1.5, 2} {
		m.topicTemper = temper
		var ll float64
		loo(func(_ int, d devCall) { ll += math.Log(max(m.topicPosterior(d.Transcript, known)[d.Category], 1e-9)) })
		t.Logf("topic temper %.2f: mean log-likelihood of the right category %.3f", temper, ll/float64(len(dev)))
		for _, w := range []float64{0.25, 0.5, 0.75, 1, 1.25, 1.5, 2} {
			m.weight = w
			var early, earlyRight, lateN, lateRight int
			loo(func(_ int, d devCall) {
				right := categorize(d.Transcript, clf, cats, m) == d.Category
				if late(d.ID) {
					lateN++
					if right {
						lateRight++
					}
				} else {
					early++
					if right {
						earlyRight++
					}
				}
			})
			t.Logf("  weight %.2f: Categorize %d/%d (d01–d395 %d/%d, d396 on %d/%d)", w, earlyRight+lateRight, len(dev), earlyRight, early, lateRight, lateN)
		}
	}
	m.params = defaultParams
	for _, temper := range []float64{0.5, 1, 1.5, 2} {
		m.angerTemper = temper
		for _, th := range []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8} {
			m.angerThreshold = th
			var angry, found, calm, calmAngry int
			loo(func(_ int, d devCall) {
				a := m.angry(d.Transcript)
				switch {
				case d.Angry:
					angry++
					if a {
						found++
					}
				case d.Category != CategoryComplaint && d.Category != "cancel":
					calm++
					if a {
						calmAngry++
					}
				}
			})
			t.Logf("anger temper %.1f threshold %.1f: angry callers found %d/%d, calm callers taken for angry %d/%d", temper, th, found, angry, calmAngry, calm)
		}
	}
	// The threshold as the priority uses it, with the sentiment's floors
	// (TestPriorityCrossValidated): the angerThreshold is the lowest of
	// these that raises at most 5 % of the calm callers.
	for _, th := range []float64{0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5} {
		m.params = defaultParams
		m.angerThreshold = th
		r := looPriority(dev, m)
		t.Logf("anger threshold %.2f, drafted: angry callers at high/urgent %d/%d, calm callers raised to high %d/%d (%.1f%%)", th, r.angryHigh, r.angry, r.calmHigh, r.calm, 100*float64(r.calmHigh)/float64(r.calm))
	}
	// The same, closer to the held-out sets: each dev batch from d396 on
	// drafted with the model trained on the calls written before it.
	batches := []int{396, 466, 506, 526, 566, 619, 667, 699, 765, 805}
	num := func(id string) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(id, "d"))
		return n
	}
	for _, th := range []float64{0.2, 0.3, 0.4, 0.5} {
		var r looCounts
		for b := 0; b+1 < len(batches); b++ {
			var before, batch []devCall
			for _, d := range dev {
				switch n := num(d.ID); {
				case n < batches[b]:
					before = append(before, d)
				case n < batches[b+1]:
					batch = append(batch, d)
				}
			}
			fm := train(trainingCalls(before))
			fm.angerThreshold = th
			r = r.plus(draftCounts(batch, fm))
		}
		t.Logf("anger threshold %.2f, batches from d396 on drafted with the calls before them: angry callers at high/urgent %d/%d, calm callers raised to high %d/%d (%.1f%%)", th, r.angryHigh, r.angry, r.calmHigh, r.calm, 100*float64(r.calmHigh)/float64(r.calm))
	}
}
