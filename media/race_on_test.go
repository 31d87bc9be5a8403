//go:build race

package media

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
