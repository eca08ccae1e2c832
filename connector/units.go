package connector

import (
	"fmt"
	"slices"
	"strings"
)

// linear converts a unit to its dimension's base unit: base = v*k + c.
// The factors are definitions (SI Brochure, 9th ed., BIPM 2019, and the
// exact inch-pound definitions it cites), not measurements; the names are
// the DTDL v3 QuantitativeTypes unit names.
type linear struct {
	dim  string
	k, c float64
}

var unitTable = map[string]linear{
	"kelvin":           {"temperature", 1, 0},
	"degreeCelsius":    {"temperature", 1, 273.15},
	"degreeFahrenheit": {"temperature", 5.0 / 9, 273.15 - 32*5.0/9},

	"pascal":               {"pressure", 1, 0},
	"kilopascal":           {"pressure", 1e3, 0},
	"bar":                  {"pressure", 1e5, 0},
	"millibar":             {"pressure", 100, 0},
	"poundPerSquareInch":   {"pressure", 6894.757293168361, 0},
	"millimetresOfMercury": {"pressure", 133.322387415, 0},

	"litrePerSecond":      {"flow", 1e-3, 0},
	"litrePerHour":        {"flow", 1e-3 / 3600, 0},
	"cubicMetrePerSecond": {"flow", 1, 0},
	"cubicMetrePerHour":   {"flow", 1.0 / 3600, 0},

	"metre":      {"length", 1, 0},
	"centimetre": {"length", 1e-2, 0},
	"millimetre": {"length", 1e-3, 0},

	"kilogram": {"mass", 1, 0},
	"gram":     {"mass", 1e-3, 0},
	"tonne":    {"mass", 1e3, 0},

	"percent": {"ratio", 1e-2, 0},
	"unity":   {"ratio", 1, 0},

	"revolutionPerMinute": {"angular", 1.0 / 60, 0},
	"revolutionPerSecond": {"angular", 1, 0},
	"hertz":               {"frequency", 1, 0},

	"watt":     {"power", 1, 0},
	"kilowatt": {"power", 1e3, 0},
}

func knownUnit(u string) bool { _, ok := unitTable[u]; return ok }

func unitList() string {
	var names []string
	for k := range unitTable {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Convert converts v from unit `from` to unit `to`. Either unit empty, or
// both the same, returns v unchanged.
func Convert(v float64, from, to string) (float64, error) {
	if from == "" || to == "" || from == to {
		return v, nil
	}
	a, ok := unitTable[from]
	if !ok {
		return 0, fmt.Errorf("unit %q is not one this connector converts", from)
	}
	b, ok := unitTable[to]
	if !ok {
		return 0, fmt.Errorf("the model's unit %q is not one this connector converts", to)
	}
	if a.dim != b.dim {
		return 0, fmt.Errorf("unit %q (%s) cannot be converted to %q (%s)", from, a.dim, to, b.dim)
	}
	return (v*a.k + a.c - b.c) / b.k, nil
}
