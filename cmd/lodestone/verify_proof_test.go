package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// TestLogProof fetches the inclusion proof of an org's own write with the
// org's reader token and checks it (with and without the log's key); the
// proof of another org's write is the server's 404; a proof altered on
// the way, or a checkpoint checked with another key, exits 1.
func TestLogProof(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys", "log.key")
	code, vkey, stderr := runCLI(t, "trust", "keygen", "lodestone.test/log", "--out", keyFile)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	pubFile := filepath.Join(dir, "log.pub")
	os.WriteFile(pubFile, []byte(vkey), 0o644)
	otherPub := filepath.Join(dir, "other.pub")
	_, other, _ := runCLI(t, "trust", "keygen", "lodestone.test/log", "--out", filepath.Join(dir, "other.key"))
	os.WriteFile(otherPub, []byte(other), 0o644)

	tok := map[string]string{}
	var toks []string
	for _, p := range []struct{ org, role string }{{"acme", "admin"}, {"acme", "reader"}, {"beta", "reader"}} {
		tok[p.org+"/"+p.role] = "tok-" + p.org + "-" + p.role + "-0123456789"
		toks = append(toks, `{"token":"`+tok[p.org+"/"+p.role]+`","subject":"`+p.role+`","org":"`+p.org+`","roles":["`+p.role+`"]}`)
	}
	authFile := filepath.Join(dir, "auth.json")
	os.WriteFile(authFile, []byte(`{"tokens":[`+strings.Join(toks, ",")+`]}`), 0o600)
	o := server.DefaultOptions()
	o.DataDir = filepath.Join(dir, "data")
	o.HTTPAddr = "127.0.0.1:0"
	o.Auth, o.LogKey, o.RateLimit = authFile, keyFile, 0
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	call := func(method, path, token, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	resp, _ := call("POST", "/models", tok["acme/admin"], `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:acme:M;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"double","writable":true}]}]`)
	if resp.StatusCode != 201 {
		t.Fatalf("POST /models = %d", resp.StatusCode)
	}
	resp, _ = call("PUT", "/digitaltwins/m1", tok["acme/admin"], `{"$metadata":{"$model":"dtmi:acme:M;1"},"x":1}`)
	idx := resp.Header.Get("Lodestone-Log-Index")
	if resp.StatusCode != 200 || idx == "" {
		t.Fatalf("PUT twin = %d, Lodestone-Log-Index %q", resp.StatusCode, idx)
	}

	t.Setenv("LODESTONE_SERVER", s.URL())
	t.Setenv("LODESTONE_TOKEN", tok["acme/reader"])
	for _, tt := range []struct {
		name   string
		args   []string
		token  string
		code   int
		stdout []string
	}{
		{"own write, key checked", []string{"log", "proof", idx, "--log-key-pub", pubFile}, tok["acme/reader"], 0, []string{"is in the log's tree", "m1", "signature verifies"}},
		{"own write, no key", []string{"log", "proof", idx}, tok["acme/reader"], 0, []string{"is in the log's tree", "not checked"}},
		{"JSON", []string{"log", "proof", idx, "--log-key-pub", pubFile, "--json"}, tok["acme/reader"], 0, []string{`"verified": true`, `"signature_checked": true`, `"org": "acme"`}},
		{"another key", []string{"log", "proof", idx, "--log-key-pub", otherPub}, tok["acme/reader"], 1, nil},
		{"another org's write", []string{"log", "proof", idx}, tok["beta/reader"], 1, nil},
		{"bad index", []string{"log", "proof", "x"}, tok["acme/reader"], 2, nil},
		{"no index", []string{"log", "proof"}, tok["acme/reader"], 2, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LODESTONE_TOKEN", tt.token)
			code, out, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("%v: exit %d, want %d\n%s%s", tt.args, code, tt.code, out, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("%v: output lacks %q:\n%s", tt.args, w, out)
				}
			}
		})
	}

	// A proof altered on the way: each alteration is caught.
	_, real := call("GET", "/log/proof/"+idx, tok["acme/reader"], "")
	alter := map[string]func(p map[string]any){
		"entry":     func(p map[string]any) { p["entry"] = strings.Replace(p["entry"].(string), `"m1"`, `"m2"`, 1) },
		"index":     func(p map[string]any) { p["index"] = p["index"].(float64) + 1 },
		"hash":      func(p map[string]any) { p["hashes"].([]any)[0] = base64.StdEncoding.EncodeToString(make([]byte, 32)) },
		"tree size": func(p map[string]any) { p["tree_size"] = p["tree_size"].(float64) + 1 },
	}
	for name, f := range alter {
		var p map[string]any
		if err := json.Unmarshal(real, &p); err != nil {
			t.Fatal(err)
		}
		if hs, _ := p["hashes"].([]any); name == "hash" && len(hs) == 0 {
			t.Fatalf("the proof has no hashes to alter: %s", real)
		}
		f(p)
		fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(p)
		}))
		code, out, stderr := runCLI(t, "log", "proof", idx, "--server", fake.URL)
		fake.Close()
		if code != 1 {
			t.Errorf("proof with the %s altered: exit %d, want 1\n%s%s", name, code, out, stderr)
		}
	}
}
