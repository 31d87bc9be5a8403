package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
	"github.com/contactd/contactd/media"
)

func init() {
	asr.Register("openai", func(ctx context.Context, cfg asr.Config) (asr.Recognizer, error) {
		return New(cfg, nil)
	})
}

// DefaultURL is OpenAI's API base.
const DefaultURL = "https://api.openai.com/v1"

// KeyEnv is the environment variable the API key is read from when the
// api_key option is not set.
const KeyEnv = "CONTACTD_OPENAI_API_KEY"

// Recognizer posts utterances to a transcription endpoint. It is safe for
// concurrent use; it holds only an http.Client.
type Recognizer struct {
	endpoint string
	model    string
	language string
	format   string
	key      string
	maxFail  int
	vad      vad.Config
	client   *http.Client
	log      *slog.Logger
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
	base := strings.TrimRight(get("url", DefaultURL), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: option url=%q: want http(s)://host[:port][/v1]", o["url"])
	}
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	r := &Recognizer{
		endpoint: base + "/audio/transcriptions",
		model:    get("model", "whisper-1"),
		language: get("language", "en"),
		format:   get("response_format", "verbose_json"),
		key:      get("api_key", strings.TrimSpace(os.Getenv(KeyEnv))),
		log:      log,
	}
	if r.language == "auto" {
		r.language = ""
	}
	timeout, err := time.ParseDuration(get("timeout", "15s"))
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("openai: option timeout=%q: want a duration like 15s", o["timeout"])
	}
	r.client = &http.Client{Timeout: timeout}
	atoi := func(k, def string) (int, error) {
		n, err := strconv.Atoi(get(k, def))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("openai: option %s=%q: want a whole number", k, o[k])
		}
		return n, nil
	}
	if r.maxFail, err = atoi("max_failures", "3"); err != nil {
		return nil, err
	}
	silence, err := atoi("silence_ms", "600")
	if err != nil {
		return nil, err
	}
	r.vad = vad.Config{SampleRate: asr.SampleRate, SilenceEnd: time.Duration(silence) * time.Millisecond}
	return r, nil
}

// NewStream cuts the audio into utterances with the shared VAD and posts
// each one (see asr.NewSegmentedStream for the goroutines and Close).
func (r *Recognizer) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	return asr.NewSegmentedStream(ctx, r.transcribe, asr.SegmentedOptions{
		VAD: r.vad, Logger: r.log, Label: opts.Label, MaxFailures: r.maxFail,
	}), nil
}

// Recognize posts one whole utterance.
func (r *Recognizer) Recognize(ctx context.Context, pcm []int16) (asr.Result, error) {
	res, err := r.transcribe(ctx, pcm)
	res.Kind = asr.Final
	return res, err
}

// Close does nothing: requests end with their contexts.
func (r *Recognizer) Close() error {
	r.client.CloseIdleConnections()
	return nil
}

// verbose is the verbose_json answer; json answers fill Text only.
type verbose struct {
	Text     string `json:"text"`
	Language string `json:"language"` // Whisper: "english"; some servers: "en"
	Segments []struct {
		Start      float64 `json:"start"`
		End        float64 `json:"end"`
		Text       string  `json:"text"`
		AvgLogprob float64 `json:"avg_logprob"`
	} `json:"segments"`
	Words []struct {
		Word        string   `json:"word"`
		Start       float64  `json:"start"`
		End         float64  `json:"end"`
		Probability *float64 `json:"probability"` // faster-whisper
	} `json:"words"`
}

func ms(sec float64) int64 { return int64(sec*1000 + 0.5) }

// transcribe is the DecodeFunc: one request per utterance.
func (r *Recognizer) transcribe(ctx context.Context, pcm []int16) (asr.Result, error) {
	if len(pcm) == 0 {
		return asr.Result{}, errors.New("openai: no audio")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "utterance.wav")
	if err != nil {
		return asr.Result{}, fmt.Errorf("openai: %w", err)
	}
	if err := media.WriteWAV(fw, pcm, asr.SampleRate, 1); err != nil {
		return asr.Result{}, fmt.Errorf("openai: %w", err)
	}
	fields := [][2]string{{"model", r.model}, {"response_format", r.format}}
	if r.language != "" {
		fields = append(fields, [2]string{"language", r.language})
	}
	if r.format == "verbose_json" {
		fields = append(fields, [2]string{"timestamp_granularities[]", "word"}, [2]string{"timestamp_granularities[]", "segment"})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return asr.Result{}, fmt.Errorf("openai: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return asr.Result{}, fmt.Errorf("openai: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, &body)
	if err != nil {
		return asr.Result{}, fmt.Errorf("openai: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r.key != "" {
		req.Header.Set("Authorization", "Bearer "+r.key)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return asr.Result{}, fmt.Errorf("openai: POST %s: %w", r.endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return asr.Result{}, fmt.Errorf("openai: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("openai: POST %s: HTTP %d: %s", r.endpoint, resp.StatusCode, apiMessage(data))
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			err = fmt.Errorf("%w (%w)", err, asr.ErrFatal)
		}
		return asr.Result{}, err
	}
	var v verbose
	if err := json.Unmarshal(data, &v); err != nil {
		return asr.Result{}, fmt.Errorf("openai: malformed answer %.80q: %w", data, err)
	}
	res := asr.Result{Text: strings.TrimSpace(v.Text), EndMS: int64(len(pcm)) * 1000 / asr.SampleRate, Confidence: 1,
		Language: languageCode(v.Language)}
	if len(v.Segments) > 0 {
		res.Confidence = 0
		for _, s := range v.Segments {
			res.Confidence += math.Exp(min(s.AvgLogprob, 0))
		}
		res.Confidence /= float64(len(v.Segments))
	}
	for _, w := range v.Words {
		c := res.Confidence
		if w.Probability != nil {
			c = *w.Probability
		}
		res.Words = append(res.Words, asr.Word{Text: strings.TrimSpace(w.Word), StartMS: ms(w.Start), EndMS: ms(w.End), Conf: c})
	}
	return res, nil
}

// apiMessage picks the message out of an OpenAI error body
// ({"error":{"message"}}), or a short prefix of any other body.
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
