//go:build !race

package supply_test

const raceEnabled = false
