package racedetect

import "testing"

// SkipMeasure skips a test under the race detector: a single-threaded
// measure over many labelled calls, which the detector slows fivefold and
// in which it can find nothing. make test runs such tests in a pass
// without the detector.
func SkipMeasure(t testing.TB) {
	t.Helper()
	if Enabled {
		t.Skip("a single-threaded measure over the labelled calls: make test runs it without -race")
	}
}
