package vosk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/internal/wsstream"
	"github.com/contactd/contactd/asr/vad"
)

func init() {
	asr.Register("vosk", func(ctx context.Context, cfg asr.Config) (asr.Recognizer, error) {
		return New(cfg, nil)
	})
}

// DefaultURL is where vosk-server listens by default.
const DefaultURL = "ws://127.0.0.1:2700"

// Recognizer opens one vosk-server connection per stream. It holds no
// connection itself, so it is safe for concurrent use and Close is a no-op.
type Recognizer struct {
	url          string
	silence      time.Duration
	closeTimeout time.Duration
	log          *slog.Logger
}

var _ asr.Recognizer = (*Recognizer)(nil)

// New checks the options (see the package doc); it does not connect.
func New(cfg asr.Config, log *slog.Logger) (*Recognizer, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Recognizer{url: DefaultURL, silence: 600 * time.Millisecond, closeTimeout: 5 * time.Second, log: log}
	o := cfg.Options
	if v := strings.TrimSpace(o["url"]); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return nil, fmt.Errorf("vosk: option url=%q: want ws://host:port or wss://", v)
		}
		r.url = v
	}
	if v := strings.TrimSpace(o["silence_ms"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("vosk: option silence_ms=%q: want a positive integer", v)
		}
		r.silence = time.Duration(n) * time.Millisecond
	}
	if v := strings.TrimSpace(o["close_timeout"]); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("vosk: option close_timeout=%q: want a duration like 5s", v)
		}
		r.closeTimeout = d
	}
	return r, nil
}

func (r *Recognizer) config(label string) wsstream.Config {
	return wsstream.Config{
		Name:         "vosk",
		URL:          r.url,
		Hello:        []byte(`{"config":{"sample_rate":16000}}`),
		Bye:          []byte(`{"eof":1}`),
		Parser:       &parser{},
		VAD:          vad.Config{SilenceEnd: r.silence},
		CloseTimeout: r.closeTimeout,
		Logger:       r.log,
		Label:        label,
	}
}

// NewStream dials the server. The stream's goroutines end with Close or
// with ctx.
func (r *Recognizer) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	return wsstream.Open(ctx, r.config(opts.Label))
}

// Recognize sends one utterance over a fresh connection.
func (r *Recognizer) Recognize(ctx context.Context, pcm []int16) (asr.Result, error) {
	return wsstream.Recognize(ctx, r.config(""), pcm)
}

// Close does nothing: streams own their connections.
func (r *Recognizer) Close() error { return nil }

// word is one entry of a result's "result" list.
type word struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Conf  float64 `json:"conf"`
}

// message is any vosk-server answer. With max_alternatives the final comes
// as a list of alternatives, best first.
type message struct {
	Partial      *string `json:"partial"`
	Text         *string `json:"text"`
	Result       []word  `json:"result"`
	Alternatives []struct {
		Text       string  `json:"text"`
		Confidence float64 `json:"confidence"`
		Result     []word  `json:"result"`
	} `json:"alternatives"`
}

type parser struct {
	lastPartial string
	lastEndMS   int64
}

func ms(sec float64) int64 { return int64(sec*1000 + 0.5) }

func (p *parser) Parse(msg []byte) ([]asr.Result, error) {
	var m message
	if err := json.Unmarshal(msg, &m); err != nil {
		return nil, fmt.Errorf("malformed message %.80q: %w", msg, err)
	}
	if len(m.Alternatives) > 0 {
		a := m.Alternatives[0]
		m.Text, m.Result = &a.Text, a.Result
	}
	switch {
	case m.Text != nil:
		p.lastPartial = ""
		text := strings.TrimSpace(*m.Text)
		if text == "" {
			return nil, nil
		}
		r := asr.Result{Kind: asr.Final, Text: text, StartMS: p.lastEndMS, EndMS: p.lastEndMS}
		for _, w := range m.Result {
			r.Words = append(r.Words, asr.Word{Text: w.Word, StartMS: ms(w.Start), EndMS: ms(w.End), Conf: w.Conf})
			r.Confidence += w.Conf
		}
		if n := len(r.Words); n > 0 {
			r.Confidence /= float64(n)
			r.StartMS, r.EndMS = r.Words[0].StartMS, r.Words[n-1].EndMS
			p.lastEndMS = r.EndMS
		} else {
			r.Confidence = 1 // the server gave no word confidences
		}
		return []asr.Result{r}, nil
	case m.Partial != nil:
		text := strings.TrimSpace(*m.Partial)
		if text == "" || text == p.lastPartial {
			return nil, nil
		}
		p.lastPartial = text
		return []asr.Result{{Kind: asr.Partial, Text: text, StartMS: p.lastEndMS, EndMS: p.lastEndMS}}, nil
	}
	return nil, nil // unknown keys: ignore, as vosk clients do
}

func (p *parser) Flush() []asr.Result { return nil }
