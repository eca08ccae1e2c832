package chem

import "fmt"

// Oxide is the oxide an element is reported or calcined as, MxOy.
type Oxide struct {
	Element string // symbol of the metal
	Formula string // e.g. "Pr6O11"
	Metal   int    // x, metal atoms per formula unit
	Oxygen  int    // y, oxygen atoms per formula unit
	Note    string // where the choice of oxide comes from
}

// MolarMass returns g/mol of one formula unit MxOy.
func (o Oxide) MolarMass() float64 {
	return float64(o.Metal)*MustLookup(o.Element).AtomicWeight + float64(o.Oxygen)*MustLookup("O").AtomicWeight
}

// Factor returns the mass of oxide per unit mass of the element, the factor
// that converts an element assay into an oxide assay (Nd → Nd2O3: 1.1664).
func (o Oxide) Factor() float64 {
	return o.MolarMass() / (float64(o.Metal) * MustLookup(o.Element).AtomicWeight)
}

// OxygenPerMetal returns y/x, mol O per mol of metal.
func (o Oxide) OxygenPerMetal() float64 { return float64(o.Oxygen) / float64(o.Metal) }

// oxidesInAir lists oxides that differ from the sesquioxide M2O3 when the
// element calcines in air, and the reporting oxides of the impurities.
// It is only read; lookups return an Oxide by value.
//
//lodestone:readonly
var oxidesInAir = map[string]Oxide{
	"Ce": {"Ce", "CeO2", 1, 2, "cerium calcines in air to CeO2 [std]; process-twin.md §b.7"},
	"Pr": {"Pr", "Pr6O11", 6, 11, "praseodymium calcines in air to Pr6O11 [std]; process-twin.md §b.7"},
	"Tb": {"Tb", "Tb4O7", 4, 7, "terbium calcines in air to Tb4O7 [std]; process-twin.md §b.7"},
	"Fe": {"Fe", "Fe2O3", 2, 3, "PrOMMiS roaster product (ree_oxalate_roaster.py @ 0fe1f1b)"},
	"Al": {"Al", "Al2O3", 2, 3, "PrOMMiS roaster product (ree_oxalate_roaster.py @ 0fe1f1b)"},
	"Ca": {"Ca", "CaO", 1, 1, "PrOMMiS roaster product (ree_oxalate_roaster.py @ 0fe1f1b)"},
	"Mg": {"Mg", "MgO", 1, 1, "usual assay reporting oxide [std]"},
	"Mn": {"Mn", "MnO", 1, 1, "usual assay reporting oxide [std]; the oxide formed in air depends on temperature"},
	"Zn": {"Zn", "ZnO", 1, 1, "usual assay reporting oxide [std]"},
	"Th": {"Th", "ThO2", 1, 2, "usual assay reporting oxide [std]"},
	"U":  {"U", "U3O8", 3, 8, "usual assay reporting oxide [std]"},
}

// OxideOf returns the oxide of element sym. For rare earths with inAir true
// it is the oxide formed on calcination in air (CeO2, Pr6O11, Tb4O7, RE2O3
// for the others); with inAir false it is the sesquioxide RE2O3 for every
// rare earth (the PrOMMiS convention, which writes Ce2O3). Impurities get
// their usual reporting oxide either way. Non-metals are an error.
func OxideOf(sym string, inAir bool) (Oxide, error) {
	e, err := Lookup(sym)
	if err != nil {
		return Oxide{}, fmt.Errorf("chem: oxide: %w", err)
	}
	if e.IsRareEarth() {
		if o, ok := oxidesInAir[sym]; ok && inAir {
			return o, nil
		}
		return Oxide{sym, sym + "2O3", 2, 3, "rare-earth sesquioxide RE2O3 [std]"}, nil
	}
	if o, ok := oxidesInAir[sym]; ok {
		return o, nil
	}
	return Oxide{}, fmt.Errorf("chem: no oxide known for %q", sym)
}

// Oxalate is a precipitated oxalate hydrate M_m(C2O4)_k·hH2O.
type Oxalate struct {
	Element string // symbol of the metal
	Formula string // e.g. "Nd2(C2O4)3·10H2O"
	Metal   int    // m, metal atoms per formula unit
	Oxalate int    // k, C2O4 groups per formula unit
	Water   int    // h, hydrate water per formula unit
	Note    string
}

// MolarMass returns g/mol of one hydrated formula unit.
func (o Oxalate) MolarMass() float64 { return MustParseFormula(o.Formula).MolarMass() }

// AnhydrousFormula returns the formula without hydrate water, e.g. "Nd2(C2O4)3".
func (o Oxalate) AnhydrousFormula() string {
	if o.Oxalate == 1 {
		return fmt.Sprintf("%sC2O4", metalPart(o.Element, o.Metal))
	}
	return fmt.Sprintf("%s(C2O4)%d", metalPart(o.Element, o.Metal), o.Oxalate)
}

func metalPart(sym string, n int) string {
	if n == 1 {
		return sym
	}
	return fmt.Sprintf("%s%d", sym, n)
}

// OxalicAcidPerMetal returns mol H2C2O4 consumed per mol of metal
// precipitated (1.5 for M³⁺, 1 for M²⁺).
func (o Oxalate) OxalicAcidPerMetal() float64 { return float64(o.Oxalate) / float64(o.Metal) }

// OxideFactor returns the mass of oxide obtained per mass of this hydrate on
// complete calcination to ox (the "mass ratio product/oxalate" of
// process-twin.md §c.7; Nd2(C2O4)3·10H2O → Nd2O3: 0.4592).
func (o Oxalate) OxideFactor(ox Oxide) float64 {
	oxidePerMetal := ox.MolarMass() / float64(ox.Metal)
	return oxidePerMetal * float64(o.Metal) / o.MolarMass()
}

// OxalateOf returns the oxalate hydrate that element sym precipitates as:
// M2(C2O4)3·10H2O for rare earths (hydrate number 10 is the PrOMMiS default
// for all REEs; real hydrate numbers vary by element), Fe2(C2O4)3·2H2O,
// Al2(C2O4)3·H2O and CaC2O4·H2O (PrOMMiS roaster, ree_oxalate_roaster.py @
// 0fe1f1b). Other impurities are an error: no source was found for them.
func OxalateOf(sym string) (Oxalate, error) {
	e, err := Lookup(sym)
	if err != nil {
		return Oxalate{}, fmt.Errorf("chem: oxalate: %w", err)
	}
	const src = "PrOMMiS ree_oxalate_roaster.py @ 0fe1f1b (hydrate numbers)"
	switch {
	case e.IsRareEarth():
		return Oxalate{sym, sym + "2(C2O4)3·10H2O", 2, 3, 10, src + "; 10 H2O is PrOMMiS' default for all REEs"}, nil
	case sym == "Fe":
		return Oxalate{sym, "Fe2(C2O4)3·2H2O", 2, 3, 2, src}, nil
	case sym == "Al":
		return Oxalate{sym, "Al2(C2O4)3·H2O", 2, 3, 1, src}, nil
	case sym == "Ca":
		return Oxalate{sym, "CaC2O4·H2O", 1, 1, 1, src}, nil
	}
	return Oxalate{}, fmt.Errorf("chem: no oxalate known for %q", sym)
}
