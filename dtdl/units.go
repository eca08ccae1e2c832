package dtdl

import "sort"

// UnitType returns the unit type of a QuantitativeTypes semantic type (for
// example "MassUnit" for "Mass"), or "" when semanticType is not one.
func UnitType(semanticType string) string { return qtSemanticUnitType[semanticType] }

// Units returns the units a semantic type accepts (for example "kilogram",
// "tonne", ... for "Mass"), in metamodel order, or nil when semanticType is
// not a semantic type. The slice must not be modified.
func Units(semanticType string) []string { return qtUnits[qtSemanticUnitType[semanticType]] }

// UnitSymbol returns the symbol of a unit (for example "t" for "tonne"), or
// "" when unit is not a QuantitativeTypes unit.
func UnitSymbol(unit string) string { return qtSymbols[unit] }

// SemanticTypes returns every QuantitativeTypes semantic type, sorted.
func SemanticTypes() []string {
	out := make([]string, 0, len(qtSemanticUnitType))
	for t := range qtSemanticUnitType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
