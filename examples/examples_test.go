package examples

import (
	"encoding/json"
	"testing"
)

// TestProcess: every engine folder has examples, each valid JSON, and Get
// finds them by name and refuses paths.
func TestProcess(t *testing.T) {
	seen := map[string]int{}
	for _, ex := range Process() {
		seen[ex.Engine]++
		if !json.Valid(ex.Spec) {
			t.Errorf("%s/%s is not valid JSON", ex.Engine, ex.Name)
		}
		if b, ok := Get(ex.Engine, ex.Name); !ok || len(b) != len(ex.Spec) {
			t.Errorf("Get(%s, %s) = %d bytes, %v", ex.Engine, ex.Name, len(b), ok)
		}
	}
	for _, eng := range Engines {
		if seen[eng] == 0 {
			t.Errorf("no example for %s", eng)
		}
	}
	for _, c := range [][2]string{{"sx", "../sx/constant-d"}, {"../examples", "x"}, {"sx", "nope"}} {
		if _, ok := Get(c[0], c[1]); ok {
			t.Errorf("Get(%q, %q) found something", c[0], c[1])
		}
	}
}
