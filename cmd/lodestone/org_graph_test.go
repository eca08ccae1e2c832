package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/bulk"
	"lodestone/models"
	"lodestone/org"
	"lodestone/twin"
	"lodestone/world"
)

// orgGraphOrg is the organisation of the small graph: a buyer whose rule
// on the OEM's days of cover starts a build at the standby mine, approved
// by finance (within its authority limit).
const orgGraphOrg = `{"actors": [
  {"id": "buyer", "role": "procurement", "org": "Acme"},
  {"id": "cfo", "role": "finance", "org": "Acme", "authority_limit": 1000}],
 "rules": [{"id": "build-mine2", "actor": "buyer", "when": {"signal": "days_of_cover", "node": "oem", "below": 20},
  "latency_days": 3, "action": {"type": "start_build", "node": "mine2", "cost": 100, "add_capacity_per_period": 10, "lead_time_days": 15},
  "approval": {"actor": "cfo", "latency_days": 7}}]}`

// orgGraphDoc supplies the dates and the shock: the mine stops for half a
// year.
const orgGraphDoc = `{"start": "2025-01-01", "days": 180, "shocks": [{"node": "mine", "from": "2025-01-11", "to": "2025-06-30", "capacity_factor": 0}]}`

// orgGraphNetwork is the network the graph's twins make, written by hand
// (per day: 3,650 t/yr is 10 t/day; the graph's network starts at rest).
const orgGraphNetwork = `{"description": "by hand", "nodes": [
  {"id": "mine", "stage": "mine", "country": "ROW", "capacity_per_period": 10},
  {"id": "mine2", "stage": "mine", "country": "ROW", "capacity_per_period": 0},
  {"id": "oem", "stage": "oem", "country": "ROW", "capacity_per_period": 10, "demand_per_period": 10, "inventory": 300, "loss_per_unit": 1}],
 "arcs": [{"from": "mine", "to": "oem", "ratio": 1}, {"from": "mine2", "to": "oem", "ratio": 1}]}`

// writeOrgGraph writes the ADT import file of the small graph: the
// ontology, two mines feeding an OEM, and the organisation as twins.
func writeOrgGraph(t *testing.T) string {
	t.Helper()
	var o org.Org
	if err := json.Unmarshal([]byte(orgGraphOrg), &o); err != nil {
		t.Fatal(err)
	}
	ots, ors, err := world.OrgTwins(&o, "test organisation")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := bulk.NewWriter(&buf)
	w.Header(bulk.Header{FileVersion: "1.0.0"})
	for _, f := range models.Files() {
		w.Model(json.RawMessage(f.Data))
	}
	fac := func(id, model string, p map[string]any) twin.Twin {
		return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: model}, Properties: p}
	}
	for _, tw := range append([]twin.Twin{
		fac("mine", models.Mine, map[string]any{"capacityTonnesPerYear": 3650}),
		fac("mine2", models.Mine, map[string]any{"capacityTonnesPerYear": 0}),
		fac("oem", models.OEM, map[string]any{"magnetDemandTonnesPerYear": 3650, "inventoryTonnes": 300}),
	}, ots...) {
		w.Twin(tw)
	}
	for _, r := range append([]twin.Relationship{
		{ID: "feeds-oem", SourceID: "mine", TargetID: "oem", Name: "feeds", Properties: map[string]any{"ratio": 1}},
		{ID: "feeds-oem", SourceID: "mine2", TargetID: "oem", Name: "feeds", Properties: map[string]any{"ratio": 1}},
	}, ors...) {
		w.Relationship(r)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "graph.ndjson")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestOrgRunGraph: `org run --graph` over a graph holding the network and
// the organisation prints, byte for byte, what `org run` prints for the
// equivalent SCENARIO file (network and org written by hand), as JSON and
// as a table.
func TestOrgRunGraph(t *testing.T) {
	data := t.TempDir()
	if code, _, errs := runSupplyCLI(t, "", "import", writeOrgGraph(t), "--data", data); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.json")
	os.WriteFile(doc, []byte(orgGraphDoc), 0o644)
	var m map[string]json.RawMessage
	json.Unmarshal([]byte(orgGraphDoc), &m)
	m["network"] = json.RawMessage(orgGraphNetwork)
	m["org"] = json.RawMessage(orgGraphOrg)
	m["initial_state"] = json.RawMessage(`"at_rest"`)
	own := filepath.Join(dir, "own.json")
	b, _ := json.Marshal(m)
	os.WriteFile(own, b, 0o644)
	for _, flags := range [][]string{{"--json"}, {"--json", "--moved"}, nil} {
		code, want, errs := runSupplyCLI(t, "", append([]string{"org", "run", own}, flags...)...)
		if code != 0 {
			t.Fatalf("org run %v: exit %d: %s", flags, code, errs)
		}
		code, got, errs := runSupplyCLI(t, "", append([]string{"org", "run", "--graph", "--data", data, doc}, flags...)...)
		if code != 0 {
			t.Fatalf("org run --graph %v: exit %d: %s", flags, code, errs)
		}
		if got != want {
			t.Errorf("org run --graph %v differs from org run of the equivalent file:\n%s\nwant:\n%s", flags, got, want)
		}
		if !strings.Contains(errs, "2 actors, 1 rules") {
			t.Errorf("stderr %q does not report the organisation read", errs)
		}
	}
	// The run decided something (the comparison is not of two empty runs).
	_, out, _ := runSupplyCLI(t, "", "org", "run", own, "--json")
	var res struct {
		Decisions []struct {
			Rule          string `json:"rule"`
			EffectiveDay  string `json:"effective_day"`
			ApprovalActor string `json:"approved_by"`
		} `json:"decisions"`
	}
	json.Unmarshal([]byte(out), &res)
	if len(res.Decisions) != 1 || res.Decisions[0].Rule != "build-mine2" || res.Decisions[0].EffectiveDay == "" {
		t.Errorf("decisions = %+v, want build-mine2 taking effect", res.Decisions)
	}
}

// TestOrgRunGraphErrors: usage errors and bad documents with --graph.
func TestOrgRunGraphErrors(t *testing.T) {
	dir := t.TempDir()
	withOrg := filepath.Join(dir, "org.json")
	os.WriteFile(withOrg, []byte(`{"org": {"actors": [], "rules": []}}`), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"as-of without graph", []string{"org", "run", withOrg, "--as-of", "2025-01-01"}, "go with --graph"},
		{"two files", []string{"org", "run", "--graph", withOrg, withOrg}, "optional with --graph"},
		{"org in the document", []string{"org", "run", "--graph", "--data", dir, withOrg}, "org: not allowed with the twin graph"},
		{"bad as-of", []string{"org", "run", "--graph", "--as-of", "soon", "--data", dir}, `--as-of "soon"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runSupplyCLI(t, "", tc.args...)
			if code == 0 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want failure with %q", code, errs, tc.want)
			}
		})
	}
}
