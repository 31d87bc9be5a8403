package qa

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/contactd/contactd/transcript"
)

// labelled is one conversation with a person's verdict per item.
type labelled struct {
	Name     string               `json:"name"`
	Agent    string               `json:"agent"`
	Company  []string             `json:"company"`
	Segments []transcript.Segment `json:"segments"`
	Labels   map[string]bool      `json:"labels"`
}

// agreement scores every conversation in dir with the default card and
// returns the share of (conversation, item) labels the rules match.
func agreement(t *testing.T, dir string) float64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations in %s: %v", dir, err)
	}
	agree, total := 0, 0
	perItem := map[string][2]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c labelled
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		card := DefaultScorecard()
		card.Company = c.Company
		ev := ScoreCall(card, transcript.Transcript{CallID: c.Name, Segments: c.Segments}, c.Agent)
		for _, it := range ev.Items {
			want, ok := c.Labels[it.Key]
			if !ok {
				continue
			}
			total++
			p := perItem[it.Key]
			p[1]++
			if it.Passed == want {
				agree++
				p[0]++
			} else {
				t.Logf("%s %q: %s rules=%v human=%v (%s)", filepath.Base(f), c.Name, it.Key, it.Passed, want, it.Detail)
			}
			perItem[it.Key] = p
		}
	}
	keys := make([]string, 0, len(perItem))
	for k := range perItem {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-20s %d/%d", k, perItem[k][0], perItem[k][1])
	}
	a := float64(agree) / float64(total)
	t.Logf("%s: %d conversations, item agreement %d/%d = %.1f%%", dir, len(files), agree, total, 100*a)
	return a
}

// TestAgreementDev is the set the detectors were tuned on.
func TestAgreementDev(t *testing.T) {
	if a := agreement(t, "testdata/dev"); a < 0.9 {
		t.Errorf("dev agreement %.3f < 0.9", a)
	}
}

// TestAgreementHeldOut is the held-out set: written and labelled after the
// detectors were frozen and never tuned on. The floor is what the first
// run measured minus a margin.
func TestAgreementHeldOut(t *testing.T) {
	if a := agreement(t, "testdata/heldout"); a < heldOutFloor {
		t.Errorf("held-out agreement %.3f < %.3f", a, heldOutFloor)
	}
}
