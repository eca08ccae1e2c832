package tql

import (
	"strconv"
	"strings"
)

// Dimension is the physical dimension of a unit.
type Dimension string

// The dimensions of the unit table.
const (
	Mass        Dimension = "mass"
	MassFlow    Dimension = "mass flow"
	Temperature Dimension = "temperature"
	Length      Dimension = "length"
	Time        Dimension = "time"
	Fraction    Dimension = "fraction"
)

// Unit converts values to SI: si = value*Factor + Offset.
type Unit struct {
	Name      string // DTDL unit name where DTDL has one (tonne, kilogramPerSecond)
	Symbol    string
	Dimension Dimension
	Factor    float64
	Offset    float64
}

// ToSI converts v in this unit to the SI unit of its dimension.
func (u Unit) ToSI(v float64) float64 { return v*u.Factor + u.Offset }

// FromSI converts v in the SI unit of the dimension to this unit.
func (u Unit) FromSI(v float64) float64 { return (v - u.Offset) / u.Factor }

// Every factor below is exact by definition; the sources say which.
//
//   - SI units and prefixes, and the non-SI units accepted for use with the
//     SI (tonne = 1000 kg; minute = 60 s, hour = 3600 s, day = 86400 s;
//     t/°C = T/K − 273.15): BIPM, The International System of Units (SI
//     Brochure), 9th edition 2019, Tables 7 and 8.
//   - pound = 0.45359237 kg, foot = 0.3048 m, inch = 0.0254 m, mile =
//     1609.344 m: international yard and pound agreement (1959), as listed in
//     NIST SP 811 (2008), Appendix B.8.
//   - nautical mile = 1852 m: SI Brochure 8th edition (2006), Table 8.
//   - °F: t/°F = 1.8·(T/K) − 459.67, NIST SP 811 Appendix B.8.
//   - Julian year = 365.25 d = 31,557,600 s: IAU Style Manual (1989), the
//     year used by astronomy; tonnes per year use it.
//   - percent = 0.01, ppm = 1e-6, ppb = 1e-9: ISO 80000-1:2009 (ratios of
//     like quantities; ppm is deprecated there but is how assays are written).
const julianYear = 365.25 * 86400

var unitTable = []Unit{
	{"kilogram", "kg", Mass, 1, 0},
	{"gram", "g", Mass, 1e-3, 0},
	{"milligram", "mg", Mass, 1e-6, 0},
	{"microgram", "µg", Mass, 1e-9, 0},
	{"tonne", "t", Mass, 1000, 0},
	{"kilotonne", "kt", Mass, 1e6, 0},
	{"megatonne", "Mt", Mass, 1e9, 0},
	{"pound", "lb", Mass, 0.45359237, 0},

	{"kilogramPerSecond", "kg/s", MassFlow, 1, 0},
	{"gramPerSecond", "g/s", MassFlow, 1e-3, 0},
	{"kilogramPerHour", "kg/h", MassFlow, 1.0 / 3600, 0},
	{"gramPerHour", "g/h", MassFlow, 1e-3 / 3600, 0},
	{"tonnePerHour", "t/h", MassFlow, 1000.0 / 3600, 0},
	{"tonnePerDay", "t/d", MassFlow, 1000.0 / 86400, 0},
	{"tonnePerYear", "t/a", MassFlow, 1000 / julianYear, 0},
	{"kilotonnePerYear", "kt/a", MassFlow, 1e6 / julianYear, 0},

	{"kelvin", "K", Temperature, 1, 0},
	{"degreeCelsius", "°C", Temperature, 1, 273.15},
	{"degreeFahrenheit", "°F", Temperature, 5.0 / 9, 459.67 * 5 / 9},

	{"metre", "m", Length, 1, 0},
	{"kilometre", "km", Length, 1000, 0},
	{"centimetre", "cm", Length, 1e-2, 0},
	{"millimetre", "mm", Length, 1e-3, 0},
	{"micrometre", "µm", Length, 1e-6, 0},
	{"nanometre", "nm", Length, 1e-9, 0},
	{"foot", "ft", Length, 0.3048, 0},
	{"inch", "in", Length, 0.0254, 0},
	{"mile", "mi", Length, 1609.344, 0},
	{"nauticalMile", "NM", Length, 1852, 0},

	{"second", "s", Time, 1, 0},
	{"millisecond", "ms", Time, 1e-3, 0},
	{"microsecond", "µs", Time, 1e-6, 0},
	{"nanosecond", "ns", Time, 1e-9, 0},
	{"minute", "min", Time, 60, 0},
	{"hour", "h", Time, 3600, 0},
	{"day", "d", Time, 86400, 0},
	{"week", "wk", Time, 7 * 86400, 0},
	{"year", "a", Time, julianYear, 0},

	{"unity", "1", Fraction, 1, 0},
	{"percent", "%", Fraction, 1e-2, 0},
	{"partsPerMillion", "ppm", Fraction, 1e-6, 0},
	{"partsPerBillion", "ppb", Fraction, 1e-9, 0},
}

// unitAliases are other spellings accepted in quantity literals.
var unitAliases = map[string]string{
	"tonnes": "tonne", "ton": "tonne", "tons": "tonne", "kilograms": "kilogram", "grams": "gram",
	"pounds": "pound", "lbs": "pound", "kelvins": "kelvin", "degC": "degreeCelsius", "C": "degreeCelsius",
	"degF": "degreeFahrenheit", "F": "degreeFahrenheit", "meter": "metre", "meters": "metre",
	"metres": "metre", "kilometer": "kilometre", "kilometers": "kilometre", "kilometres": "kilometre",
	"seconds": "second", "sec": "second", "minutes": "minute", "hours": "hour", "hr": "hour",
	"days": "day", "weeks": "week", "years": "year", "yr": "year", "y": "year", "feet": "foot",
	"miles": "mile", "t/yr": "tonnePerYear", "t/y": "tonnePerYear", "tpa": "tonnePerYear",
	"tonnesPerYear": "tonnePerYear", "t/hr": "tonnePerHour", "tph": "tonnePerHour",
	"kt/yr": "kilotonnePerYear", "ktpa": "kilotonnePerYear", "ug": "microgram", "um": "micrometre",
	"us": "microsecond", "℃": "degreeCelsius",
}

var unitIndex = func() map[string]Unit {
	m := make(map[string]Unit, 3*len(unitTable))
	for _, u := range unitTable {
		m[u.Name] = u
		m[u.Symbol] = u
	}
	for a, n := range unitAliases {
		m[a] = m[n]
	}
	return m
}()

// LookupUnit finds a unit by DTDL name (tonne, kilogramPerSecond,
// degreeCelsius), symbol (t, kg/s, °C) or common spelling (tonnes, t/yr).
// Names are case-sensitive, as units are (Mt is not mt).
func LookupUnit(name string) (Unit, bool) {
	u, ok := unitIndex[strings.TrimSpace(name)]
	return u, ok
}

// Units returns the unit table, in a fixed order.
func Units() []Unit { return append([]Unit(nil), unitTable...) }

// quantity is a string literal that reads as a number and a known unit.
type quantity struct {
	value float64
	unit  Unit
}

// parseQuantity reads '500 kg', '3.5t', '20 °C'. It reports false for any
// string that is not a number followed by a known unit.
func parseQuantity(s string) (quantity, bool) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '-' || s[i] == '+' || s[i] == 'e' || s[i] == 'E') {
		i++
	}
	// Back off an exponent marker that belongs to the unit ("5 e" is not a number).
	for i > 0 {
		if v, err := strconv.ParseFloat(s[:i], 64); err == nil {
			u, ok := LookupUnit(s[i:])
			if !ok || s[i:] == "" {
				return quantity{}, false
			}
			return quantity{value: v, unit: u}, true
		}
		i--
	}
	return quantity{}, false
}

// UnitResolver gives the unit a model declares for a property (for DTDL, the
// unit of a Property with a semantic type). Property is the top-level name.
// It returns "" when the property has no declared unit. A Graph may implement
// it; Options.Units overrides the graph's.
type UnitResolver interface {
	PropertyUnit(model, property string) string
}
