package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	modelBase = `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:t:Base;1", "@type": "Interface",
		"contents": [{"@type": "Property", "name": "name", "schema": "string"}]}`
	modelChild = `[{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:t:Child;1", "@type": "Interface", "extends": "dtmi:t:Base;1"}]`
	modelBad   = `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:t:Bad;1", "@type": "Interface",
		"contents": [{"@type": "Property", "name": "9lives", "schema": "double"}, {"@type": "Telemetry", "name": "t", "schema": "nope"}]}`
	modelExt = `{"@context": ["dtmi:dtdl:context;3", "dtmi:vendor:ext;1"], "@id": "dtmi:t:Ext;1", "@type": "Interface"}`
)

// modelDir writes files (name -> content) into a temporary directory.
func modelDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runModelCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, args)
	return code, out.String(), errb.String()
}

func TestModelValidateExitCodes(t *testing.T) {
	dir := modelDir(t, map[string]string{
		"good/base.json":      modelBase,
		"good/sub/child.json": modelChild,
		"good/notes.txt":      "not a model",
		"bad.json":            modelBad,
		"ext.json":            modelExt,
		"child-only.json":     modelChild,
	})
	tests := []struct {
		name string
		args []string
		code int
		out  string // substring of stdout
	}{
		{"directory cross-file extends", []string{"model", "validate", filepath.Join(dir, "good")}, 0, "valid: 2 interfaces in 2 files"},
		{"files cross-file extends", []string{"model", "validate", filepath.Join(dir, "child-only.json"), filepath.Join(dir, "good", "base.json")}, 0, "valid: 2 interfaces"},
		{"unresolved", []string{"model", "validate", filepath.Join(dir, "child-only.json")}, 1, "unresolved-reference"},
		{"invalid", []string{"model", "validate", filepath.Join(dir, "bad.json")}, 1, "$.contents[0].name: pattern:"},
		{"undefined extension", []string{"model", "validate", filepath.Join(dir, "ext.json")}, 1, "context-undefined-extension"},
		{"allow undefined extension", []string{"model", "validate", filepath.Join(dir, "ext.json"), "--allow-undefined-extensions"}, 0, "valid: 1 interfaces"},
		{"not json", []string{"model", "validate", filepath.Join(dir, "good", "notes.txt")}, 1, "json-syntax"},
		{"no args", []string{"model", "validate"}, 2, ""},
		{"missing file", []string{"model", "validate", filepath.Join(dir, "absent.json")}, 2, ""},
		{"bad flag", []string{"model", "validate", "--frobnicate", filepath.Join(dir, "bad.json")}, 2, ""},
		{"no subcommand", []string{"model"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runModelCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			if !strings.Contains(out, tt.out) {
				t.Errorf("stdout %q does not contain %q", out, tt.out)
			}
		})
	}
}

func TestModelValidateJSON(t *testing.T) {
	dir := modelDir(t, map[string]string{"base.json": modelBase, "bad.json": modelBad})
	type jsonError struct {
		File, ID, Path, Rule, Message string
	}
	tests := []struct {
		name      string
		file      string
		code      int
		valid     bool
		wantRules []string
	}{
		{"valid", "base.json", 0, true, []string{}},
		{"invalid", "bad.json", 1, false, []string{"pattern", "reference-term"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			code, out, _ := runModelCLI(t, "model", "validate", path, "--json")
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			// Exactly the documented keys, errors an array even when empty.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out), &raw); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			var topKeys []string
			for k := range raw {
				topKeys = append(topKeys, k)
			}
			if diff := cmp.Diff([]string{"errors", "valid"}, sortStrings(topKeys)); diff != "" {
				t.Errorf("top-level keys mismatch (-want +got):\n%s", diff)
			}
			var res struct {
				Valid  bool                         `json:"valid"`
				Errors []map[string]json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if res.Valid != tt.valid || res.Errors == nil {
				t.Errorf("valid=%v errors=%v, want valid=%v and a non-null array", res.Valid, res.Errors, tt.valid)
			}
			rules := []string{}
			for _, e := range res.Errors {
				var ks []string
				for k := range e {
					ks = append(ks, k)
				}
				if diff := cmp.Diff([]string{"file", "id", "message", "path", "rule"}, sortStrings(ks)); diff != "" {
					t.Errorf("error keys mismatch (-want +got):\n%s", diff)
				}
				var je jsonError
				b, _ := json.Marshal(e)
				_ = json.Unmarshal(b, &je)
				if je.File != filepath.ToSlash(path) || je.ID != "dtmi:t:Bad;1" || je.Message == "" {
					t.Errorf("error = %+v", je)
				}
				rules = append(rules, je.Rule)
			}
			if diff := cmp.Diff(tt.wantRules, rules); diff != "" {
				t.Errorf("rules mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func sortStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
