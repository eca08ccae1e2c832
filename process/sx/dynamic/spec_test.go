package dynamic_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

const baseSpec = `"stages": 6, "temperature_K": 298, "media": "chloride",
	"inlets": [{"phase": "aqueous", "stage": 3, "flow_L_per_h": 10, "mg_per_L": {"Nd": 1442.42, "H": 10, "Cl": 100}},
	           {"phase": "aqueous", "stage": 6, "flow_L_per_h": 5, "mg_per_L": {"H": 100}},
	           {"phase": "organic", "stage": 1, "flow_L_per_h": 10, "mg_per_L": {"PC88A": 100000}}],
	"equilibrium": {"model": "constant", "D": {"Nd": 2}}`

func TestSpecCase(t *testing.T) {
	spec := `{` + baseSpec + `, "holdup": {"mixer_L": 20, "settler_L": 40, "organic_fraction": 0.5, "settler_cells": 2},
		"duration_h": 100, "output_every_h": 5, "start": "steady-state", "tolerance": 1e-4, "steady_tolerance": 0.001, "max_step_h": 1,
		"disturbances": [{"kind": "step", "at_h": 10, "inlet": 0, "field": "mg_per_L.Nd", "value": 2884.84},
		                 {"kind": "ramp", "at_h": 20, "until_h": 30, "inlet": 2, "field": "flow_L_per_h", "value": 12},
		                 {"kind": "step", "at_h": 40, "until_h": 50, "inlet": 1, "field": "mg_per_L.H", "value": 50.397},
		                 {"kind": "step", "at_h": 60, "inlet": 2, "field": "mg_per_L.PC88A", "value": 120000}]}`
	s, err := dynamic.ParseSpec([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Case()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Problem.Holdup, (dynamic.Holdup{Mixer: 20, Settler: 40, OrganicFraction: 0.5, SettlerCells: 2}); got != want {
		t.Errorf("holdup = %+v, want %+v", got, want)
	}
	if got, want := c.Settings, (dynamic.Settings{OutputEvery: 5, Tolerance: 1e-4, SteadyTolerance: 0.001, MaxStep: 1}); got != want {
		t.Errorf("settings = %+v, want %+v", got, want)
	}
	pc88a := c.Steady.MolarMass["PC88A"]
	want := []dynamic.Disturbance{
		{Kind: dynamic.Step, Start: 10, Inlet: 0, Field: dynamic.Conc, Component: 0, Value: 2884.84 / 1000 / c.Steady.MolarMass["Nd"]},
		{Kind: dynamic.Ramp, Start: 20, End: 30, Inlet: 2, Field: dynamic.Flow, Value: 12},
		{Kind: dynamic.Step, Start: 40, End: 50, Inlet: 1, Field: dynamic.H, Value: 50.397 / 1000 / c.Steady.MolarMass["H"]},
		{Kind: dynamic.Step, Start: 60, Inlet: 2, Field: dynamic.Extractant, Value: 120000 / 1000 / pc88a},
	}
	if diff := cmp.Diff(want, c.Problem.Disturbances); diff != "" {
		t.Errorf("disturbances (-want +got):\n%s", diff)
	}
	if c.Problem.Start != dynamic.SteadyState || c.Problem.Duration != 100 {
		t.Errorf("start %v, duration %v", c.Problem.Start, c.Problem.Duration)
	}
	res, err := dynamic.Simulate(t.Context(), c.Problem, &c.Settings)
	if err != nil {
		t.Fatal(err)
	}
	o := c.Output(res, c.Settings)
	if len(o.TimesH) != 21 || len(o.Stages) != 6 || len(o.Outlets.Aqueous.MgPerL["Nd"]) != 21 || len(o.Stages[0].Organic["PC88A"]) != 21 {
		t.Errorf("output sizes: %d times, %d stages, %d raffinate Nd, %d PC88A", len(o.TimesH), len(o.Stages), len(o.Outlets.Aqueous.MgPerL["Nd"]), len(o.Stages[0].Organic["PC88A"]))
	}
	if o.ClosureMax > 1e-9 {
		t.Errorf("closure %g", o.ClosureMax)
	}
}

func TestSpecErrors(t *testing.T) {
	hold := `"holdup": {"mixer_L": 20}, "duration_h": 10`
	tests := []struct {
		name, spec, want string
	}{
		{"unknown top", `{` + baseSpec + `, ` + hold + `, "colour": 1}`, "sx: spec: colour: unknown field"},
		{"unknown holdup", `{` + baseSpec + `, "holdup": {"mixer_L": 20, "tank": 1}, "duration_h": 10}`, "holdup.tank: unknown field"},
		{"missing holdup", `{` + baseSpec + `, "duration_h": 10}`, "holdup: missing"},
		{"missing mixer", `{` + baseSpec + `, "holdup": {}, "duration_h": 10}`, "holdup.mixer_L: missing"},
		{"missing duration", `{` + baseSpec + `, "holdup": {"mixer_L": 20}}`, "duration_h: missing"},
		{"negative duration", `{` + baseSpec + `, "holdup": {"mixer_L": 20}, "duration_h": -1}`, "duration_h: -1"},
		{"bad fraction", `{` + baseSpec + `, "holdup": {"mixer_L": 20, "organic_fraction": 1}, "duration_h": 10}`, "holdup.organic_fraction"},
		{"bad start", `{` + baseSpec + `, ` + hold + `, "start": "hot"}`, "start:"},
		{"string duration", `{` + baseSpec + `, "holdup": {"mixer_L": 20}, "duration_h": "NaN"}`, "duration_h"},
		{"kind", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "pulse", "at_h": 1, "inlet": 0, "field": "flow_L_per_h", "value": 1}]}`, "disturbances[0].kind"},
		{"missing at", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "inlet": 0, "field": "flow_L_per_h", "value": 1}]}`, "disturbances[0].at_h: missing"},
		{"ramp until", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "ramp", "at_h": 1, "inlet": 0, "field": "flow_L_per_h", "value": 1}]}`, "disturbances[0].until_h"},
		{"until before at", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 5, "until_h": 2, "inlet": 0, "field": "flow_L_per_h", "value": 1}]}`, "disturbances[0].until_h"},
		{"inlet range", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 3, "field": "flow_L_per_h", "value": 1}]}`, "disturbances[0].inlet: 3 is out of range"},
		{"field", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 0, "field": "temperature", "value": 1}]}`, "disturbances[0].field"},
		{"species", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 0, "field": "mg_per_L.Pr", "value": 1}]}`, "disturbances[0].field"},
		{"spectator", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 0, "field": "mg_per_L.Cl", "value": 1}]}`, "disturbances[0].field"},
		{"acid on organic", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 2, "field": "mg_per_L.H", "value": 1}]}`, "disturbances[0].field"},
		{"extractant on aqueous", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 0, "field": "mg_per_L.PC88A", "value": 1}]}`, "disturbances[0].field"},
		{"negative value", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 0, "field": "flow_L_per_h", "value": -2}]}`, "disturbances[0].value"},
		{"unknown disturbance field", `{` + baseSpec + `, ` + hold + `, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 0, "field": "flow_L_per_h", "value": 2, "x": 1}]}`, "disturbances[0].x: unknown field"},
		{"cascade error", `{"stages": 0, "temperature_K": 298, "media": "chloride", "inlets": [], "equilibrium": {"model": "constant"}, ` + hold + `}`, "sx: spec: stages"},
		{"trailing", `{` + baseSpec + `, ` + hold + `} x`, "trailing data"},
		{"not an object", `[1]`, "dynamic: spec"},
		// Of several bad fields the first in sorted order, every time.
		{"two bad fields", `{` + baseSpec + `, "holdup": {"mixer_L": 20}, "tolerance": "x", "duration_h": "y"}`,
			"dynamic: spec: duration_h: cannot use"},
		{"two bad objects", `{` + baseSpec + `, "holdup": {"mixer_L": 20, "tank": 1}, "duration_h": 10, "disturbances": [{"x": 1}]}`,
			"dynamic: spec: disturbances[0].x: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Many runs: a check in map order would name a different bad
			// field from run to run.
			for range 50 {
				s, err := dynamic.ParseSpec([]byte(tt.spec))
				if err == nil {
					_, err = s.Case()
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("ParseSpec+Case = %v, want an error containing %q", err, tt.want)
				}
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(`{` + baseSpec + `, "holdup": {"mixer_L": 20}, "duration_h": 10}`))
	f.Add([]byte(`{` + baseSpec + `, "holdup": {"mixer_L": 20, "settler_L": 1e300}, "duration_h": 1e-300, "disturbances": [{"kind": "ramp", "at_h": 0, "until_h": 1, "inlet": 0, "field": "mg_per_L.H", "value": 0}]}`))
	f.Add([]byte(`{"holdup": null, "disturbances": [{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := dynamic.ParseSpec(data)
		if err != nil {
			var de *dynamic.SpecError
			var se *sx.SpecError
			if !errors.As(err, &de) && !errors.As(err, &se) {
				t.Fatalf("ParseSpec error %v is neither a dynamic nor an sx SpecError", err)
			}
			return
		}
		c, err := s.Case()
		if err != nil {
			return
		}
		if !(c.Problem.Duration > 0) || math.IsInf(c.Problem.Duration, 0) || !(c.Problem.Holdup.Mixer > 0) {
			t.Fatalf("Case accepted %+v", c.Problem)
		}
	})
}
