//go:build cgo

package sphinx_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/sphinx"
)

// TestHotPhrases checks that a phrase in option hot_phrases is recognised
// although the IVR's phrases never use its words, and is not without it.
func TestHotPhrases(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	speech := synth(t, "I want the purple dishwasher")
	audio := append(append(make([]int16, 4000), speech...), make([]int16, 4000)...)
	texts := map[string]string{}
	for _, hot := range []string{"", "purple dishwasher|premium broadband"} {
		// The domain LM alone, so the words are out of the vocabulary
		// unless hot.
		opts := map[string]string{"decoders": "1", "narrowband_mllr": "none", "general_words": "0", "hot_phrases": hot}
		r, err := sphinx.New(context.Background(), asr.Config{Phrases: demoPhrases, DataDir: t.TempDir(), Options: opts}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Recognize(context.Background(), audio)
		vocab := r.Vocabulary()
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		texts[hot] = res.Text
		if got := slices.Contains(vocab, "dishwasher"); got != (hot != "") {
			t.Errorf("hot %q: dishwasher in the vocabulary: %v", hot, got)
		}
	}
	t.Logf("without: %q, with: %q", texts[""], texts["purple dishwasher|premium broadband"])
	if strings.Contains(texts[""], "dishwasher") {
		t.Errorf("without hot phrases: %q has a word the LM lacks", texts[""])
	}
	if !strings.Contains(texts["purple dishwasher|premium broadband"], "purple dishwasher") {
		t.Errorf("with hot phrases: %q, want it to contain \"purple dishwasher\"", texts["purple dishwasher|premium broadband"])
	}
	if _, err := sphinx.New(context.Background(), asr.Config{DataDir: t.TempDir(),
		Options: map[string]string{"decoders": "1", "hot_phrases": "x", "hot_boost": "-1"}}, nil); err == nil {
		t.Error("hot_boost -1: want error")
	}
}
