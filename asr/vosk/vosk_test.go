package vosk_test

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
	_ "github.com/contactd/contactd/asr/vosk"
)

// fakeVosk speaks vosk-server's protocol (asr_server.py): a config message,
// binary PCM answered by one partial or result per message, {"eof":1}
// answered by the final result and a normal close. Its "recogniser" hears
// a loud stretch followed by 300 ms of quiet as the words "hello world".
type fakeVosk struct {
	mode  atomic.Value // string: "", "401", "500", "malformed", "disconnect", "slow-eof", "stall"
	conns atomic.Int32
	rate  atomic.Int32 // sample_rate of the last config
}

func (f *fakeVosk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.conns.Add(1)
	mode := f.mode.Load().(string)
	switch mode {
	case "401":
		http.Error(w, "no", http.StatusUnauthorized)
		return
	case "500":
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	typ, msg, err := c.Read(ctx)
	var cfg struct {
		Config struct {
			SampleRate int `json:"sample_rate"`
		} `json:"config"`
	}
	if err != nil || typ != websocket.MessageText || json.Unmarshal(msg, &cfg) != nil {
		c.Close(websocket.StatusProtocolError, "config expected")
		return
	}
	f.rate.Store(int32(cfg.Config.SampleRate))
	if mode == "stall" {
		<-ctx.Done()
		return
	}
	var pos, speechStart, quiet int // samples
	inSpeech := false
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		return c.Write(ctx, websocket.MessageText, b) == nil
	}
	result := func() map[string]any {
		st, end := float64(speechStart)/16000, float64(pos-quiet)/16000
		mid := (st + end) / 2
		return map[string]any{
			"result": []map[string]any{
				{"conf": 0.9, "start": st, "end": mid, "word": "hello"},
				{"conf": 0.7, "start": mid, "end": end, "word": "world"},
			},
			"text": "hello world",
		}
	}
	for n := 0; ; n++ {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText {
			if !strings.Contains(string(msg), `"eof"`) {
				continue
			}
			if mode == "slow-eof" {
				<-ctx.Done()
				return
			}
			if inSpeech {
				send(result())
			} else {
				send(map[string]any{"text": ""})
			}
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		if mode == "disconnect" && n == 3 {
			return // drops the TCP connection without a close frame
		}
		if mode == "malformed" && n == 2 {
			c.Write(ctx, websocket.MessageText, []byte(`{"partial": "hel`))
			continue
		}
		for i := 0; i+1 < len(msg); i += 2 {
			v := int16(binary.LittleEndian.Uint16(msg[i:]))
			loud := v > 2000 || v < -2000
			pos++
			switch {
			case loud && !inSpeech:
				inSpeech, speechStart, quiet = true, pos, 0
			case loud:
				quiet = 0
			case inSpeech:
				quiet++
			}
		}
		switch {
		case inSpeech && quiet > 16000*3/10:
			inSpeech = false
			send(result())
		case inSpeech:
			send(map[string]any{"partial": "hello"})
		default:
			send(map[string]any{"partial": ""})
		}
	}
}

func newServer(t *testing.T, mode string) (*fakeVosk, asr.Recognizer) {
	t.Helper()
	f := &fakeVosk{}
	f.mode.Store(mode)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	rec, err := asr.New(context.Background(), "vosk", asr.Config{Options: map[string]string{
		"url": "ws" + strings.TrimPrefix(srv.URL, "http"), "close_timeout": "500ms"}})
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

// writeFrames writes pcm as 20 ms frames, as the media path does.
func writeFrames(s asr.Stream, pcms ...[]int16) {
	for _, pcm := range pcms {
		for i := 0; i < len(pcm); i += 320 {
			s.Write(pcm[i:min(i+320, len(pcm))])
		}
	}
}

// collect reads results until Results closes or the deadline passes.
func collect(t *testing.T, s asr.Stream, within time.Duration) (rs []asr.Result, closed bool) {
	t.Helper()
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

func count(rs []asr.Result, k asr.Kind) (n int) {
	for _, r := range rs {
		if r.Kind == k {
			n++
		}
	}
	return n
}

func TestStream(t *testing.T) {
	f, rec := newServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := rec.NewStream(ctx, asr.StreamOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// One utterance the server ends itself, one ended by eof at Close.
	writeFrames(st, silence(500*time.Millisecond), tone(time.Second), silence(time.Second), tone(time.Second), silence(200*time.Millisecond))
	if err := st.Close(); err != nil {
		t.Fatal("Close:", err)
	}
	rs, closed := collect(t, st, 5*time.Second)
	if !closed {
		t.Fatal("Results not closed after Close")
	}
	if got := f.rate.Load(); got != 16000 {
		t.Fatalf("config sample_rate=%d", got)
	}
	fs := finals(rs)
	if len(fs) != 2 || count(rs, asr.SpeechStart) != 2 || count(rs, asr.Partial) != 2 {
		t.Fatalf("finals=%d starts=%d partials=%d: %+v", len(fs), count(rs, asr.SpeechStart), count(rs, asr.Partial), rs)
	}
	for i, want := range []int64{500, 2500} {
		r := fs[i]
		if r.Text != "hello world" || len(r.Words) != 2 || r.Words[1].Text != "world" {
			t.Fatalf("final %d: %+v", i, r)
		}
		if d := r.StartMS - want; d < -30 || d > 30 || r.EndMS-r.StartMS < 900 || r.EndMS-r.StartMS > 1100 {
			t.Fatalf("final %d spans %d..%d ms, want about %d..%d", i, r.StartMS, r.EndMS, want, want+1000)
		}
		if math.Abs(r.Confidence-0.8) > 1e-9 {
			t.Fatalf("confidence %v, want mean of word confidences 0.8", r.Confidence)
		}
	}
	if err := asr.StreamErr(st); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	st.Write(tone(time.Second)) // after Close: dropped, no panic
}

func TestRecognize(t *testing.T) {
	_, rec := newServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pcm := append(append(silence(300*time.Millisecond), tone(time.Second)...), silence(100*time.Millisecond)...)
	r, err := rec.Recognize(ctx, pcm)
	if err != nil || r.Kind != asr.Final || r.Text != "hello world" {
		t.Fatalf("r=%+v err=%v", r, err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		dialErr   string // NewStream fails with this
		fatal     bool
		endsEarly bool   // Results closes before Close
		errHas    string // in StreamErr
	}{
		{"unauthorized", "401", "HTTP 401", true, false, ""},
		{"server error", "500", "HTTP 500", false, false, ""},
		{"malformed json", "malformed", "", false, true, "malformed message"},
		{"disconnect mid-stream", "disconnect", "", false, true, "connection lost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newServer(t, tc.mode)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st, err := rec.NewStream(ctx, asr.StreamOptions{})
			if tc.dialErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.dialErr) || errors.Is(err, asr.ErrFatal) != tc.fatal {
					t.Fatalf("err=%v, want %q (fatal %v)", err, tc.dialErr, tc.fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			writeFrames(st, tone(time.Second))
			_, closed := collect(t, st, 5*time.Second)
			if closed != tc.endsEarly {
				t.Fatalf("Results closed early = %v", closed)
			}
			writeFrames(st, tone(10*time.Second)) // a dead stream still takes audio
			if err := asr.StreamErr(st); err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("StreamErr = %v, want %q", err, tc.errHas)
			}
			if err := st.Close(); err == nil {
				t.Fatal("Close of a failed stream returned nil")
			}
			// Reconnect: the next stream dials again (and fails the same way here).
			st2, err := rec.NewStream(ctx, asr.StreamOptions{})
			if err != nil {
				t.Fatal(err)
			}
			st2.Close()
			if n := f.conns.Load(); n != 2 {
				t.Fatalf("%d connections, want 2", n)
			}
		})
	}
}

func TestReconnectAfterDisconnect(t *testing.T) {
	f, rec := newServer(t, "disconnect")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := rec.NewStream(ctx, asr.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(st, tone(time.Second))
	if _, closed := collect(t, st, 5*time.Second); !closed {
		t.Fatal("stream did not end on disconnect")
	}
	st.Close()
	f.mode.Store("") // the server is back
	st2, err := rec.NewStream(ctx, asr.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(st2, silence(300*time.Millisecond), tone(time.Second), silence(500*time.Millisecond))
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}
	rs, _ := collect(t, st2, 5*time.Second)
	if fs := finals(rs); len(fs) != 1 || fs[0].Text != "hello world" {
		t.Fatalf("after reconnect: %+v", rs)
	}
}

func TestSlowServer(t *testing.T) {
	t.Run("no answer to eof", func(t *testing.T) {
		_, rec := newServer(t, "slow-eof")
		st, err := rec.NewStream(context.Background(), asr.StreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		writeFrames(st, tone(500*time.Millisecond))
		t0 := time.Now()
		err = st.Close() // close_timeout is 500ms
		if err == nil || !strings.Contains(err.Error(), "no final result") {
			t.Fatalf("Close err=%v", err)
		}
		if d := time.Since(t0); d > 3*time.Second {
			t.Fatalf("Close took %v", d)
		}
	})
	t.Run("server stops reading: Write drops", func(t *testing.T) {
		_, rec := newServer(t, "stall")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st, err := rec.NewStream(ctx, asr.StreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			frame := tone(20 * time.Millisecond)
			for range 60000 { // 20 minutes of audio: more than the socket buffers hold
				st.Write(frame)
			}
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("Write blocked")
		}
		if d := st.(interface{ Dropped() int64 }).Dropped(); d == 0 {
			t.Fatal("nothing dropped")
		}
		cancel()
		st.Close()
	})
}

func TestBadOptions(t *testing.T) {
	for _, o := range []map[string]string{
		{"url": "http://x"}, {"url": "::"}, {"silence_ms": "-1"}, {"close_timeout": "soon"},
	} {
		if _, err := asr.New(context.Background(), "vosk", asr.Config{Options: o}); err == nil {
			t.Errorf("options %v: want error", o)
		}
	}
}
