//go:build race

package sx_test

// raceEnabled: under the race detector sync.Pool drops items at random, so
// allocation counts of code that recycles buffers through one vary.
const raceEnabled = true
