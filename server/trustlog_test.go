package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lodestone/server"
	"lodestone/store"
	"lodestone/trust"
)

// writeKey writes a fresh log key into dir and returns its path and the
// verifier key.
func writeKey(t *testing.T, dir string) (string, string) {
	t.Helper()
	skey, vkey, err := trust.GenerateKey("lodestone.test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "log.key")
	if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, vkey
}

// A server with --log-key logs every write: write responses carry their
// log index, /log/checkpoint is a signed note, and after shutdown the store
// verifies against the log with the verifier key.
func TestServerTransparencyLog(t *testing.T) {
	keyPath, vkey := writeKey(t, t.TempDir())
	var dataDir string
	s := startServer(t, func(o *server.Options) {
		o.LogKey = keyPath
		dataDir = o.DataDir
	})
	url := s.URL()
	call(t, "POST", url+"/models", "["+counterModel+"]", 201)
	last := -1
	for i := range 5 {
		body := fmt.Sprintf(`{"$metadata":{"$model":"dtmi:test:Counter;1"},"n":%d}`, i)
		req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/digitaltwins/c%d", url, i), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("PUT c%d: %d", i, res.StatusCode)
		}
		idx, err := strconv.Atoi(res.Header.Get("Lodestone-Log-Index"))
		if err != nil || idx <= last {
			t.Fatalf("PUT c%d: Lodestone-Log-Index %q after %d, want a larger index", i, res.Header.Get("Lodestone-Log-Index"), last)
		}
		last = idx
	}
	if got := string(call(t, "GET", url+"/log/key", "", 200)); strings.TrimSpace(got) != vkey {
		t.Errorf("/log/key = %q, want %q", got, vkey)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dataDir, "lodestone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := trust.Verify(ctx, st, vkey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.TreeSize < 6 || rep.Signed != rep.TreeSize {
		t.Errorf("verify after shutdown: ok=%v tree %d signed %d mismatches %v", rep.OK, rep.TreeSize, rep.Signed, rep.Mismatches)
	}
}

// The signing key must not live in the data folder it vouches for.
func TestLogKeyInsideDataDirRefused(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.LogKey = filepath.Join(o.DataDir, "keys", "log.key")
	_, err := server.New(o)
	if err == nil || !strings.Contains(err.Error(), "log_key") {
		t.Fatalf("New with the key in the data folder: %v, want a log_key error", err)
	}
}
