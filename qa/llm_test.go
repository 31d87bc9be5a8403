package qa

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/contactd/contactd/transcript"
)

// fakeChat is an OpenAI-compatible chat server that answers with reply
// (the assistant message's content) and records the request.
func fakeChat(t *testing.T, status int, reply string) (*httptest.Server, *map[string]any) {
	t.Helper()
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad path or key", 401)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": reply}}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestLLM(t *testing.T) {
	good := `{"items":[
		{"key":"greeting","passed":false,"not_applicable":false,"reason":"no name","evidence":[{"start_ms":45000,"speaker":"agent","text":"hello"}]},
		{"key":"verification","passed":true,"not_applicable":false,"reason":"asked order number","evidence":[{"start_ms":55000,"speaker":"agent","text":"x"},{"start_ms":1,"speaker":"agent","text":"invented"}]},
		{"key":"empathy","passed":true,"not_applicable":false,"reason":"","evidence":[]},
		{"key":"prohibited_language","passed":true,"not_applicable":false,"reason":"","evidence":[]},
		{"key":"resolution","passed":true,"not_applicable":false,"reason":"","evidence":[]},
		{"key":"closing","passed":true,"not_applicable":false,"reason":"","evidence":[]}]}`
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name       string
		status     int
		reply      string
		wantMethod string
		wantScore  int
	}{
		{"judged", 200, good, "llm", 90},
		{"server error falls back", 500, good, "rules", 100},
		{"not json falls back", 200, "I think the agent did well", "rules", 100},
		{"missing item falls back", 200, `{"items":[]}`, "rules", 100},
		{"unknown field falls back", 200, `{"items":[],"mood":"ok"}`, "rules", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, req := fakeChat(t, tt.status, tt.reply)
			l, err := NewLLM(LLMOptions{URL: srv.URL, Model: "m", APIKey: "k", Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			ev := l.Score(context.Background(), DefaultScorecard(), goodCall, "sam")
			if ev.Method != tt.wantMethod || ev.Score != tt.wantScore || len(ev.Items) != 7 {
				t.Fatalf("method %q score %d items %d, want %q %d", ev.Method, ev.Score, len(ev.Items), tt.wantMethod, tt.wantScore)
			}
			rf, _ := (*req)["response_format"].(map[string]any)
			if rf["type"] != "json_schema" {
				t.Errorf("response_format %v", rf)
			}
			if tt.wantMethod != "llm" {
				return
			}
			if e := item(t, ev, "verification").Evidence; len(e) != 1 || e[0].StartMS != 55000 || !strings.Contains(e[0].Text, "order number") {
				t.Errorf("evidence not snapped to real lines: %+v", e)
			}
			if it := item(t, ev, "dead_air"); !it.Passed || len(it.Evidence) != 2 {
				t.Errorf("dead air should come from the rules: %+v", it)
			}
		})
	}
	if _, err := NewLLM(LLMOptions{URL: "ftp://x", Model: "m"}); err == nil {
		t.Error("ftp URL accepted")
	}
	if _, err := NewLLM(LLMOptions{URL: "http://x"}); err == nil {
		t.Error("no model accepted")
	}
}

// withWords gives every line of tr word timings, spread evenly over the line.
func withWords(tr transcript.Transcript) transcript.Transcript {
	segs := make([]transcript.Segment, len(tr.Segments))
	for i, s := range tr.Segments {
		f := strings.Fields(s.Text)
		step := (s.EndMS - s.StartMS) / int64(len(f))
		for j, w := range f {
			s.Words = append(s.Words, transcript.Word{Text: w, StartMS: s.StartMS + int64(j)*step, EndMS: s.StartMS + int64(j+1)*step})
		}
		segs[i] = s
	}
	tr.Segments = segs
	return tr
}

// wordsOf is the texts of ws joined.
func wordsOf(ws []transcript.Word) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Text)
	}
	return strings.Join(out, " ")
}

// TestLLMEvidenceMarksWords: an LLM judge's quotes are found in the
// transcript — the exact line, a line whose time the model got a little
// wrong, a quote in other case and punctuation — and their words are
// marked with their times, as the rules' evidence is; an invented quote
// is dropped, and a line named by its time whose words the quote does
// not match is kept unmarked.
func TestLLMEvidenceMarksWords(t *testing.T) {
	reply := `{"items":[
		{"key":"greeting","passed":true,"not_applicable":false,"reason":"named","evidence":[{"start_ms":45000,"speaker":"agent","text":"my name is Sam"}]},
		{"key":"verification","passed":true,"not_applicable":false,"reason":"asked","evidence":[{"start_ms":54000,"speaker":"agent","text":"Can I have your order number, please?"}]},
		{"key":"empathy","passed":true,"not_applicable":false,"reason":"","evidence":[{"start_ms":55000,"speaker":"agent","text":"I'm sorry to hear that."},{"start_ms":55000,"speaker":"agent","text":"your order number"}]},
		{"key":"prohibited_language","passed":true,"not_applicable":false,"reason":"","evidence":[]},
		{"key":"resolution","passed":true,"not_applicable":false,"reason":"","evidence":[{"start_ms":66000,"speaker":"agent","text":"the agent resolved it"}]},
		{"key":"closing","passed":true,"not_applicable":false,"reason":"","evidence":[{"start_ms":1,"speaker":"agent","text":"we value your loyalty"}]}]}`
	srv, _ := fakeChat(t, 200, reply)
	l, err := NewLLM(LLMOptions{URL: srv.URL, Model: "m", APIKey: "k", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	call := withWords(goodCall)
	ev := l.Score(context.Background(), DefaultScorecard(), call, "sam")
	if ev.Method != "llm" {
		t.Fatalf("method %q", ev.Method)
	}
	line := func(start int64) transcript.Segment {
		for _, s := range call.Segments {
			if s.StartMS == start && s.Speaker == transcript.Agent {
				return s
			}
		}
		t.Fatalf("no agent line at %d", start)
		return transcript.Segment{}
	}
	for _, tc := range []struct {
		key   string
		start int64
		words string // the marked words; "" none
	}{
		{"greeting", 45000, "my name is sam"},
		{"verification", 55000, "can i have your order number please"},
		{"empathy", 55000, "i'm sorry to hear that your order number"}, // two quotes of one line
		{"resolution", 66000, ""},
	} {
		e := item(t, ev, tc.key).Evidence
		if len(e) != 1 || e[0].StartMS != tc.start {
			t.Errorf("%s evidence %+v, want one line at %d", tc.key, e, tc.start)
			continue
		}
		if got := wordsOf(e[0].Words); got != tc.words {
			t.Errorf("%s marked words %q, want %q", tc.key, got, tc.words)
		}
		fields := strings.Fields(e[0].Text)
		var marked []string
		for _, h := range e[0].Highlights {
			marked = append(marked, fields[h.From:h.To]...)
		}
		if strings.Join(marked, " ") != tc.words {
			t.Errorf("%s highlights %v mark %q, want %q", tc.key, e[0].Highlights, marked, tc.words)
		}
		s := line(tc.start)
		for _, w := range e[0].Words { // the transcript's own times
			if !slices.Contains(s.Words, w) {
				t.Errorf("%s word %+v is not one of the line's", tc.key, w)
			}
		}
	}
	if e := item(t, ev, "closing").Evidence; len(e) != 0 {
		t.Errorf("an invented quote kept: %+v", e)
	}
}

// TestRulesEvidenceWords: the rules' evidence carries its marked words'
// times too, and none for a line without word timings.
func TestRulesEvidenceWords(t *testing.T) {
	ev := ScoreCall(DefaultScorecard(), withWords(goodCall), "sam")
	e := item(t, ev, "greeting").Evidence
	if len(e) == 0 || len(e[0].Words) == 0 || e[0].Words[0].StartMS <= e[0].StartMS {
		t.Fatalf("greeting evidence %+v", e)
	}
	if !strings.Contains(wordsOf(e[0].Words), "acme") {
		t.Errorf("greeting marked words %q", wordsOf(e[0].Words))
	}
	for _, it := range ScoreCall(DefaultScorecard(), goodCall, "sam").Items {
		for _, e := range it.Evidence {
			if e.Words != nil {
				t.Errorf("%s: words without word timings: %+v", it.Key, e.Words)
			}
		}
	}
}
