//go:build cgo

package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/sphinx"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
	"github.com/contactd/contactd/tts/espeak"
)

// demoRecognizer is PocketSphinx with the demo config's phrases, as the
// server builds it, shared by the WAV tests.
var demoRecognizer = sync.OnceValues(func() (asr.Recognizer, error) {
	cfg, err := config.Parse("demo", config.Demo())
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "contactd-wav-asr")
	if err != nil {
		return nil, err
	}
	phrases := append(cfg.Phrases(), "hello thank you for calling my name is anna how can i help you today",
		"is there anything else i can help you with", "thank you for calling have a great day goodbye")
	return sphinx.New(context.Background(), asr.Config{Phrases: phrases, DataDir: dir,
		Options: map[string]string{"decoders": "1", "narrowband_decoders": "1"}}, nil)
})

func needSpeech(t *testing.T) asr.Recognizer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sphinx.DefaultHMM, "mdef")); err != nil {
		t.Skip("pocketsphinx-en-us model not installed")
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	rec, err := demoRecognizer()
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// say synthesises text with espeak-ng (16 kHz).
func say(t *testing.T, text string) []int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pcm, err := espeak.New(espeak.Options{}).Synthesize(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// place puts each clip on its channel at its time into a recording of
// total length, interleaved, at 16 kHz.
func place(total time.Duration, channels int, clips ...struct {
	ch  int
	at  time.Duration
	pcm []int16
}) []int16 {
	n := int(total.Seconds() * 16000)
	out := make([]int16, n*channels)
	for _, c := range clips {
		at := int(c.at.Seconds() * 16000)
		for i, v := range c.pcm {
			if at+i < n {
				out[(at+i)*channels+c.ch] = v
			}
		}
	}
	return out
}

func wavBytes(t *testing.T, pcm []int16, rate, channels int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := media.WriteWAV(&b, pcm, rate, channels); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload posts body to the import API with the content type and returns
// the status and the decoded answer.
func upload(t *testing.T, f *apiFixture, tok, query, ctype string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/calls/import"+query, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

type clip = struct {
	ch  int
	at  time.Duration
	pcm []int16
}

// TestWAVImport uploads an espeak-ng "call" as a stereo WAV (agent on the
// right, caller on the left), as a multipart form: the server transcribes
// both channels with PocketSphinx, keeps word timings, writes the ticket
// and the evaluation, and keeps the WAV as the call's recording. A mono
// 8 kHz upload (the narrowband path) is one speaker.
func TestWAVImport(t *testing.T) {
	rec := needSpeech(t)
	f := newAPIWith(t, helpdeskStore(t), func(o *Options) { o.Recognizer = rec; o.DataDir = t.TempDir() })
	if _, err := CreateUser(context.Background(), f.store, f.router, "contactd", "anna", "anna-password", "agent"); err != nil {
		t.Fatal(err)
	}
	greet := say(t, "Hello, thank you for calling, my name is Anna, how can I help you today?")
	ask := say(t, "I want to check the status of my order, the number is 5 8 2 1 3.")
	pcm := place(14*time.Second, 2, clip{1, 500 * time.Millisecond, greet}, clip{0, 6 * time.Second, ask})

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("audio", "call.wav")
	fw.Write(wavBytes(t, pcm, 16000, 2))
	mw.WriteField("caller_number", "+15550123")
	mw.WriteField("agent", "anna")
	mw.Close()
	start := time.Now()
	st, out := upload(t, f, f.admin, "", mw.FormDataContentType(), form.Bytes())
	if st != 201 {
		t.Fatalf("import: %d %v", st, out)
	}
	t.Logf("14 s stereo call imported in %v: %v", time.Since(start).Round(time.Millisecond), out)
	callID, _ := out["call_id"].(string)
	var c struct {
		ID           string               `json:"id"`
		Agent        string               `json:"agent"`
		RecordingURL string               `json:"recording_url"`
		Transcript   []transcript.Segment `json:"transcript"`
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/calls/"+callID, nil, &c); st != 200 {
		t.Fatalf("call: %d", st)
	}
	var said = map[transcript.Speaker]string{}
	timed := 0
	for _, s := range c.Transcript {
		said[s.Speaker] += " " + s.Text
		if len(s.Words) > 0 && len(s.Words) == len(strings.Fields(s.Text)) {
			timed++
			if s.Words[0].StartMS < s.StartMS || s.Words[len(s.Words)-1].EndMS > s.EndMS+50 {
				t.Errorf("word times %+v outside their segment %d-%d", s.Words, s.StartMS, s.EndMS)
			}
		}
	}
	t.Logf("transcript: %+v", said)
	if !strings.Contains(said[transcript.Caller], "order") || said[transcript.Agent] == "" || timed == 0 {
		t.Errorf("transcript %+v (%d segments with word timings)", c.Transcript, timed)
	}
	if c.Transcript[0].Speaker != transcript.Agent || c.Transcript[0].StartMS < 300 || c.Transcript[0].StartMS > 1500 {
		t.Errorf("the agent speaks first at 0.5 s: %+v", c.Transcript[0])
	}
	if c.Agent != "anna" || c.RecordingURL == "" {
		t.Errorf("call agent %q recording %q", c.Agent, c.RecordingURL)
	}
	code, body := f.raw(t, f.admin, "GET", "/api/v1/calls/"+callID+"/recording", "")
	if code != 200 || !strings.HasPrefix(body, "RIFF") || len(body) != 44+len(pcm)*2 {
		t.Errorf("recording: %d, %d bytes", code, len(body))
	}
	var tk tickets.Ticket
	if st := f.do(t, f.admin, "GET", "/api/v1/tickets/"+out["ticket_id"].(string), nil, &tk); st != 200 || tk.Customer.Phone != "+15550123" {
		t.Errorf("ticket: %d %+v", st, tk)
	}
	t.Logf("ticket: category %s, subject %q, entities %v", tk.Category, tk.Subject, tk.Entities)
	if tk.Category != "order_status" {
		t.Errorf("category %s, want order_status", tk.Category)
	}
	var ev qa.Evaluation
	if st := f.do(t, f.admin, "GET", "/api/v1/qa/evaluations/"+out["evaluation_id"].(string), nil, &ev); st != 200 || len(ev.Items) == 0 {
		t.Errorf("evaluation: %d %+v", st, ev)
	}

	// Mono, 8 kHz, raw body: one speaker, the caller unless told.
	mono := media.Resample(place(6*time.Second, 1, clip{0, 500 * time.Millisecond, ask}), 16000, 8000)
	st, out = upload(t, f, f.admin, "?caller_number=%2B15550124&speaker=caller", "audio/wav", wavBytes(t, mono, 8000, 1))
	if st != 201 {
		t.Fatalf("mono import: %d %v", st, out)
	}
	f.do(t, f.admin, "GET", "/api/v1/calls/"+out["call_id"].(string), nil, &c)
	if len(c.Transcript) == 0 || slices.ContainsFunc(c.Transcript, func(s transcript.Segment) bool { return s.Speaker != transcript.Caller }) {
		t.Errorf("mono transcript %+v", c.Transcript)
	}
	t.Logf("8 kHz mono: %q", c.Transcript[0].Text)
}

// TestWAVImportRefusesBadUploads: what is not a 16-bit PCM or G.711 WAV
// we can use is a 400 (413 when too big), before anything is transcribed or
// stored; without a recogniser a WAV is a 501.
func TestWAVImportRefusesBadUploads(t *testing.T) {
	f := newAPIWith(t, helpdeskStore(t), func(o *Options) { o.Recognizer = failRecognizer{t} })
	good := wavBytes(t, make([]int16, 16000), 16000, 1)
	eightBit := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(eightBit[34:], 8)
	alaw := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(alaw[20:], 6) // A-law is 8 bits per sample, not 16
	// A second of µ-law silence, 8 kHz mono, as a G.711 call is recorded:
	// read, and found to hold no speech.
	ulaw := append([]byte(nil), good[:44]...)
	le := binary.LittleEndian
	le.PutUint32(ulaw[4:], 36+8000)
	le.PutUint16(ulaw[20:], 7)
	le.PutUint32(ulaw[24:], 8000)
	le.PutUint32(ulaw[28:], 8000)
	le.PutUint16(ulaw[32:], 1)
	le.PutUint16(ulaw[34:], 8)
	le.PutUint32(ulaw[40:], 8000)
	ulaw = append(ulaw, bytes.Repeat([]byte{0xff}, 8000)...)
	for _, tc := range []struct {
		name, ctype, query string
		body               []byte
		status             int
		msg                string
	}{
		{"not a wav", "audio/wav", "", []byte("hello, this is plainly text and not audio at all"), 400, "RIFF"},
		{"empty", "audio/wav", "", nil, 400, "empty"},
		{"cut header", "audio/wav", "", good[:30], 400, "WAV"},
		{"8-bit", "audio/wav", "", eightBit, 400, "bits per sample"},
		{"16-bit a-law", "audio/x-wav", "", alaw, 400, "G.711"},
		{"three channels", "audio/wav", "", wavBytes(t, make([]int16, 3*8000), 8000, 3), 400, "channels"},
		{"too slow a rate", "audio/wav", "", wavBytes(t, make([]int16, 4000), 4000, 1), 400, "sample rate"},
		{"too short", "audio/wav", "", wavBytes(t, make([]int16, 80), 16000, 1), 400, "empty"},
		{"bad speaker", "audio/wav", "?speaker=robot", good, 400, "speaker"},
		{"multipart without audio", "multipart/form-data; boundary=xx", "", []byte("--xx\r\nContent-Disposition: form-data; name=\"caller_number\"\r\n\r\n+1\r\n--xx--\r\n"), 400, "audio"},
		{"multipart unknown field", "multipart/form-data; boundary=xx", "", []byte("--xx\r\nContent-Disposition: form-data; name=\"color\"\r\n\r\nred\r\n--xx--\r\n"), 400, "color"},
		{"silence", "audio/wav", "", good, 422, "no speech"},
		{"µ-law silence", "audio/wav", "", ulaw, 422, "no speech"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, out := upload(t, f, f.admin, tc.query, tc.ctype, tc.body)
			if msg, _ := out["error"].(string); st != tc.status || !strings.Contains(msg, tc.msg) {
				t.Errorf("%d %v, want %d mentioning %q", st, out, tc.status, tc.msg)
			}
		})
	}
	wavLimit = 1 << 20
	defer func() { wavLimit = MaxWAVBytes }()
	if st, out := upload(t, f, f.admin, "", "audio/wav", wavBytes(t, make([]int16, 1<<20), 16000, 1)); st != 413 {
		t.Errorf("too big: %d %v", st, out)
	}
	var calls struct{ Calls []json.RawMessage }
	f.do(t, f.admin, "GET", "/api/v1/calls", nil, &calls)
	if len(calls.Calls) != 0 {
		t.Errorf("refused uploads stored %d calls", len(calls.Calls))
	}
	none := newAPIWith(t, helpdeskStore(t), nil)
	if st, _ := upload(t, none, none.admin, "", "audio/wav", good); st != 501 {
		t.Errorf("without a recogniser: %d, want 501", st)
	}
	if st, _ := upload(t, none, none.login(t, "admin", "admin-password"), "", "audio/wav", good); st != 501 {
		t.Errorf("without a recogniser: %d, want 501", st)
	}
}

// failRecognizer fails the test if anything reaches it but silence.
type failRecognizer struct{ t *testing.T }

func (r failRecognizer) NewStream(context.Context, asr.StreamOptions) (asr.Stream, error) {
	r.t.Error("NewStream called")
	return nil, asr.ErrFatal
}
func (r failRecognizer) Recognize(context.Context, []int16) (asr.Result, error) {
	r.t.Error("Recognize called on a refused upload")
	return asr.Result{}, nil
}
func (failRecognizer) Close() error { return nil }
