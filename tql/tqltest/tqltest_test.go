package tqltest_test

import (
	"testing"

	"lodestone/tql/tqltest"
)

// TestScripts runs every script in testdata against the reference engine.
func TestScripts(t *testing.T) {
	tqltest.RunDir(t, "testdata", func(*testing.T) tqltest.Engine { return tqltest.NewMemEngine() })
}
