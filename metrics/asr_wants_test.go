package metrics

import (
	"testing"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/none"
)

// TestASRWrapperKeepsWantsAudio: wrapping provider none for the latency
// metric keeps it a recogniser that wants no audio (calls open no
// streams), and a recogniser that wants audio still does.
func TestASRWrapperKeepsWantsAudio(t *testing.T) {
	m := New()
	if asr.WantsAudio(m.Recognizer(none.Recognizer{})) {
		t.Error("wrapped provider none wants audio")
	}
	if !asr.WantsAudio(m.Recognizer(burstASR{})) {
		t.Error("a wrapped recogniser that wants audio does not")
	}
}
