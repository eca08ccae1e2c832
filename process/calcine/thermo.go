package calcine

import (
	"math"
	"slices"
)

// T0 is the reference temperature of the formation enthalpies, K.
const T0 = 298.15

// Thermo is the thermochemistry of one metal's oxalate hydrate and of the
// oxide it calcines to (per formula unit of each).
type Thermo struct {
	OxalateDHf float64 `json:"oxalate_dHf_J_per_mol"`  // J/mol of hydrate, at 298.15 K
	OxalateCp0 float64 `json:"oxalate_cp0_J_per_molK"` // J/(mol·K)
	OxalateCp1 float64 `json:"oxalate_cp1_J_per_molK2"`
	OxideDHf   float64 `json:"oxide_dHf_J_per_mol"` // J/mol of oxide formula unit
	OxideCp0   float64 `json:"oxide_cp0_J_per_molK"`
	OxideCp1   float64 `json:"oxide_cp1_J_per_molK2"`
	Source     string  `json:"source,omitempty"`
}

// solidH returns ΔHf + ∫cp dT from T0 to t for cp = cp0 + cp1·T.
func solidH(dhf, cp0, cp1, t float64) float64 {
	return dhf + cp0*(t-T0) + 0.5*cp1*(t*t-T0*T0)
}

// PrOMMiS defaults and sources (ree_oxalate_roaster.py @ 0fe1f1b;
// process-twin.md §c.8).
const (
	srcRoaster         = "PrOMMiS ree_oxalate_roaster.py"
	defOxalateDHf      = -6350044    // average of La, Ce, Pr, Nd (Wagman 1982)
	defOxalateCp0      = 45.751      // average of La, Ce, Pr, Nd
	defOxideDHf        = -1801865.75 // average of La, Ce, Pr, Nd sesquioxides
	defOxideCp0        = 110.3625
	defOxideCp1        = 0.033887
	liquidWaterDHf     = -68317.4 * 4.184 // J/mol, NBS value used by PrOMMiS
	liquidWaterCpPerKg = 4182             // J/(kg·K), PrOMMiS
)

// thermoEntry holds the sourced values; NaN marks "no data, use default".
type thermoEntry struct {
	oxalateDHf, oxalateCp0       float64
	oxideDHf, oxideCp0, oxideCp1 float64
	oxalateSrc, oxideSrc         string
}

// nan marks a missing value in the tables below.
//
//lodestone:readonly
var nan = math.NaN()

// sesquioxideThermo lists PrOMMiS' data by metal; oxide values are per
// formula unit of the sesquioxide (or CaO). Sources as in PrOMMiS: Wagman et
// al. (1982), NIST WebBook, Kotz et al. (2014).
//
//lodestone:readonly
var sesquioxideThermo = map[string]thermoEntry{
	"Al": {oxalateDHf: -3397000, oxalateCp0: nan, oxideDHf: -1675700, oxideCp0: 28.039, oxideCp1: 0.17156,
		oxalateSrc: "Kotz et al. 2014, anhydrous", oxideSrc: "NIST WebBook"},
	"Fe": {oxalateDHf: -2572300, oxalateCp0: nan, oxideDHf: -825500, oxideCp0: 80.623, oxideCp1: 0.09936,
		oxalateSrc: "Wagman et al. 1982, anhydrous", oxideSrc: "NIST WebBook"},
	"Ca": {oxalateDHf: -1674860, oxalateCp0: 152.8, oxideDHf: -635090, oxideCp0: 47.2, oxideCp1: 0.00299,
		oxalateSrc: "Wagman et al. 1982", oxideSrc: "NIST WebBook"},
	"La": {oxalateDHf: -5916176, oxalateCp0: nan, oxideDHf: -1793702, oxideCp0: 107.72, oxideCp1: 0.026114,
		oxalateSrc: "PrOMMiS (not in Wagman et al.)", oxideSrc: "Wagman et al. 1982 (cp revised by PrOMMiS)"},
	"Ce": {oxalateDHf: -6782000, oxalateCp0: nan, oxideDHf: -1796191, oxideCp0: 115.78, oxideCp1: 0.03477,
		oxalateSrc: "Wagman et al. 1982", oxideSrc: "Wagman et al. 1982 (cp revised by PrOMMiS)"},
	"Pr": {oxalateDHf: -5920000, oxalateCp0: nan, oxideDHf: -1809664, oxideCp0: 112.82, oxideCp1: 0.034364,
		oxalateSrc: "Wagman et al. 1982", oxideSrc: "Wagman et al. 1982 (cp revised by PrOMMiS)"},
	"Nd": {oxalateDHf: -6782000, oxalateCp0: nan, oxideDHf: -1807906, oxideCp0: 105.13, oxideCp1: 0.0403,
		oxalateSrc: "Wagman et al. 1982", oxideSrc: "Wagman et al. 1982 (cp revised by PrOMMiS)"},
	"Sc": {oxalateDHf: nan, oxalateCp0: nan, oxideDHf: -1908820, oxideCp0: nan, oxideCp1: nan, oxideSrc: "Wagman et al. 1982"},
	"Y":  {oxalateDHf: nan, oxalateCp0: nan, oxideDHf: -1905310, oxideCp0: nan, oxideCp1: nan, oxideSrc: "Wagman et al. 1982"},
}

// defaultThermo returns PrOMMiS' thermochemistry for metal sym calcined to
// its sesquioxide (CaO for Ca) and the names of the quantities for which
// PrOMMiS' default (average of La, Ce, Pr, Nd) stood in for missing data.
func defaultThermo(sym string) (Thermo, []string) {
	th := Thermo{
		OxalateDHf: defOxalateDHf, OxalateCp0: defOxalateCp0,
		OxideDHf: defOxideDHf, OxideCp0: defOxideCp0, OxideCp1: defOxideCp1,
		Source: srcRoaster + " defaults (average of La, Ce, Pr, Nd)",
	}
	e, ok := sesquioxideThermo[sym]
	if !ok {
		return th, []string{"oxalate ΔHf", "oxalate cp", "oxide ΔHf", "oxide cp"}
	}
	var missing []string
	pick := func(dst *float64, v float64, name string) {
		if math.IsNaN(v) {
			if !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			return
		}
		*dst = v
	}
	pick(&th.OxalateDHf, e.oxalateDHf, "oxalate ΔHf")
	pick(&th.OxalateCp0, e.oxalateCp0, "oxalate cp")
	pick(&th.OxideDHf, e.oxideDHf, "oxide ΔHf")
	pick(&th.OxideCp0, e.oxideCp0, "oxide cp")
	pick(&th.OxideCp1, e.oxideCp1, "oxide cp")
	th.Source = srcRoaster + ": oxalate " + orDefault(e.oxalateSrc) + "; oxide " + orDefault(e.oxideSrc)
	return th, missing
}

func orDefault(s string) string {
	if s == "" {
		return "PrOMMiS default"
	}
	return s
}

// shomate holds NIST WebBook Shomate coefficients A…F (kJ/mol basis with
// t = T/1000 K); F includes the formation enthalpy, so h is absolute.
type shomate struct{ a, b, c, d, e, f float64 }

// h returns the molar enthalpy in J/mol at temperature T (K).
func (s shomate) h(T float64) float64 {
	t := T / 1000
	return 1000 * (s.a*t + s.b*t*t/2 + s.c*t*t*t/3 + s.d*t*t*t*t/4 - s.e/t + s.f)
}

// gasData lists the ideal-gas species the roaster accepts, with the
// coefficient sets of IDAES natural_gas_PR.py (NIST WebBook, Chase 1998).
//
//lodestone:readonly
var gasData = map[string]shomate{
	"O2":  {30.03235, 8.772972, -3.988133, 0.788313, -0.741599, -11.32468},
	"N2":  {19.50583, 19.88705, -8.598535, 1.369784, 0.527601, -4.935202},
	"CO2": {24.99735, 55.18696, -33.69137, 7.948387, -0.136638, -403.6075},
	"H2O": {30.092, 6.832514, 6.793435, -2.53448, 0.082139, -250.881},
	"Ar":  {20.786, 2.825911e-07, -1.464191e-07, 1.092131e-08, -3.661371e-08, -6.19735},
}

// gasFormula gives the atoms of each gas species.
//
//lodestone:readonly
var gasFormula = map[string]map[string]int{
	"O2": {"O": 2}, "N2": {"N": 2}, "CO2": {"C": 1, "O": 2}, "H2O": {"H": 2, "O": 1}, "Ar": {"Ar": 1},
}
