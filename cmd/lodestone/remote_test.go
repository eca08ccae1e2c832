package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// demoServerURL runs an in-process server with the demo world on a free
// loopback port and returns its URL.
func demoServerURL(t *testing.T) string {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
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
	return s.URL()
}

// TestRemoteCommands runs the twin, rel, import and export papercut
// fixes against one demo server, in order (some cases edit the graph).
func TestRemoteCommands(t *testing.T) {
	url := demoServerURL(t)
	dir := t.TempDir()
	export := filepath.Join(dir, "graph.ndjson")
	missing := filepath.Join(dir, "no-such-folder")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{name: "unknown model warns", args: []string{"twin", "list", "--model", "dtmi:lodestone:Mnie;1"}, stdout: []string{"ID"}, stderr: "warning: the server has no model dtmi:lodestone:Mnie;1; did you mean dtmi:lodestone:Mine;1?"},
		{name: "model without version warns", args: []string{"twin", "list", "--model", "dtmi:lodestone:Mine"}, stderr: "quote it in the shell, e.g. 'dtmi:lodestone:Mine;1'"},
		{name: "query with an unknown model warns", args: []string{"query", "SELECT T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:lodestone:Mnie;1')"}, stderr: "warning: the server has no model dtmi:lodestone:Mnie;1; did you mean dtmi:lodestone:Mine;1?"},
		{name: "known model is quiet", args: []string{"twin", "list", "--model", "dtmi:lodestone:Mine;1"}, stdout: []string{"mine-br"}},
		{name: "patch", args: []string{"twin", "patch", "mine-br", "/capacityTonnesPerYear=25"}, stdout: []string{"patched mine-br"}},
		{name: "history shows the change", args: []string{"twin", "history", "mine-br"}, stdout: []string{"#1", "create", "#2", "update", "→ 25"}},
		{name: "history json", args: []string{"twin", "history", "mine-br", "--json"}, stdout: []string{`"sequence": 2`, `"kind": "update"`, `"changes": [`, `"path": "/capacityTonnesPerYear"`, `"new": 25`}},
		{name: "as-of plain date", args: []string{"twin", "get", "mine-br", "--as-of", "2000-01-01"}, code: 1, stderr: "at 2000-01-01T00:00:00Z"},
		{name: "as-of plain date today", args: []string{"twin", "get", "mine-br", "--as-of", time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)}, stdout: []string{"mine-br"}},
		{name: "rel list", args: []string{"rel", "list", "mine-br"}, stdout: []string{"mine-br.feeds.sep-row", "feeds", "sep-row"}},
		{name: "rel list by name", args: []string{"rel", "list", "mine-br", "--name", "locatedIn"}, stdout: []string{"country-br"}},
		{name: "rel list incoming", args: []string{"rel", "list", "sep-row", "--incoming"}, stdout: []string{"mine-br", "mine-br.feeds.sep-row"}},
		{name: "rel list json", args: []string{"rel", "list", "mine-br", "--json"}, stdout: []string{`"$relationshipName": "feeds"`}},
		{name: "rel get", args: []string{"rel", "get", "mine-br", "mine-br.feeds.sep-row"}, stdout: []string{"mine-br -[feeds]-> sep-row", "ratio"}},
		{name: "rel get missing", args: []string{"rel", "get", "mine-br", "nope"}, code: 1, stderr: "RelationshipNotFound"},
		{name: "twin delete names rel delete", args: []string{"twin", "delete", "mine-br"}, code: 1, stderr: "lodestone rel delete SOURCE REL_ID"},
		{name: "rel put", args: []string{"rel", "put", "mine-br", "test-rel", "--name", "produces", "--target", "material-reo-concentrate", "--create"}, stdout: []string{"stored mine-br -[produces]-> material-reo-concentrate as test-rel"}},
		{name: "rel put create again", args: []string{"rel", "put", "mine-br", "test-rel", "--name", "produces", "--target", "material-reo-concentrate", "--create"}, code: 1},
		{name: "rel delete", args: []string{"rel", "delete", "mine-br", "test-rel"}, stdout: []string{"deleted test-rel of mine-br"}},
		{name: "rel delete again", args: []string{"rel", "delete", "mine-br", "test-rel"}, code: 1},
		{name: "export", args: []string{"export", export}},
		{name: "import dry run of own export", args: []string{"import", export, "--dry-run"}, stdout: []string{"checked (dry run, nothing written)", "already present on the server, identical"}},
		{name: "import dry run json", args: []string{"import", export, "--dry-run", "--json"}, stdout: []string{`"status": "succeeded"`, `"modelsAlreadyPresent": [`, `"dtmi:lodestone:Mine;1"`}},
		{name: "import dry run on a missing data folder", args: []string{"import", export, "--dry-run", "--data", missing}, stdout: []string{"does not exist: checked against an empty graph, and not created"}},
		{name: "refused connection", args: []string{"twin", "list", "--server", "http://127.0.0.1:1"}, code: 1, stderr: "is the server running? start it with `lodestone demo`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !strings.Contains(strings.Join(args, " "), "--server") && !strings.Contains(strings.Join(args, " "), "--data") {
				args = append(args, "--server", url)
			}
			code, stdout, stderr := runLodestone(t, "", args...)
			if code != tt.code {
				t.Fatalf("run(%q) = %d, want %d; stdout:\n%s\nstderr:\n%s", args, code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("run(%q) stdout lacks %q:\n%s", args, s, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("run(%q) stderr lacks %q:\n%s", args, tt.stderr, stderr)
			}
			if tt.stderr == "" && tt.code == 0 && stderr != "" && !strings.Contains(stderr, "rows") {
				t.Errorf("run(%q) stderr = %q, want nothing", args, stderr)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("import --dry-run created %s", missing)
	}
	// The export is unchanged by the dry run: nothing was written.
	code, stdout, _ := runLodestone(t, "", "twin", "get", "mine-br", "--json", "--server", url)
	var tw map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &tw) != nil || tw["capacityTonnesPerYear"] != 25.0 {
		t.Errorf("after the dry run, mine-br = %s", stdout)
	}
}

func TestDataFolderInUse(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	code, _, stderr := runLodestone(t, "", "twin", "list", "--data", o.DataDir)
	if code != 1 || !strings.Contains(stderr, "data folder "+o.DataDir+" is in use by another Lodestone (pid ") {
		t.Errorf("twin list --data on a served folder: code %d, stderr %q", code, stderr)
	}
}

// TestPrintStart checks the demo's start message: the world loaded on the
// first start, the edits reopened on the next, and the address bound.
func TestPrintStart(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
	for _, want := range []string{"loaded the default 2024 mine-to-magnet world into " + o.DataDir, "reopened the edits in " + o.DataDir} {
		s, err := server.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		printStart(&out, s, o, true)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s.Shutdown(ctx)
		cancel()
		for _, w := range []string{want, "Listening on " + s.Addr() + ".\n", "Dashboard: http://127.0.0.1:"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("start message lacks %q:\n%s", w, out.String())
			}
		}
	}
}
