package sqlite_test

import (
	"path/filepath"
	"testing"

	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/store/storetest"
)

func TestConformanceFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "twin.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), "sqlite::memory:")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestConformanceDocCache runs the conformance suite with the document
// cache on: every read it makes after a write must see the write.
func TestConformanceDocCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "twin.db")+"?doccache=4")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
