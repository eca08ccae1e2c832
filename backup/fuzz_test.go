package backup_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/backup"
)

// FuzzCheck: whatever a file holds, Check answers (never panics) and an
// error names the file.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte("SQLite format 3\x00\x10\x00\x01\x01\x00\x40\x20\x20"))
	f.Add([]byte("hello"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := backup.Check(t.Context(), p); err != nil && !strings.Contains(err.Error(), p) {
			t.Errorf("error does not name the file: %v", err)
		}
	})
}
