//go:build !race

package server_test

// raceEnabled tells the crash test to build the server with -race too, so
// the build reuses the packages the test binary was compiled with.
const raceEnabled = false
