package sx

import (
	"fmt"
	"math"
)

// Component is a metal cation carried by the cascade. Its charge z is the
// number of protons released (and extractant units bound) per ion
// extracted.
type Component struct {
	Name       string  // element symbol or counter-ion, e.g. "Nd", "Na"
	Charge     int     // z ≥ 1
	MolarMass  float64 // g/mol, for mass-basis purity; 0 means purity on a mole basis
	CounterIon bool    // Na⁺/NH4⁺ of a saponified organic: left out of purity and recovery, counted as base
}

// Equilibrium is a distribution-ratio model D = y/x of every component as a
// function of the stage state. Implementations must not allocate in
// Distribution; it is called in the solver's inner loop.
type Equilibrium interface {
	// Validate checks the model's parameters against the components of a
	// problem. Solve calls it once.
	Validate(comps []Component) error
	// Distribution sets d[i] = D_i for stage (1-based), free H⁺ h (mol/L)
	// and free extractant f (mol/L of HA monomer in the organic), and the
	// derivatives dh[i] = ∂D_i/∂h and df[i] = ∂D_i/∂f.
	Distribution(comps []Component, stage int, h, f float64, d, dh, df []float64)
	// SitesPerCharge returns ν, the HA monomers bound per unit charge
	// extracted.
	SitesPerCharge() float64
}

// Constant is the constant distribution-ratio model: D_i does not depend
// on the stage state. It releases protons and binds extractant like the
// others (ν = Sites, 0 meaning 1), so that acid and extractant balances are
// still reported.
type Constant struct {
	D     []float64 // per component, in Problem.Components order
	Sites float64   // ν; 0 means 1
}

// Validate checks that there is one finite non-negative D per component.
func (m Constant) Validate(comps []Component) error {
	if len(m.D) != len(comps) {
		return fmt.Errorf("sx: constant model has %d D values for %d components", len(m.D), len(comps))
	}
	for i, d := range m.D {
		if !(d >= 0) || math.IsInf(d, 0) {
			return fmt.Errorf("sx: constant model: D of %s is %v, want a finite value ≥ 0", comps[i].Name, d)
		}
	}
	return nil
}

// Distribution copies the constants.
func (m Constant) Distribution(comps []Component, stage int, h, f float64, d, dh, df []float64) {
	copy(d, m.D)
	clear(dh)
	clear(df)
}

// SitesPerCharge returns ν.
func (m Constant) SitesPerCharge() float64 {
	if m.Sites == 0 {
		return 1
	}
	return m.Sites
}

// MassAction is ideal mass action of an acidic organophosphorus extractant
// (P507/PC88A, D2EHPA, Cyanex 272) on the dimer basis:
//
//	M^z + z (HA)2(org) ⇌ M(HA2)_z(org) + z H⁺
//	D_i = K_i · ([(HA)2]_free / [H⁺])^z_i,   [(HA)2]_free = f/2
//
// with free extractant depleted by loading, 2 HA monomers bound per unit
// charge (capacity 6 HA per M³⁺). Separation factors β = K_i/K_j do not
// depend on pH or loading in this ideal form (process-twin.md §b.2-2).
// Counter-ions of a saponified organic (Na⁺, NH4⁺) are components with
// z = 1 and their own K.
type MassAction struct {
	LogK []float64 // log10 K_ex per component, in Problem.Components order
}

// Validate checks that there is one finite log K per component.
func (m MassAction) Validate(comps []Component) error {
	if len(m.LogK) != len(comps) {
		return fmt.Errorf("sx: mass-action model has %d log K values for %d components", len(m.LogK), len(comps))
	}
	for i, k := range m.LogK {
		if math.IsNaN(k) || math.IsInf(k, 0) {
			return fmt.Errorf("sx: mass-action model: log K of %s is %v", comps[i].Name, k)
		}
	}
	return nil
}

// Distribution evaluates D_i = K_i (f/2/h)^z_i and its derivatives.
func (m MassAction) Distribution(comps []Component, stage int, h, f float64, d, dh, df []float64) {
	lnr := math.Log(0.5 * f / h)
	for i, c := range comps {
		z := float64(c.Charge)
		v := math.Exp(math.Ln10*m.LogK[i] + z*lnr)
		d[i] = v
		dh[i] = -z * v / h
		if f > 0 {
			df[i] = z * v / f
		} else {
			df[i] = 0
		}
	}
}

// SitesPerCharge returns 2: each charge binds one dimer (HA)2.
func (m MassAction) SitesPerCharge() float64 { return 2 }

// massActionK is MassAction with K = 10^logK computed once per solve, so
// that Distribution needs no exponential per component.
type massActionK struct {
	MassAction
	k []float64
}

func newMassActionK(m MassAction) massActionK {
	k := make([]float64, len(m.LogK))
	for i, lk := range m.LogK {
		k[i] = math.Pow(10, lk)
	}
	return massActionK{MassAction: m, k: k}
}

// Distribution evaluates D_i = K_i (f/2/h)^z_i with integer powers.
func (m massActionK) Distribution(comps []Component, stage int, h, f float64, d, dh, df []float64) {
	r := 0.5 * f / h
	r2 := r * r
	for i, c := range comps {
		var p float64
		switch c.Charge {
		case 1:
			p = r
		case 2:
			p = r2
		case 3:
			p = r2 * r
		case 4:
			p = r2 * r2
		default:
			p = math.Pow(r, float64(c.Charge))
		}
		z := float64(c.Charge)
		v := m.k[i] * p
		d[i] = v
		dh[i] = -z * v / h
		if f > 0 {
			df[i] = z * v / f
		} else {
			df[i] = 0
		}
	}
}

// DEHPAParams are the PrOMMiS DEHPA + TBP correlation parameters of one
// element: log D = (M0 + M1·dosage)·pH + B0 + B1·log10(dosage), or D = K1
// when Constant is set.
type DEHPAParams struct {
	M0, M1, B0, B1 float64
	Constant       bool
	K1             float64
}

// PrommisDEHPAParams returns the PrOMMiS parameters of element sym and
// whether it has any. Source: prommis/prommis @ 0fe1f1b,
// src/prommis/solvent_extraction/solvent_extraction_reaction_package.py,
// fitted to DEHPA + TBP data of the UKy "Production of salable rare earths
// products from coal and coal byproducts using advanced separation
// processes, Phase 1" report; the impurity constants are "calculated from
// REESim file" (process-twin.md §c.1). The correlations describe group
// recovery from dilute coal leachate: their ratios are not adjacent-element
// separation factors (Nd/Pr comes out 0.80), so do not design Nd/Pr splits
// with them.
func PrommisDEHPAParams(sym string) (DEHPAParams, bool) {
	p, ok := prommisDEHPA[sym]
	return p, ok
}

// prommisDEHPA holds the PrOMMiS DEHPA parameters by element;
// PrommisDEHPAParams returns copies.
//
//lodestone:readonly
var prommisDEHPA = map[string]DEHPAParams{
	"La": {M0: 0.54, M1: 0, B0: -1.93, B1: 0},
	"Ce": {M0: 0.30916, M1: 0.04816, B0: -1.66021, B1: -0.38599},
	"Pr": {M0: 0.29, M1: 0, B0: -1.48, B1: 0},
	"Nd": {M0: 0.31183, M1: 0.03763, B0: -1.62372, B1: -0.38096},
	"Sm": {M0: 0.81233, M1: -0.02247, B0: -2.12172, B1: 0.17414},
	"Gd": {M0: 1.0225, M1: 0.0195, B0: -2.24143, B1: 0.03065},
	"Dy": {M0: 1.70783, M1: 0.06443, B0: -2.42226, B1: -0.02538},
	"Y":  {M0: 1.63166, M1: 0.15166, B0: -2.12601, B1: 0.26612},
	"Sc": {Constant: true, K1: 632.4976},
	"Al": {Constant: true, K1: 0.0531},
	"Ca": {Constant: true, K1: 0.0658},
	"Fe": {Constant: true, K1: 0.1496},
}

// PrOMMiS DEHPA constants (process-twin.md §c.4, PrOMMiS property packages).
const (
	DEHPAMolarMass = 322.431 // g/mol, PrOMMiS
	DEHPADensity   = 975.8   // g/L, PrOMMiS
)

// PrommisDEHPA is the PrOMMiS empirical DEHPA + TBP model:
//
//	dosage = 100 · f · MolarMass / Density      (% v/v of free DEHPA)
//	pH     = −log10(h)
//	log10 D_i = (M0 + M1·dosage)·pH + B0 + B1·log10(dosage)   (REEs)
//	D_i = K1                                                   (Sc, Al, Ca, Fe)
//
// evaluated per stage with that stage's pH and free DEHPA, 1 DEHPA bound per
// unit charge (3 per M³⁺, 2 per Ca²⁺). When Dosage > 0 it is used for every
// stage instead (the form of some PrOMMiS versions, with the dosage a fixed
// parameter).
type PrommisDEHPA struct {
	Params []DEHPAParams // per component, in Problem.Components order
	Dosage float64       // fixed dosage in % v/v; 0 means per stage from f
}

// NewPrommisDEHPA builds the model for the components from the PrOMMiS
// table; a component without parameters is an error naming it.
func NewPrommisDEHPA(comps []Component) (PrommisDEHPA, error) {
	m := PrommisDEHPA{Params: make([]DEHPAParams, len(comps))}
	for i, c := range comps {
		p, ok := prommisDEHPA[c.Name]
		if !ok {
			return PrommisDEHPA{}, fmt.Errorf("sx: prommis-dehpa model has no parameters for %q", c.Name)
		}
		m.Params[i] = p
	}
	return m, nil
}

// Validate checks that there is one parameter set per component.
func (m PrommisDEHPA) Validate(comps []Component) error {
	if len(m.Params) != len(comps) {
		return fmt.Errorf("sx: prommis-dehpa model has %d parameter sets for %d components", len(m.Params), len(comps))
	}
	if m.Dosage < 0 || math.IsNaN(m.Dosage) {
		return fmt.Errorf("sx: prommis-dehpa model: dosage %v < 0", m.Dosage)
	}
	return nil
}

// Distribution evaluates the correlation and its derivatives.
func (m PrommisDEHPA) Distribution(comps []Component, stage int, h, f float64, d, dh, df []float64) {
	dos := m.Dosage
	fixed := dos > 0
	if !fixed {
		dos = 100 * f * DEHPAMolarMass / DEHPADensity
	}
	pH := -math.Log10(h)
	lg := math.Log10(dos)
	for i, p := range m.Params {
		if p.Constant {
			d[i], dh[i], df[i] = p.K1, 0, 0
			continue
		}
		a := p.M0 + p.M1*dos
		v := math.Pow(10, a*pH+p.B0+p.B1*lg)
		d[i] = v
		dh[i] = -a * v / h // ∂lnD/∂h = −a/h
		if fixed || f <= 0 {
			df[i] = 0
			continue
		}
		// ∂log10 D/∂dos = M1·pH + B1/(dos·ln10); ∂dos/∂f = dos/f.
		df[i] = v * math.Ln10 * (p.M1*pH + p.B1/(dos*math.Ln10)) * dos / f
	}
}

// SitesPerCharge returns 1: PrOMMiS binds 3 DEHPA per M³⁺ and 2 per Ca²⁺.
func (m PrommisDEHPA) SitesPerCharge() float64 { return 1 }

var (
	_ Equilibrium = Constant{}
	_ Equilibrium = MassAction{}
	_ Equilibrium = PrommisDEHPA{}
)
