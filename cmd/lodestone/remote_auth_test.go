package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// The remote commands send $LODESTONE_TOKEN as a bearer token, so they
// work against a server with --auth; without it the server's 401 is shown.
func TestRemoteCommandsWithToken(t *testing.T) {
	const token = "cli-test-token-0123456789"
	authFile := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(authFile, []byte(`{"tokens":[{"token":"`+token+`","subject":"alice","org":"acme","roles":["reader"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
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
	t.Setenv("LODESTONE_SERVER", s.URL())
	t.Setenv("LODESTONE_TOKEN", "")
	if code, _, stderr := runCLI(t, "twin", "get", "mine-br"); code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("twin get without a token: exit %d, stderr %q; want 1 and the server's 401", code, stderr)
	}
	t.Setenv("LODESTONE_TOKEN", token)
	if code, stdout, stderr := runCLI(t, "twin", "get", "mine-br", "--json"); code != 0 || !strings.Contains(stdout, `"mine-br"`) {
		t.Errorf("twin get with the token: exit %d, stdout %.200q, stderr %q", code, stdout, stderr)
	}
	// A reader may not write: the server's 403 comes through.
	if code, _, stderr := runCLI(t, "twin", "patch", "mine-br", "/capacityTonnesPerYear=26"); code != 1 || !strings.Contains(stderr, "403") {
		t.Errorf("twin patch as a reader: exit %d, stderr %q; want 1 and 403", code, stderr)
	}
}

// LODESTONE_CA must name a PEM bundle.
func TestRemoteCAFile(t *testing.T) {
	if _, err := remoteHTTPClient(filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "LODESTONE_CA") {
		t.Errorf("missing CA file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, err := remoteHTTPClient(bad); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA file: %v", err)
	}
	if hc, err := remoteHTTPClient(""); hc != nil || err != nil {
		t.Errorf("no CA file: %v %v, want the default client", hc, err)
	}
}
