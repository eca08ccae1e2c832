package world_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden pins the documents users get from the default world (the
// NETWORK of `world network`, the stage shares), so that a change to the data or
// the conversion shows up as a reviewed diff. Regenerate with
// `go test ./world -run TestGolden -update`.
func TestGolden(t *testing.T) {
	w := load(t)
	net, err := w.Network(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		v    any
	}{
		{"network-per-day.json", net},
		{"stage-shares.json", w.StageShares()},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := json.MarshalIndent(tt.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", path, diff)
			}
		})
	}
}
