//go:build race

package trust_test

// raceEnabled shortens the tamper test under the race detector, which
// slows each trial's store opening tenfold.
const raceEnabled = true
