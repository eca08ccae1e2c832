package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the CLI with args and stdin and returns the exit code and the
// two streams.
func runDownstreamCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin)}, args)
	return code, out.String(), errb.String()
}

// TestDownstreamExamples runs every example spec of precip and calcine
// through the CLI, with and without --json.
func TestDownstreamExamples(t *testing.T) {
	for _, cmd := range []string{"precip", "calcine"} {
		files, err := filepath.Glob(filepath.Join("..", "..", "examples", cmd, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no examples under examples/%s", cmd)
		}
		for _, f := range files {
			t.Run(cmd+"/"+filepath.Base(f), func(t *testing.T) {
				code, out, errs := runDownstreamCLI(t, "", cmd, "simulate", f, "--json")
				if code != 0 {
					t.Fatalf("exit %d, stderr %s", code, errs)
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(out), &m); err != nil {
					t.Fatalf("output is not JSON: %v\n%s", err, out)
				}
				want := map[string][]string{
					"precip":  {"aqueous_out", "solids"},
					"calcine": {"gas_out", "product", "heat_duty_W"},
				}[cmd]
				for _, k := range want {
					if _, ok := m[k]; !ok {
						t.Errorf("output has no %q", k)
					}
				}
				code, out, errs = runDownstreamCLI(t, "", cmd, "simulate", f)
				if code != 0 || !strings.Contains(out, "worst element balance closure") {
					t.Fatalf("human output: exit %d, stderr %s, stdout %s", code, errs, out)
				}
			})
		}
	}
}

func TestPrecipCLIPrOMMiS(t *testing.T) {
	code, out, errs := runDownstreamCLI(t, "", "precip", "simulate", filepath.Join("..", "..", "examples", "precip", "prommis-isotherm.json"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		AqueousOut struct {
			FlowLPerH float64            `json:"flow_L_per_h"`
			MgPerL    map[string]float64 `json:"mg_per_L"`
		} `json:"aqueous_out"`
		Solids []struct {
			Element, Formula string
			MolPerH          float64 `json:"mol_per_h"`
		} `json:"solids"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	// PrOMMiS test_precipitator_isotherm.py: Nd 0.1142 mg/L, 0.003427 mol/h Nd2(C2O4)3.
	if got := res.AqueousOut.MgPerL["Nd"]; math.Abs(got-0.1142) > 1e-3 {
		t.Errorf("Nd out = %v mg/L, want 0.1142", got)
	}
	found := false
	for _, s := range res.Solids {
		if s.Formula == "Nd2(C2O4)3" {
			found = true
			if math.Abs(s.MolPerH-0.003427) > 1e-6 {
				t.Errorf("Nd2(C2O4)3 = %v mol/h, want 0.003427", s.MolPerH)
			}
		}
	}
	if !found {
		t.Error("no Nd2(C2O4)3 in solids")
	}
}

func TestDownstreamCLIErrors(t *testing.T) {
	precipOK := `{"flow_L_per_h": 1, "temperature_K": 300, "mg_per_L": {"Nd": 10, "H2C2O4": 1000}, "model": "isotherm"`
	calcineOK := `"feed_temperature_K": 300, "moisture_mol_per_s": 0, "product_temperature_K": 1000, "oxide_recovery": 1, "oxides": "air"`
	gas := `"gas_in": {"mol_per_s": 1, "temperature_K": 1000, "pressure_Pa": 1e5, "mole_fractions": {"O2": 1}}`
	tests := []struct {
		name, cmd, spec string
		code            int
		msg             string
	}{
		{"precip unknown field", "precip", precipOK + `, "colour": 1}`, 1, `unknown field "colour"`},
		{"precip missing flow", "precip", `{"temperature_K": 300, "mg_per_L": {"H2C2O4": 1}, "model": "isotherm"}`, 1, "flow_L_per_h: required"},
		{"precip negative flow", "precip", strings.Replace(precipOK, `"flow_L_per_h": 1`, `"flow_L_per_h": -1`, 1) + "}", 1, "flow_L_per_h"},
		{"precip unknown element", "precip", strings.Replace(precipOK, `"Nd": 10`, `"Qq": 10`, 1) + "}", 1, "mg_per_L.Qq"},
		{"precip NaN", "precip", strings.Replace(precipOK, `"Nd": 10`, `"Nd": "NaN"`, 1) + "}", 1, "mg_per_L"},
		{"precip bad model", "precip", strings.Replace(precipOK, `"isotherm"`, `"magic"`, 1) + "}", 1, "model"},
		{"precip not JSON", "precip", `flow`, 1, "precip: spec"},
		{"calcine missing gas", "calcine", `{"feeds_mol_per_h": {"Nd": 1}, ` + calcineOK + `}`, 1, "gas_in: required"},
		{"calcine missing gas flow", "calcine", `{"feeds_mol_per_h": {"Nd": 1}, ` + calcineOK + `, "gas_in": {"temperature_K": 1000, "pressure_Pa": 1e5, "mole_fractions": {"O2": 1}}}`, 1, "gas_in.mol_per_s: required"},
		{"calcine unknown element", "calcine", `{"feeds_mol_per_h": {"Zz": 1}, ` + calcineOK + `, ` + gas + `}`, 1, "feeds_mol_per_h.Zz"},
		{"calcine negative feed", "calcine", `{"feeds_mol_per_h": {"Nd": -1}, ` + calcineOK + `, ` + gas + `}`, 1, "feeds_mol_per_h.Nd"},
		{"calcine unknown field", "calcine", `{"feeds_mol_per_h": {"Nd": 1}, ` + calcineOK + `, ` + gas + `, "extra": true}`, 1, `unknown field "extra"`},
		{"calcine nested unknown field", "calcine", `{"feeds_mol_per_h": {"Nd": 1}, ` + calcineOK + `, "gas_in": {"mol_per_s": 1, "temperature_K": 1000, "pressure_Pa": 1e5, "mole_fractions": {"O2": 1}, "speed": 3}}`, 1, `unknown field "speed"`},
		{"calcine ok", "calcine", `{"feeds_mol_per_h": {"Nd": 1}, ` + calcineOK + `, ` + gas + `}`, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runDownstreamCLI(t, tt.spec, tt.cmd, "simulate", "-", "--json")
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errs)
			}
			if !strings.Contains(errs, tt.msg) {
				t.Errorf("stderr %q does not contain %q", errs, tt.msg)
			}
		})
	}
	// Usage errors exit 2.
	if code, _, _ := runDownstreamCLI(t, "", "precip", "simulate"); code != 2 {
		t.Errorf("precip simulate without SPEC: exit %d, want 2", code)
	}
	if code, _, _ := runDownstreamCLI(t, "", "calcine", "simulate", "a.json", "b.json"); code != 2 {
		t.Errorf("calcine simulate with two SPECs: exit %d, want 2", code)
	}
	// A file that does not exist is an error naming it.
	missing := filepath.Join(t.TempDir(), "nope.json")
	if code, _, errs := runDownstreamCLI(t, "", "calcine", "simulate", missing); code != 1 || !strings.Contains(errs, "nope.json") {
		t.Errorf("missing file: exit %d, stderr %q", code, errs)
	}
	_ = os.Remove(missing)
}
