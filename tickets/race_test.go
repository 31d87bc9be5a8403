package tickets_test

// raceSkip: see race_internal_test.go.
const raceSkip = "a single-threaded measure over the labelled calls: make test runs it without -race"
