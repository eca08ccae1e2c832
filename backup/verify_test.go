package backup_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lodestone/backup"
	"lodestone/server"
	"lodestone/store"
	"lodestone/trust"
)

func startLogged(t *testing.T, dir, key string) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr, o.LogKey = dir, "127.0.0.1:0", key
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func stop(t *testing.T, s *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestRestoreVerifies is the acceptance of issue 15: a backup taken while
// a server with a transparency log takes a stream of writes restores to
// a store that verify accepts once a server has run on it (its relay
// appends the log entries of the changes committed just before the
// backup; see docs/operations.md), and that holds every acknowledged
// write.
func TestRestoreVerifies(t *testing.T) {
	skey, vkey, err := trust.GenerateKey("test.local/log")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "log.key")
	if err := os.WriteFile(key, []byte(skey), 0o600); err != nil {
		t.Fatal(err)
	}
	dirA := filepath.Join(t.TempDir(), "a")
	a := startLogged(t, dirA, key)
	post := func(method, path, body string, want int) error {
		req, _ := http.NewRequest(method, a.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
		}
		return nil
	}
	if err := post("POST", "/models", `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Thing;1","@type":"Interface","contents":[{"@type":"Property","name":"n","schema":"double","writable":true}]}]`, 201); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked []string
	done := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			id := fmt.Sprintf("t%05d", i)
			if err := post("PUT", "/digitaltwins/"+id, fmt.Sprintf(`{"$metadata":{"$model":"dtmi:test:Thing;1"},"n":%d}`, i), 200); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			acked = append(acked, id)
			if len(acked) == 100 {
				close(started)
			}
			mu.Unlock()
		}
	})
	<-started
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "b.db")
	_, berr := backup.Backup(context.Background(), dirA, out)
	close(done)
	wg.Wait()
	stop(t, a)
	if berr != nil {
		t.Fatal(berr)
	}

	dirB := filepath.Join(t.TempDir(), "b")
	if _, err := backup.Restore(context.Background(), dirB, out, false); err != nil {
		t.Fatal(err)
	}
	b := startLogged(t, dirB, key)
	for deadline := time.Now().Add(20 * time.Second); ; {
		recs, err := b.Store.PendingRecords(context.Background(), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored server's relay left %d+ records in the outbox", len(recs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop(t, b)

	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dirB, backup.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := trust.Verify(context.Background(), st, vkey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Errorf("verify of the restored store: %d mismatches, first %+v", len(rep.Mismatches), rep.Mismatches[0])
	}
	for _, id := range before {
		if _, err := st.GetTwin(context.Background(), twinID(id)); err != nil {
			t.Fatalf("restored store lacks %s, acknowledged before the backup: %v", id, err)
		}
	}
}
