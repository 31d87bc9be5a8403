package recordings

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// PartialSuffix names the sidecar that flags a recording as partial: the
// call was cut by a crash, so the audio stops where the process died.
const PartialSuffix = ".partial"

// The recorder's format (media.Recorder): a canonical 44-byte header,
// stereo, 16-bit PCM at 16 kHz or 8 kHz, or 8-bit G.711 (µ-law or A-law)
// at 8 kHz for G.711 calls.
const (
	wavHeaderSize = 44
	recRate       = 16000 // for a header written from scratch (no audio)
	recChannels   = 2
	recBlock      = recChannels * 2 // 16-bit PCM's sample frame
)

// PartialInfo is what the .partial sidecar says about a repaired
// recording.
type PartialInfo struct {
	Reason   string    `json:"reason"`
	Seconds  float64   `json:"seconds"`  // audio kept
	Repaired time.Time `json:"repaired"` // when the header was fixed
	// HeaderSeconds is how much audio the header covered before the
	// repair (it is rewritten every second while recording).
	HeaderSeconds float64 `json:"header_seconds"`
}

// Repair makes the plaintext recording rel, which a crash cut short, a
// valid WAV and flags it partial: the header's RIFF and data sizes are set
// to the audio actually in the file (a trailing half sample frame is cut
// off; a file shorter than its header gets a fresh empty header), the file
// is synced, and the sidecar rel+".partial" records the reason. Run it
// before SealPending, on the recordings of calls that were in progress
// when the process died. It returns ok=false, and does nothing, when rel
// has no plaintext (never created, or already sealed: a sealed recording
// was finished). A file that is not the recorder's WAV is left alone with
// an error.
func (f *Files) Repair(rel, reason string) (info PartialInfo, ok bool, err error) {
	p, err := f.abs(rel)
	if err != nil {
		return info, false, err
	}
	file, err := os.OpenFile(p, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return info, false, nil
	}
	if err != nil {
		return info, false, fmt.Errorf("recordings: repair: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return info, false, fmt.Errorf("recordings: repair: %w", err)
	}
	size := st.Size()
	rate := float64(recRate)
	block := int64(recBlock)
	var h [wavHeaderSize]byte
	if size >= wavHeaderSize {
		if _, err := io.ReadFull(file, h[:]); err != nil {
			return info, false, fmt.Errorf("recordings: repair %s: %w", rel, err)
		}
		if err := checkRecorderHeader(h[:]); err != nil {
			return info, false, fmt.Errorf("recordings: repair %s: %w", rel, err)
		}
		rate = float64(binary.LittleEndian.Uint32(h[24:]))
		block = int64(binary.LittleEndian.Uint16(h[32:]))
		info.HeaderSeconds = float64(binary.LittleEndian.Uint32(h[40:])) / (rate * float64(block))
	} else {
		h = recorderHeader()
		if _, err := file.WriteAt(h[:], 0); err != nil {
			return info, false, fmt.Errorf("recordings: repair %s: %w", rel, err)
		}
		size = wavHeaderSize
	}
	data := size - wavHeaderSize
	data -= data % block
	if data > 0xFFFFFFFF-36 {
		data = (0xFFFFFFFF - 36) / block * block
	}
	if err := file.Truncate(wavHeaderSize + data); err != nil {
		return info, false, fmt.Errorf("recordings: repair %s: %w", rel, err)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(36+data))
	if _, err := file.WriteAt(b[:], 4); err != nil {
		return info, false, fmt.Errorf("recordings: repair %s: %w", rel, err)
	}
	binary.LittleEndian.PutUint32(b[:], uint32(data))
	if _, err := file.WriteAt(b[:], 40); err != nil {
		return info, false, fmt.Errorf("recordings: repair %s: %w", rel, err)
	}
	if err := file.Sync(); err != nil {
		return info, false, fmt.Errorf("recordings: repair %s: %w", rel, err)
	}
	info.Reason, info.Repaired = reason, time.Now().UTC()
	info.Seconds = float64(data) / (rate * float64(block))
	if err := writeSidecar(p+PartialSuffix, info); err != nil {
		return info, false, fmt.Errorf("recordings: flag %s partial: %w", rel, err)
	}
	f.log.Warn("recording cut by a crash repaired and flagged partial", "recording", rel,
		"seconds", fmt.Sprintf("%.2f", info.Seconds), "header_said", fmt.Sprintf("%.2f", info.HeaderSeconds))
	return info, true, nil
}

// Partial reports whether rel is flagged partial, and why.
func (f *Files) Partial(rel string) (PartialInfo, bool) {
	var info PartialInfo
	p, err := f.abs(rel)
	if err != nil {
		return info, false
	}
	b, err := os.ReadFile(p + PartialSuffix)
	if err != nil {
		return info, false
	}
	if json.Unmarshal(b, &info) != nil {
		info.Reason = "partial"
	}
	return info, true
}

// checkRecorderHeader accepts the canonical header media.Recorder writes
// (any sizes: they are what is repaired).
func checkRecorderHeader(h []byte) error {
	le := binary.LittleEndian
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[12:16]) != "fmt " || string(h[36:40]) != "data" {
		return errors.New("not a recorder WAV (no canonical RIFF/WAVE/fmt/data header)")
	}
	tag, rate, bits := le.Uint16(h[20:]), le.Uint32(h[24:]), le.Uint16(h[34:])
	g711 := (tag == 6 || tag == 7) && bits == 8 && rate == 8000 // A-law, µ-law
	pcm := tag == 1 && bits == 16 && (rate == 16000 || rate == 8000)
	block := uint32(recChannels * bits / 8)
	switch {
	case le.Uint32(h[16:]) != 16 || !g711 && !pcm:
		return fmt.Errorf("not 16-bit PCM or 8-bit G.711 (format %d, %d bits, %d Hz)", tag, bits, rate)
	case le.Uint16(h[22:]) != recChannels || le.Uint32(h[28:]) != rate*block || uint32(le.Uint16(h[32:])) != block:
		return fmt.Errorf("not the recorder's format (%d ch, %d Hz)", le.Uint16(h[22:]), rate)
	}
	return nil
}

// recorderHeader is an empty recording's header.
func recorderHeader() [wavHeaderSize]byte {
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36)
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1)
	le.PutUint16(h[22:], recChannels)
	le.PutUint32(h[24:], recRate)
	le.PutUint32(h[28:], recRate*recBlock)
	le.PutUint16(h[32:], recBlock)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	return h
}

func writeSidecar(path string, info PartialInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}
