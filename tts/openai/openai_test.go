package openai_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/tts"
	"github.com/contactd/contactd/tts/openai"
)

const key = "sk-tts-secret"

// fakeSpeech speaks OpenAI's POST /v1/audio/speech: it checks the key and
// the JSON body and answers with half a second of 440 Hz per word, as a
// 24 kHz WAV (stereo when the voice is "stereo") or raw 24 kHz PCM16, or
// fails as act says.
func fakeSpeech(t *testing.T, act string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/audio/speech" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided"}}`)
			return
		}
		var body struct {
			Model          string `json:"model"`
			Input          string `json:"input"`
			Voice          string `json:"voice"`
			ResponseFormat string `json:"response_format"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Model == "" || body.Voice == "" || body.Input == "" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		switch act {
		case "500":
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusInternalServerError)
			return
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		case "garbage":
			w.Write([]byte("RIFF....not a wave"))
			return
		}
		n := 12000 * len(strings.Fields(body.Input))
		pcm := make([]int16, n)
		for i := range pcm {
			pcm[i] = int16(10000 * math.Sin(2*math.Pi*440*float64(i)/24000))
		}
		if body.ResponseFormat == "pcm" {
			binary.Write(w, binary.LittleEndian, pcm)
			return
		}
		ch := 1
		if body.Voice == "stereo" {
			ch = 2
			st := make([]int16, 2*n)
			for i, v := range pcm {
				st[2*i], st[2*i+1] = v, 0
			}
			pcm = st
		}
		var b bytes.Buffer
		media.WriteWAV(&b, pcm, 24000, ch)
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(b.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSynthesize(t *testing.T) {
	tests := []struct {
		name    string
		act     string
		opts    map[string]string
		wantLen int    // samples at 16 kHz
		errHas  string // when failing
	}{
		{"wav", "", nil, 16000, ""},
		{"wav stereo", "", map[string]string{"voice": "stereo"}, 16000, ""},
		{"pcm", "", map[string]string{"response_format": "pcm"}, 16000, ""},
		{"base url with /v1", "", map[string]string{"url": "/v1"}, 16000, ""},
		{"wrong key", "", map[string]string{"api_key": "nope"}, 0, "HTTP 401: Incorrect API key"},
		{"server error", "500", nil, 0, "HTTP 500: overloaded"},
		{"slow answer", "slow", nil, 0, "Timeout"},
		{"not a wav", "garbage", nil, 0, "wav"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeSpeech(t, tc.act)
			o := map[string]string{"url": srv.URL, "api_key": key, "timeout": "300ms"}
			for k, v := range tc.opts {
				if k == "url" {
					v = srv.URL + v
				}
				o[k] = v
			}
			s, err := tts.New(context.Background(), "openai", tts.Config{Options: o})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			pcm, err := s.Synthesize(context.Background(), "hello there")
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err=%v, want %q", err, tc.errHas)
				}
				if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "nope") {
					t.Fatal("error shows the key")
				}
				if time.Since(t0) > 3*time.Second {
					t.Fatal("timeout not honoured")
				}
				return
			}
			if err != nil || len(pcm) != tc.wantLen {
				t.Fatalf("len=%d err=%v", len(pcm), err)
			}
			var peak int16
			for _, v := range pcm[1000:] {
				peak = max(peak, v)
			}
			if peak < 8000 {
				t.Fatalf("peak %d: audio lost", peak)
			}
		})
	}
}

func TestOptionsAndVoice(t *testing.T) {
	for _, o := range []map[string]string{
		{"url": "ws://x"}, {"response_format": "mp3"}, {"sample_rate": "1"}, {"speed": "9"}, {"timeout": "x"},
	} {
		if _, err := openai.New(o); err == nil {
			t.Errorf("options %v: want error", o)
		}
	}
	a, _ := openai.New(map[string]string{"voice": "nova"})
	b, _ := openai.New(map[string]string{"voice": "onyx"})
	if tts.VoiceOf(a) == tts.VoiceOf(b) {
		t.Fatal("two voices share a cache key")
	}
	if _, err := a.Synthesize(context.Background(), " "); err == nil {
		t.Fatal("empty text: want error")
	}
}
