package sx_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"lodestone/process/sx"
)

func near(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

// kremser returns the fraction of the solute fed in the phase that enters
// at stage N (extraction orientation: aqueous) that is transferred, for
// factor e and n stages: (e^(n+1) − e)/(e^(n+1) − 1), n/(n+1) at e = 1.
func kremser(e float64, n int) float64 {
	if e == 1 {
		return float64(n) / float64(n+1)
	}
	p := math.Pow(e, float64(n+1))
	return (p - e) / (p - 1)
}

func TestKremser(t *testing.T) {
	comps := []sx.Component{{Name: "M", Charge: 3}}
	tests := []struct {
		name      string
		stages    int
		D         float64
		aq, org   float64 // flows
		xIn, yIn  float64 // aqueous inlet at stage N, organic inlet at stage 1
		stripping bool
	}{
		{"extraction E=2", 5, 2, 100, 100, 0.01, 0, false},
		{"extraction E=0.1496 (PrOMMiS Fe)", 3, 0.1496, 62.01, 62.01, 688.266e-3 / 55.845, 2.873e-9 / 55.845, false},
		{"extraction E=1", 4, 0.5, 50, 100, 0.02, 0.001, false},
		{"extraction loaded organic", 6, 3, 100, 40, 0.01, 0.002, false},
		{"stripping S=4", 4, 0.05, 100, 50, 0, 0.03, true},
		{"stripping S=1", 3, 0.5, 50, 100, 0.001, 0.02, true},
		{"stripping S=0.7", 8, 2, 70, 50, 0.0005, 0.02, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sx.Problem{
				Stages: tt.stages, Components: comps,
				Inlets: []sx.Inlet{
					{Phase: sx.Aqueous, Stage: tt.stages, Flow: tt.aq, Conc: []float64{tt.xIn}, H: 0.1},
					{Phase: sx.Organic, Stage: 1, Flow: tt.org, Conc: []float64{tt.yIn}, Extractant: 0.5},
				},
				Model: sx.Constant{D: []float64{tt.D}},
			}
			res, err := sx.Solve(context.Background(), p, nil)
			if err != nil {
				t.Fatal(err)
			}
			x1 := res.Raffinate.Conc[0]
			yN := res.Extract.Conc[0]
			if !tt.stripping {
				e := tt.D * tt.org / tt.aq
				want := tt.xIn - kremser(e, tt.stages)*(tt.xIn-tt.yIn/tt.D)
				if !near(x1, want, 1e-10, 1e-18) {
					t.Errorf("raffinate = %.12g, want Kremser %.12g (E = %v)", x1, want, e)
				}
				wantY := tt.yIn + tt.aq/tt.org*(tt.xIn-want)
				if !near(yN, wantY, 1e-10, 1e-18) {
					t.Errorf("extract = %.12g, want %.12g", yN, wantY)
				}
			} else {
				s := tt.aq / (tt.D * tt.org)
				want := tt.yIn - kremser(s, tt.stages)*(tt.yIn-tt.D*tt.xIn)
				if !near(yN, want, 1e-10, 1e-18) {
					t.Errorf("stripped organic = %.12g, want Kremser %.12g (S = %v)", yN, want, s)
				}
			}
			if c := res.MaxClosure(); c > 1e-9 {
				t.Errorf("closure %g > 1e-9", c)
			}
		})
	}
}

// prommisCase is the 3-stage DEHPA case of PrOMMiS
// (src/prommis/solvent_extraction/solvent_extraction_steady.py, dosage 5,
// 3 stages; asserted in tests/test_solvent_extraction_steady.py, rel 1e-4).
// PrOMMiS runs the aqueous phase forward (its stage 1 is our stage 3).
var prommisMolar = map[string]float64{ // g/mol, PrOMMiS leach property package (process-twin.md §c.1)
	"Sc": 44.946, "Y": 88.905, "La": 138.905, "Ce": 140.116, "Pr": 140.907, "Nd": 144.242,
	"Sm": 150.36, "Gd": 157.25, "Dy": 162.50, "Al": 26.982, "Ca": 40.078, "Fe": 55.845,
}

func prommisProblem(t testing.TB, fixedDosage float64) (sx.Problem, []string) {
	names := []string{"Al", "Ca", "Ce", "Dy", "Fe", "Gd", "La", "Nd", "Pr", "Sc", "Sm", "Y"}
	aqIn := map[string]float64{"Al": 422.375, "Ca": 109.542, "Fe": 688.266, "Sc": 0.032, "Y": 0.124, "La": 0.986,
		"Ce": 2.277, "Pr": 0.303, "Nd": 0.946, "Sm": 0.097, "Gd": 0.2584, "Dy": 0.047}
	orgIn := map[string]float64{"Al": 1.267e-5, "Ca": 2.684e-5, "Fe": 2.873e-6, "Sc": 1.734, "Y": 2.179e-5,
		"La": 0.000105, "Ce": 0.00031, "Pr": 3.711e-5, "Nd": 0.000165, "Sm": 1.701e-5, "Gd": 3.357e-5, "Dy": 8.008e-6}
	comps := make([]sx.Component, len(names))
	xa, yo := make([]float64, len(names)), make([]float64, len(names))
	for i, s := range names {
		z := 3
		if s == "Ca" {
			z = 2
		}
		comps[i] = sx.Component{Name: s, Charge: z, MolarMass: prommisMolar[s]}
		xa[i] = aqIn[s] / prommisMolar[s] / 1000
		yo[i] = orgIn[s] / prommisMolar[s] / 1000
	}
	m, err := sx.NewPrommisDEHPA(comps)
	if err != nil {
		t.Fatal(err)
	}
	m.Dosage = fixedDosage
	return sx.Problem{
		Stages: 3, Components: comps, Media: sx.Sulfate,
		Inlets: []sx.Inlet{
			{Phase: sx.Aqueous, Stage: 3, Flow: 62.01, Conc: xa, H: 10.75 / 1 / 1000, HSO4: 1e4 / 97 / 1000, SO4: 100.0 / 96 / 1000},
			{Phase: sx.Organic, Stage: 1, Flow: 62.01, Conc: yo, Extractant: 975.8e3 * 5 / 100 / sx.DEHPAMolarMass / 1000},
		},
		Model: m,
	}, names
}

func TestPrommisThreeStage(t *testing.T) {
	aqOut := map[string]float64{"H": 39.5131, "SO4": 2056.395, "HSO4": 8023.225, "Al": 399.95, "Ca": 102.336,
		"Ce": 2.1056, "Dy": 0.0010159, "Fe": 585.5947, "Gd": 0.19119, "La": 0.91421, "Nd": 0.8801, "Pr": 0.27631,
		"Sc": 0.0027415, "Sm": 0.08669, "Y": 4.27601e-06}
	orgOut := map[string]float64{"Al": 22.4249, "Ca": 7.2059, "Ce": 0.17168, "DEHPA": 46086.719, "Dy": 0.045992,
		"Fe": 102.6712, "Gd": 0.06723, "La": 0.07189, "Nd": 0.06606, "Pr": 0.026727, "Sc": 1.7632, "Sm": 0.010323, "Y": 0.12401}
	// The asserted numbers come from the PrOMMiS version whose reaction
	// package takes the dosage as a fixed parameter (extractant_dosage = 5);
	// the per-stage dosage of the later version gives other numbers (Ce
	// 2.1095 instead of 2.1056 mg/L), so this case runs with a fixed dosage.
	for _, tc := range []struct {
		name   string
		dosage float64
	}{{"fixed dosage", 5}} {
		t.Run(tc.name, func(t *testing.T) {
			p, names := prommisProblem(t, tc.dosage)
			res, err := sx.Solve(context.Background(), p, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Raffinate
			e := res.Extract
			got := map[string]float64{"H": r.H * 1000, "HSO4": r.HSO4 * 97 * 1000, "SO4": r.SO4 * 96 * 1000}
			gotO := map[string]float64{"DEHPA": e.Extractant * sx.DEHPAMolarMass * 1000}
			for i, s := range names {
				got[s] = r.Conc[i] * prommisMolar[s] * 1000
				gotO[s] = e.Conc[i] * prommisMolar[s] * 1000
			}
			for k, want := range aqOut {
				tol := 1e-4
				if k == "Y" {
					// 4.3e-6 mg/L: an absolute difference of 1e-9 mg/L, below
					// IPOPT's tolerance on the scaled PrOMMiS balances.
					tol = 1e-3
				}
				if !near(got[k], want, tol, 0) {
					t.Errorf("aqueous %s = %.7g mg/L, want %.7g", k, got[k], want)
				}
			}
			for k, want := range orgOut {
				if !near(gotO[k], want, 1e-4, 0) {
					t.Errorf("organic %s = %.7g mg/L, want %.7g", k, gotO[k], want)
				}
			}
			t.Logf("stats %+v closure %g H %.8g HSO4 %.8g SO4 %.8g DEHPA %.9g Y %.8g", res.Stats, res.MaxClosure(), got["H"], got["HSO4"], got["SO4"], gotO["DEHPA"], got["Y"])
		})
	}
}

// TestStripWithoutAcid: a constant D strips whatever the acid, so when the
// stripping needs more acid than is fed the liquor turns alkaline (the
// acidity counts OH⁻ through Kw); the solve converges and says so by its pH.
func TestStripWithoutAcid(t *testing.T) {
	p := sx.Problem{Stages: 3, Components: []sx.Component{{Name: "M", Charge: 3}},
		Inlets: []sx.Inlet{
			{Phase: sx.Aqueous, Stage: 3, Flow: 10, H: 0.01},
			{Phase: sx.Organic, Stage: 1, Flow: 10, Conc: []float64{0.1}, Extractant: 1},
		},
		Model: sx.Constant{D: []float64{0.01}}}
	res, err := sx.Solve(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ph := res.PH()[0]; !(ph > 7) {
		t.Errorf("raffinate pH %.2f, want alkaline", ph)
	}
}

func TestInfeasibleReportsWhy(t *testing.T) {
	comps := []sx.Component{{Name: "M", Charge: 3}}
	tests := []struct {
		name string
		p    sx.Problem
		want string
	}{
		{"extractant saturated", sx.Problem{Stages: 3, Components: comps,
			Inlets: []sx.Inlet{
				{Phase: sx.Aqueous, Stage: 3, Flow: 10, Conc: []float64{0.5}, H: 0.01},
				{Phase: sx.Organic, Stage: 1, Flow: 10, Extractant: 0.1},
			},
			Model: sx.Constant{D: []float64{100}}}, "extractant saturated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := sx.Solve(context.Background(), tt.p, nil)
			var ce *sx.ConvergenceError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Solve error = %v, want a ConvergenceError saying %q", err, tt.want)
			}
			if res == nil || res.Status == sx.Converged {
				t.Fatalf("result %v, want the best iterate with a non-converged status", res)
			}
		})
	}
}

// TestSaponification checks counter-ion exchange: with a saponified
// organic the metals displace Na⁺ into the aqueous phase instead of
// releasing H⁺, so the pH stays up and more metal is extracted; the base
// reported is the Na⁺ fed. The Na log K is SYNTHETIC.
func TestSaponification(t *testing.T) {
	comps := []sx.Component{{Name: "Nd", Charge: 3, MolarMass: 144.24}, {Name: "Na", Charge: 1, MolarMass: 22.99, CounterIon: true}}
	model := sx.MassAction{LogK: []float64{-1.604, -3.5}}
	solve := func(na float64) *sx.Result {
		p := sx.Problem{Stages: 4, Components: comps, Model: model, Inlets: []sx.Inlet{
			{Phase: sx.Aqueous, Stage: 4, Flow: 10, Conc: []float64{0.1, 0}, H: 0.001},
			{Phase: sx.Organic, Stage: 1, Flow: 10, Conc: []float64{0, na}, Extractant: 1 - 2*na},
		}}
		res, err := sx.Solve(context.Background(), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c := res.MaxClosure(); c > 1e-9 {
			t.Fatalf("closure %g", c)
		}
		return res
	}
	plain, sap := solve(0), solve(0.3)
	if !(sap.PH()[0] > plain.PH()[0]+0.5) {
		t.Errorf("raffinate pH %.3f saponified vs %.3f plain: want the saponified one well above", sap.PH()[0], plain.PH()[0])
	}
	if !(sap.Recovery[1][0] > plain.Recovery[1][0]) {
		t.Errorf("Nd extracted %.4f saponified vs %.4f plain", sap.Recovery[1][0], plain.Recovery[1][0])
	}
	if got, want := sap.Reagents.Base, 3.0; !near(got, want, 1e-12, 0) {
		t.Errorf("base = %v mol/h, want %v (Na fed on the organic)", got, want)
	}
	if sap.Purity[0][1] != 0 || sap.Purity[1][1] != 0 {
		t.Errorf("counter-ion counted in purity: %v", sap.Purity)
	}
	// Most Na leaves in the raffinate.
	naOut := sap.Raffinate.Flow * sap.Raffinate.Conc[1]
	if !(naOut > 0.5*3) {
		t.Errorf("Na in raffinate %.3f mol/h of 3 fed", naOut)
	}
	t.Logf("pH %.2f → %.2f, Nd extracted %.3f → %.3f, Na to raffinate %.3f mol/h", plain.PH()[0], sap.PH()[0], plain.Recovery[1][0], sap.Recovery[1][0], naOut)
}

// TestMassActionSeparationFactor checks that the ideal mass-action model
// gives β = K_A/K_B at every stage, whatever the pH and loading.
func TestMassActionSeparationFactor(t *testing.T) {
	comps := []sx.Component{{Name: "A", Charge: 3}, {Name: "B", Charge: 3}}
	p := sx.Problem{Stages: 8, Components: comps, Model: sx.MassAction{LogK: []float64{-1.5, -1.7}}, Inlets: []sx.Inlet{
		{Phase: sx.Aqueous, Stage: 4, Flow: 10, Conc: []float64{0.1, 0.1}, H: 0.01},
		{Phase: sx.Aqueous, Stage: 8, Flow: 3, H: 0.8},
		{Phase: sx.Organic, Stage: 1, Flow: 12, Extractant: 1},
	}}
	res, err := sx.Solve(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := math.Pow(10, 0.2)
	for k, d := range res.D {
		if got := d[0] / d[1]; !near(got, want, 1e-12, 0) {
			t.Errorf("stage %d: β = %v, want %v", k+1, got, want)
		}
	}
}
