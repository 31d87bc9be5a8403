package deepgram

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/internal/wsstream"
	"github.com/contactd/contactd/asr/vad"
)

func init() {
	asr.Register("deepgram", func(ctx context.Context, cfg asr.Config) (asr.Recognizer, error) {
		return New(cfg, nil)
	})
}

// DefaultURL is Deepgram's hosted streaming endpoint.
const DefaultURL = "wss://api.deepgram.com/v1/listen"

// KeyEnv is the environment variable the API key is read from when the
// api_key option is not set.
const KeyEnv = "CONTACTD_DEEPGRAM_API_KEY"

// Recognizer opens one Deepgram connection per stream; it holds none
// itself, so it is safe for concurrent use and Close is a no-op.
type Recognizer struct {
	url          string // with query, no secret
	key          string
	keepalive    time.Duration
	closeTimeout time.Duration
	log          *slog.Logger
}

var _ asr.Recognizer = (*Recognizer)(nil)

// New checks the options (see the package doc); it does not connect.
func New(cfg asr.Config, log *slog.Logger) (*Recognizer, error) {
	if log == nil {
		log = slog.Default()
	}
	o := cfg.Options
	get := func(k, def string) string {
		if v := strings.TrimSpace(o[k]); v != "" {
			return v
		}
		return def
	}
	r := &Recognizer{log: log, key: get("api_key", strings.TrimSpace(os.Getenv(KeyEnv)))}
	if r.key == "" {
		return nil, fmt.Errorf("deepgram: no API key: set option api_key or env %s", KeyEnv)
	}
	u, err := url.Parse(get("url", DefaultURL))
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("deepgram: option url=%q: want wss://host/v1/listen", o["url"])
	}
	endpointing := get("endpointing", "500")
	if n, err := strconv.Atoi(endpointing); err != nil || n <= 0 {
		return nil, fmt.Errorf("deepgram: option endpointing=%q: want milliseconds", endpointing)
	}
	dur := func(k, def string) (time.Duration, error) {
		d, err := time.ParseDuration(get(k, def))
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("deepgram: option %s=%q: want a duration like 5s", k, o[k])
		}
		return d, nil
	}
	if r.keepalive, err = dur("keepalive", "5s"); err != nil {
		return nil, err
	}
	if r.closeTimeout, err = dur("close_timeout", "5s"); err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("encoding", "linear16")
	q.Set("sample_rate", strconv.Itoa(asr.SampleRate))
	q.Set("channels", "1")
	q.Set("interim_results", "true")
	q.Set("endpointing", endpointing)
	q.Set("utterance_end_ms", "1000") // ends utterances in noise, where endpointing may not
	q.Set("model", get("model", "nova-3"))
	q.Set("language", get("language", "en"))
	u.RawQuery = q.Encode()
	r.url = u.String()
	return r, nil
}

func (r *Recognizer) config(label string) wsstream.Config {
	return wsstream.Config{
		Name:           "deepgram",
		URL:            r.url,
		Header:         http.Header{"Authorization": {"Token " + r.key}},
		Bye:            []byte(`{"type":"CloseStream"}`),
		KeepAlive:      []byte(`{"type":"KeepAlive"}`),
		KeepAliveEvery: r.keepalive,
		Parser:         &parser{},
		VAD:            vad.Config{},
		CloseTimeout:   r.closeTimeout,
		Logger:         r.log,
		Label:          label,
	}
}

// NewStream dials Deepgram. The stream's goroutines end with Close or ctx.
func (r *Recognizer) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	return wsstream.Open(ctx, r.config(opts.Label))
}

// Recognize streams one utterance over a fresh connection.
func (r *Recognizer) Recognize(ctx context.Context, pcm []int16) (asr.Result, error) {
	return wsstream.Recognize(ctx, r.config(""), pcm)
}

// Close does nothing: streams own their connections.
func (r *Recognizer) Close() error { return nil }

type word struct {
	Word       string  `json:"word"`
	Start      float64 `json:"start"`
	End        float64 `json:"end"`
	Confidence float64 `json:"confidence"`
}

type message struct {
	Type    string `json:"type"`
	Channel struct {
		Alternatives []struct {
			Transcript string  `json:"transcript"`
			Confidence float64 `json:"confidence"`
			Words      []word  `json:"words"`
		} `json:"alternatives"`
	} `json:"channel"`
	IsFinal     bool    `json:"is_final"`
	SpeechFinal bool    `json:"speech_final"`
	Start       float64 `json:"start"`
	Duration    float64 `json:"duration"`
	// Error messages.
	Description string `json:"description"`
	Message     string `json:"message"`
}

// parser joins is_final pieces until the end of the utterance.
type parser struct {
	pending     []asr.Result // finalised pieces of the current utterance
	lastPartial string
}

func ms(sec float64) int64 { return int64(sec*1000 + 0.5) }

func (p *parser) Parse(msg []byte) ([]asr.Result, error) {
	var m message
	if err := json.Unmarshal(msg, &m); err != nil {
		return nil, fmt.Errorf("malformed message %.80q: %w", msg, err)
	}
	switch m.Type {
	case "Results":
	case "UtteranceEnd":
		return p.Flush(), nil
	case "Error":
		return nil, fmt.Errorf("server error: %s %s", m.Message, m.Description)
	default: // Metadata, SpeechStarted, and what comes later
		return nil, nil
	}
	if len(m.Channel.Alternatives) == 0 {
		return nil, nil
	}
	alt := m.Channel.Alternatives[0]
	piece := asr.Result{Text: strings.TrimSpace(alt.Transcript), Confidence: alt.Confidence,
		StartMS: ms(m.Start), EndMS: ms(m.Start + m.Duration)}
	for _, w := range alt.Words {
		piece.Words = append(piece.Words, asr.Word{Text: w.Word, StartMS: ms(w.Start), EndMS: ms(w.End), Conf: w.Confidence})
	}
	if n := len(piece.Words); n > 0 {
		piece.StartMS, piece.EndMS = piece.Words[0].StartMS, piece.Words[n-1].EndMS
	}
	if !m.IsFinal {
		text := strings.TrimSpace(p.text() + " " + piece.Text)
		if piece.Text == "" || text == p.lastPartial {
			return nil, nil
		}
		p.lastPartial = text
		start := piece.StartMS
		if len(p.pending) > 0 {
			start = p.pending[0].StartMS
		}
		return []asr.Result{{Kind: asr.Partial, Text: text, StartMS: start, EndMS: piece.EndMS, Confidence: piece.Confidence}}, nil
	}
	if piece.Text != "" {
		p.pending = append(p.pending, piece)
	}
	if m.SpeechFinal {
		return p.Flush(), nil
	}
	return nil, nil
}

func (p *parser) text() string {
	var b strings.Builder
	for _, r := range p.pending {
		b.WriteString(r.Text + " ")
	}
	return strings.TrimSpace(b.String())
}

// Flush turns the pending pieces into one Final.
func (p *parser) Flush() []asr.Result {
	p.lastPartial = ""
	if len(p.pending) == 0 {
		return nil
	}
	r := asr.Result{Kind: asr.Final, Text: p.text(), StartMS: p.pending[0].StartMS, EndMS: p.pending[len(p.pending)-1].EndMS}
	for _, pc := range p.pending {
		r.Words = append(r.Words, pc.Words...)
		r.Confidence += pc.Confidence
	}
	r.Confidence /= float64(len(p.pending))
	p.pending = nil
	return []asr.Result{r}
}
