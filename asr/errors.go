package asr

import "errors"

// ErrFatal marks a DecodeFunc error after which retrying is pointless (a
// rejected API key, an unknown model): a SegmentedStream ends at once.
// Wrap it: fmt.Errorf("openai: %w: HTTP 401", asr.ErrFatal).
var ErrFatal = errors.New("asr: provider failed permanently")

// Failer is implemented by streams that can lose audio to a failing
// provider (the remote ones, and SegmentedStream). Err returns the first
// failure that left a hole in the transcript, or nil.
//
// The error state of a Stream is read like this:
//   - Results closed before Close was called: the provider failed and the
//     stream recognises nothing more (the IVR falls back to DTMF);
//     StreamErr says why.
//   - StreamErr(s) != nil after Close: part of the audio was never
//     transcribed; mark the transcript incomplete.
type Failer interface {
	Err() error
}

// StreamErr returns s.Err() when s implements Failer, else nil.
func StreamErr(s Stream) error {
	if f, ok := s.(Failer); ok {
		return f.Err()
	}
	return nil
}
