//go:build !race

package sx_test

const raceEnabled = false
