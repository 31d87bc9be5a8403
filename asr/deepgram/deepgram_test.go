package deepgram_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/deepgram"
)

const key = "test-key"

// fakeDeepgram speaks Deepgram's /v1/listen streaming protocol: it checks
// the token and query, hears a loud stretch as speech, sends interim
// Results, finalises the first second of an utterance as the piece "hello"
// (is_final) and the rest as "world" (is_final + speech_final) after 300 ms
// of quiet; CloseStream finalises what is left, sends Metadata and closes.
type fakeDeepgram struct {
	mode       atomic.Value // string
	conns      atomic.Int32
	keepalives atomic.Int32
	query      atomic.Value // url.Values as string
}

func (f *fakeDeepgram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.conns.Add(1)
	mode := f.mode.Load().(string)
	f.query.Store(r.URL.RawQuery)
	if r.Header.Get("Authorization") != "Token "+key {
		http.Error(w, `{"err_code":"INVALID_AUTH"}`, http.StatusUnauthorized)
		return
	}
	if mode == "500" {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	var pos, start, pieceStart, quiet int
	inSpeech := false
	send := func(v any) { b, _ := json.Marshal(v); c.Write(ctx, websocket.MessageText, b) }
	sec := func(n int) float64 { return float64(n) / 16000 }
	results := func(text string, from, to int, isFinal, speechFinal bool) map[string]any {
		words := []map[string]any{}
		if text != "" {
			words = append(words, map[string]any{"word": text, "start": sec(from), "end": sec(to), "confidence": 0.9, "punctuated_word": text})
		}
		return map[string]any{"type": "Results", "start": sec(from), "duration": sec(to - from),
			"is_final": isFinal, "speech_final": speechFinal,
			"channel": map[string]any{"alternatives": []map[string]any{{"transcript": text, "confidence": 0.8, "words": words}}}}
	}
	for n := 0; ; n++ {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText {
			var m struct{ Type string }
			json.Unmarshal(msg, &m)
			switch m.Type {
			case "KeepAlive":
				f.keepalives.Add(1)
			case "CloseStream":
				if mode == "slow-eof" {
					<-ctx.Done()
					return
				}
				if inSpeech {
					send(results("world", pieceStart, pos-quiet, true, false))
				}
				send(map[string]any{"type": "Metadata", "request_id": "x"})
				c.Close(websocket.StatusNormalClosure, "")
				return
			}
			continue
		}
		switch {
		case mode == "disconnect" && n == 3:
			return
		case mode == "malformed" && n == 2:
			c.Write(ctx, websocket.MessageText, []byte(`{"type":"Results",`))
			continue
		case mode == "close-error" && n == 2:
			c.Close(websocket.StatusPolicyViolation, "DATA-0000")
			return
		}
		for i := 0; i+1 < len(msg); i += 2 {
			v := int16(binary.LittleEndian.Uint16(msg[i:]))
			loud := v > 2000 || v < -2000
			pos++
			switch {
			case loud && !inSpeech:
				inSpeech, start, pieceStart, quiet = true, pos, pos, 0
			case loud:
				quiet = 0
				if pieceStart == start && pos-start >= 16000 {
					send(results("hello", start, pos, true, false))
					pieceStart = pos
				}
			case inSpeech:
				quiet++
			}
		}
		switch {
		case inSpeech && quiet > 16000*3/10:
			inSpeech = false
			send(results("world", pieceStart, pos-quiet, true, true))
		case inSpeech:
			send(results("hel", pieceStart, pos, false, false))
		}
	}
}

func newServer(t *testing.T, mode string, opts map[string]string) (*fakeDeepgram, asr.Recognizer) {
	t.Helper()
	f := &fakeDeepgram{}
	f.mode.Store(mode)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o := map[string]string{"url": "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/listen", "api_key": key, "close_timeout": "500ms"}
	for k, v := range opts {
		o[k] = v
	}
	rec, err := asr.New(context.Background(), "deepgram", asr.Config{Options: o})
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

func collect(s asr.Stream, within time.Duration) (rs []asr.Result, closed bool) {
	deadline := time.After(within)
	for {
		select {
		case r, ok := <-s.Results():
			if !ok {
				return rs, true
			}
			rs = append(rs, r)
		case <-deadline:
			return rs, false
		}
	}
}

func finals(rs []asr.Result) (out []asr.Result) {
	for _, r := range rs {
		if r.Kind == asr.Final {
			out = append(out, r)
		}
	}
	return out
}

func TestStream(t *testing.T) {
	f, rec := newServer(t, "", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := rec.NewStream(ctx, asr.StreamOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// An utterance ended by speech_final, then one ended by CloseStream.
	writeFrames(st, silence(500*time.Millisecond), tone(1500*time.Millisecond), silence(time.Second),
		tone(1500*time.Millisecond), silence(100*time.Millisecond))
	if err := st.Close(); err != nil {
		t.Fatal("Close:", err)
	}
	rs, closed := collect(st, 5*time.Second)
	if !closed {
		t.Fatal("Results not closed after Close")
	}
	q := f.query.Load().(string)
	for _, want := range []string{"encoding=linear16", "sample_rate=16000", "channels=1", "interim_results=true", "endpointing=500", "model=nova-3"} {
		if !strings.Contains(q, want) {
			t.Errorf("query %q lacks %s", q, want)
		}
	}
	fs := finals(rs)
	var partials, starts int
	for _, r := range rs {
		switch r.Kind {
		case asr.Partial:
			partials++
		case asr.SpeechStart:
			starts++
		}
	}
	if len(fs) != 2 || partials == 0 || starts != 2 {
		t.Fatalf("finals=%d partials=%d starts=%d: %+v", len(fs), partials, starts, rs)
	}
	for i, want := range []int64{500, 3000} {
		r := fs[i]
		if r.Text != "hello world" || len(r.Words) != 2 || math.Abs(r.Confidence-0.8) > 1e-9 {
			t.Fatalf("final %d: %+v", i, r)
		}
		if d := r.StartMS - want; d < -30 || d > 30 || r.EndMS-r.StartMS < 1400 || r.EndMS-r.StartMS > 1600 {
			t.Fatalf("final %d spans %d..%d, want about %d..%d", i, r.StartMS, r.EndMS, want, want+1500)
		}
	}
	if err := asr.StreamErr(st); err != nil {
		t.Fatal(err)
	}
}

func TestRecognize(t *testing.T) {
	_, rec := newServer(t, "", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := rec.Recognize(ctx, append(silence(300*time.Millisecond), tone(1200*time.Millisecond)...))
	if err != nil || r.Text != "hello world" {
		t.Fatalf("r=%+v err=%v", r, err)
	}
}

func TestKeepAlive(t *testing.T) {
	f, rec := newServer(t, "", map[string]string{"keepalive": "100ms"})
	st, err := rec.NewStream(context.Background(), asr.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(5 * time.Second)
	for f.keepalives.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no keep-alives while idle")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		key       string
		dialErr   string
		fatal     bool
		endsEarly bool
		errHas    string
	}{
		{"wrong key", "", "bad", "HTTP 401", true, false, ""},
		{"server error", "500", key, "HTTP 500", false, false, ""},
		{"malformed json", "malformed", key, "", false, true, "malformed message"},
		{"disconnect mid-stream", "disconnect", key, "", false, true, "connection lost"},
		{"closed with error code", "close-error", key, "", false, true, "DATA-0000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newServer(t, tc.mode, map[string]string{"api_key": tc.key})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st, err := rec.NewStream(ctx, asr.StreamOptions{})
			if tc.dialErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.dialErr) || errors.Is(err, asr.ErrFatal) != tc.fatal {
					t.Fatalf("err=%v, want %q (fatal %v)", err, tc.dialErr, tc.fatal)
				}
				if strings.Contains(err.Error(), tc.key) {
					t.Fatal("error shows the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			writeFrames(st, tone(time.Second))
			if _, closed := collect(st, 5*time.Second); closed != tc.endsEarly {
				t.Fatalf("Results closed early = %v", closed)
			}
			writeFrames(st, tone(5*time.Second))
			if err := asr.StreamErr(st); err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("StreamErr = %v, want %q", err, tc.errHas)
			}
			st.Close()
			// Reconnect: the server is healthy again; a new stream works.
			f.mode.Store("")
			st2, err := rec.NewStream(ctx, asr.StreamOptions{})
			if err != nil {
				t.Fatal(err)
			}
			writeFrames(st2, silence(300*time.Millisecond), tone(1200*time.Millisecond), silence(500*time.Millisecond))
			if err := st2.Close(); err != nil {
				t.Fatal(err)
			}
			rs, _ := collect(st2, 5*time.Second)
			if fs := finals(rs); len(fs) != 1 || fs[0].Text != "hello world" {
				t.Fatalf("after reconnect: %+v", rs)
			}
		})
	}
}

func TestSlowServer(t *testing.T) {
	_, rec := newServer(t, "slow-eof", nil)
	st, err := rec.NewStream(context.Background(), asr.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(st, tone(500*time.Millisecond))
	done := make(chan error, 1)
	go func() { done <- st.Close() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "no final result") {
			t.Fatalf("Close err=%v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not give up on a silent server")
	}
}

func TestOptions(t *testing.T) {
	t.Setenv(deepgram.KeyEnv, "")
	for _, o := range []map[string]string{
		{}, // no key
		{"api_key": "k", "url": "https://x"},
		{"api_key": "k", "endpointing": "x"},
		{"api_key": "k", "keepalive": "0"},
	} {
		if _, err := asr.New(context.Background(), "deepgram", asr.Config{Options: o}); err == nil {
			t.Errorf("options %v: want error", o)
		}
	}
	t.Setenv(deepgram.KeyEnv, "from-env")
	if _, err := asr.New(context.Background(), "deepgram", asr.Config{}); err != nil {
		t.Fatal("key from env:", err)
	}
}
