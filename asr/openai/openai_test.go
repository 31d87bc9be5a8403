package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/openai"
	"github.com/contactd/contactd/media"
)

const key = "sk-test-secret"

// fakeServer speaks OpenAI's POST /v1/audio/transcriptions: it checks the
// bearer key and the multipart form (file a 16 kHz mono WAV, model,
// response_format, language), then answers each request as its script
// says: "ok" (verbose_json with words and segments, or {"text"} for
// response_format=json), "500", "401", "malformed", "slow" (answers after
// the client has given up), "drop" (closes the connection unanswered).
type fakeServer struct {
	mu     sync.Mutex
	script []string // one per request; the last repeats
	n      int
	forms  []map[string][]string
}

func (f *fakeServer) next() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.script[min(f.n, len(f.script)-1)]
	f.n++
	return s
}

func (f *fakeServer) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	act := f.next()
	if r.URL.Path != "/v1/audio/transcriptions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+key || act == "401" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`)
		return
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.forms = append(f.forms, r.MultipartForm.Value)
	f.mu.Unlock()
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	pcm, rate, ch, err := media.ReadWAV(file)
	if err != nil || rate != 16000 || ch != 1 {
		http.Error(w, fmt.Sprintf("bad wav: %v %d %d", err, rate, ch), http.StatusBadRequest)
		return
	}
	dur := float64(len(pcm)) / 16000
	switch act {
	case "500":
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusInternalServerError)
		return
	case "malformed":
		fmt.Fprint(w, `{"text": "hel`)
		return
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case "drop":
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.FormValue("response_format") == "json" {
		fmt.Fprint(w, `{"text":"hello world"}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"task": "transcribe", "language": "english", "duration": dur, "text": " Hello world.",
		"segments": []map[string]any{{"id": 0, "start": 0.0, "end": dur, "text": " Hello world.", "avg_logprob": math.Log(0.8)}},
		"words": []map[string]any{
			{"word": "Hello", "start": 0.2, "end": 0.5},
			{"word": "world.", "start": 0.5, "end": dur - 0.2},
		},
	})
}

func newRec(t *testing.T, script []string, opts map[string]string) (*fakeServer, asr.Recognizer) {
	t.Helper()
	f := &fakeServer{script: script}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o := map[string]string{"url": srv.URL, "api_key": key, "timeout": "300ms"}
	for k, v := range opts {
		o[k] = v
	}
	rec, err := asr.New(context.Background(), "openai", asr.Config{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return f, rec
}

func tone(d time.Duration) []int16 {
	out := make([]int16, int(d.Seconds()*asr.SampleRate))
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*300*float64(i)/asr.SampleRate))
	}
	return out
}

func silence(d time.Duration) []int16 { return make([]int16, int(d.Seconds()*asr.SampleRate)) }

func writeFrames(s asr.Stream, pcms ...[]int16) {
	for _, pcm := range pcms {
		for i := 0; i < len(pcm); i += 320 {
			s.Write(pcm[i:min(i+320, len(pcm))])
		}
	}
}

func TestRecognize(t *testing.T) {
	tests := []struct {
		name    string
		script  []string
		opts    map[string]string
		want    string
		errHas  string
		fatal   bool
		timings bool
	}{
		{"verbose json", []string{"ok"}, nil, "Hello world.", "", false, true},
		{"plain json", []string{"ok"}, map[string]string{"response_format": "json"}, "hello world", "", false, false},
		{"base url with /v1", []string{"ok"}, map[string]string{"url": "/v1"}, "Hello world.", "", false, true},
		{"server error", []string{"500"}, nil, "", "HTTP 500: overloaded", false, false},
		{"unauthorized", []string{"401"}, nil, "", "HTTP 401: Incorrect API key", true, false},
		{"malformed json", []string{"malformed"}, nil, "", "malformed answer", false, false},
		{"slow answer", []string{"slow"}, nil, "", "Timeout", false, false},
		{"connection dropped", []string{"drop"}, nil, "", "EOF", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			f := &fakeServer{script: tc.script}
			srv := httptest.NewServer(f)
			defer srv.Close()
			o := map[string]string{"url": srv.URL, "api_key": key, "timeout": "300ms"}
			for k, v := range opts {
				if k == "url" {
					v = srv.URL + v
				}
				o[k] = v
			}
			rec, err := asr.New(context.Background(), "openai", asr.Config{Options: o})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			r, err := rec.Recognize(context.Background(), tone(time.Second))
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || errors.Is(err, asr.ErrFatal) != tc.fatal {
					t.Fatalf("err=%v, want %q fatal=%v", err, tc.errHas, tc.fatal)
				}
				if strings.Contains(err.Error(), key) {
					t.Fatal("error shows the key")
				}
				if d := time.Since(t0); d > 3*time.Second {
					t.Fatalf("took %v despite a 300ms timeout", d)
				}
				return
			}
			if err != nil || r.Text != tc.want || r.Kind != asr.Final {
				t.Fatalf("r=%+v err=%v", r, err)
			}
			if want := map[bool]string{true: "en", false: ""}[tc.timings]; r.Language != want {
				t.Fatalf("language %q, want %q (the server said \"english\")", r.Language, want)
			}
			if tc.timings {
				if len(r.Words) != 2 || r.Words[0].StartMS != 200 || math.Abs(r.Confidence-0.8) > 1e-9 {
					t.Fatalf("words=%+v conf=%v", r.Words, r.Confidence)
				}
			}
			form := f.forms[0]
			if form["model"][0] != "whisper-1" || form["language"][0] != "en" {
				t.Fatalf("form %v", form)
			}
		})
	}
}

// runStream writes two utterances (at 0.5 s and 2.5 s) and a trailing
// silence, waits for the server to see requests requests, then says
// whether Results had closed by itself, closes and collects the finals.
func runStream(t *testing.T, f *fakeServer, rec asr.Recognizer, requests int, wantEarly bool) (finals []asr.Result, closedEarly bool, st asr.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	st, err := rec.NewStream(ctx, asr.StreamOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		defer close(got)
		for r := range st.Results() {
			if r.Kind == asr.Final {
				finals = append(finals, r)
			}
		}
	}()
	writeFrames(st, silence(500*time.Millisecond), tone(time.Second), silence(time.Second), tone(time.Second), silence(time.Second))
	deadline := time.Now().Add(10 * time.Second)
	for f.requests() < requests && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if wantEarly {
		select {
		case <-got:
			closedEarly = true
		case <-time.After(5 * time.Second):
		}
	} else {
		select {
		case <-got:
			closedEarly = true
		default:
		}
	}
	st.Close()
	<-got
	return finals, closedEarly, st
}

func TestStream(t *testing.T) {
	tests := []struct {
		name        string
		script      []string
		opts        map[string]string
		requests    int
		finals      int
		closedEarly bool
		errHas      string
	}{
		{"both utterances", []string{"ok"}, nil, 2, 2, false, ""},
		{"one failure, then the next request works", []string{"500", "ok"}, nil, 2, 1, false, "HTTP 500"},
		{"dropped connection, then reconnect", []string{"drop", "ok"}, nil, 2, 1, false, "EOF"},
		{"slow answer times out, next works", []string{"slow", "ok"}, nil, 2, 1, false, "Timeout"},
		{"rejected key ends the stream", []string{"401"}, nil, 1, 0, true, "HTTP 401"},
		{"failures in a row end the stream", []string{"malformed"}, map[string]string{"max_failures": "2"}, 2, 0, true, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newRec(t, tc.script, tc.opts)
			finals, early, st := runStream(t, f, rec, tc.requests, tc.closedEarly)
			if len(finals) != tc.finals || early != tc.closedEarly {
				t.Fatalf("finals=%+v closedEarly=%v", finals, early)
			}
			err := asr.StreamErr(st)
			if (tc.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("StreamErr=%v, want %q", err, tc.errHas)
			}
			if f.requests() != tc.requests {
				t.Fatalf("%d requests, want %d", f.requests(), tc.requests)
			}
			if tc.finals == 2 {
				for i, want := range []int64{500, 2500} {
					r := finals[i]
					if d := r.StartMS - want; d < -300 || d > 100 || r.Words[0].StartMS != r.StartMS+200 {
						t.Fatalf("final %d at %d ms (words %+v), want about %d", i, r.StartMS, r.Words, want)
					}
				}
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []map[string]string{
		{"url": "ftp://x"}, {"timeout": "never"}, {"max_failures": "-1"}, {"silence_ms": "x"},
	} {
		if _, err := asr.New(context.Background(), "openai", asr.Config{Options: o}); err == nil {
			t.Errorf("options %v: want error", o)
		}
	}
	t.Setenv(openai.KeyEnv, key)
	f, rec := newRec(t, []string{"ok"}, map[string]string{"api_key": ""})
	_ = f
	if _, err := rec.Recognize(context.Background(), tone(time.Second)); err != nil {
		t.Fatal("key from env:", err)
	}
}
