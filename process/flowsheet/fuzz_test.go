package flowsheet_test

import (
	"os"
	"path/filepath"
	"testing"

	"lodestone/process/flowsheet"
)

// FuzzParseSpec checks that ParseSpec never panics and that it accepts
// only specs that pass Validate.
func FuzzParseSpec(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "flowsheet", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"media": "sulfate"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := flowsheet.ParseSpec(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Errorf("ParseSpec accepted a spec that Validate rejects: %v", err)
		}
	})
}
