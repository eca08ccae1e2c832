package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lodestone/backup"
	"lodestone/client"
	"lodestone/server"
)

// TestBackupRestoreCLI: `lodestone backup` of a running server's data
// folder while a client writes, then `lodestone restore` into a new
// folder, gives a store with the backup's counts that `lodestone verify`
// accepts against the transparency log's key; a restore over a folder
// that holds something needs --force, and one into the running server's
// folder is refused.
func TestBackupRestoreCLI(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "log.key")
	code, vkey, stderr := runCLI(t, "trust", "keygen", "lodestone.test/backup", "--out", keyFile)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	pubFile := filepath.Join(t.TempDir(), "log.pub")
	if err := os.WriteFile(pubFile, []byte(vkey), 0o644); err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LogKey = keyFile
	o.Logger = slog.New(slog.DiscardHandler)
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	c := client.New(s.URL(), nil)
	ctx := context.Background()
	model := json.RawMessage(`[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:backup:Tank;1","@type":"Interface","contents":[{"@type":"Property","name":"level","schema":"double","writable":true}]}]`)
	if err := c.Do(ctx, "POST", "/models", model, nil); err != nil {
		t.Fatal(err)
	}
	put := func(i int) error {
		return c.Do(ctx, "PUT", fmt.Sprintf("/digitaltwins/tank-%03d", i), map[string]any{
			"$metadata": map[string]any{"$model": "dtmi:test:backup:Tank;1"}, "level": float64(i)}, nil)
	}
	for i := range 20 {
		if err := put(i); err != nil {
			t.Fatal(err)
		}
	}
	// A write stream while the backup is taken.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	written := 20
	streaming := make(chan struct{})
	var once sync.Once
	wg.Go(func() {
		defer once.Do(func() { close(streaming) }) // a failed write must not leave the test waiting
		for i := 20; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := put(i); err != nil {
				t.Error(err)
				return
			}
			written = i + 1
			if written == 25 {
				once.Do(func() { close(streaming) })
			}
		}
	})
	<-streaming
	out := filepath.Join(t.TempDir(), "backup.db")
	code, bout, stderr := runCLI(t, "backup", "--data", o.DataDir, "--out", out, "--json")
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	var b backup.Info
	if err := json.Unmarshal([]byte(bout), &b); err != nil {
		t.Fatalf("backup --json: %v: %s", err, bout)
	}
	if b.File != out || b.Twins < 25 || b.Twins > int64(written) || b.Models == 0 || b.Bytes == 0 || b.SchemaVersion == 0 {
		t.Errorf("backup: %+v; want %s with 25 to %d twins", b, out, written)
	}
	if code, _, stderr := runCLI(t, "backup", "--data", o.DataDir, "--out", out); code != 1 || !strings.Contains(stderr, out) {
		t.Errorf("backup over an existing file: exit %d %s", code, stderr)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	code, rout, stderr := runCLI(t, "restore", "--data", restored, out)
	if code != 0 {
		t.Fatalf("restore: exit %d: %s", code, stderr)
	}
	want := fmt.Sprintf("restored %s: schema version %d, %d bytes, %d models, %d twins, %d relationships\n",
		filepath.Join(restored, backup.StoreFile), b.SchemaVersion, b.Bytes, b.Models, b.Twins, b.Relationships)
	if rout != want {
		t.Errorf("restore printed %q, want %q", rout, want)
	}
	// As docs/operations.md says: a server run once on the restored store
	// relays the changes committed just before the backup into the log
	// and signs a checkpoint; verify then accepts the store.
	ro := o
	ro.DataDir = restored
	rs, err := server.New(ro)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		recs, err := rs.Store.PendingRecords(ctx, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored server's relay left %d+ records in the outbox", len(recs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = rs.Shutdown(sctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if code, vout, verr := runCLI(t, "verify", "--data", restored, "--log-key-pub", pubFile); code != 0 || !strings.Contains(vout, "ok") {
		t.Errorf("verify of the restored store: exit %d\n%s%s", code, vout, verr)
	}
	if code, _, stderr := runCLI(t, "restore", "--data", restored, out); code != 1 || !strings.Contains(stderr, "--force") {
		t.Errorf("restore over a store without --force: exit %d %s", code, stderr)
	}
	if code, rout, stderr := runCLI(t, "restore", "--data", restored, "--force", "--json", out); code != 0 || !strings.Contains(rout, fmt.Sprintf(`"twins": %d`, b.Twins)) {
		t.Errorf("restore --force --json: exit %d %s %s", code, rout, stderr)
	}
	if code, _, stderr := runCLI(t, "restore", "--data", o.DataDir, "--force", out); code != 1 || !strings.Contains(stderr, "in use by a running Lodestone") {
		t.Errorf("restore into the running server's folder: exit %d %s", code, stderr)
	}
}
