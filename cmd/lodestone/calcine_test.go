package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
)

func TestCalcineCLIPrOMMiS(t *testing.T) {
	code, out, errs := runDownstreamCLI(t, "", "calcine", "simulate", filepath.Join("..", "..", "examples", "calcine", "prommis-roaster.json"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		GasOut struct {
			MolPerS       float64            `json:"mol_per_s"`
			MoleFractions map[string]float64 `json:"mole_fractions"`
		} `json:"gas_out"`
		Product struct {
			KgPerS        float64            `json:"kg_per_s"`
			MassFractions map[string]float64 `json:"mass_fractions"`
		} `json:"product"`
		HeatDutyW *float64 `json:"heat_duty_W"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	// PrOMMiS test_ree_oxalate_roaster.py (rel 1e-5).
	if res.HeatDutyW == nil {
		t.Fatal("heat_duty_W is null")
	}
	checks := []struct {
		what           string
		got, want, abs float64
	}{
		{"gas out", res.GasOut.MolPerS, 0.008487, 1e-6},
		{"y_H2O", res.GasOut.MoleFractions["H2O"], 0.172195, 1e-6},
		{"product", res.Product.KgPerS, 4.9676e-08, 1e-9},
		{"Nd mass fraction", res.Product.MassFractions["Nd"], 0.10903330587601676, 1e-6},
		{"heat duty", *res.HeatDutyW, -82.248, 1e-6},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > math.Max(1e-5*math.Abs(c.want), c.abs) {
			t.Errorf("%s = %.8g, want %.8g", c.what, c.got, c.want)
		}
	}
}

func TestCalcineCLIHeatDutyNull(t *testing.T) {
	// Pr6O11 has no sourced thermochemistry: heat_duty_W is null with a note.
	code, out, errs := runDownstreamCLI(t, "", "calcine", "simulate", filepath.Join("..", "..", "examples", "calcine", "ndpr-in-air.json"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if v, ok := res["heat_duty_W"]; !ok || v != nil {
		t.Errorf("heat_duty_W = %v (present %v), want null", v, ok)
	}
	if notes, _ := res["notes"].([]any); len(notes) == 0 {
		t.Error("no notes")
	}
}
