package main

import (
	"encoding/json"
	"strings"
	"testing"

	"lodestone/trust/credibility"
)

// TestCredibilityCommand grades a demo world twin as text and as JSON.
func TestCredibilityCommand(t *testing.T) {
	url := demoServerURL(t)
	code, out, errs := runLodestone(t, "", "credibility", "mine-br", "--server", url)
	if code != 0 {
		t.Fatalf("credibility: %d %s", code, errs)
	}
	for _, want := range []string{"Credibility of twin mine-br", "data: ", "model: N/A", "operational: ", "rule: ", "citedShare"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = runLodestone(t, "", "credibility", "mine-br", "--json", "--server", url)
	if code != 0 {
		t.Fatalf("credibility --json: %d %s", code, errs)
	}
	var rep credibility.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Filters) != 3 {
		t.Fatalf("credibility --json: %v %+v", err, rep)
	}
	if code, _, _ := runLodestone(t, "", "credibility", "no-such-twin", "--server", url); code != 1 {
		t.Errorf("credibility of an unknown twin: exit %d, want 1", code)
	}
	if code, _, _ := runLodestone(t, "", "credibility"); code != 2 {
		t.Errorf("credibility without an ID: exit %d, want 2", code)
	}
}
