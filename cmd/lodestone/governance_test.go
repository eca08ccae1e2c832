package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
)

// TestGovernanceCLI walks the workflow with the CLI against a server with
// --auth and --govern: a governed twin is created through propose, review
// and approve; a direct patch of it is refused; list and versions show it.
func TestGovernanceCLI(t *testing.T) {
	dir := t.TempDir()
	authFile, govFile := filepath.Join(dir, "auth.json"), filepath.Join(dir, "govern.json")
	tokens := `{"tokens":[
		{"token":"alice-token-0123456789","subject":"alice","org":"acme","roles":["writer"]},
		{"token":"bob-token-01234567890","subject":"bob","org":"acme","roles":["writer"]},
		{"token":"carol-token-0123456789","subject":"carol","org":"acme","roles":["admin"]}]}`
	if err := os.WriteFile(authFile, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(govFile, []byte(`{"properties":[{"twin":"mine-test","path":"/capacityTonnesPerYear"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	change := filepath.Join(dir, "change.json")
	if err := os.WriteFile(change, []byte(`{"op":"put_twin","twin":{"$dtId":"mine-test","$metadata":{"$model":"dtmi:lodestone:Mine;1"},"name":"Test mine","capacityTonnesPerYear":1000}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir = filepath.Join(dir, "data")
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
	o.Auth, o.Govern = authFile, govFile
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

	t.Setenv("LODESTONE_TOKEN", "alice-token-0123456789")
	if code, _, stderr := runCLI(t, "governance", "propose", change); code != 2 || !strings.Contains(stderr, "--reason") {
		t.Errorf("propose without a reason: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "governance", "propose", change, "--reason", "new mine in the register", "--json")
	if code != 0 {
		t.Fatalf("propose: exit %d, %s", code, stderr)
	}
	var pr struct{ ID, Governed string }
	if err := json.Unmarshal([]byte(stdout), &pr); err != nil || pr.Governed != "property mine-test/capacityTonnesPerYear" {
		t.Fatalf("propose answer %s: %v", stdout, err)
	}
	if code, _, stderr := runCLI(t, "governance", "review", pr.ID); code != 1 || !strings.Contains(stderr, "403") {
		t.Errorf("the author reviews: exit %d, stderr %q; want the server's 403", code, stderr)
	}
	t.Setenv("LODESTONE_TOKEN", "bob-token-01234567890")
	if code, _, stderr := runCLI(t, "governance", "review", pr.ID, "--comment", "matches the register"); code != 0 {
		t.Fatalf("review: exit %d, %s", code, stderr)
	}
	t.Setenv("LODESTONE_TOKEN", "carol-token-0123456789")
	code, stdout, stderr = runCLI(t, "governance", "approve", pr.ID, "--json")
	var ap api.GovernanceApproval
	if code != 0 || json.Unmarshal([]byte(stdout), &ap) != nil || ap.Version.N != 1 || ap.Version.Reviewers[0] != "acme/bob" {
		t.Fatalf("approve: exit %d, %s %s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "twin", "patch", "mine-test", "/capacityTonnesPerYear=26"); code != 1 || !strings.Contains(stderr, "governed") {
		t.Errorf("direct patch of a governed property: exit %d, stderr %q", code, stderr)
	}
	if code, stdout, _ := runCLI(t, "governance", "versions"); code != 0 || !strings.Contains(stdout, "acme/alice") || !strings.Contains(stdout, "new mine in the register") {
		t.Errorf("versions: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := runCLI(t, "governance", "versions", "1"); code != 0 || !strings.Contains(stdout, `"capacityTonnesPerYear": 1000`) {
		t.Errorf("versions 1: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := runCLI(t, "governance", "list", "--status", "applied"); code != 0 || !strings.Contains(stdout, pr.ID) {
		t.Errorf("list: exit %d\n%s", code, stdout)
	}
}
