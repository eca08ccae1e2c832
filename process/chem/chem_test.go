package chem_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/process/chem"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		sym  string
		want float64
		z    int
	}{
		{"H", 1.008, 1}, {"O", 15.999, 8}, {"Nd", 144.24, 60}, {"Pr", 140.91, 59},
		{"Y", 88.906, 39}, {"Sc", 44.956, 21}, {"Fe", 55.845, 26}, {"U", 238.03, 92},
	}
	for _, tt := range tests {
		t.Run(tt.sym, func(t *testing.T) {
			e, err := chem.Lookup(tt.sym)
			if err != nil {
				t.Fatal(err)
			}
			if e.AtomicWeight != tt.want || e.Z != tt.z || e.Source == "" {
				t.Errorf("Lookup(%q) = %+v, want weight %v Z %d with a source", tt.sym, e, tt.want, tt.z)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := chem.Lookup("Xx")
	var ue *chem.UnknownSymbolError
	if !errors.As(err, &ue) || ue.Symbol != "Xx" || !strings.Contains(err.Error(), `"Xx"`) {
		t.Fatalf("Lookup(Xx) error = %v, want UnknownSymbolError naming Xx", err)
	}
}

func TestElementSet(t *testing.T) {
	re := chem.RareEarths()
	if len(re) != 17 {
		t.Fatalf("RareEarths() has %d elements, want 17: %v", len(re), re)
	}
	for _, s := range []string{"Fe", "Al", "Ca", "Mg", "Th", "U", "Mn", "Zn", "H", "C", "O", "N", "S", "Cl", "Na"} {
		if _, err := chem.Lookup(s); err != nil {
			t.Errorf("Lookup(%q): %v", s, err)
		}
	}
	for _, e := range chem.Elements() {
		if e.Source == "" || e.AtomicWeight <= 0 {
			t.Errorf("element %s has no source or weight", e.Symbol)
		}
	}
}

func TestParseFormula(t *testing.T) {
	tests := []struct {
		in   string
		want chem.Formula
		hill string // Symbols, space-separated
		mass float64
		tol  float64
	}{
		{"H2O", chem.Formula{"H": 2, "O": 1}, "H O", 18.015, 1e-3},
		{"Nd2(C2O4)3·10H2O", chem.Formula{"Nd": 2, "C": 6, "O": 22, "H": 20}, "C H Nd O", 732.69, 0.01},
		{"Nd2(C2O4)3*10H2O", chem.Formula{"Nd": 2, "C": 6, "O": 22, "H": 20}, "C H Nd O", 732.69, 0.01},
		{"CaC2O4.H2O", chem.Formula{"Ca": 1, "C": 2, "O": 5, "H": 2}, "C H Ca O", 146.11, 0.01},
		{"Pr6O11", chem.Formula{"Pr": 6, "O": 11}, "O Pr", 1021.4, 0.1},
		{"[Fe(H2O)6]2(SO4)3", chem.Formula{"Fe": 2, "H": 24, "O": 24, "S": 3}, "Fe H O S", 0, -1},
		{"C16H35O4P", chem.Formula{"C": 16, "H": 35, "O": 4, "P": 1}, "C H O P", 322.43, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := chem.ParseFormula(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseFormula(%q) (-want +got):\n%s", tt.in, d)
			}
			if tt.tol >= 0 && math.Abs(got.MolarMass()-tt.mass) > tt.tol {
				t.Errorf("MolarMass(%q) = %v, want %v ± %v", tt.in, got.MolarMass(), tt.mass, tt.tol)
			}
			syms := got.Symbols()
			if s := strings.Join(syms, " "); s != tt.hill {
				t.Errorf("ParseFormula(%q).Symbols() = %q, want %q", tt.in, s, tt.hill)
			}
			// MolarMass sums in Symbols order: callers that sum with their
			// own weights in that order get the same bits.
			var m float64
			for _, sym := range syms {
				m += float64(got[sym]) * chem.MustLookup(sym).AtomicWeight
			}
			if math.Float64bits(m) != math.Float64bits(got.MolarMass()) {
				t.Errorf("MolarMass(%q) = %v, want the sum in Symbols order %v to the bit", tt.in, got.MolarMass(), m)
			}
		})
	}
}

func TestParseFormulaErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"Xx2O3", `unknown element symbol "Xx"`},
		{"Nd2(C2O4", "unclosed"},
		{"Nd2)", "unmatched"},
		{"nd", "expected an element"},
		{"H0", "count of zero"},
		{"H9999999999", "count longer"},
		{"H999999999(H999999999)2", "too large"},
		{"H2O·", "ends after"},
		{"H2O+", "unexpected"},
		{"()", "empty parentheses"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := chem.ParseFormula(tt.in)
			var pe *chem.ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseFormula(%q) error = %v, want a ParseError containing %q", tt.in, err, tt.want)
			}
		})
	}
	_, err := chem.ParseFormula("Qq")
	var ue *chem.UnknownSymbolError
	if !errors.As(err, &ue) || ue.Symbol != "Qq" {
		t.Errorf("ParseFormula(Qq) = %v, want wrapped UnknownSymbolError", err)
	}
}

// TestOxalateToOxide checks the stoichiometry table of process-twin.md §c.7
// (derived there from C 12.011, O 15.999, H 1.008).
func TestOxalateToOxide(t *testing.T) {
	tests := []struct {
		sym          string
		oxalateMass  float64
		oxideFormula string
		ratio        float64
		acidPerOxide float64 // kg anhydrous H2C2O4 per kg RE2O3
	}{
		{"La", 722.01, "La2O3", 0.4512, 0.829},
		{"Ce", 724.44, "CeO2", 0.4752, 0.823},
		{"Pr", 726.02, "Pr6O11", 0.4690, 0.819},
		{"Nd", 732.69, "Nd2O3", 0.4592, 0.803},
		{"Sm", 744.92, "Sm2O3", 0.4681, 0.775},
		{"Gd", 758.70, "Gd2O3", 0.4778, 0.745},
		{"Dy", 769.20, "Dy2O3", 0.4849, 0.724},
		{"Y", 622.02, "Y2O3", 0.3630, 1.196},
	}
	acid := chem.MustParseFormula("H2C2O4").MolarMass()
	for _, tt := range tests {
		t.Run(tt.sym, func(t *testing.T) {
			ox, err := chem.OxalateOf(tt.sym)
			if err != nil {
				t.Fatal(err)
			}
			o, err := chem.OxideOf(tt.sym, true)
			if err != nil {
				t.Fatal(err)
			}
			if o.Formula != tt.oxideFormula {
				t.Errorf("OxideOf(%s) = %s, want %s", tt.sym, o.Formula, tt.oxideFormula)
			}
			// The note's table used La 138.905 etc.; allow the abridged difference.
			if math.Abs(ox.MolarMass()-tt.oxalateMass) > 0.05 {
				t.Errorf("oxalate %s mass = %v, want %v", ox.Formula, ox.MolarMass(), tt.oxalateMass)
			}
			if r := ox.OxideFactor(o); math.Abs(r-tt.ratio) > 2e-4 {
				t.Errorf("oxide/oxalate %s = %v, want %v", tt.sym, r, tt.ratio)
			}
			// The note's acid column is per kg of sesquioxide RE2O3 for every element.
			s, _ := chem.OxideOf(tt.sym, false)
			perMetalOxide := s.MolarMass() / float64(s.Metal)
			a := ox.OxalicAcidPerMetal() * acid / perMetalOxide
			if math.Abs(a-tt.acidPerOxide) > 1e-3 {
				t.Errorf("acid per oxide %s = %v, want %v", tt.sym, a, tt.acidPerOxide)
			}
		})
	}
}

func TestOxideFactor(t *testing.T) {
	tests := []struct {
		sym   string
		inAir bool
		form  string
		want  float64
	}{
		{"Nd", true, "Nd2O3", 1.1664},
		{"Ce", true, "CeO2", 1.2284},
		{"Ce", false, "Ce2O3", 1.1713},
		{"Pr", true, "Pr6O11", 1.2082},
		{"Tb", true, "Tb4O7", 1.1762},
		{"Fe", true, "Fe2O3", 1.4297},
	}
	for _, tt := range tests {
		o, err := chem.OxideOf(tt.sym, tt.inAir)
		if err != nil {
			t.Fatal(err)
		}
		if o.Formula != tt.form || math.Abs(o.Factor()-tt.want) > 1e-4 {
			t.Errorf("OxideOf(%s, %v) = %s factor %.5f, want %s %.4f", tt.sym, tt.inAir, o.Formula, o.Factor(), tt.form, tt.want)
		}
	}
	if _, err := chem.OxideOf("Cl", true); err == nil {
		t.Error("OxideOf(Cl) succeeded, want an error")
	}
}

func TestSpecies(t *testing.T) {
	tests := []struct {
		name   string
		charge int
		mass   float64
	}{
		{"H", 1, 1.008}, {"HSO4", -1, 97.07}, {"SO4", -2, 96.06}, {"Cl", -1, 35.45},
		{"NO3", -1, 62.004}, {"H2C2O4", 0, 90.034}, {"C2O4", -2, 88.018}, {"Nd", 3, 144.24},
		{"DEHPA", 0, 322.43},
	}
	for _, tt := range tests {
		s, err := chem.LookupSpecies(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Charge != tt.charge || math.Abs(s.MolarMass()-tt.mass) > 0.01 {
			t.Errorf("LookupSpecies(%s) = charge %d mass %v, want %d %v", tt.name, s.Charge, s.MolarMass(), tt.charge, tt.mass)
		}
	}
	if _, err := chem.LookupSpecies("Foo"); err == nil || !strings.Contains(err.Error(), `"Foo"`) {
		t.Errorf("LookupSpecies(Foo) = %v, want error naming Foo", err)
	}
	// The species table is read-only: a caller writing into the Formula it
	// got must not change what the next caller sees.
	w, _ := chem.LookupSpecies("H2O")
	w.Formula["O"] = 7
	if w2, _ := chem.LookupSpecies("H2O"); w2.Formula["O"] != 1 {
		t.Errorf("LookupSpecies(H2O).Formula[O] = %d after a caller wrote into an earlier result, want 1", w2.Formula["O"])
	}
	x, err := chem.LookupExtractant("P507")
	if err != nil || x.Name != "PC88A" {
		t.Errorf("LookupExtractant(P507) = %v, %v", x, err)
	}
}

func FuzzParseFormula(f *testing.F) {
	for _, s := range []string{"Nd2(C2O4)3·10H2O", "H2O", "Pr6O11", "[Fe(H2O)6]2(SO4)3", "CaC2O4.H2O", "((((H))))", "2H2O", "Xx", "H0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := chem.ParseFormula(s)
		if err != nil {
			return
		}
		m := got.MolarMass()
		if !(m > 0) || math.IsInf(m, 0) {
			t.Fatalf("ParseFormula(%q) molar mass %v", s, m)
		}
		// The Hill-order string parses back to the same counts.
		again, err := chem.ParseFormula(got.String())
		if err != nil {
			t.Fatalf("reparse %q of %q: %v", got.String(), s, err)
		}
		if d := cmp.Diff(got, again); d != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", s, d)
		}
	})
}
