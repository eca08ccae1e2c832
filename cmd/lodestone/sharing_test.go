package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// lodestone sharing put, list, get and delete against a server with
// --auth, as the owner's admin and as the receiving org.
func TestSharingCommands(t *testing.T) {
	const acme, globex = "acme-admin-token-0123456", "globex-reader-token-0123"
	authFile := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(authFile, []byte(`{"tokens":[{"token":"`+acme+`","subject":"ann","org":"acme","roles":["admin"]},
		{"token":"`+globex+`","subject":"gus","org":"globex","roles":["reader"]}]}`), 0o600)
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.Auth = authFile
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
	req, _ := http.NewRequest("POST", s.URL()+"/models", strings.NewReader(`[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:acme:Mine;1","@type":"Interface",
		"contents":[{"@type":"Property","name":"output","schema":"double"}]}]`))
	req.Header.Set("Authorization", "Bearer "+acme)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("upload model: %v %v", resp, err)
	}
	resp.Body.Close()
	t.Setenv("LODESTONE_SERVER", s.URL())
	t.Setenv("LODESTONE_TOKEN", acme)
	if code, stdout, stderr := runCLI(t, "sharing", "put", "s1", "--to", "globex", "--models", "dtmi:acme:Mine;1", "--properties", "output",
		"--purpose", "offtake planning", "--expires", "2099-01-01T00:00:00Z"); code != 0 || !strings.Contains(stdout, "acme shares with globex until 2099-01-01T00:00:00Z") {
		t.Fatalf("sharing put: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "sharing", "put", "s2", "--to", "globex", "--models", "dtmi:other:X;1"); code != 1 || !strings.Contains(stderr, "models[0]") {
		t.Errorf("sharing put of a model not owned: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "sharing", "put", "s2", "--to", "globex"); code != 2 || !strings.Contains(stderr, "--models") {
		t.Errorf("sharing put without --models: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("LODESTONE_TOKEN", globex)
	if code, stdout, stderr := runCLI(t, "sharing", "list", "--json"); code != 0 || !strings.Contains(stdout, `"to_org": "globex"`) || !strings.Contains(stdout, `"created_by": "ann"`) {
		t.Errorf("sharing list as the receiver: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, _ := runCLI(t, "sharing", "get", "s1"); code != 0 || !strings.Contains(stdout, "properties:    output") {
		t.Errorf("sharing get: exit %d, stdout %q", code, stdout)
	}
	if code, _, stderr := runCLI(t, "sharing", "delete", "s1"); code != 1 || !strings.Contains(stderr, "403") {
		t.Errorf("sharing delete by the receiver: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("LODESTONE_TOKEN", acme)
	if code, stdout, stderr := runCLI(t, "sharing", "delete", "s1"); code != 0 || !strings.Contains(stdout, "Ended") {
		t.Errorf("sharing delete: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, _ := runCLI(t, "sharing", "list"); code != 0 || strings.Contains(stdout, "s1") {
		t.Errorf("sharing list after delete: exit %d, stdout %q", code, stdout)
	}
}
