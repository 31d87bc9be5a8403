package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/ivr"
)

// FuzzConfig feeds mutated config files through everything serve derives
// from a config before it opens a port: parsing and validation, the
// classifiers' training, the flow graph and knowledge base, and the
// recogniser's phrases. A bad file must be an error, never a panic.
func FuzzConfig(f *testing.F) {
	demo := string(config.Demo())
	f.Add(demo)
	f.Add("")
	f.Add("intents: []\n")
	f.Add(strings.Replace(demo, "classifier_examples:", "classifier_examples: []\n    x:", 1))
	f.Add("intents:\n  - name: a\n    queue: q\n    examples: [\"x\", \"x\"]\n  - name: b\n    queue: q\n    examples: [\"\", \" \"]\nqueues:\n  - name: q\n")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, data string) {
		if len(data) > 1<<17 {
			return
		}
		cfg, err := config.Parse("fuzz.yaml", []byte(data))
		if err != nil {
			return
		}
		if _, err := understanding(cfg, log); err != nil {
			return
		}
		fc := flowConfig(cfg)
		if _, err := flowGraph(cfg, &fc); err != nil {
			return
		}
		if _, err := recognizerPhrases(cfg); err != nil {
			return
		}
		d, _ := ivr.DefaultFlow(fc)
		_ = d
	})
}
