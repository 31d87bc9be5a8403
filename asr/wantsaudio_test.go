package asr_test

import (
	"context"
	"testing"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/none"
)

// wrapped embeds provider none, and so its WantsAudio.
type wrapped struct{ none.Recognizer }

// listening is a recogniser that does not say whether it wants audio.
type listening struct{}

func (listening) NewStream(context.Context, asr.StreamOptions) (asr.Stream, error) { return nil, nil }
func (listening) Recognize(context.Context, []int16) (asr.Result, error)           { return asr.Result{}, nil }
func (listening) Close() error                                                     { return nil }

// TestWantsAudio: only nil and recognisers that say so (provider none)
// want no live audio.
func TestWantsAudio(t *testing.T) {
	rec, err := asr.New(context.Background(), "none", asr.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    asr.Recognizer
		want bool
	}{
		{"nil", nil, false},
		{"provider none", rec, false},
		{"embeds none", wrapped{}, false},
		{"says nothing", listening{}, true},
	} {
		if got := asr.WantsAudio(c.r); got != c.want {
			t.Errorf("%s: WantsAudio = %v, want %v", c.name, got, c.want)
		}
	}
}
