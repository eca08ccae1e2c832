package backup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"lodestone/backup"
	"lodestone/store"
	_ "lodestone/store/sqlite"
	"lodestone/twin"
)

const model = "dtmi:test:Thing;1"

// TestBackupDuringWrites takes a backup while a writer streams twins into
// the store and checks that the restored store opens and holds every
// write acknowledged before the backup began.
func TestBackupDuringWrites(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(data, backup.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PutModels(ctx, []twin.Model{{ID: model, DTDL: json.RawMessage(`{"@id":"` + model + `","@type":"Interface"}`)}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked []twin.ID
	stop := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := twin.ID(fmt.Sprintf("t%05d", i))
			if _, err := st.PutTwin(ctx, twin.Twin{ID: id, Metadata: twin.Metadata{Model: model}, Properties: map[string]any{"n": float64(i)}}, store.Condition{}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			acked = append(acked, id)
			n := len(acked)
			mu.Unlock()
			if n == 200 {
				close(started)
			}
		}
	})
	<-started
	mu.Lock()
	before := append([]twin.ID(nil), acked...)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "backup.db")
	info, err := backup.Backup(ctx, data, out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Twins < int64(len(before)) {
		t.Errorf("backup holds %d twins, %d were acknowledged before it began", info.Twins, len(before))
	}
	target := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(ctx, target, out, false); err != nil {
		t.Fatal(err)
	}
	rs, err := store.Open(ctx, "sqlite:"+filepath.Join(target, backup.StoreFile))
	if err != nil {
		t.Fatalf("restored store does not open: %v", err)
	}
	defer rs.Close()
	for _, id := range before {
		if _, err := rs.GetTwin(ctx, id); err != nil {
			t.Fatalf("restored store lacks %s, acknowledged before the backup: %v", id, err)
		}
	}
	// A second restore into the now non-empty folder needs --force.
	if _, err := backup.Restore(ctx, target, out, false); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a non-empty folder: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a database at all"), 0o644)
	other := filepath.Join(dir, "other.db")
	// An SQLite file that is not a store.
	func() {
		st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "real.db"))
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"missing", filepath.Join(dir, "nope.db"), "no such file"},
		{"text", text, "not an SQLite database"},
		{"directory", dir, "is a directory"},
		{"empty sqlite", other, "schema version 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "empty sqlite" {
				makeEmptySQLite(t, other)
			}
			_, err := backup.Restore(ctx, filepath.Join(t.TempDir(), "d"), tc.file, false)
			if err == nil || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Restore(%s) = %v; want an error naming the file and %q", tc.file, err, tc.want)
			}
		})
	}
	if _, err := backup.Backup(ctx, t.TempDir(), filepath.Join(dir, "b.db")); err == nil || !strings.Contains(err.Error(), "no store file") {
		t.Errorf("Backup of an empty folder: %v", err)
	}
	if _, err := backup.Backup(ctx, dir, text); err == nil {
		t.Errorf("Backup over an existing file: no error")
	}
}
