package precip_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/internal/golden"
	"lodestone/process/precip"
)

// TestGolden runs every example spec and compares the result with
// testdata/golden/<example>.golden (go test ./process/precip -update
// rewrites them).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "precip", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := precip.ParseSpec(data)
			if err != nil {
				t.Fatal(err)
			}
			res, err := precip.Simulate(s)
			if err != nil {
				t.Fatal(err)
			}
			// Closure is round-off; it is checked elsewhere, not pinned here.
			res.Closure = nil
			golden.Check(t, filepath.Join("testdata", "golden", name+".golden"), golden.RoundJSON(t, res))
		})
	}
}
