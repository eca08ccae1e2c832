package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/models"
)

func TestDemoCLI(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings stdout must contain
		stderr   string   // substring stderr must contain
		noStdout bool
	}{
		{
			name: "summary",
			args: []string{"model", "summary"},
			stdout: []string{
				"48 interfaces",
				"  Entity\n",
				"  ├── Facility\n",
				"  │   ├── Mine\n",
				"SeparationPlant (also SimulatedPerformance)",
				"SXCascade (also SimulatedPerformance)",
				"  SimulatedPerformance\n",
				"tonne",
				"degreeCelsius",
				"partsPerMillion",
			},
		},
		{name: "json", args: []string{"model", "summary", "--json"}, stdout: []string{`"interfaces": 48`}},
		{name: "extra argument", args: []string{"model", "summary", "world"}, code: 2, stderr: "unexpected argument", noStdout: true},
		{name: "unknown flag", args: []string{"model", "summary", "--bogus"}, code: 2, stderr: "bogus", noStdout: true},
		{name: "help", args: []string{"model", "summary", "-h"}, code: 0, stderr: "bundled ontology", noStdout: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")}, tt.args)
			if code != tt.code {
				t.Fatalf("run(%q) = %d, want %d; stderr:\n%s", tt.args, code, tt.code, stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("run(%q) stdout lacks %q; got:\n%s", tt.args, s, stdout.String())
				}
			}
			if tt.noStdout && stdout.Len() > 0 {
				t.Errorf("run(%q) stdout = %q, want nothing", tt.args, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.stderr)
			}
		})
	}
}

// TestDemoJSONCounts checks the --json counts against a count made directly
// from the model files, without the dtdl package.
func TestDemoJSONCounts(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), &cliEnv{stdout: &stdout, stderr: &stderr}, []string{"model", "summary", "--json"}); code != 0 {
		t.Fatalf("run(model summary --json) = %d; stderr:\n%s", code, stderr.String())
	}
	var got ontologySummary
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode demo --json: %v", err)
	}

	type counts struct{ Interfaces, Properties, Relationships, Telemetry int }
	var want counts
	parents := map[string][]string{}
	for _, f := range models.Files() {
		var doc struct {
			ID       string          `json:"@id"`
			Extends  json.RawMessage `json:"extends"`
			Contents []struct {
				Type json.RawMessage `json:"@type"`
			} `json:"contents"`
		}
		if err := json.Unmarshal(f.Data, &doc); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		want.Interfaces++
		for _, c := range doc.Contents {
			var kinds []string
			if err := json.Unmarshal(c.Type, &kinds); err != nil {
				kinds = []string{""}
				_ = json.Unmarshal(c.Type, &kinds[0])
			}
			switch kind := kinds[0]; kind {
			case "Property":
				want.Properties++
			case "Relationship":
				want.Relationships++
			case "Telemetry":
				want.Telemetry++
			default:
				t.Errorf("%s: unexpected content type %q", f.Name, kind)
			}
		}
		ext := []string{}
		if len(doc.Extends) > 0 && json.Unmarshal(doc.Extends, &ext) != nil {
			ext = []string{""}
			_ = json.Unmarshal(doc.Extends, &ext[0])
		}
		parents[doc.ID] = ext
	}
	if diff := cmp.Diff(want, counts{got.Interfaces, got.Properties, got.Relationships, got.Telemetry}); diff != "" {
		t.Errorf("demo --json counts (-want +got):\n%s", diff)
	}
	gotParents := map[string][]string{}
	for _, m := range got.Models {
		gotParents[m.ID] = m.Extends
	}
	if diff := cmp.Diff(parents, gotParents); diff != "" {
		t.Errorf("demo --json extends (-want +got):\n%s", diff)
	}
	// Every interface appears exactly once in the tree.
	seen := map[string]int{}
	var walk func([]*treeNode)
	walk = func(ns []*treeNode) {
		for _, n := range ns {
			seen[n.ID]++
			walk(n.Children)
		}
	}
	walk(got.Tree)
	for id := range parents {
		if seen[id] != 1 {
			t.Errorf("%s appears %d times in the tree, want 1", id, seen[id])
		}
	}
}
