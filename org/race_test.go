//go:build race

package org_test

// raceEnabled is true under the race detector, which slows the simulation
// tenfold: the long search comparisons then skip.
const raceEnabled = true
