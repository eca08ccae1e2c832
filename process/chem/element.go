package chem

import (
	"fmt"
	"sort"
)

// Group classifies an element by its role in rare-earth processing.
type Group int

// The groups of [Element.Group].
const (
	Lanthanide Group = iota + 1 // La…Lu, the 15 lanthanides
	RareEarth                   // Y and Sc: rare earths that are not lanthanides
	Impurity                    // metals that follow rare earths through a plant
	Light                       // H, C, N, O, Na, P, S, Cl: reagents, anions, gases
)

// String returns the lower-case group name.
func (g Group) String() string {
	switch g {
	case Lanthanide:
		return "lanthanide"
	case RareEarth:
		return "rare-earth"
	case Impurity:
		return "impurity"
	case Light:
		return "light"
	}
	return fmt.Sprintf("group(%d)", int(g))
}

// Element is one chemical element with its standard atomic weight.
type Element struct {
	Symbol       string
	Name         string
	Z            int     // atomic number
	AtomicWeight float64 // g/mol (relative atomic mass, abridged to five significant figures)
	Valence      int     // usual charge of the aqueous cation in acid media (0 for non-metals)
	Group        Group
	Source       string
}

// IsRareEarth reports whether e is one of the 17 rare earths (lanthanides, Y, Sc).
func (e Element) IsRareEarth() bool { return e.Group == Lanthanide || e.Group == RareEarth }

// srcCIAAW cites the abridged table of standard atomic weights.
const srcCIAAW = "IUPAC/CIAAW 2021 abridged standard atomic weights (Prohaska et al., Pure Appl. Chem. 94 (2022) 573, Table 2)"

// elements is the fixed table, ordered by atomic number. Valences are the
// usual oxidation states of the aqueous cations in acid leach and SX liquors
// (Ce and Fe as Ce³⁺ and Fe³⁺, the forms PrOMMiS carries) [std]. Lookup and
// Elements hand out copies of its entries; nothing writes it after init.
//
//lodestone:readonly
var elements = []Element{
	{"H", "hydrogen", 1, 1.0080, 1, Light, srcCIAAW},
	{"C", "carbon", 6, 12.011, 0, Light, srcCIAAW},
	{"N", "nitrogen", 7, 14.007, 0, Light, srcCIAAW},
	{"O", "oxygen", 8, 15.999, 0, Light, srcCIAAW},
	{"Na", "sodium", 11, 22.990, 1, Light, srcCIAAW},
	{"Mg", "magnesium", 12, 24.305, 2, Impurity, srcCIAAW},
	{"Al", "aluminium", 13, 26.982, 3, Impurity, srcCIAAW},
	{"P", "phosphorus", 15, 30.974, 0, Light, srcCIAAW},
	{"S", "sulfur", 16, 32.06, 0, Light, srcCIAAW},
	{"Cl", "chlorine", 17, 35.45, 0, Light, srcCIAAW},
	{"Ca", "calcium", 20, 40.078, 2, Impurity, srcCIAAW},
	{"Sc", "scandium", 21, 44.956, 3, RareEarth, srcCIAAW},
	{"Mn", "manganese", 25, 54.938, 2, Impurity, srcCIAAW},
	{"Fe", "iron", 26, 55.845, 3, Impurity, srcCIAAW},
	{"Zn", "zinc", 30, 65.38, 2, Impurity, srcCIAAW},
	{"Y", "yttrium", 39, 88.906, 3, RareEarth, srcCIAAW},
	{"La", "lanthanum", 57, 138.91, 3, Lanthanide, srcCIAAW},
	{"Ce", "cerium", 58, 140.12, 3, Lanthanide, srcCIAAW},
	{"Pr", "praseodymium", 59, 140.91, 3, Lanthanide, srcCIAAW},
	{"Nd", "neodymium", 60, 144.24, 3, Lanthanide, srcCIAAW},
	{"Pm", "promethium", 61, 145, 3, Lanthanide, "no standard atomic weight (no stable isotope); mass number of the longest-lived isotope 145Pm, the periodic-table convention"},
	{"Sm", "samarium", 62, 150.36, 3, Lanthanide, srcCIAAW},
	{"Eu", "europium", 63, 151.96, 3, Lanthanide, srcCIAAW},
	{"Gd", "gadolinium", 64, 157.25, 3, Lanthanide, srcCIAAW},
	{"Tb", "terbium", 65, 158.93, 3, Lanthanide, srcCIAAW},
	{"Dy", "dysprosium", 66, 162.50, 3, Lanthanide, srcCIAAW},
	{"Ho", "holmium", 67, 164.93, 3, Lanthanide, srcCIAAW},
	{"Er", "erbium", 68, 167.26, 3, Lanthanide, srcCIAAW},
	{"Tm", "thulium", 69, 168.93, 3, Lanthanide, srcCIAAW},
	{"Yb", "ytterbium", 70, 173.05, 3, Lanthanide, srcCIAAW},
	{"Lu", "lutetium", 71, 174.97, 3, Lanthanide, srcCIAAW},
	{"Th", "thorium", 90, 232.04, 4, Impurity, srcCIAAW},
	{"U", "uranium", 92, 238.03, 4, Impurity, srcCIAAW},
}

// bySymbol maps an element symbol to its index in elements. It is built once
// at init from elements and only read afterwards.
//
//lodestone:readonly
var bySymbol = func() map[string]int {
	m := make(map[string]int, len(elements))
	for i, e := range elements {
		m[e.Symbol] = i
	}
	return m
}()

// UnknownSymbolError reports a symbol that is not in the element table.
type UnknownSymbolError struct {
	Symbol string
}

// Error names the unknown symbol.
func (e *UnknownSymbolError) Error() string {
	return fmt.Sprintf("chem: unknown element symbol %q", e.Symbol)
}

// Lookup returns the element with the given symbol (case-sensitive, "Nd").
// An unknown symbol gives an *UnknownSymbolError naming it.
func Lookup(symbol string) (Element, error) {
	i, ok := bySymbol[symbol]
	if !ok {
		return Element{}, &UnknownSymbolError{Symbol: symbol}
	}
	return elements[i], nil
}

// MustLookup is like Lookup but panics on an unknown symbol. It is meant for
// symbols written in code, not for user input.
func MustLookup(symbol string) Element {
	e, err := Lookup(symbol)
	if err != nil {
		panic(err)
	}
	return e
}

// Elements returns a copy of the element table ordered by atomic number.
func Elements() []Element {
	return append([]Element(nil), elements...)
}

// RareEarths returns the symbols of the 17 rare earths in atomic-number
// order: Sc, Y, then La…Lu.
func RareEarths() []string {
	var out []string
	for _, e := range elements {
		if e.IsRareEarth() {
			out = append(out, e.Symbol)
		}
	}
	return out
}

// Symbols returns all element symbols, sorted alphabetically.
func Symbols() []string {
	out := make([]string, 0, len(elements))
	for _, e := range elements {
		out = append(out, e.Symbol)
	}
	sort.Strings(out)
	return out
}
