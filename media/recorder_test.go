package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contactd/contactd/media/g711"
)

func readRecording(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, ch, err := ReadWAV(f)
	if err != nil {
		t.Fatalf("recording is not a valid wav: %v", err)
	}
	if rate != SampleRate || ch != 2 {
		t.Fatalf("recording is %d Hz %d ch", rate, ch)
	}
	for i := 0; i+1 < len(pcm); i += 2 {
		left = append(left, pcm[i])
		right = append(right, pcm[i+1])
	}
	return left, right
}

func TestRecorderChannels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	r, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	// Valid (empty) right after creation.
	if l, _ := readRecording(t, path); len(l) != 0 {
		t.Fatalf("new recording has %d samples", len(l))
	}
	caller := Tone(440, time.Second, SampleRate, 0.5)
	agent := Tone(1000, time.Second, SampleRate, 0.5)
	// The agent's frames arrive in bursts, lagging the caller's.
	for i := 0; i < 50; i++ {
		r.WriteCaller(caller[i*FrameSamples : (i+1)*FrameSamples])
		if i%4 == 3 {
			for j := i - 3; j <= i; j++ {
				r.WriteAgent(agent[j*FrameSamples : (j+1)*FrameSamples])
			}
		}
	}
	// Then the agent goes silent: the caller must not wait for it forever.
	for i := 0; i < 20; i++ {
		r.WriteCaller(make([]int16, FrameSamples))
	}
	if r.Samples() < 50*FrameSamples {
		t.Fatalf("only %d samples written while one side was silent", r.Samples())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	left, right := readRecording(t, path)
	if len(left) != 70*FrameSamples {
		t.Fatalf("%d samples per channel, want %d", len(left), 70*FrameSamples)
	}
	// Aligned: both tones occupy the first second on their own channel.
	assertTone(t, left[:SampleRate], SampleRate, 440)
	assertTone(t, right[:48*FrameSamples], SampleRate, 1000)
}

// TestRecorderCrash records in a child process, SIGKILLs it mid-call and
// checks the file is still a valid, non-empty WAV.
func TestRecorderCrash(t *testing.T) {
	if path := os.Getenv("MEDIA_RECORDER_CHILD"); path != "" {
		recordForever(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.wav")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecorderCrash$")
	cmd.Env = append(os.Environ(), "MEDIA_RECORDER_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "RECORDING" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("child exited before recording")
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child never started recording")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	left, _ := readRecording(t, path)
	if len(left) < SampleRate {
		t.Fatalf("crashed recording holds %d samples, want at least 1 s", len(left))
	}
	assertTone(t, left[:SampleRate], SampleRate, 440)
}

func recordForever(path string) {
	r, err := NewRecorder(path)
	if err != nil {
		os.Exit(2)
	}
	tone := Tone(440, 10*time.Second, SampleRate, 0.5)
	announced := false
	for i := 0; ; i++ {
		off := (i * FrameSamples) % (len(tone) - FrameSamples)
		r.WriteCaller(tone[off : off+FrameSamples])
		r.WriteAgent(make([]int16, FrameSamples))
		// Once the recorder's own goroutine has put 1 s on disk and in the
		// header (it writes half a second at a time, so on a loaded
		// machine that can come well after 1.5 s were handed over), the
		// parent kills us mid-call.
		if i >= 75 && !announced && onDisk(path) >= SampleRate {
			os.Stdout.WriteString("RECORDING\n")
			announced = true
		}
		if i > 75 {
			time.Sleep(FrameDuration)
		}
		if i > 3000 {
			os.Exit(3) // parent gone: never run forever
		}
	}
}

// onDisk is how many stereo frames the recording at path holds as its
// header says now (0 while it cannot be read).
func onDisk(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	pcm, _, ch, err := ReadWAV(f)
	if err != nil || ch != 2 {
		return 0
	}
	return len(pcm) / 2
}

// A G.711 call is recorded at 8 kHz: 16 kHz frames (the IVR, a
// transcribed channel) are downsampled, native 8 kHz frames (a relayed
// leg, NativeFrames) go in as they are, and both channels keep time.
func TestRecorderNarrow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	r, err := NewRecorderRate(path, NarrowRate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewRecorderRate(filepath.Join(t.TempDir(), "x.wav"), 11025); err == nil {
		t.Fatal("an 11025 Hz recording was accepted")
	}
	caller := Tone(440, time.Second, SampleRate, 0.5)
	caller8k := Tone(440, time.Second, NarrowRate, 0.5)
	agent := Tone(1000, time.Second, NarrowRate, 0.5)
	for i := 0; i < 50; i++ {
		// The caller's first half second at 16 kHz, then native frames.
		if i < 25 {
			r.Write(CallerChannel, caller[i*FrameSamples:(i+1)*FrameSamples], SampleRate)
		} else {
			r.Write(CallerChannel, caller8k[i*NarrowFrameSamples:(i+1)*NarrowFrameSamples], NarrowRate)
		}
		r.Write(AgentChannel, agent[i*NarrowFrameSamples:(i+1)*NarrowFrameSamples], NarrowRate)
	}
	r.Write(AgentChannel, make([]int16, 100), 22050) // not a rate it takes: dropped
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, ch, err := ReadWAV(f)
	if err != nil || rate != NarrowRate || ch != 2 {
		t.Fatalf("recording: %d Hz, %d ch, %v", rate, ch, err)
	}
	if n := len(pcm) / 2; n != NarrowRate {
		t.Fatalf("%d samples per channel, want %d (one second)", n, NarrowRate)
	}
	var left, right []int16
	for i := 0; i+1 < len(pcm); i += 2 {
		left, right = append(left, pcm[i]), append(right, pcm[i+1])
	}
	// Past the downsampler's delay in each half.
	assertTone(t, left[400:NarrowRate/2], NarrowRate, 440)
	assertTone(t, left[NarrowRate/2+400:], NarrowRate, 440)
	assertTone(t, right[400:], NarrowRate, 1000)
}

// TestRecorderG711: a G.711 call's recording is 8 kHz G.711 in the
// caller's law: a relayed leg's bytes go in as they are, the other law is
// converted, PCM frames (16 kHz or 8 kHz) are encoded, a silent gap is
// the law's silence, and the file reads back as a standard WAV (format 7,
// 8 bits) a quarter the size of 16 kHz PCM.
func TestRecorderG711(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	r, err := NewRecorderG711(path, false)
	if err != nil {
		t.Fatal(err)
	}
	caller := g711.EncodeUlaw(nil, Tone(440, time.Second, NarrowRate, 0.5))
	agentA := g711.EncodeAlaw(nil, Tone(1000, 500*time.Millisecond, NarrowRate, 0.5))
	agent16 := Tone(1000, 500*time.Millisecond, SampleRate, 0.5)
	for i := range 50 {
		r.WriteG711(CallerChannel, caller[i*NarrowFrameSamples:(i+1)*NarrowFrameSamples], false)
		if i < 25 {
			r.WriteG711(AgentChannel, agentA[i*NarrowFrameSamples:(i+1)*NarrowFrameSamples], true)
		} else {
			j := i - 25
			r.Write(AgentChannel, agent16[j*FrameSamples:(j+1)*FrameSamples], SampleRate)
		}
	}
	// The caller goes on alone: the agent's channel is padded with
	// silence once it is 200 ms behind.
	for i := range 15 {
		r.WriteG711(CallerChannel, caller[i*NarrowFrameSamples:(i+1)*NarrowFrameSamples], false)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if tag, bits := binary.LittleEndian.Uint16(raw[20:]), binary.LittleEndian.Uint16(raw[34:]); tag != 7 || bits != 8 {
		t.Fatalf("format tag %d, %d bits; want 7 (µ-law), 8", tag, bits)
	}
	frames := 65 * NarrowFrameSamples
	if len(raw) != wavHeaderSize+2*frames {
		t.Fatalf("%d bytes, want %d (one byte per sample per channel)", len(raw), wavHeaderSize+2*frames)
	}
	data := raw[wavHeaderSize:]
	for i := range 50 * NarrowFrameSamples {
		if data[2*i] != caller[i%len(caller)] {
			t.Fatalf("caller byte %d is %#x, want the packet's %#x as it was", i, data[2*i], caller[i])
		}
	}
	for i := 50 * NarrowFrameSamples; i < frames; i++ {
		if data[2*i+1] != 0xff {
			t.Fatalf("agent byte %d is %#x, want µ-law silence", i, data[2*i+1])
		}
	}
	pcm, rate, ch, err := ReadWAV(bytes.NewReader(raw))
	if err != nil || rate != NarrowRate || ch != 2 || len(pcm) != 2*frames {
		t.Fatalf("ReadWAV: %d Hz, %d ch, %d samples, %v", rate, ch, len(pcm), err)
	}
	var left, right []int16
	for i := 0; i+1 < len(pcm); i += 2 {
		left, right = append(left, pcm[i]), append(right, pcm[i+1])
	}
	assertTone(t, left[:NarrowRate], NarrowRate, 440)
	assertTone(t, right[:NarrowRate/2], NarrowRate, 1000)
	assertTone(t, right[NarrowRate/2+400:NarrowRate], NarrowRate, 1000)
	if r.Samples() != frames {
		t.Fatalf("Samples() = %d, want %d", r.Samples(), frames)
	}

	// An A-law caller's recording is A-law.
	pathA := filepath.Join(t.TempDir(), "a.wav")
	ra, err := NewRecorderG711(pathA, true)
	if err != nil {
		t.Fatal(err)
	}
	ra.WriteG711(CallerChannel, agentA[:NarrowFrameSamples], true)
	ra.WriteG711(AgentChannel, caller[:NarrowFrameSamples], false)
	if err := ra.Close(); err != nil {
		t.Fatal(err)
	}
	rawA, _ := os.ReadFile(pathA)
	if binary.LittleEndian.Uint16(rawA[20:]) != 6 || rawA[wavHeaderSize] != agentA[0] {
		t.Fatalf("A-law recording: tag %d, first byte %#x", binary.LittleEndian.Uint16(rawA[20:]), rawA[wavHeaderSize])
	}
}

// stallFile is a recording file whose writes wait while stalled.
type stallFile struct {
	*os.File
	stall chan struct{} // closed: writes go through
}

func (f *stallFile) Write(b []byte) (int, error) {
	<-f.stall
	return f.File.Write(b)
}

// TestRecorderDiskStall: when the disk stops keeping up, a Sink does not
// wait (a media reader records relayed legs through it); what the writer
// had no room for becomes silence of the same length, so the recording
// keeps the call's timeline, and Close says how much. WriteG711 itself
// waits instead (a producer faster than real time loses nothing).
func TestRecorderDiskStall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sf := &stallFile{File: f, stall: make(chan struct{})}
	header := make(chan struct{})
	close(header)
	sf.stall = header // the header goes through
	r, err := newRecorderOn(sf, NarrowRate, lawUlaw)
	if err != nil {
		t.Fatal(err)
	}
	stall := make(chan struct{})
	sf.stall = stall // set before the writer's first write: flush happens after a half second of audio
	tone := g711.EncodeUlaw(nil, Tone(440, time.Second, NarrowRate, 0.5))
	const secs = 12 // more than the queue holds (recQueue half seconds)
	done := make(chan struct{})
	caller, agent := r.Sink(CallerChannel), r.Sink(AgentChannel)
	go func() {
		defer close(done)
		for i := range secs * 50 {
			j := i % 50
			caller(tone[j*NarrowFrameSamples:(j+1)*NarrowFrameSamples], false)
			agent(tone[j*NarrowFrameSamples:(j+1)*NarrowFrameSamples], false)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write waited for a stalled disk")
	}
	close(stall)
	err = r.Close()
	if err == nil || !strings.Contains(err.Error(), "silence") {
		t.Fatalf("Close after a stall: %v, want a report of the silence", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := wavHeaderSize + secs*NarrowRate*2; len(raw) != want {
		t.Fatalf("%d bytes, want %d: the timeline must hold", len(raw), want)
	}
	silent := 0
	for i := wavHeaderSize; i < len(raw); i++ {
		if raw[i] == 0xff {
			silent++
		}
	}
	if silent < NarrowRate*2 {
		t.Fatalf("%d silent bytes: the audio the disk could not take is not silence", silent)
	}
}

// TestRecorderG711IntoPCM: G.711 bytes written to a 16 kHz PCM recording
// are decoded and upsampled as Write does with 8 kHz frames.
func TestRecorderG711IntoPCM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	r, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	tone := g711.EncodeAlaw(nil, Tone(1000, time.Second, NarrowRate, 0.5))
	for i := 0; i+NarrowFrameSamples <= len(tone); i += NarrowFrameSamples {
		r.WriteG711(CallerChannel, tone[i:i+NarrowFrameSamples], true)
		r.WriteAgent(make([]int16, FrameSamples))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ := readRecording(t, path)
	if len(left) != SampleRate {
		t.Fatalf("%d samples, want %d (one second at 16 kHz)", len(left), SampleRate)
	}
	assertTone(t, left[800:], SampleRate, 1000)
}
