package asreval

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/contactd/contactd/asr"
)

func TestEditDistanceAndWER(t *testing.T) {
	tests := []struct {
		ref, hyp string
		edits    int
		wer      float64
	}{
		{"check my order", "check my order", 0, 0},
		{"check my order", "check order", 1, 1.0 / 3},                       // deletion
		{"check my order", "check my new order", 1, 1.0 / 3},                // insertion
		{"check my order", "check the order", 1, 1.0 / 3},                   // substitution
		{"order 5 8 2", "order five eight two", 0, 0},                       // digits spoken
		{"Order number: zero, one!", "order number oh one", 0, 0},           // punctuation, oh
		{"my internet is not working", "", 5, 1},                            // all deleted
		{"", "noise", 1, 1},                                                 // insertion on empty ref
		{"", "", 0, 0},                                                      //
		{"a b c d", "d c b a", 4, 1},                                        // reversed
		{"I don't know", "i don't know", 0, 0},                              // apostrophe kept
		{"the status of my order", "status of the my order please", 3, 0.6}, // mixed
	}
	for _, tc := range tests {
		t.Run(tc.ref+"|"+tc.hyp, func(t *testing.T) {
			if got := EditDistance(Words(tc.ref), Words(tc.hyp)); got != tc.edits {
				t.Errorf("edits=%d want %d", got, tc.edits)
			}
			if got := WER(tc.ref, tc.hyp); math.Abs(got-tc.wer) > 1e-9 {
				t.Errorf("wer=%v want %v", got, tc.wer)
			}
		})
	}
}

// wav builds a WAV file of a 440 Hz tone.
func wav(t *testing.T, rate, channels, format, secs int) []byte {
	t.Helper()
	n := rate * secs
	bits := 16
	if format != 1 {
		bits = 8
	}
	var data bytes.Buffer
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		for range channels {
			if format == 7 {
				data.WriteByte(ulawEncode(v))
			} else {
				binary.Write(&data, binary.LittleEndian, v)
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data.Len()))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(format), uint16(channels), uint32(rate),
		uint32(rate * channels * bits / 8), uint16(channels * bits / 8), uint16(bits)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

// ulawEncode is the G.711 µ-law encoder, for building test files.
func ulawEncode(v int16) byte {
	const bias, clip = 0x84, 32635
	s := int(v)
	sign := 0
	if s < 0 {
		s, sign = -s, 0x80
	}
	s = min(s, clip) + bias
	exp := 7
	for mask := 0x4000; s&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (s >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func TestReadWAV(t *testing.T) {
	tests := []struct {
		name                      string
		rate, channels, format, s int
	}{
		{"16k mono", 16000, 1, 1, 1},
		{"8k stereo", 8000, 2, 1, 1},
		{"44.1k mono", 44100, 1, 1, 1},
		{"8k mulaw", 8000, 1, 7, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pcm, err := ReadWAV(bytes.NewReader(wav(t, tc.rate, tc.channels, tc.format, tc.s)))
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) < 15990 || len(pcm) > 16000 {
				t.Fatalf("len=%d, want 16000", len(pcm))
			}
			var peak int16
			for _, v := range pcm[100 : len(pcm)-100] {
				peak = max(peak, v)
			}
			if peak < 7600 || peak > 8400 {
				t.Fatalf("peak %d, want about 8000", peak)
			}
		})
	}
	for _, bad := range [][]byte{nil, []byte("RIFF0000WAVE"), []byte("hello world, no wav")} {
		if _, err := ReadWAV(bytes.NewReader(bad)); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

// echo is a Recognizer that "hears" a fixed text per audio length.
type echo struct{ texts map[int]string }

func (e echo) NewStream(context.Context, asr.StreamOptions) (asr.Stream, error) { return nil, nil }
func (e echo) Close() error                                                     { return nil }
func (e echo) Recognize(_ context.Context, pcm []int16) (asr.Result, error) {
	return asr.Result{Kind: asr.Final, Text: e.texts[len(pcm)/16000]}, nil
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.wav"), wav(t, 8000, 1, 1, 1), 0o644)
	os.WriteFile(filepath.Join(dir, "b.wav"), wav(t, 16000, 2, 1, 2), 0o644)
	list := filepath.Join(dir, "list.tsv")
	os.WriteFile(list, []byte("# comment\na.wav\tcheck my order\n\nb.wav\tmy internet is not working\nmissing.wav\tyes\n"), 0o644)
	var out bytes.Buffer
	sum, err := Run(context.Background(), echo{map[int]string{1: "check my order", 2: "my internet not working"}}, list, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	// 0 + 1 deletion + 1 unreadable word, over 3+5+1 words.
	if sum.Files != 3 || sum.Errors != 2 || sum.RefWords != 9 {
		t.Fatalf("summary %+v", sum)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !regexp.MustCompile(`^WER=0\.2222 RTF=[0-9]+\.[0-9]+$`).MatchString(lines[len(lines)-1]) {
		t.Fatalf("last line %q", lines[len(lines)-1])
	}
	if _, err := Run(context.Background(), echo{}, filepath.Join(dir, "nope.tsv"), &out); err == nil {
		t.Fatal("missing list: want error")
	}
	os.WriteFile(list, []byte("a.wav no tab\n"), 0o644)
	if _, err := Run(context.Background(), echo{}, list, &out); err == nil {
		t.Fatal("bad line: want error")
	}
}
