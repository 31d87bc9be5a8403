package tickets

// raceSkip is why a measure over the labelled calls skips itself under
// the race detector: it is single-threaded, the detector slows it
// fivefold and can find nothing in it, and make test runs it in a pass
// without the detector.
const raceSkip = "a single-threaded measure over the labelled calls: make test runs it without -race"
