package chem

import (
	"fmt"
	"maps"
)

// Species is a dissolved or extracted species that the engines carry as a
// component, keyed by the name used in the CLI and JSON ("HSO4", "DEHPA").
type Species struct {
	Name    string  // key used in specs, e.g. "HSO4"
	Formula Formula // elements of one formula unit
	Charge  int     // ionic charge (0 for neutral molecules)
	Note    string  // what the species is and where its data come from
}

// MolarMass returns the molar mass of the species in g/mol (electron mass
// neglected).
func (s Species) MolarMass() float64 { return s.Formula.MolarMass() }

// speciesTable lists the acid-media species and the extractants. Formulas are
// textbook stoichiometry [std]. The extractant formulas are those of the
// named compounds: DEHPA (D2EHPA, P204) is bis(2-ethylhexyl) phosphoric acid,
// PC88A (P507, HEH/EHP) is 2-ethylhexyl 2-ethylhexylphosphonic acid, Cyanex
// 272 is bis(2,4,4-trimethylpentyl) phosphinic acid; all are monomer formulas.
// It is only read, to build speciesByName.
//
//lodestone:readonly
var speciesTable = []struct {
	name, formula string
	charge        int
	note          string
}{
	{"H", "H", +1, "hydrogen ion H⁺"},
	{"OH", "OH", -1, "hydroxide OH⁻"},
	{"HSO4", "HSO4", -1, "bisulfate HSO4⁻"},
	{"SO4", "SO4", -2, "sulfate SO4²⁻"},
	{"Cl", "Cl", -1, "chloride Cl⁻"},
	{"NO3", "NO3", -1, "nitrate NO3⁻"},
	{"H2C2O4", "H2C2O4", 0, "oxalic acid (anhydrous)"},
	{"HC2O4", "HC2O4", -1, "hydrogen oxalate HC2O4⁻"},
	{"C2O4", "C2O4", -2, "oxalate C2O4²⁻"},
	{"Na", "Na", +1, "sodium ion Na⁺ (saponification counter-ion)"},
	{"NH4", "NH4", +1, "ammonium NH4⁺ (saponification counter-ion)"},
	{"H2O", "H2O", 0, "water"},
	{"DEHPA", "C16H35O4P", 0, "bis(2-ethylhexyl) phosphoric acid, D2EHPA/P204, monomer"},
	{"PC88A", "C16H35O3P", 0, "2-ethylhexyl 2-ethylhexylphosphonic acid, P507/HEH(EHP), monomer"},
	{"Cyanex272", "C16H35O2P", 0, "bis(2,4,4-trimethylpentyl) phosphinic acid, monomer"},
}

// speciesByName maps a species name to its parsed Species. It is built once
// at init from speciesTable and only read afterwards: LookupSpecies hands out
// a copy with its own Formula map, so no caller can write into it.
//
//lodestone:readonly
var speciesByName = func() map[string]Species {
	m := make(map[string]Species, len(speciesTable))
	for _, s := range speciesTable {
		m[s.name] = Species{Name: s.name, Formula: MustParseFormula(s.formula), Charge: s.charge, Note: s.note}
	}
	return m
}()

// UnknownSpeciesError reports a species name that is neither in the species
// table nor an element symbol.
type UnknownSpeciesError struct {
	Name string
}

// Error names the unknown species.
func (e *UnknownSpeciesError) Error() string {
	return fmt.Sprintf("chem: unknown species %q", e.Name)
}

// LookupSpecies returns the species with the given name. Names of the species
// table ("HSO4", "DEHPA") come first; any other element symbol ("Nd") gives
// the element as its usual aqueous cation (charge = [Element.Valence]). So
// "H" is H⁺ and "Cl" is Cl⁻, as the CLI contract keys them. The Formula of
// the result belongs to the caller.
func LookupSpecies(name string) (Species, error) {
	if s, ok := speciesByName[name]; ok {
		s.Formula = maps.Clone(s.Formula) // the table's map stays unwritten
		return s, nil
	}
	if e, err := Lookup(name); err == nil && e.Valence > 0 {
		return Species{Name: name, Formula: Formula{name: 1}, Charge: e.Valence, Note: e.Name + " cation"}, nil
	}
	return Species{}, &UnknownSpeciesError{Name: name}
}

// SpeciesNames returns the names of the species table (not the cations of
// elements) in table order.
func SpeciesNames() []string {
	out := make([]string, len(speciesTable))
	for i, s := range speciesTable {
		out[i] = s.name
	}
	return out
}

// Extractant describes an acidic organophosphorus extractant.
type Extractant struct {
	Name      string // species key, e.g. "DEHPA"
	Aliases   []string
	MolarMass float64 // g/mol of the monomer HA, from its formula
	Density   float64 // g/L of the neat liquid
	Source    string  // where Density comes from
}

// Extractants returns the acidic extractants known to the engines.
func Extractants() []Extractant {
	return []Extractant{
		{Name: "DEHPA", Aliases: []string{"D2EHPA", "P204", "HDEHP"}, MolarMass: speciesByName["DEHPA"].MolarMass(),
			Density: 975.8, Source: "PrOMMiS solvent_extraction property package @ 0fe1f1b (975.8 g/L)"},
		{Name: "PC88A", Aliases: []string{"P507", "HEH/EHP"}, MolarMass: speciesByName["PC88A"].MolarMass(),
			Density: 950, Source: "etr-optimization citing Qi, Hydrometallurgy of Rare Earths (2018): 0.95 g/mL"},
		{Name: "Cyanex272", Aliases: []string{"Cyanex 272"}, MolarMass: speciesByName["Cyanex272"].MolarMass(),
			Density: 0, Source: "density not sourced in this pass (0 = unknown)"},
	}
}

// LookupExtractant returns the extractant with the given name or alias.
func LookupExtractant(name string) (Extractant, error) {
	for _, x := range Extractants() {
		if x.Name == name {
			return x, nil
		}
		for _, a := range x.Aliases {
			if a == name {
				return x, nil
			}
		}
	}
	return Extractant{}, &UnknownSpeciesError{Name: name}
}
