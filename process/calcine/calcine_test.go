package calcine_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/internal/golden"
	"lodestone/process/calcine"
)

var prommisMetals = []string{"Al", "Fe", "Ca", "Sc", "Y", "La", "Ce", "Pr", "Nd", "Sm", "Gd", "Dy"}

// prommisWeights are the atomic masses of the PrOMMiS roaster
// (ree_oxalate_roaster.py), g/mol.
var prommisWeights = map[string]float64{
	"H": 1.0078, "C": 12.011, "O": 15.999, "N": 14.007,
	"Al": 26.982, "Fe": 55.845, "Ca": 40.078, "Sc": 44.956, "Y": 88.906, "La": 138.91,
	"Ce": 140.12, "Pr": 140.91, "Nd": 144.24, "Sm": 150.36, "Gd": 157.25, "Dy": 162.5,
}

// prommisSpec is the roaster case of PrOMMiS' test_ree_oxalate_roaster.py:
// 6.1e-5 mol/h of each of 12 oxalate hydrates at 299.15 K, 6.75e-4 mol/s of
// moisture, 0.00781 mol/s of flue gas at 1330 K, product at 873.15 K, 95 %
// oxide recovery, sesquioxides.
func prommisSpec(gas map[string]float64) *calcine.Spec {
	feeds := map[string]float64{}
	for _, m := range prommisMetals {
		feeds[m] = 6.1e-5
	}
	return &calcine.Spec{
		FeedsMolPerH:       feeds,
		FeedTemperature:    299.15,
		MoistureMolPerS:    6.75e-4,
		GasIn:              calcine.Gas{MolPerS: 0.00781, Temperature: 1330, Pressure: 101325, MoleFractions: gas},
		ProductTemperature: 873.15,
		OxideRecovery:      0.95,
		Oxides:             calcine.Sesquioxide,
		AtomicWeights:      prommisWeights,
	}
}

func approx(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= math.Max(rel*math.Abs(want), abs)
}

func TestPrOMMiSRoaster(t *testing.T) {
	// Expected values are those asserted by PrOMMiS (pytest.approx with
	// rel=1e-5, abs=1e-6; product mass abs=1e-9).
	massFrac := map[string]float64{
		"Al": 0.03303983600788328, "Fe": 0.051745591869350606, "Ca": 0.018171407536352827,
		"Sc": 0.04468856468660738, "Y": 0.0731720199792481, "La": 0.1055789983285816,
		"Ce": 0.10636318446974416, "Pr": 0.10687517376851974, "Nd": 0.10903330587601676,
		"Sm": 0.11299960272222746, "Gd": 0.11746492711281438, "Dy": 0.12086738764265201,
	}
	tests := []struct {
		name          string
		gas           map[string]float64
		h2o, o2, co2  float64
		heat          float64
		flow, product float64
	}{
		{"methane flue gas", map[string]float64{"O2": 0.1118, "H2O": 0.1005, "CO2": 0.0431, "N2": 0.7446},
			0.172195, 0.102842, 0.039795, -82.248, 0.008487, 4.9676e-08},
		{"coal-fired", map[string]float64{"O2": 0.05, "H2O": 0.08, "CO2": 0.14, "N2": 0.73},
			0.153331, 0.0459751, 0.128961, -88.75058, 0.008487, 4.9676e-08},
		{"gas-fired", map[string]float64{"O2": 0.12, "H2O": 0.08, "CO2": 0.04, "N2": 0.76},
			0.153331, 0.110388, 0.036943, -81.3816, 0.008487, 4.9676e-08},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := calcine.Simulate(prommisSpec(tt.gas))
			if err != nil {
				t.Fatal(err)
			}
			checks := []struct {
				what      string
				got, want float64
				abs       float64
			}{
				{"gas out mol/s", res.GasOut.MolPerS, tt.flow, 1e-6},
				{"y_H2O", res.GasOut.MoleFractions["H2O"], tt.h2o, 1e-6},
				{"y_O2", res.GasOut.MoleFractions["O2"], tt.o2, 1e-6},
				{"y_CO2", res.GasOut.MoleFractions["CO2"], tt.co2, 1e-6},
				{"heat duty W", res.HeatDuty, tt.heat, 1e-6},
				{"product kg/s", res.Product.KgPerS, tt.product, 1e-9},
			}
			for _, c := range checks {
				if !approx(c.got, c.want, 1e-5, c.abs) {
					t.Errorf("%s = %.8g, want %.8g", c.what, c.got, c.want)
				}
			}
			if !res.HeatDutyKnown {
				t.Error("HeatDutyKnown = false")
			}
			for el, w := range massFrac {
				if got := res.Product.MassFractions[el]; !approx(got, w, 1e-5, 1e-6) {
					t.Errorf("mass fraction %s = %.10g, want %.10g", el, got, w)
				}
			}
			checkClosure(t, res)
		})
	}
}

func checkClosure(t *testing.T, res *calcine.Result) {
	t.Helper()
	for _, el := range []string{"C", "H", "O", "N"} {
		if _, ok := res.Closure[el]; !ok && el != "N" {
			t.Errorf("closure has no %s", el)
		}
	}
	for el, c := range res.Closure {
		if math.Abs(c) > 1e-9 || math.IsNaN(c) {
			t.Errorf("closure %s = %g, want |c| ≤ 1e-9", el, c)
		}
	}
}

func TestAirOxides(t *testing.T) {
	// 1 mol/h each of Ce, Pr and Nd oxalate decahydrate in dry air.
	spec := &calcine.Spec{
		FeedsMolPerH:    map[string]float64{"Ce": 3600, "Pr": 3600, "Nd": 3600},
		FeedTemperature: 300, GasIn: calcine.Gas{MolPerS: 100, Temperature: 1200, Pressure: 101325,
			MoleFractions: map[string]float64{"O2": 0.21, "N2": 0.79}},
		ProductTemperature: 1200, OxideRecovery: 1, Oxides: calcine.Air,
	}
	res, err := calcine.Simulate(spec)
	if err != nil {
		t.Fatal(err)
	}
	// O2: Ce 2, Pr 11/6, Nd 1.5 per hydrate unit.
	if want := 2 + 11.0/6 + 1.5; math.Abs(res.O2Demand-want) > 1e-12 {
		t.Errorf("O2 demand = %v mol/s, want %v", res.O2Demand, want)
	}
	got := map[string]float64{}
	for _, o := range res.Product.Oxides {
		got[o.Formula] = o.MolPerS
	}
	want := map[string]float64{"CeO2": 2, "Pr6O11": 1.0 / 3, "Nd2O3": 1}
	for f, w := range want {
		if math.Abs(got[f]-w) > 1e-12 {
			t.Errorf("%s = %v mol/s, want %v", f, got[f], w)
		}
	}
	if want := 3 * 6.0; math.Abs(res.CO2Released-want) > 1e-12 {
		t.Errorf("CO2 = %v, want %v", res.CO2Released, want)
	}
	if res.HeatDutyKnown {
		t.Error("HeatDutyKnown = true without sourced CeO2/Pr6O11 data")
	}
	if len(res.Notes) == 0 {
		t.Error("no note explains the missing heat duty")
	}
	// Mass loss of Nd2(C2O4)3·10H2O → Nd2O3 is 54.1 % (process-twin.md §c.7).
	nd := &calcine.Spec{FeedsMolPerH: map[string]float64{"Nd": 1}, FeedTemperature: 300,
		GasIn:              calcine.Gas{MolPerS: 1, Temperature: 1000, Pressure: 1e5, MoleFractions: map[string]float64{"O2": 1}},
		ProductTemperature: 1000, OxideRecovery: 1, Oxides: calcine.Air}
	r2, err := calcine.Simulate(nd)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r2.MassLoss-0.541) > 5e-4 {
		t.Errorf("Nd mass loss = %.4f, want 0.541", r2.MassLoss)
	}
	checkClosure(t, res)
}

func TestSimulateErrors(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*calcine.Spec)
		field string
	}{
		{"unknown element", func(s *calcine.Spec) { s.FeedsMolPerH["Xx"] = 1 }, "feeds_mol_per_h.Xx"},
		{"no oxalate", func(s *calcine.Spec) { s.FeedsMolPerH["Mg"] = 1 }, "feeds_mol_per_h.Mg"},
		{"negative feed", func(s *calcine.Spec) { s.FeedsMolPerH["Nd"] = -1 }, "feeds_mol_per_h.Nd"},
		{"NaN feed", func(s *calcine.Spec) { s.FeedsMolPerH["Nd"] = math.NaN() }, "feeds_mol_per_h.Nd"},
		{"negative gas", func(s *calcine.Spec) { s.GasIn.MolPerS = -1 }, "gas_in.mol_per_s"},
		{"bad fractions", func(s *calcine.Spec) { s.GasIn.MoleFractions["O2"] = 0.5 }, "gas_in.mole_fractions"},
		{"unknown gas", func(s *calcine.Spec) { s.GasIn.MoleFractions["SO2"] = 0 }, "gas_in.mole_fractions.SO2"},
		{"zero pressure", func(s *calcine.Spec) { s.GasIn.Pressure = 0 }, "gas_in.pressure_Pa"},
		{"NaN temperature", func(s *calcine.Spec) { s.ProductTemperature = math.NaN() }, "product_temperature_K"},
		{"negative moisture", func(s *calcine.Spec) { s.MoistureMolPerS = -1 }, "moisture_mol_per_s"},
		{"recovery > 1", func(s *calcine.Spec) { s.OxideRecovery = 1.1 }, "oxide_recovery"},
		{"bad mode", func(s *calcine.Spec) { s.Oxides = "vacuum" }, "oxides"},
		{"no O2", func(s *calcine.Spec) { s.GasIn.MoleFractions = map[string]float64{"N2": 1} }, "gas_in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := prommisSpec(map[string]float64{"O2": 0.1118, "H2O": 0.1005, "CO2": 0.0431, "N2": 0.7446})
			tt.mod(s)
			_, err := calcine.Simulate(s)
			var se *calcine.SpecError
			if !errors.As(err, &se) || se.Field != tt.field {
				t.Fatalf("Simulate = %v, want SpecError on %q", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "calcine: "+tt.field) {
				t.Errorf("message %q does not start with the field", err)
			}
		})
	}
}

// TestBalanceProperty checks that C, H, O, N and every metal balance to
// 1e-9 for random feeds, gases and both oxide modes.
func TestBalanceProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	metals := append([]string{"Tb", "Er", "Lu", "Yb"}, prommisMetals...)
	n := 500
	if testing.Short() {
		n = 100
	}
	for i := range n {
		feeds := map[string]float64{}
		for _, m := range metals {
			if r.IntN(2) == 0 {
				feeds[m] = r.Float64() * 10
			}
		}
		y := []float64{0.2 + r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()}
		sum := 0.0
		for _, v := range y {
			sum += v
		}
		gas := map[string]float64{"O2": y[0] / sum, "N2": y[1] / sum, "CO2": y[2] / sum, "H2O": y[3] / sum, "Ar": y[4] / sum}
		mode := calcine.Air
		if r.IntN(2) == 0 {
			mode = calcine.Sesquioxide
		}
		s := &calcine.Spec{
			FeedsMolPerH: feeds, FeedTemperature: 290 + r.Float64()*50, MoistureMolPerS: r.Float64() * 1e-2,
			GasIn:              calcine.Gas{MolPerS: 50 + r.Float64(), Temperature: 900 + r.Float64()*500, Pressure: 101325, MoleFractions: gas},
			ProductTemperature: 600 + r.Float64()*600, OxideRecovery: r.Float64(), Oxides: mode,
		}
		res, err := calcine.Simulate(s)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkClosure(t, res)
		if res.Product.KgPerS < 0 || res.Dust.KgPerS < 0 || res.GasOut.MolPerS < 0 {
			t.Fatalf("case %d: negative stream %+v", i, res)
		}
	}
}

// TestSimulateDeterministic runs each spec many times and requires the same
// bits every time: Go randomises map iteration, so a sum over a map in
// iteration order (gas enthalpies, a formula's mass, the oxygen of several
// gases) would change the last bits from run to run. The JSON of a float64
// is its shortest round-trip form, so equal JSON is equal bits.
func TestSimulateDeterministic(t *testing.T) {
	gas := map[string]float64{"O2": 0.1, "N2": 0.7, "CO2": 0.08, "H2O": 0.11, "Ar": 0.01}
	tests := []struct {
		name string
		spec func(t *testing.T) *calcine.Spec
	}{
		{"prommis roaster, five gases", func(*testing.T) *calcine.Spec { return prommisSpec(gas) }},
		{"default atomic weights", func(*testing.T) *calcine.Spec {
			s := prommisSpec(gas)
			s.AtomicWeights = nil
			return s
		}},
	}
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "calcine", "*.json"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples (%v)", err)
	}
	for _, f := range examples {
		tests = append(tests, struct {
			name string
			spec func(t *testing.T) *calcine.Spec
		}{filepath.Base(f), func(t *testing.T) *calcine.Spec {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := calcine.ParseSpec(data)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.Repeatable(t, 50, func() (any, error) { return calcine.Simulate(tt.spec(t)) })
		})
	}
}
