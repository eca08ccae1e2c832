package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/supply"
	"lodestone/world"
)

func TestWorldCLI(t *testing.T) {
	dir := t.TempDir()
	split := filepath.Join(dir, "split.json")
	// SYNTHETIC REO split (test input only, claims nothing about any deposit).
	doc := map[string]map[string]float64{}
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range w.Nodes {
		if n.Stage == supply.StageMine {
			doc[string(n.ID)] = map[string]float64{"NdPr": 0.2, "Dy": 0.01, "Tb": 0.002}
		}
	}
	data, _ := json.Marshal(doc)
	if err := os.WriteFile(split, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "net.json")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{name: "show", args: []string{"world", "show"}, stdout: []string{"mine-cn", "270000 (a)", "358800 (da)", "reo_split", "[S13]", "IEA",
			"mine-mg", "mine-vn", "mine-my", "mine-other", "absent from the network", "LA  Laos", "[MCS2025, p. 145"}},
		{name: "prices", args: []string{"world", "prices"}, stdout: []string{"NdPr-oxide", "CN", "49 USD/kg", "2024-12", "[S28]"}},
		{name: "prices json", args: []string{"world", "prices", "--json"}, stdout: []string{`"prices": [`, `"material": "Dy-oxide"`, `"currency": "USD"`}},
		{name: "prices material", args: []string{"world", "prices", "--material", "Tb-oxide"}, stdout: []string{"Tb-oxide", "3000 USD/kg"}},
		{name: "prices unknown material", args: []string{"world", "prices", "--material", "gold"}, code: 1, stderr: "no price"},
		{name: "show json", args: []string{"world", "show", "--json"}, stdout: []string{`"capacity_tonnes_per_year"`, `"source": "USGS MCS 2025`}},
		{name: "shares", args: []string{"world", "shares"}, stdout: []string{"separation", "92.0%", "IEA GCMO 2024", "no (sized from the share)"}},
		{name: "shares json", args: []string{"world", "shares", "--json"}, stdout: []string{`"stages"`, `"share": 0.685`, `"independent": true`}},
		{name: "network", args: []string{"world", "network"}, stdout: []string{`"capacity_per_period": 739.7`, `"demand_per_period"`}},
		{name: "network per year", args: []string{"world", "network", "--per-year", "--json"}, stdout: []string{`"capacity_per_period": 270000`}},
		{name: "network element", args: []string{"world", "network", "--level", "element", "--reo-split", split}, stdout: []string{`"mine-cn:Dy"`, `"Dy-metal"`}},
		{name: "network element needs split", args: []string{"world", "network", "--level", "element"}, code: 1, stderr: "reo_split[mine-cn]"},
		{name: "network stockpile", args: []string{"world", "network", "--stockpile", "stockpile-us-dla=500"}, stdout: []string{`"inventory": 500`}},
		{name: "network bad stockpile", args: []string{"world", "network", "--stockpile", "x"}, code: 2, stderr: "ID=TONNES"},
		{name: "scenario", args: []string{"world", "network", "--scenario", "april-2025", "--days", "365"}, stdout: []string{`"CN-2025-18"`, `"days": 365`}},
		{name: "scenario prices", args: []string{"world", "network", "--scenario", "april-2025", "--days", "30", "--prices"}, stdout: []string{`"prices": [`, `"date": "2024-12-01"`, `"material": "Tb-oxide"`}},
		{name: "prices without scenario", args: []string{"world", "network", "--prices"}, code: 2, stderr: "--prices goes with --scenario"},
		{name: "scenario unknown", args: []string{"world", "network", "--scenario", "1910"}, code: 1, stderr: "unknown scenario"},
		{name: "to file", args: []string{"world", "network", "-o", out}},
		{name: "extra argument", args: []string{"world", "shares", "x"}, code: 2, stderr: "unexpected argument"},
		{name: "no subcommand", args: []string{"world"}, code: 2},
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
					t.Errorf("run(%q) stdout lacks %q; got:\n%.2000s", tt.args, s, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.stderr)
			}
		})
	}
	// The written network is a valid NETWORK document for `supply stress`,
	// and the stress command runs on it.
	data, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := supply.DecodeNetwork(data); err != nil {
		t.Fatalf("DecodeNetwork(world network) = %v", err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")}, []string{"supply", "stress", out, "--json"}); code != 0 {
		t.Fatalf("supply stress on the world network = %d; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"name": "magnet-cn"`) {
		t.Errorf("supply stress output lacks magnet-cn:\n%.1000s", stdout.String())
	}
	// The scenario is a valid SCENARIO document for `supply run`.
	stdout.Reset()
	if code := run(t.Context(), &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")}, []string{"world", "network", "--scenario", "november-2025"}); code != 0 {
		t.Fatalf("world network --scenario = %d; stderr:\n%s", code, stderr.String())
	}
	if _, err := supply.DecodeScenario(stdout.Bytes()); err != nil {
		t.Errorf("DecodeScenario(world scenario) = %v", err)
	}
}
