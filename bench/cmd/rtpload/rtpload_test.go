package main

import (
	"bytes"
	"math"
	"reflect"
	"syscall"
	"testing"
	"unsafe"
)

func TestBencodeRoundTrip(t *testing.T) {
	in := map[string]any{"command": "offer", "call-id": "a@b", "sdp": "v=0\r\n",
		"replace": []string{"origin", "session-connection"}, "n": 42}
	var buf bytes.Buffer
	if err := bencode(&buf, in); err != nil {
		t.Fatal(err)
	}
	// Keys sorted, as bencode requires.
	if !bytes.HasPrefix(buf.Bytes(), []byte("d7:call-id3:a@b7:command5:offer1:ni42e")) {
		t.Fatalf("encoded %q", buf.String())
	}
	v, rest, err := bdecode(buf.Bytes())
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v, %d bytes left", err, len(rest))
	}
	want := map[string]any{"command": "offer", "call-id": "a@b", "sdp": "v=0\r\n",
		"replace": []any{"origin", "session-connection"}, "n": int64(42)}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("decoded %#v", v)
	}
	for _, bad := range []string{"", "d3:abc", "l", "i12", "5:ab", "d1:ai1e", "x"} {
		if _, _, err := bdecode([]byte(bad)); err == nil {
			t.Errorf("bdecode(%q) accepted", bad)
		}
	}
}

// A burst is found with its frequency (its name) and its position, also
// after a relay moved it within the frame; the background is not a burst.
func TestDetectMarker(t *testing.T) {
	if _, _, ok := detectMarker(bgFrame[:]); ok {
		t.Fatal("background detected as a burst")
	}
	for k := range markerFrames {
		id, c, ok := detectMarker(markerFrames[k][:])
		if !ok || id != k {
			t.Fatalf("burst %d: detected %v as %d", k, ok, id)
		}
		if math.Abs(c-(markerAt+markerLen/2-0.5)) > 1 {
			t.Fatalf("burst %d: centroid %.2f, want about %d", k, c, markerAt+markerLen/2)
		}
		// Delayed by 31 samples, as contactd's resampling filters do.
		var moved [frameSamples]byte
		copy(moved[:], bgFrame[:])
		copy(moved[31:], markerFrames[k][:frameSamples-31])
		id2, c2, ok := detectMarker(moved[:])
		if !ok || id2 != k || math.Abs(c2-c-31) > 0.5 {
			t.Fatalf("burst %d moved 31 samples: id %d centroid %.2f (was %.2f)", k, id2, c2, c)
		}
	}
}

func TestParseSDP(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 20002 RTP/AVP 111 9 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp-mux\r\n"
	s, err := parseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if s.port != 20002 || !s.ip.Equal([]byte{127, 0, 0, 1}) || s.dtmfPT != 101 || !s.rtcpMux {
		t.Fatalf("parsed %+v", s)
	}
	if _, err := parseSDP([]byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 8\r\n")); err == nil {
		t.Fatal("an offer without PCMU accepted")
	}
	if _, err := parseSDP([]byte("v=0\r\n")); err == nil {
		t.Fatal("no audio accepted")
	}
}

func TestKernelTime(t *testing.T) {
	hdr := int(unsafe.Sizeof(syscall.Cmsghdr{}))
	oob := make([]byte, hdr+16)
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS
	h.SetLen(hdr + 16)
	*(*syscall.Timespec)(unsafe.Pointer(&oob[hdr])) = syscall.Timespec{Sec: 3, Nsec: 5}
	if got := kernelTime(oob); got != 3e9+5 {
		t.Fatalf("kernelTime = %d", got)
	}
	if got := kernelTime(oob[:hdr-1]); got != 0 {
		t.Fatalf("short control message gave %d", got)
	}
}
