//go:build race

package supply_test

// raceEnabled is true under the race detector, which slows the simulation
// tenfold: the property and Monte Carlo tests then run fewer cases.
const raceEnabled = true
