package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestWAVRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		pcm      []int16
		rate, ch int
	}{
		{"mono tone", Tone(440, 100*time.Millisecond, 16000, 0.5), 16000, 1},
		{"stereo", []int16{1, -1, 32767, -32768}, 8000, 2},
		{"empty", nil, 22050, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteWAV(&b, tc.pcm, tc.rate, tc.ch); err != nil {
				t.Fatal(err)
			}
			pcm, rate, ch, err := ReadWAV(&b)
			if err != nil {
				t.Fatal(err)
			}
			if rate != tc.rate || ch != tc.ch || len(pcm) != len(tc.pcm) {
				t.Fatalf("got %d samples %d Hz %d ch", len(pcm), rate, ch)
			}
			for i := range pcm {
				if pcm[i] != tc.pcm[i] {
					t.Fatalf("sample %d: %d != %d", i, pcm[i], tc.pcm[i])
				}
			}
		})
	}
}

func TestReadWAVBad(t *testing.T) {
	good := func() []byte {
		var b bytes.Buffer
		WriteWAV(&b, []int16{1, 2, 3, 4}, 16000, 1)
		return b.Bytes()
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(good()) }
	le := binary.LittleEndian
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrWAVMalformed},
		{"not riff", []byte("RIFX....WAVEfmt "), ErrWAVMalformed},
		{"no chunks", good()[:12], ErrWAVMalformed},
		{"8 bit", mutate(func(b []byte) []byte { le.PutUint16(b[34:], 8); return b }), ErrWAVFormat},
		{"float", mutate(func(b []byte) []byte { le.PutUint16(b[20:], 3); return b }), ErrWAVFormat},
		{"zero channels", mutate(func(b []byte) []byte { le.PutUint16(b[22:], 0); return b }), ErrWAVFormat},
		{"huge fmt", mutate(func(b []byte) []byte { le.PutUint32(b[16:], 0xFFFFFFF0); return b }), ErrWAVMalformed},
		{"short fmt", good()[:30], ErrWAVMalformed},
		{"data before fmt", append([]byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00"), 1, 2), ErrWAVMalformed},
		{"huge unknown chunk", append(good()[:12], []byte("LIST\xff\xff\xff\xff")...), ErrWAVMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := ReadWAV(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("data size beyond file", func(t *testing.T) {
		b := good()
		le.PutUint32(b[40:], 1<<30)
		pcm, _, _, err := ReadWAV(bytes.NewReader(b))
		if err != nil || len(pcm) != 4 {
			t.Fatalf("got %d samples, %v", len(pcm), err)
		}
	})
}

func FuzzReadWAV(f *testing.F) {
	var b bytes.Buffer
	WriteWAV(&b, []int16{1, 2, 3}, 16000, 1)
	f.Add(b.Bytes())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pcm, rate, ch, err := ReadWAV(bytes.NewReader(in))
		if err == nil && (rate <= 0 || ch <= 0 || len(pcm)%ch != 0) {
			t.Fatalf("accepted nonsense: %d Hz %d ch %d samples", rate, ch, len(pcm))
		}
	})
}
