package openai

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/tts"
)

func init() {
	tts.Register("openai", func(ctx context.Context, cfg tts.Config) (tts.Synthesizer, error) {
		return New(cfg.Options)
	})
}

// DefaultURL is OpenAI's API base.
const DefaultURL = "https://api.openai.com/v1"

// KeyEnv is the environment variable the API key is read from when the
// api_key option is not set.
const KeyEnv = "CONTACTD_OPENAI_API_KEY"

// maxAnswer bounds the audio read from the server (about 10 minutes of
// 24 kHz PCM), so a broken server cannot exhaust memory.
const maxAnswer = 32 << 20

// Synth posts prompts to a speech endpoint. It is safe for concurrent use.
type Synth struct {
	endpoint string
	model    string
	voice    string
	format   string
	rate     int
	speed    float64
	key      string
	client   *http.Client
}

var (
	_ tts.Synthesizer = (*Synth)(nil)
	_ tts.Voicer      = (*Synth)(nil)
)

// New checks the options (see the package doc); it does not connect.
func New(o map[string]string) (*Synth, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(o[k]); v != "" {
			return v
		}
		return def
	}
	base := strings.TrimRight(get("url", DefaultURL), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai tts: option url=%q: want http(s)://host[:port][/v1]", o["url"])
	}
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	s := &Synth{
		endpoint: base + "/audio/speech",
		model:    get("model", "tts-1"),
		voice:    get("voice", "alloy"),
		format:   get("response_format", "wav"),
		key:      get("api_key", strings.TrimSpace(os.Getenv(KeyEnv))),
	}
	if s.format != "wav" && s.format != "pcm" {
		return nil, fmt.Errorf("openai tts: option response_format=%q: want wav or pcm", s.format)
	}
	if s.rate, err = strconv.Atoi(get("sample_rate", "24000")); err != nil || s.rate < 8000 || s.rate > 96000 {
		return nil, fmt.Errorf("openai tts: option sample_rate=%q: want 8000-96000", o["sample_rate"])
	}
	if v := get("speed", ""); v != "" {
		if s.speed, err = strconv.ParseFloat(v, 64); err != nil || s.speed < 0.25 || s.speed > 4 {
			return nil, fmt.Errorf("openai tts: option speed=%q: want 0.25-4", v)
		}
	}
	timeout, err := time.ParseDuration(get("timeout", "20s"))
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("openai tts: option timeout=%q: want a duration like 20s", o["timeout"])
	}
	s.client = &http.Client{Timeout: timeout}
	return s, nil
}

// Voice names the server's model and voice, so prompt caches keep voices
// apart.
func (s *Synth) Voice() string { return "openai/" + s.model + "/" + s.voice }

// String describes the synthesiser for logs.
func (s *Synth) String() string {
	return "openai-tts(" + s.endpoint + ", " + s.model + ", " + s.voice + ")"
}

// Synthesize renders text as 16 kHz mono PCM.
func (s *Synth) Synthesize(ctx context.Context, text string) ([]int16, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("openai tts: empty text")
	}
	req := map[string]any{"model": s.model, "input": text, "voice": s.voice, "response_format": s.format}
	if s.speed > 0 {
		req["speed"] = s.speed
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("openai tts: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("openai tts: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	if s.key != "" {
		hr.Header.Set("Authorization", "Bearer "+s.key)
	}
	resp, err := s.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("openai tts: POST %s: %w", s.endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("openai tts: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("openai tts: POST %s: HTTP %d: %s", s.endpoint, resp.StatusCode, apiMessage(data))
	}
	if len(data) > maxAnswer {
		return nil, fmt.Errorf("openai tts: answer larger than %d bytes", maxAnswer)
	}
	var pcm []int16
	rate, channels := s.rate, 1
	if s.format == "wav" {
		if pcm, rate, channels, err = media.ReadWAV(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("openai tts: answer: %w", err)
		}
	} else {
		pcm = make([]int16, len(data)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
	}
	if channels > 1 { // keep the first channel
		mono := make([]int16, len(pcm)/channels)
		for i := range mono {
			mono[i] = pcm[i*channels]
		}
		pcm = mono
	}
	if len(pcm) == 0 {
		return nil, errors.New("openai tts: answer holds no audio")
	}
	return media.Resample(pcm, rate, tts.SampleRate), nil
}

// apiMessage picks the message out of an OpenAI error body, or a short
// prefix of any other body.
func apiMessage(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
