package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
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

// TestModelSignatures marks a model as requiring signatures through the
// CLI: unsigned writes to its twins are refused from then on, until the
// mark is taken off.
func TestModelSignatures(t *testing.T) {
	url := demoServerURL(t)
	const model = "dtmi:test:SignedMeter;1"
	put := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := put("POST", "/models", `[{"@context":"dtmi:dtdl:context;3","@id":"`+model+`","@type":"Interface","contents":[{"@type":"Property","name":"flow","schema":"double","writable":true}]}]`); got != 201 {
		t.Fatalf("POST /models = %d", got)
	}
	twin := `{"$metadata":{"$model":"` + model + `"},"flow":1}`
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		put    int // the status of an unsigned twin write afterwards; 0: none
	}{
		{"shown, not required", []string{"model", "signatures", model}, 0, "need no signature", 200},
		{"required", []string{"model", "signatures", model, "--required"}, 0, "must be signed", 403},
		{"shown, required, JSON", []string{"model", "signatures", model, "--json"}, 0, `"required": true`, 403},
		{"no longer required", []string{"model", "signatures", model, "--required=false"}, 0, "need no signature", 200},
		{"unknown model", []string{"model", "signatures", "dtmi:test:None;1", "--required"}, 1, "", 0},
		{"no model", []string{"model", "signatures", "--required"}, 2, "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append(tt.args, "--server", url)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) {
				t.Fatalf("%v: exit %d %q %s, want %d and %q", tt.args, code, out, stderr, tt.code, tt.stdout)
			}
			if tt.put != 0 {
				if got := put("PUT", "/digitaltwins/meter-1", twin); got != tt.put {
					t.Errorf("unsigned PUT after %v = %d, want %d", tt.args, got, tt.put)
				}
			}
		})
	}
}
