//go:build cgo

package sphinx_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/asreval"
	"github.com/contactd/contactd/asr/sphinx"
)

// flite renders text with a flite voice (Debian package flite, a bench
// dependency) as 16 kHz PCM.
func flite(t *testing.T, voice, text string) []int16 {
	t.Helper()
	if _, err := exec.LookPath("flite"); err != nil {
		t.Skip("flite not installed (deploy/deps.sh bench)")
	}
	out := filepath.Join(t.TempDir(), "f.wav")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "flite", "-voice", voice, "-t", text, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("flite: %v %s", err, b)
	}
	pcm, err := asreval.ReadWAVFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// TestBlend checks the blend (general_words: 20000), the domain model
// blended with the general one, on caller sentences whose words the IVR's phrases
// mostly lack, in two human-like voices: it must make fewer errors than
// the domain model alone, and few in all.
func TestBlend(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	sentences := []string{
		"the courier left my parcel with a neighbor",
		"the engineer never turned up on tuesday",
		"my new television has no sound",
		"can you send someone to look at the cable",
		"where is my order",
	}
	type audio struct {
		pcm []int16
		ref []string
	}
	var set []audio
	for _, voice := range []string{"slt", "rms"} {
		for _, s := range sentences {
			set = append(set, audio{flite(t, voice, s), asreval.Words(s)})
		}
	}
	dir := t.TempDir() // shared: the general word list is ranked once
	wer := map[string]float64{}
	for _, gw := range []string{"20000", "0"} {
		opts := map[string]string{"decoders": "1", "narrowband_mllr": "none", "general_words": gw}
		r, err := sphinx.New(context.Background(), asr.Config{Phrases: demoPhrases, DataDir: dir, Options: opts}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var errs, words int
		for _, a := range set {
			res, err := r.Recognize(context.Background(), a.pcm)
			if err != nil {
				r.Close()
				t.Fatal(err)
			}
			e := asreval.EditDistance(a.ref, asreval.Words(res.Text))
			errs += e
			words += len(a.ref)
			t.Logf("general_words=%q: %d errors: %q", gw, e, res.Text)
		}
		r.Close()
		wer[gw] = float64(errs) / float64(words)
	}
	t.Logf("WER: blend (20000 words) %.3f, domain LM alone (the default) %.3f", wer["20000"], wer["0"])
	if wer["20000"] > 0.25 || wer["20000"] >= wer["0"]-0.1 {
		t.Errorf("blend WER %.3f, domain alone %.3f: want the blend under 0.25 and 0.1 better", wer["20000"], wer["0"])
	}
}
