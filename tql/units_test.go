package tql_test

import (
	"math"
	"testing"

	"lodestone/tql"
)

func TestUnits(t *testing.T) {
	tests := []struct {
		unit string
		v    float64
		si   float64
		tol  float64
	}{
		{"tonne", 1, 1000, 0},
		{"t", 0.5, 500, 0},
		{"lb", 1, 0.45359237, 0},
		{"tonnePerYear", 31557.6, 1, 1e-12},
		{"t/h", 3.6, 1, 1e-12},
		{"degreeCelsius", 0, 273.15, 0},
		{"°F", 32, 273.15, 1e-9},
		{"°F", 212, 373.15, 1e-9},
		{"mile", 1, 1609.344, 0},
		{"day", 1, 86400, 0},
		{"ppm", 250, 250e-6, 1e-18},
		{"percent", 5, 0.05, 1e-15},
	}
	for _, tt := range tests {
		u, ok := tql.LookupUnit(tt.unit)
		if !ok {
			t.Errorf("LookupUnit(%q) not found", tt.unit)
			continue
		}
		if got := u.ToSI(tt.v); math.Abs(got-tt.si) > tt.tol {
			t.Errorf("%s.ToSI(%v) = %v, want %v", tt.unit, tt.v, got, tt.si)
		}
		if back := u.FromSI(u.ToSI(tt.v)); math.Abs(back-tt.v) > 1e-9*math.Max(1, math.Abs(tt.v)) {
			t.Errorf("%s.FromSI(ToSI(%v)) = %v", tt.unit, tt.v, back)
		}
	}
	if _, ok := tql.LookupUnit("furlong"); ok {
		t.Error("LookupUnit(furlong) found a unit")
	}
	seen := map[string]bool{}
	for _, u := range tql.Units() {
		if seen[u.Name] || seen[u.Symbol] {
			t.Errorf("unit %s (%s) listed twice", u.Name, u.Symbol)
		}
		seen[u.Name], seen[u.Symbol] = true, true
		if u.Factor <= 0 {
			t.Errorf("unit %s has factor %v", u.Name, u.Factor)
		}
	}
}
