package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/trust/dsse"
)

// TestKeysAndSign makes a key, registers it with a data folder's server,
// lists it, signs a payload that the server's verifier accepts, and
// deletes the key.
func TestKeysAndSign(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	keyFile := filepath.Join(dir, "pump-7.key")
	code, pub, stderr := runCLI(t, "keys", "gen", "pump-7", "--out", keyFile)
	if code != 0 {
		t.Fatalf("keys gen: %d %s", code, stderr)
	}
	pub = strings.TrimSpace(pub)
	if code, _, _ := runCLI(t, "keys", "gen", "pump-7", "--out", keyFile); code != 1 {
		t.Errorf("keys gen over an existing file: exit %d, want 1", code)
	}
	if code, _, _ := runCLI(t, "keys", "gen", "--out", keyFile+"2"); code != 2 {
		t.Errorf("keys gen without ID: exit %d, want 2", code)
	}
	if code, out, stderr := runCLI(t, "keys", "add", "pump-7", "--owner", "pump-7@acme", "--public-key", pub, "--data", data); code != 0 || !strings.Contains(out, "pump-7") {
		t.Fatalf("keys add: %d %q %s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "keys", "add", "bad", "--owner", "x", "--public-key", "AAAA", "--data", data); code != 2 || !strings.Contains(stderr, "public-key") {
		t.Errorf("keys add with a short key: %d %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "keys", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "pump-7@acme") || !strings.Contains(out, pub) {
		t.Fatalf("keys list: %d %q %s", code, out, stderr)
	}

	payload := filepath.Join(dir, "twin.json")
	os.WriteFile(payload, []byte(`{"$metadata":{"$model":"dtmi:x:Y;1"},"flow":2}`), 0o644)
	code, env, stderr := runCLI(t, "sign", "--key", keyFile, payload)
	if code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	e, err := dsse.Decode([]byte(env))
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := base64.StdEncoding.DecodeString(pub)
	id, err := dsse.Verify(e, func(id string) (ed25519.PublicKey, bool) { return pk, id == "pump-7" })
	if err != nil || id != "pump-7" || e.PayloadType != "application/json" {
		t.Errorf("the envelope of sign: %q %v %q", id, err, e.PayloadType)
	}
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"sign", payload}, 2},
		{[]string{"sign", "--key", keyFile, "--type", "text/plain", payload}, 2},
		{[]string{"sign", "--key", payload, payload}, 1},
		{[]string{"sign", "--key", keyFile, keyFile}, 1}, // not JSON
	} {
		if code, _, stderr := runCLI(t, tt.args...); code != tt.code {
			t.Errorf("%v: exit %d (%s), want %d", tt.args, code, stderr, tt.code)
		}
	}

	if code, _, stderr := runCLI(t, "keys", "delete", "pump-7", "--data", data); code != 0 {
		t.Fatalf("keys delete: %d %s", code, stderr)
	}
	if code, out, _ := runCLI(t, "keys", "list", "--data", data); code != 0 || strings.Contains(out, "pump-7") {
		t.Errorf("keys list after delete: %d %q", code, out)
	}
}
