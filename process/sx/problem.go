package sx

import (
	"fmt"
	"math"
)

// Media is the anion system of the aqueous phase.
type Media int

// The media. In sulfate media every stage has the HSO4⁻/SO4²⁻ equilibrium.
const (
	Chloride Media = iota
	Sulfate
)

// String returns "chloride" or "sulfate".
func (m Media) String() string {
	if m == Sulfate {
		return "sulfate"
	}
	return "chloride"
}

// Phase is the aqueous or the organic phase.
type Phase int

// The phases.
const (
	Aqueous Phase = iota + 1
	Organic
)

// String returns "aqueous" or "organic".
func (p Phase) String() string {
	switch p {
	case Aqueous:
		return "aqueous"
	case Organic:
		return "organic"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// DefaultKa2 is the second dissociation constant of sulfuric acid, HSO4⁻ ⇌
// H⁺ + SO4²⁻, in mol/L: 10^-1.99 (PrOMMiS sulfuric-acid property package,
// process-twin.md §b.3). The literal is math.Pow(10, -1.99) to the last bit.
const DefaultKa2 = 0.010232929922807542

// Inlet is a stream entering a stage.
type Inlet struct {
	Name  string    // optional label ("feed", "scrub")
	Phase Phase     // Aqueous or Organic
	Stage int       // 1..N
	Flow  float64   // L/h
	Conc  []float64 // mol/L per component, in Problem.Components order; nil means none
	// Aqueous inlets: free H⁺, HSO4⁻ and SO4²⁻ (mol/L), taken as given (the
	// bisulfate equilibrium is not applied to inlets).
	H, HSO4, SO4 float64
	// Organic inlets: free extractant, mol/L of HA monomer (not counting
	// what the metals in Conc already bind).
	Extractant float64
}

// Problem is a steady-state cascade: N stages, C metal components, inlets
// and an equilibrium model.
type Problem struct {
	Stages     int
	Components []Component
	Media      Media
	Ka2        float64 // mol/L; 0 means DefaultKa2 (sulfate media only)
	Inlets     []Inlet
	Model      Equilibrium
}

// Validate checks the problem and returns an error naming the offending
// field, e.g. "sx: inlets[2].stage: 7 is out of range 1..6".
func (p *Problem) Validate() error {
	if p.Stages < 1 {
		return fmt.Errorf("sx: stages: %d, want at least 1", p.Stages)
	}
	if len(p.Components) == 0 {
		return fmt.Errorf("sx: components: none given")
	}
	seen := map[string]bool{}
	for i, c := range p.Components {
		if c.Name == "" {
			return fmt.Errorf("sx: components[%d].name: empty", i)
		}
		if seen[c.Name] {
			return fmt.Errorf("sx: components[%d].name: %q given twice", i, c.Name)
		}
		seen[c.Name] = true
		if c.Charge < 1 || c.Charge > 6 {
			return fmt.Errorf("sx: components[%d].charge: %d is out of range 1..6", i, c.Charge)
		}
		if !(c.MolarMass >= 0) || math.IsInf(c.MolarMass, 0) {
			return fmt.Errorf("sx: components[%d].molar_mass: %v", i, c.MolarMass)
		}
	}
	if p.Ka2 < 0 || math.IsNaN(p.Ka2) || math.IsInf(p.Ka2, 0) {
		return fmt.Errorf("sx: ka2: %v, want a finite value ≥ 0", p.Ka2)
	}
	var aq, org bool
	for i, in := range p.Inlets {
		f := func(name string) string { return fmt.Sprintf("inlets[%d].%s", i, name) }
		if in.Phase != Aqueous && in.Phase != Organic {
			return fmt.Errorf("sx: %s: %v is neither aqueous nor organic", f("phase"), in.Phase)
		}
		if in.Stage < 1 || in.Stage > p.Stages {
			return fmt.Errorf("sx: %s: %d is out of range 1..%d", f("stage"), in.Stage, p.Stages)
		}
		if !finiteNonNeg(in.Flow) {
			return fmt.Errorf("sx: %s: %v, want a finite flow ≥ 0", f("flow"), in.Flow)
		}
		if in.Conc != nil && len(in.Conc) != len(p.Components) {
			return fmt.Errorf("sx: %s: %d values for %d components", f("conc"), len(in.Conc), len(p.Components))
		}
		for j, c := range in.Conc {
			if !finiteNonNeg(c) {
				return fmt.Errorf("sx: %s: %v, want a finite concentration ≥ 0", f("conc."+p.Components[j].Name), c)
			}
		}
		for _, v := range []struct {
			name string
			v    float64
		}{{"H", in.H}, {"HSO4", in.HSO4}, {"SO4", in.SO4}, {"extractant", in.Extractant}} {
			if !finiteNonNeg(v.v) {
				return fmt.Errorf("sx: %s: %v, want a finite concentration ≥ 0", f(v.name), v.v)
			}
		}
		if in.Phase == Aqueous {
			if in.Extractant != 0 {
				return fmt.Errorf("sx: %s: extractant in an aqueous inlet", f("extractant"))
			}
			if p.Media == Chloride && (in.HSO4 != 0 || in.SO4 != 0) {
				return fmt.Errorf("sx: %s: sulfate species in chloride media", f("HSO4"))
			}
			aq = aq || in.Flow > 0
		} else {
			if in.H != 0 || in.HSO4 != 0 || in.SO4 != 0 {
				return fmt.Errorf("sx: %s: acid species in an organic inlet", f("H"))
			}
			org = org || in.Flow > 0
		}
	}
	if !aq {
		return fmt.Errorf("sx: inlets: no aqueous inlet with a positive flow, so there is no aqueous outlet")
	}
	if !org {
		return fmt.Errorf("sx: inlets: no organic inlet with a positive flow, so there is no organic outlet")
	}
	// Every stage must hold both phases: aqueous flows down from the
	// highest aqueous inlet, organic up from the lowest organic inlet.
	hiAq, loOrg := 0, p.Stages+1
	for _, in := range p.Inlets {
		if in.Flow <= 0 {
			continue
		}
		if in.Phase == Aqueous && in.Stage > hiAq {
			hiAq = in.Stage
		}
		if in.Phase == Organic && in.Stage < loOrg {
			loOrg = in.Stage
		}
	}
	if hiAq < p.Stages {
		return fmt.Errorf("sx: inlets: stages %d..%d have no aqueous flow (the highest aqueous inlet enters stage %d)", hiAq+1, p.Stages, hiAq)
	}
	if loOrg > 1 {
		return fmt.Errorf("sx: inlets: stages 1..%d have no organic flow (the lowest organic inlet enters stage %d)", loOrg-1, loOrg)
	}
	if p.Model == nil {
		return fmt.Errorf("sx: equilibrium: no model")
	}
	if err := p.Model.Validate(p.Components); err != nil {
		return fmt.Errorf("sx: equilibrium: %w", err)
	}
	return nil
}

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
