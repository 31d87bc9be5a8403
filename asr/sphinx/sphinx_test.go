//go:build cgo

package sphinx_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/asreval"
	"github.com/contactd/contactd/asr/sphinx"
	"github.com/contactd/contactd/tts/espeak"
)

// demoPhrases stand in for an IVR's examples.
var demoPhrases = []string{
	"I want to check the status of my order",
	"where is my order",
	"what is the status of my order",
	"my order has not arrived",
	"track my package",
	"my order number is 4 7 1 9 2",
	"the order number is 3 3 0 8 1",
	"I want to return an item",
	"I want a refund",
	"how do I get a refund",
	"I was charged twice",
	"there is a problem with my bill",
	"I have a question about my bill",
	"billing question",
	"I want to pay my bill",
	"update my payment method",
	"my internet is not working",
	"my internet is very slow",
	"the internet keeps dropping",
	"my wifi is not working",
	"I have no connection",
	"my router is broken",
	"technical support",
	"I need technical help",
	"my phone is not working",
	"I can't log in to my account",
	"I forgot my password",
	"reset my password",
	"change my address",
	"update my account details",
	"I want to cancel my subscription",
	"cancel my account",
	"I want to upgrade my plan",
	"what plans do you have",
	"I want to speak to an agent",
	"talk to a human",
	"representative please",
	"I want to make a complaint",
	"I am not happy with the service",
	"this is the third time I am calling",
	"what are your opening hours",
	"when are you open",
	"where is your store",
	"do you ship internationally",
	"how long does delivery take",
	"my delivery is late",
	"the item arrived damaged",
	"I received the wrong item",
	"can you help me",
	"thank you that is all",
}

func newRecognizer(t *testing.T, decoders int) *sphinx.Recognizer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0 := rssKB()
	start := time.Now()
	r, err := sphinx.New(context.Background(), asr.Config{
		Phrases: demoPhrases,
		DataDir: t.TempDir(),
		// The domain LM alone: these tests speak with espeak-ng, whose
		// digits the blend's general words outscore ("five eight" ->
		// "resign"); TestBlend checks the default blend with flite voices.
		Options: map[string]string{"decoders": strconv.Itoa(decoders), "general_words": "0"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	t.Logf("%d decoder(s) ready in %v, RSS +%d MB, %d words, missing %v",
		decoders, time.Since(start).Round(time.Millisecond), (rssKB()-rss0)/1024, len(r.Domain().Words), r.Domain().Missing)
	return r
}

// rssKB reads the resident set size of this process.
func rssKB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func synth(t *testing.T, text string) []int16 {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pcm, err := espeak.New(espeak.Options{}).Synthesize(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// viaTelephone sends audio through 8 kHz G.711 µ-law and back with sox.
func viaTelephone(t *testing.T, pcm []int16) []int16 {
	t.Helper()
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox not installed")
	}
	run := func(in []byte, args ...string) []byte {
		cmd := exec.Command("sox", args...)
		cmd.Stdin = bytes.NewReader(in)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("sox %v: %v %s", args, err, errb.String())
		}
		return out.Bytes()
	}
	raw := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	ulaw := run(raw, "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", "-",
		"-t", "raw", "-r", "8000", "-e", "u-law", "-b", "8", "-c", "1", "-")
	back := run(ulaw, "-t", "raw", "-r", "8000", "-e", "u-law", "-b", "8", "-c", "1", "-",
		"-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", "-")
	out := make([]int16, len(back)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(back[2*i:]))
	}
	return out
}

func TestRecognizeDomainSentences(t *testing.T) {
	r := newRecognizer(t, 1)
	tests := []struct {
		text   string
		must   []string // words that must be recognised at 16 kHz
		digits string   // spoken digits, at most one may be wrong
	}{
		// espeak's "five eight" comes out as "five nine" with the stock
		// model whatever the LM weight, so one digit error is allowed.
		{"I want to check the status of my order, the number is 5 8 2 1 3.", []string{"status", "order", "two one three"}, "five eight two one three"},
		{"My internet is not working.", []string{"internet", "not working"}, ""},
		{"I want to speak to an agent.", []string{"agent"}, ""},
	}
	var errs16, errs8, words int
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			pcm := synth(t, tc.text)
			start := time.Now()
			res, err := r.Recognize(context.Background(), pcm)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			audio := time.Duration(len(pcm)) * time.Second / asr.SampleRate
			t.Logf("16 kHz: %q conf=%.2f in %v for %v audio (RTF %.2f), words %v", res.Text, res.Confidence,
				took.Round(time.Millisecond), audio.Round(time.Millisecond), took.Seconds()/audio.Seconds(), res.Words)
			for _, w := range tc.must {
				if !strings.Contains(" "+res.Text+" ", " "+w+" ") {
					t.Errorf("%q missing from %q", w, res.Text)
				}
			}
			if tc.digits != "" {
				var got []string
				for _, w := range asreval.Words(res.Text) {
					if strings.Contains(" zero one two three four five six seven eight nine ", " "+w+" ") {
						got = append(got, w)
					}
				}
				if e := asreval.EditDistance(strings.Fields(tc.digits), got); e > 1 {
					t.Errorf("digits %q, want %q (%d errors)", got, tc.digits, e)
				}
			}
			ref := asreval.Words(tc.text)
			words += len(ref)
			errs16 += asreval.EditDistance(ref, asreval.Words(res.Text))

			tel := viaTelephone(t, pcm)
			start = time.Now()
			res8, err := r.Recognize(context.Background(), tel)
			if err != nil {
				t.Fatal(err)
			}
			errs8 += asreval.EditDistance(ref, asreval.Words(res8.Text))
			t.Logf("8 kHz µ-law: %q in %v", res8.Text, time.Since(start).Round(time.Millisecond))
		})
	}
	t.Logf("WER 16 kHz %.3f, via 8 kHz µ-law %.3f (%d reference words)",
		float64(errs16)/float64(words), float64(errs8)/float64(words), words)
}

func TestStreamTwoUtterances(t *testing.T) {
	r := newRecognizer(t, 2)
	a := synth(t, "Where is my order?")
	b := synth(t, "I forgot my password.")
	var audio []int16
	audio = append(audio, make([]int16, 8000)...)
	audio = append(audio, a...)
	audio = append(audio, make([]int16, 16000)...)
	audio = append(audio, b...)
	audio = append(audio, make([]int16, 16000)...)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/caller"})
	if err != nil {
		t.Fatal(err)
	}
	// 200 ms writes: faster than real time, within the stream's buffer.
	for i := 0; i < len(audio); i += 3200 {
		st.Write(audio[i:min(i+3200, len(audio))])
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if n, u := st.(interface{ Dropped() (int64, int64) }).Dropped(); n != 0 || u != 0 {
		t.Fatalf("dropped %d samples, %d utterances", n, u)
	}
	var kinds []asr.Kind
	var finals []asr.Result
	for res := range st.Results() {
		if res.Kind == asr.Tentative {
			continue // TestStreamTentatives
		}
		kinds = append(kinds, res.Kind)
		if res.Kind == asr.Final {
			finals = append(finals, res)
		}
		t.Logf("%v %d..%d %q", res.Kind, res.StartMS, res.EndMS, res.Text)
	}
	want := []asr.Kind{asr.SpeechStart, asr.Final, asr.SpeechStart, asr.Final}
	if len(kinds) != len(want) {
		t.Fatalf("kinds %v want %v", kinds, want)
	}
	// SpeechStart of the second utterance may overtake the first Final,
	// but Finals come in order.
	if len(finals) != 2 || !strings.Contains(finals[0].Text, "order") || !strings.Contains(finals[1].Text, "password") {
		t.Fatalf("finals %+v", finals)
	}
	if finals[1].StartMS < 2000 || finals[1].Words[0].StartMS < finals[1].StartMS {
		t.Fatalf("second final times not shifted: %+v", finals[1])
	}
}

func TestProviderRegistered(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("model not installed")
	}
	tests := []struct {
		name    string
		opts    map[string]string
		wantErr bool
	}{
		{"bad hmm", map[string]string{"hmm": "/nonexistent"}, true},
		{"bad decoders", map[string]string{"decoders": "zero"}, true},
		{"bad sphinx option", map[string]string{"-nosuchoption": "1", "decoders": "1"}, false},
		{"missing mllr", map[string]string{"-mllr": "/nonexistent/mllr", "decoders": "1"}, true},
		{"ok", map[string]string{"decoders": "1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := asr.New(context.Background(), "sphinx", asr.Config{Phrases: []string{"hello contactd"}, DataDir: t.TempDir(), Options: tc.opts})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err=%v wantErr=%v", err, tc.wantErr)
			}
			if err != nil {
				t.Log(err)
				return
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Recognize(context.Background(), make([]int16, 1600)); err == nil {
				t.Fatal("Recognize after Close: want error")
			}
		})
	}
}
