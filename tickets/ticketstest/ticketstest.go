// Package ticketstest loads the labelled conversations kept under
// tickets/testdata (the dev set and the held-out sets) for the ticket
// writer's tests and evaluations, in this package's tests and others'
// (web imports them through its API).
package ticketstest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/contactd/contactd/transcript"
)

// Call is one labelled conversation: what a person decided the ticket
// should say.
type Call struct {
	ID           string               `json:"id"`
	Category     string               `json:"category"`
	OrderNumber  string               `json:"order_number"` // "" when the call names none
	Angry        bool                 `json:"angry"`
	CallerNumber string               `json:"caller_number"`
	Transcript   []transcript.Segment `json:"transcript"`
}

// Load reads every *.json conversation in dir, in file-name order.
func Load(dir string) ([]Call, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := make([]Call, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var c Call
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// MustLoad is Load for a test: it fails the test on an error or when dir
// holds no conversation.
func MustLoad(t testing.TB, dir string) []Call {
	t.Helper()
	calls, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatalf("no conversations in %s", dir)
	}
	return calls
}
