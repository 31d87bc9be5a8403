//go:build cgo

package sphinx_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/asreval"
	"github.com/contactd/contactd/asr/sphinx"
)

// heldOut are prompts of the held-out split of deploy/asr/make-lists.sh
// (never used to train the shipped transform).
var heldOut = []string{
	"agent-incorrect", "agent-newlocation", "call-fwd-no-ans", "conf-getconfno", "conf-getpin", "conf-onlyperson",
}

const asteriskSounds = "/usr/share/asterisk/sounds/en_US_f_Allison"

// asteriskTexts reads the transcripts of the Asterisk prompts.
func asteriskTexts(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
	if err != nil {
		t.Skip("asterisk-core-sounds-en-wav not installed")
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if name, text, ok := strings.Cut(sc.Text(), ": "); ok {
			texts[strings.TrimSpace(name)] = strings.ReplaceAll(text, "#", "pound")
		}
	}
	return texts
}

// TestNarrowbandMLLRHelps decodes held-out 8 kHz human prompts (through
// G.711 µ-law) with and without the shipped transform: with it, fewer
// word errors.
func TestNarrowbandMLLRHelps(t *testing.T) {
	texts := asteriskTexts(t)
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	dir := t.TempDir()
	errs := map[string]int{}
	words := 0
	for _, mllr := range []string{"none", ""} {
		r, err := sphinx.New(context.Background(), asr.Config{
			Phrases: demoPhrases, DataDir: dir,
			Options: map[string]string{"decoders": "1", "narrowband_decoders": "1", "narrowband_mllr": mllr, "general_words": "5000"},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		words = 0
		for _, name := range heldOut {
			pcm, err := asreval.ReadWAVFile(filepath.Join(asteriskSounds, name+".wav"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.RecognizeOptions(context.Background(), asreval.Narrowband(pcm), asr.StreamOptions{Narrowband: true})
			if err != nil {
				t.Fatal(err)
			}
			ref := asreval.Words(texts[name])
			words += len(ref)
			errs[mllr] += asreval.EditDistance(ref, asreval.Words(res.Text))
			t.Logf("mllr=%q %s: %q", mllr, name, res.Text)
		}
		r.Close()
	}
	t.Logf("word errors of %d: stock %d, with MLLR %d", words, errs["none"], errs[""])
	if errs[""] >= errs["none"] {
		t.Errorf("MLLR did not help: %d errors with it, %d without", errs[""], errs["none"])
	}
}

// TestNarrowbandStream checks that a narrowband stream is decoded (by
// the MLLR pool).
func TestNarrowbandStream(t *testing.T) {
	r := newRecognizer(t, 1)
	pcm := asreval.Narrowband(synth(t, "Where is my order?"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/pcmu", Narrowband: true})
	if err != nil {
		t.Fatal(err)
	}
	st.Write(make([]int16, 8000))
	for i := 0; i < len(pcm); i += 320 {
		st.Write(pcm[i:min(i+320, len(pcm))])
	}
	st.Write(make([]int16, 16000))
	st.Close()
	var finals []string
	for res := range st.Results() {
		if res.Kind == asr.Final {
			finals = append(finals, res.Text)
		}
	}
	if len(finals) != 1 || !strings.Contains(finals[0], "order") {
		t.Fatalf("finals %q, want one with %q", finals, "order")
	}
}

func TestOptions(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("model not installed")
	}
	tests := []struct {
		name    string
		opts    map[string]string
		wantErr bool
		general bool // general words in the vocabulary
	}{
		{"missing narrowband mllr", map[string]string{"narrowband_mllr": "/nonexistent/mllr"}, true, false},
		{"bad general weight", map[string]string{"general_weight": "1.5"}, true, false},
		{"bad general words", map[string]string{"general_words": "-3"}, true, false},
		{"defaults", map[string]string{}, false, false},
		{"domain LM alone", map[string]string{"general_words": "0"}, false, false},
		{"no mllr", map[string]string{"narrowband_mllr": "none", "general_words": "0"}, false, false},
		{"general words", map[string]string{"general_words": "2000", "general_weight": "0.2"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts["decoders"] = "1"
			r, err := sphinx.New(context.Background(), asr.Config{Phrases: []string{"hello contactd"}, DataDir: t.TempDir(), Options: tc.opts}, nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err=%v wantErr=%v", err, tc.wantErr)
			}
			if err != nil {
				t.Log(err)
				return
			}
			defer r.Close()
			if got := slices.Contains(r.Vocabulary(), "yesterday"); got != tc.general {
				t.Errorf("general word in vocabulary: %v, want %v (%d words)", got, tc.general, len(r.Vocabulary()))
			}
			// Both pools answer, whether or not they differ.
			for _, nb := range []bool{false, true} {
				if _, err := r.RecognizeOptions(context.Background(), make([]int16, 1600), asr.StreamOptions{Narrowband: nb}); err != nil {
					t.Errorf("narrowband=%v: %v", nb, err)
				}
			}
		})
	}
}

// TestSpeculativeFinal checks that a Final whose utterance was decoded
// during the end-of-speech silence is that decode (a hit), and that with
// speculation off the text is the same.
func TestSpeculativeFinal(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	speech := synth(t, "Where is my order?")
	var audio []int16
	audio = append(audio, make([]int16, 8000)...)
	audio = append(audio, speech...)
	audio = append(audio, make([]int16, 16000)...)
	dir := t.TempDir()
	texts := map[string]string{}
	for _, spec := range []string{"200", "0"} {
		r, err := sphinx.New(context.Background(), asr.Config{Phrases: demoPhrases, DataDir: dir,
			Options: map[string]string{"decoders": "1", "narrowband_mllr": "none", "speculate_ms": spec}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/spec"})
		if err != nil {
			t.Fatal(err)
		}
		// 20 ms frames, at 4x real time: the pause is seen, and decoded,
		// before the stream's VAD ends the utterance.
		for i := 0; i < len(audio); i += 320 {
			st.Write(audio[i:min(i+320, len(audio))])
			time.Sleep(5 * time.Millisecond)
		}
		st.Close()
		var finals []string
		for res := range st.Results() {
			if res.Kind == asr.Final {
				finals = append(finals, res.Text)
			}
		}
		cancel()
		if len(finals) != 1 {
			t.Fatalf("speculate_ms=%s: finals %q", spec, finals)
		}
		texts[spec] = finals[0]
		sp, ok := st.(interface{ Speculations() (int64, int64) })
		if spec == "0" {
			if ok {
				t.Error("speculate_ms=0: stream still speculates")
			}
		} else if hits, misses := sp.Speculations(); hits != 1 || misses != 0 {
			t.Errorf("hits %d misses %d, want 1 and 0", hits, misses)
		}
		r.Close()
	}
	if texts["200"] != texts["0"] || !strings.Contains(texts["0"], "order") {
		t.Errorf("with speculation %q, without %q", texts["200"], texts["0"])
	}
}

// TestSpeculativePieces checks that a long utterance with pauses shorter
// than the end-of-speech silence is decoded in pieces while it is spoken
// (speculate_piece_ms), so its Final is joined from them, and that it
// says what the whole-utterance decode says.
func TestSpeculativePieces(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	pause := make([]int16, asr.SampleRate/10) // espeak-ng adds silence around each: with this, pauses shorter than the end-of-speech silence
	var audio []int16
	audio = append(audio, make([]int16, 8000)...)
	for i, s := range []string{"I want to check the status of my order", "my order number is 4 7 1 9 2", "I want a refund"} {
		if i > 0 {
			audio = append(audio, pause...)
		}
		audio = append(audio, synth(t, s)...)
	}
	audio = append(audio, make([]int16, 16000)...)
	dir := t.TempDir()
	texts := map[string]string{}
	for _, piece := range []string{"1000", "0"} {
		r, err := sphinx.New(context.Background(), asr.Config{Phrases: demoPhrases, DataDir: dir,
			Options: map[string]string{"decoders": "1", "narrowband_mllr": "none", "general_words": "0", "speculate_piece_ms": piece}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/pieces"})
		if err != nil {
			t.Fatal(err)
		}
		// At twice real time: each piece is decoded while the next is spoken.
		start := time.Now()
		for i := 0; i < len(audio); i += 320 {
			st.Write(audio[i:min(i+320, len(audio))])
			time.Sleep(time.Until(start.Add(time.Duration(i+320) * time.Second / asr.SampleRate / 2)))
		}
		st.Close()
		var finals []asr.Result
		for res := range st.Results() {
			if res.Kind == asr.Final {
				finals = append(finals, res)
			}
		}
		cancel()
		r.Close()
		if len(finals) != 1 {
			t.Fatalf("speculate_piece_ms=%s: %d finals %+v, want one utterance", piece, len(finals), finals)
		}
		f := finals[0]
		texts[piece] = f.Text
		for i, w := range f.Words {
			if w.EndMS < w.StartMS || (i > 0 && w.StartMS < f.Words[i-1].StartMS) {
				t.Errorf("speculate_piece_ms=%s: word times out of order: %+v", piece, f.Words)
				break
			}
		}
		joined := st.(interface{ Pieces() int64 }).Pieces()
		t.Logf("speculate_piece_ms=%s: %q (joined %d)", piece, f.Text, joined)
		if (joined > 0) != (piece != "0") {
			t.Errorf("speculate_piece_ms=%s: %d finals joined from pieces", piece, joined)
		}
	}
	for _, w := range []string{"status", "order", "refund"} {
		if !strings.Contains(texts["1000"], w) {
			t.Errorf("pieces: %q lacks %q (whole: %q)", texts["1000"], w, texts["0"])
		}
	}
}

// TestPiecedCutOff is a speaker talking in one long utterance (sentences
// with short pauses, shorter than the end-of-speech silence) cut off by a
// hang-up (Close) in the middle of a sentence: with pieces the Final
// arrives after a decode of the audio since the last pause, not of the
// whole utterance, and says nearly the same.
func TestPiecedCutOff(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	sentences := []string{"I want to check the status of my order.", "My order number is 4 7 1 9 2.",
		"I have a question about my bill.", "I was charged twice.", "My internet is very slow.",
		"I want to return an item."}
	pause := make([]int16, 16000*35/100) // 350 ms: a pause, not an end
	audio := make([]int16, 8000)
	for i, s := range sentences {
		if i > 0 {
			audio = append(audio, pause...)
		}
		audio = append(audio, trimSilence(synth(t, s))...)
	}
	cut := len(audio) - 16000*6/10 // cut off 0.6 s before the last sentence ends
	t.Logf("utterance of %.1f s cut at %.1f s", float64(len(audio))/16000, float64(cut)/16000)
	dir := t.TempDir()
	type run struct {
		text   string
		wait   time.Duration // Close to Final
		pieced int64
	}
	runs := map[string]run{}
	for _, piece := range []string{"2000", "0"} {
		r, err := sphinx.New(context.Background(), asr.Config{Phrases: demoPhrases, DataDir: dir,
			Options: map[string]string{"decoders": "2", "narrowband_mllr": "none", "speculate_piece_ms": piece}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/pieces"})
		if err != nil {
			t.Fatal(err)
		}
		// 20 ms frames at twice real time: the decoders keep up, as on a
		// live call.
		for i := 0; i < cut; i += 320 {
			st.Write(audio[i:min(i+320, cut)])
			time.Sleep(10 * time.Millisecond)
		}
		closed := time.Now()
		go st.Close()
		var finals []string
		var wait time.Duration
		for res := range st.Results() {
			if res.Kind == asr.Final {
				finals = append(finals, res.Text)
				wait = time.Since(closed)
			}
		}
		cancel()
		if len(finals) != 1 {
			t.Fatalf("speculate_piece_ms=%s: finals %q, want one utterance", piece, finals)
		}
		var pieced int64
		if p, ok := st.(interface{ Pieces() int64 }); ok {
			pieced = p.Pieces()
		}
		runs[piece] = run{finals[0], wait, pieced}
		t.Logf("speculate_piece_ms=%s: Final %v after Close (pieced %d): %q", piece, wait.Round(time.Millisecond), pieced, finals[0])
		r.Close()
	}
	on, off := runs["2000"], runs["0"]
	if on.pieced != 1 || off.pieced != 0 {
		t.Errorf("pieced Finals: %d with pieces, %d without; want 1 and 0", on.pieced, off.pieced)
	}
	if on.wait*2 > off.wait {
		t.Errorf("with pieces the Final took %v after Close, without %v: want under half", on.wait, off.wait)
	}
	// Nearly the same words: the pieces start afresh at pauses.
	if e := asreval.WER(off.text, on.text); e > 0.2 {
		t.Errorf("pieced text differs from the whole decode by WER %.2f:\n%q\n%q", e, on.text, off.text)
	}
}
