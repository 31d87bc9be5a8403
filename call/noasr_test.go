package call

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/none"
)

// countingNone is provider none that counts the streams opened on it.
type countingNone struct {
	none.Recognizer // WantsAudio: false
	streams         atomic.Int32
}

func (r *countingNone) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	r.streams.Add(1)
	return r.Recognizer.NewStream(ctx, opts)
}

// TestNoStreamsForRecognizerWantingNoAudio: with a recogniser that wants
// no live audio (provider none, asr.WantsAudio) a bridged call opens no
// stream for the caller or the agent, so nothing is decoded for one and
// the mixer needs no tick; the call still ends and is stored.
func TestNoStreamsForRecognizerWantingNoAudio(t *testing.T) {
	rec := &countingNone{}
	f := newLiveFixture(t, nil, func(o *Options) { o.ASR = rec })
	say(f.customer, 600, 300*time.Millisecond)
	segs := f.hangup(t)
	if n := rec.streams.Load(); n != 0 {
		t.Errorf("%d recognition streams opened for a recogniser that wants no audio", n)
	}
	if len(segs) != 0 {
		t.Errorf("transcript %+v, want none", segs)
	}
	if _, err := f.st.Call(context.Background(), f.id); err != nil {
		t.Errorf("the call was not stored: %v", err)
	}
}
