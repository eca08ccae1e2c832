package sx

import (
	"sort"

	"lodestone/process/chem"
)

// HoursPerYear turns a continuous flow into an annual capacity: a cascade's
// nameplate throughput assumes operation all year at the simulated feed
// (a modelling assumption; the plant twin's availability scales it down).
const HoursPerYear = 8760

// Performance is what a cascade's steady state contributes to the other
// layers of the twin: the rare-earth oxide (REO) its outlets carry and the
// reagents it uses per tonne of that oxide. Rare earths are reported as
// the oxides they calcine to in air (CeO2, Pr6O11, Tb4O7, RE2O3 for the
// others; chem.OxideOf).
type Performance struct {
	// REOKgPerH is the rare earths of both outlets as oxide, kg/h.
	REOKgPerH float64
	// ThroughputTonnesREOPerYear is REOKgPerH over HoursPerYear, t/yr.
	ThroughputTonnesREOPerYear float64
	// REOByElementTonnesPerYear splits the throughput by element symbol.
	REOByElementTonnesPerYear map[string]float64
	// Acid is the mineral acid of the medium: "HCl" (chloride) or
	// "H2SO4" (sulfate).
	Acid string
	// AcidKgPerTonneREO is the acid consumed, as 100 % acid, per tonne of
	// REO; negative when extraction releases more acid than the circuit
	// takes up.
	AcidKgPerTonneREO float64
	// BaseKgPerTonneREO is the base that saponified the organic, as NaOH,
	// per tonne of REO.
	BaseKgPerTonneREO float64
	// ExtractantKgPerTonneREO is the extractant make-up (fed less
	// leaving), as the monomer HA, per tonne of REO.
	ExtractantKgPerTonneREO float64
}

// acidOf returns the mineral acid of a medium and the protons one formula
// unit gives: HCl → H⁺ + Cl⁻, H2SO4 → 2 H⁺ + SO4²⁻ (the second proton of
// HSO4⁻ counts, as it does in the solver's total acidity).
func acidOf(media string) (formula string, protons float64) {
	if media == Sulfate.String() {
		return "H2SO4", 2
	}
	return "HCl", 1
}

// Base of saponification: NaOH + HA → NaA + H2O, one OH⁻ (one formula unit
// of NaOH) per Na⁺ the organic carries in.
const (
	baseFormula = "NaOH"
	baseOH      = 1.0
)

// Performance reduces an output to REO throughput and reagent intensities.
// The reagent flows come from o.Reagents (mol/h of H⁺ acidity, of counter-ion
// and of extractant): acid kg/h = AcidConsumed / protons × M(acid) / 1000,
// base kg/h = Base / OH⁻ per NaOH × M(NaOH) / 1000, make-up kg/h =
// max(ExtractantIn − ExtractantOut, 0) × M(HA) / 1000; each is divided by
// REOKgPerH / 1000 t/h. With no REO in the outlets the intensities are 0.
func (o *Output) Performance() Performance {
	p := Performance{REOByElementTonnesPerYear: map[string]float64{}}
	for _, st := range []OutputStream{o.Outlets.Aqueous, o.Outlets.Organic} {
		// Sum in symbol order, so that the same output gives the same bits.
		syms := make([]string, 0, len(st.MgPerL))
		for sym := range st.MgPerL {
			syms = append(syms, sym)
		}
		sort.Strings(syms)
		for _, sym := range syms {
			el, err := chem.Lookup(sym)
			if err != nil || !el.IsRareEarth() {
				continue // acid, counter-ions, extractant, impurities
			}
			ox, err := chem.OxideOf(sym, true)
			if err != nil {
				continue
			}
			kgPerH := st.MgPerL[sym] * st.Flow * ox.Factor() / 1e6 // mg/h of metal → kg/h of oxide
			p.REOKgPerH += kgPerH
			p.REOByElementTonnesPerYear[sym] += kgPerH * HoursPerYear / 1000
		}
	}
	p.ThroughputTonnesREOPerYear = p.REOKgPerH * HoursPerYear / 1000
	acid, protons := acidOf(o.Media)
	p.Acid = acid
	if p.REOKgPerH <= 0 {
		return p
	}
	perTonne := 1000 / p.REOKgPerH // kg/h of reagent × perTonne = kg per tonne REO
	p.AcidKgPerTonneREO = o.Reagents.AcidConsumed / protons * chem.MustParseFormula(acid).MolarMass() / 1000 * perTonne
	p.BaseKgPerTonneREO = o.Reagents.Base / baseOH * chem.MustParseFormula(baseFormula).MolarMass() / 1000 * perTonne
	if x, err := chem.LookupExtractant(o.Extractant); err == nil {
		p.ExtractantKgPerTonneREO = max(o.Reagents.ExtractantIn-o.Reagents.ExtractantOut, 0) * x.MolarMass / 1000 * perTonne
	}
	return p
}
