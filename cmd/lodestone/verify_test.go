package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/trust"
	"lodestone/twin"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, args)
	return code, out.String(), errb.String()
}

// TestTrustKeygenAndVerify makes a key, writes a store with the log on,
// verifies it (exit 0), changes a stored value and verifies again (exit 1).
func TestTrustKeygenAndVerify(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "keys", "log.key")
	code, vkey, stderr := runCLI(t, "trust", "keygen", "lodestone.test/log", "--out", keyFile)
	if code != 0 || !strings.HasPrefix(vkey, "lodestone.test/log+") {
		t.Fatalf("keygen: %d %q %q", code, vkey, stderr)
	}
	if code, _, _ := runCLI(t, "trust", "keygen", "lodestone.test/log", "--out", keyFile); code != 1 {
		t.Errorf("keygen over an existing key: exit %d, want 1", code)
	}
	if code, _, _ := runCLI(t, "trust", "keygen", "--out", keyFile+"2"); code != 2 {
		t.Errorf("keygen without NAME: exit %d, want 2", code)
	}
	pubFile := filepath.Join(t.TempDir(), "log.pub")
	if err := os.WriteFile(pubFile, []byte(vkey), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "lodestone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := trust.LoadSigner(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := trust.NewLog(ctx, st, signer, trust.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Hooks: []pipeline.Hook{l}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PutModels(ctx, []json.RawMessage{json.RawMessage(`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:t:A;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"double","writable":true}]}`)}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []twin.ID{"a", "b"} {
		if _, _, err := p.PutTwin(ctx, twin.Twin{ID: id, Metadata: twin.Metadata{Model: "dtmi:t:A;1"}, Properties: map[string]any{"x": 1.5}}, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	p.Shutdown(ctx)
	st.Close()

	if code, out, errOut := runCLI(t, "verify", "--data", dir, "--log-key-pub", pubFile); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, "verify", "--store", "sqlite:"+filepath.Join(dir, "lodestone.db"), "--json"); code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Fatalf("verify --json: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"verify"}, {"verify", "--data", dir, "--store", "sqlite:x"}, {"verify", "--data", dir, "extra"}, {"verify", "--data", dir, "--log-key-pub", filepath.Join(dir, "none")}} {
		if code, _, _ := runCLI(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	// Another key does not verify the checkpoints.
	otherPub := filepath.Join(t.TempDir(), "other.pub")
	_, other, _ := runCLI(t, "trust", "keygen", "lodestone.test/log", "--out", filepath.Join(t.TempDir(), "k"))
	os.WriteFile(otherPub, []byte(other), 0o644)
	if code, _, _ := runCLI(t, "verify", "--data", dir, "--log-key-pub", otherPub); code != 1 {
		t.Errorf("verify with another key: exit %d, want 1", code)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "lodestone.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE twins SET props = replace(props, '1.5', '1.6') WHERE id = 'b'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, _ := runCLI(t, "verify", "--data", dir, "--log-key-pub", pubFile)
	if code != 1 || !strings.Contains(out, "altered") || !strings.Contains(out, " b ") {
		t.Fatalf("verify after a change: exit %d\n%s", code, out)
	}
}
