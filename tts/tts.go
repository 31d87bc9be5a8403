// Package tts is the speech-synthesis boundary.
package tts

import "context"

// SampleRate is the rate of the audio a Synthesizer returns: 16 kHz mono.
const SampleRate = 16000

// Synthesizer turns text into 16 kHz mono PCM.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string) ([]int16, error)
}
