package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestCacheSizes: readers get the configured page cache, the writer at
// most maxWriterCacheMiB (see its comment).
func TestCacheSizes(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ opt, reader, writer int }{
		{0, 64, maxWriterCacheMiB},
		{4, 4, 4},
		{128, 128, maxWriterCacheMiB},
	} {
		db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"), &Options{CacheMiB: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		var r, w int
		if err := db.r.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&r); err != nil {
			t.Fatal(err)
		}
		if err := db.w.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&w); err != nil {
			t.Fatal(err)
		}
		if r != -c.reader*1024 || w != -c.writer*1024 {
			t.Errorf("CacheMiB %d: reader cache_size %d, writer %d; want %d and %d", c.opt, r, w, -c.reader*1024, -c.writer*1024)
		}
		db.Close()
	}
}
