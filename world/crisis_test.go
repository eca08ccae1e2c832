package world_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
	"lodestone/world"
)

func loadCrisis(t *testing.T) *world.Crisis2010 {
	t.Helper()
	c, err := world.LoadCrisis2010()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCrisis2010Derived recomputes every derived number of
// data/crisis2010.json from the sourced ones.
func TestCrisis2010Derived(t *testing.T) {
	c := loadCrisis(t)
	tests := []struct {
		name      string
		got, want float64
	}{
		{"world_production_2010", c.WorldProduction2010.Value, math.Round(c.ChinaProduction2010.Value / c.ChinaShare2010.Value)},
		{"row_production_2010", c.RoWProduction2010.Value, c.WorldProduction2010.Value - c.ChinaProduction2010.Value},
		{"ex_china_demand", c.ExChinaDemand.Value, c.WorldProduction2010.Value - c.ChinaConsumption2009.Value},
		{"china_exportable", c.ChinaExportable.Value, c.ChinaProduction2010.Value - c.ChinaConsumption2009.Value},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	// The quota cut the note quotes (about -40%) follows from the sources.
	if cut := 1 - c.Quota2010.Value/c.Quota2009.Value; cut < 0.37 || cut > 0.41 {
		t.Errorf("2010 quota cut = %.3f, want 0.37..0.41 (USGS: 37%%, MOC: about 40%%)", cut)
	}
}

func TestDecodeCrisis2010Errors(t *testing.T) {
	good, err := os.ReadFile("data/crisis2010.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string { return strings.Replace(string(good), old, new, 1) }
	tests := []struct{ name, doc, want string }{
		{"missing", `{"sources":{}}`, "china_production_2010: missing"},
		{"unknown key", edit(`"source": "[S70]", "note": "share of demand`, `"source": "[S99]", "note": "share of demand`), "citation key [S99]"},
		{"derived without formula", edit(`"formula": "china_production_2010 - china_consumption_2009 = 130,000 - 73,000", `, ""), "china_exportable.formula"},
		{"assumption without reason", edit(`"assumption": true, "why": "[S70] reports a rate, not a ceiling; over the four simulated years the rate alone caps the share at 40%"`, `"assumption": true`), "substitution_max_share.why"},
		{"unknown field", `{"nope":1}`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.doc == string(good) {
				t.Fatal("edit did not apply")
			}
			if _, err := world.DecodeCrisis2010([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeCrisis2010 = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestCrisis2010Recovery is the research note's V4 case: the 2010 export
// quota on the ex-China market, substitution at 10%/yr of demand and the
// non-Chinese ramp at 4%/yr of market volume [S70]. The note accepts a
// return to supply >= demand within 24 +/- 6 months. The sourced model
// runs short from September 2010 (the 2010 quota is used up) and loses
// demand for the last time in January 2013: 29 months, inside the band when
// counted from the first month of shortage, 37 months when counted from the
// quota's effective date (docs/world.md, "The 2010-11 crisis case").
func TestCrisis2010Recovery(t *testing.T) {
	c := loadCrisis(t)
	s, err := c.Scenario()
	if err != nil {
		t.Fatal(err)
	}
	res, err := supply.Run(t.Context(), s, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		Onset, Recovered string
		Months           int
		OK               bool
	}
	for _, tol := range []float64{1e-3, 0.05} {
		var got rec
		got.Onset, got.Recovered, got.Months, got.OK = world.CrisisRecovery(res, tol)
		want := rec{"2010-09", "2013-02", 29, true}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("tol %v: recovery mismatch (-want +got):\n%s", tol, d)
		}
		band := c.RecoveryMonths.Value
		if m := float64(got.Months); m < band-6 || m > band+6 {
			t.Errorf("tol %v: recovery after %d months, outside the note's %v +/- 6", tol, got.Months, band)
		}
	}
}

func ExampleCrisis2010_Scenario() {
	c, err := world.LoadCrisis2010()
	if err != nil {
		panic(err)
	}
	s, err := c.Scenario()
	if err != nil {
		panic(err)
	}
	res, err := supply.Run(context.Background(), s, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		panic(err)
	}
	onset, recovered, months, _ := world.CrisisRecovery(res, 0.001)
	fmt.Printf("short from %s, recovered in %s: %d months\n", onset, recovered, months)
	// Output: short from 2010-09, recovered in 2013-02: 29 months
}
