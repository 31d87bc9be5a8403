package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/contactd/contactd/asr/transcribe"
	"github.com/contactd/contactd/asr/vad"
	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/recordings"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// A recorded call is imported by uploading it to POST /calls/import as a
// WAV file: the body itself (Content-Type audio/wav, the other fields in
// the query) or a multipart form (a file field "audio" or "file", and
// fields caller_number, agent, intent, speaker). 16-bit PCM or 8-bit
// G.711 (µ-law, A-law), mono or stereo, 8-48 kHz. A stereo recording has the caller left and the agent
// right (as contactd records); a mono one is one speaker, the caller
// unless speaker=agent. The configured recogniser transcribes it
// (asr/transcribe), the post-call pipeline writes the ticket and the
// evaluation, and the WAV becomes the call's recording (encrypted at rest
// when recordings are).

// Limits of a WAV upload.
const (
	MaxWAVBytes  = 64 << 20 // about 35 minutes of 8 kHz stereo
	maxWAVLength = 40 * time.Minute
	minWAVLength = 100 * time.Millisecond
)

// maxWAVImports is how many uploads are transcribed at once; more wait
// their turn. Each holds its audio in memory (up to about twice its size)
// and keeps recogniser decoders and a core busy.
const maxWAVImports = 2

// wavLimit is the upload cap in force (MaxWAVBytes; tests lower it).
var wavLimit int64 = MaxWAVBytes

// isWAVUpload reports whether the request carries audio rather than JSON.
func isWAVUpload(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.HasPrefix(mt, "audio/") || mt == "multipart/form-data"
}

// wavUpload is what a WAV import request carried.
type wavUpload struct {
	wav                          []byte
	caller, agent, intent, voice string
}

// readWAVUpload reads the body or the multipart form, at most MaxWAVBytes.
func readWAVUpload(w http.ResponseWriter, r *http.Request) (wavUpload, int, error) {
	body := http.MaxBytesReader(w, r.Body, wavLimit+64<<10)
	q := r.URL.Query()
	up := wavUpload{caller: q.Get("caller_number"), agent: q.Get("agent"), intent: q.Get("intent"), voice: q.Get("speaker")}
	tooBig := func(err error) (wavUpload, int, error) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return up, http.StatusRequestEntityTooLarge, fmt.Errorf("upload larger than %d bytes", wavLimit)
		}
		return up, http.StatusBadRequest, fmt.Errorf("read upload: %w", err)
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := io.ReadAll(body)
		if err != nil {
			return tooBig(err)
		}
		up.wav = b
		return up, 0, nil
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return tooBig(err)
		}
		name := p.FormName()
		switch name {
		case "audio", "file":
			if up.wav != nil {
				return up, http.StatusBadRequest, errors.New("one audio file per import")
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return tooBig(err)
			}
			up.wav = b
		case "caller_number", "agent", "intent", "speaker":
			b, err := io.ReadAll(io.LimitReader(p, 257))
			if err != nil {
				return tooBig(err)
			}
			if len(b) > 256 {
				return up, http.StatusBadRequest, fmt.Errorf("%s: at most 256 bytes", name)
			}
			v := strings.TrimSpace(string(b))
			switch name {
			case "caller_number":
				up.caller = v
			case "agent":
				up.agent = v
			case "intent":
				up.intent = v
			case "speaker":
				up.voice = v
			}
		default:
			return up, http.StatusBadRequest, fmt.Errorf("unknown form field %q: want audio (or file), caller_number, agent, intent, speaker", name)
		}
	}
	if up.wav == nil {
		return up, http.StatusBadRequest, errors.New("audio: a WAV file is required (form field audio)")
	}
	return up, 0, nil
}

// importWAV transcribes an uploaded recording and imports it.
func (s *Server) importWAV(w http.ResponseWriter, r *http.Request) {
	if s.opts.Recognizer == nil {
		writeError(w, http.StatusNotImplemented, "WAV import needs a speech recogniser; this server has none")
		return
	}
	up, status, err := readWAVUpload(w, r)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}
	if len(up.wav) == 0 {
		writeError(w, http.StatusBadRequest, "empty upload: want a WAV file")
		return
	}
	if int64(len(up.wav)) > wavLimit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload larger than %d bytes", wavLimit))
		return
	}
	pcm, rate, channels, err := media.ReadWAV(bytes.NewReader(up.wav))
	up.wav = nil // the samples are what is kept
	if err != nil {
		writeError(w, http.StatusBadRequest, "not a WAV file we can read: "+strings.TrimPrefix(err.Error(), "media: ")+
			" (want 16-bit PCM or 8-bit G.711, mono or stereo)")
		return
	}
	frames := len(pcm) / max(channels, 1)
	length := time.Duration(frames) * time.Second / time.Duration(max(rate, 1))
	switch {
	case channels != 1 && channels != 2:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("WAV has %d channels: want mono (one speaker) or stereo (caller left, agent right)", channels))
		return
	case rate < 8000 || rate > 48000:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("WAV sample rate %d Hz: want 8000-48000", rate))
		return
	case length < minWAVLength:
		writeError(w, http.StatusBadRequest, "the recording is empty")
		return
	case length > maxWAVLength:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the recording is %v long: at most %v", length.Round(time.Second), maxWAVLength))
		return
	}
	speakers := []transcript.Speaker{transcript.Caller, transcript.Agent}
	if channels == 1 {
		switch up.voice {
		case "", string(transcript.Caller):
			speakers = speakers[:1]
		case string(transcript.Agent):
			speakers = speakers[1:]
		default:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("speaker: want caller or agent, got %q", up.voice))
			return
		}
	}
	select {
	case s.wavSlots <- struct{}{}:
		defer func() { <-s.wavSlots }()
	case <-r.Context().Done():
		writeError(w, http.StatusServiceUnavailable, "gave up waiting for other imports to finish")
		return
	}
	start := time.Now()
	res, err := transcribe.Call(r.Context(), s.opts.Recognizer, rate, transcribe.Split(pcm, speakers...), vad.Config{})
	if err != nil {
		s.opts.Log.Error("wav import: transcription failed", "err", err)
		writeError(w, http.StatusBadGateway, "the speech recogniser failed: "+err.Error())
		return
	}
	s.opts.Log.Info("wav import transcribed", "seconds", length.Seconds(), "rate", rate, "channels", channels,
		"utterances", res.Utterances, "segments", len(res.Segments), "failed", res.Failed, "took", time.Since(start).Round(time.Millisecond))
	if len(res.Segments) == 0 {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("no speech was recognised in the recording (%d utterances heard)", res.Utterances))
		return
	}
	s.finishImport(w, r, importJob{
		tr:     transcript.Transcript{CallerNumber: up.caller, Agent: up.agent, Segments: res.Segments, Incomplete: res.Failed > 0},
		intent: up.intent, wav: &wavRecording{pcm: pcm, rate: rate, channels: channels},
		extra: map[string]any{"segments": len(res.Segments), "duration_ms": length.Milliseconds(), "incomplete": res.Failed > 0},
	})
}

// wavRecording is an upload to keep as the call's recording.
type wavRecording struct {
	pcm            []int16
	rate, channels int
}

// importJob is an import ready for the post-call pipeline.
type importJob struct {
	tr     transcript.Transcript
	intent string
	wav    *wavRecording
	extra  map[string]any // more fields for the answer
}

// finishImport validates the caller number, agent and intent, runs the
// post-call pipeline, keeps the recording and answers 201 with the IDs.
func (s *Server) finishImport(w http.ResponseWriter, r *http.Request, j importJob) {
	switch {
	case len(j.tr.CallerNumber) > 64:
		writeError(w, http.StatusBadRequest, "caller_number: at most 64 characters")
		return
	case j.intent != "" && !categoryRE.MatchString(j.intent):
		writeError(w, http.StatusBadRequest, "intent: want a lower-case name")
		return
	}
	if j.tr.Agent != "" {
		if !config.ValidUsername(j.tr.Agent) {
			writeError(w, http.StatusBadRequest, "agent: want a username")
			return
		}
		u, err := s.opts.Store.UserByName(r.Context(), j.tr.Agent)
		if err != nil && !isNotFound(err) {
			s.fail(w, r, err)
			return
		}
		if err != nil || u.Role != store.RoleAgent {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("agent: no agent %q", j.tr.Agent))
			return
		}
	}
	if j.intent == "" {
		j.intent = tickets.CategorizeIn(j.tr.Segments, s.opts.NLU, s.categories())
	}
	j.tr.CallID = call.NewID("call")
	res, err := s.opts.Importer.Import(r.Context(), j.tr, j.intent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if j.tr.Agent != "" || j.wav != nil {
		if err := s.keepImported(r, res.CallID, j); err != nil {
			s.opts.Log.Error("import: call stored without its agent or recording", "call_id", res.CallID, "err", err)
		}
	}
	detail := ""
	if j.wav != nil {
		detail = fmt.Sprintf("wav %d Hz %d ch", j.wav.rate, j.wav.channels)
	}
	s.audit(r, AuditCallImport, "call:"+res.CallID, detail)
	out := map[string]any{"call_id": res.CallID, "ticket_id": res.TicketID, "evaluation_id": res.EvaluationID}
	if res.Repeat {
		out["repeat"] = true
	}
	for k, v := range j.extra {
		out[k] = v
	}
	writeJSON(w, http.StatusCreated, out)
}

// keepImported records the imported call's agent and writes its
// recording where live calls keep theirs (sealed when encrypting).
func (s *Server) keepImported(r *http.Request, callID string, j importJob) error {
	c, err := s.opts.Store.Call(r.Context(), callID)
	if err != nil {
		return err
	}
	c.Agent = j.tr.Agent
	if j.wav != nil {
		rel := recordings.Path(callID, c.StartedAt)
		if err := writeRecording(filepath.Join(s.opts.DataDir, rel), j.wav); err != nil {
			return err
		}
		if err := s.files().Seal(rel); err != nil {
			return err
		}
		c.RecordingPath = rel
	}
	return s.opts.Store.UpdateCall(r.Context(), c)
}

// writeRecording writes a canonical 16-bit PCM WAV, mode 0600.
func writeRecording(path string, rec *wavRecording) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := media.WriteWAV(f, rec.pcm, rec.rate, rec.channels); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
