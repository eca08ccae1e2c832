package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestProvenanceCommand patches a demo twin and reads its provenance as
// text and as PROV-JSON.
func TestProvenanceCommand(t *testing.T) {
	url := demoServerURL(t)
	if code, _, errs := runLodestone(t, "", "twin", "patch", "mine-br", "/capacityTonnesPerYear=25", "--server", url); code != 0 {
		t.Fatalf("twin patch: %d %s", code, errs)
	}
	code, out, errs := runLodestone(t, "", "provenance", "mine-br", "--server", url)
	if code != 0 {
		t.Fatalf("provenance: %d %s", code, errs)
	}
	for _, want := range []string{"PROPERTY", "capacityTonnesPerYear", "2 (current)", "patch", "Derived from:", "Agent: the change names no principal"} {
		if !strings.Contains(out, want) {
			t.Errorf("provenance output lacks %q:\n%s", want, out)
		}
	}
	// The patched value keeps no citation: the source was written for
	// the value before it.
	if strings.Contains(out, "capacityTonnesPerYear/v2 <- bib:") || !strings.Contains(out, "capacityTonnesPerYear/v1 <- bib:") {
		t.Errorf("the cited source should back version 1 only:\n%s", out)
	}
	code, out, errs = runLodestone(t, "", "provenance", "mine-br", "--json", "--server", url)
	if code != 0 {
		t.Fatalf("provenance --json: %d %s", code, errs)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("provenance --json: %v\n%s", err, out)
	}
	for _, k := range []string{"prefix", "entity", "activity", "agent", "wasGeneratedBy", "used", "wasDerivedFrom", "wasAttributedTo", "wasAssociatedWith"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("PROV-JSON lacks %q", k)
		}
	}
	if code, _, errs := runLodestone(t, "", "provenance", "no-such-twin", "--server", url); code != 1 || !strings.Contains(errs, "no-such-twin") {
		t.Errorf("provenance of an unknown twin: exit %d, stderr %q; want 1 naming the twin", code, errs)
	}
	if code, _, _ := runLodestone(t, "", "provenance"); code != 2 {
		t.Errorf("provenance without an ID: exit %d, want 2", code)
	}
}
