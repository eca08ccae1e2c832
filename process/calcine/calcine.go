package calcine

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"lodestone/process/chem"
)

// OxideMode says which oxides the rare earths calcine to.
type OxideMode string

// The oxide modes; the strings are those of the CLI contract.
const (
	// Air gives CeO2, Pr6O11 and Tb4O7 and RE2O3 for the other rare earths.
	Air OxideMode = "air"
	// Sesquioxide gives RE2O3 for every rare earth (PrOMMiS' convention).
	Sesquioxide OxideMode = "sesquioxide"
)

// Gas is a gas stream.
type Gas struct {
	MolPerS       float64            `json:"mol_per_s"`
	Temperature   float64            `json:"temperature_K"`
	Pressure      float64            `json:"pressure_Pa"`
	MoleFractions map[string]float64 `json:"mole_fractions"` // O2, N2, CO2, H2O, Ar
}

// Spec is one calcination problem.
type Spec struct {
	// FeedsMolPerH is the solid feed in mol/h of oxalate hydrate formula
	// units (Nd2(C2O4)3·10H2O, CaC2O4·H2O, …) keyed by metal symbol.
	FeedsMolPerH       map[string]float64 `json:"feeds_mol_per_h"`
	FeedTemperature    float64            `json:"feed_temperature_K"`    // K, solids and moisture
	MoistureMolPerS    float64            `json:"moisture_mol_per_s"`    // liquid water on the cake, mol/s
	GasIn              Gas                `json:"gas_in"`                // O2-bearing gas (flue gas or air)
	ProductTemperature float64            `json:"product_temperature_K"` // K, product, dust and gas out
	OxideRecovery      float64            `json:"oxide_recovery"`        // fraction of oxide recovered as product
	Oxides             OxideMode          `json:"oxides"`
	// RecoveryByElement overrides OxideRecovery per metal.
	RecoveryByElement map[string]float64 `json:"oxide_recovery_by_element,omitempty"`
	// Thermo overrides the thermochemistry per metal. With oxides "air" the
	// oxide values are per formula unit of the air oxide (CeO2, Pr6O11,
	// Tb4O7).
	Thermo map[string]Thermo `json:"thermo,omitempty"`
	// AtomicWeights overrides process/chem atomic weights (g/mol) by symbol.
	AtomicWeights map[string]float64 `json:"atomic_weights_g_per_mol,omitempty"`
}

// OxideFlow is the flow of one oxide.
type OxideFlow struct {
	Element string  // metal symbol
	Formula string  // e.g. "Nd2O3", "Pr6O11"
	MolPerS float64 // oxide formula units per second
	KgPerS  float64
}

// Solids is a solid oxide stream.
type Solids struct {
	KgPerS        float64
	MassFractions map[string]float64 // by metal symbol: mass of its oxide / stream mass
	Oxides        []OxideFlow        // by atomic number of the metal
}

// Result is the outcome of Simulate.
type Result struct {
	GasOut  Gas
	Product Solids
	Dust    Solids // fine oxide carried off with the gas
	// FeedKgPerS is the mass of the oxalate hydrates fed, kg/s.
	FeedKgPerS float64
	// MassLoss is 1 − (product + dust)/feed hydrate mass.
	MassLoss float64
	// O2Demand, CO2Released and H2OReleased are mol/s; H2OReleased counts
	// hydrate water and moisture.
	O2Demand, CO2Released, H2OReleased float64
	// HeatDuty is the heat added to the roaster, W (negative: heat to remove).
	// It is valid only when HeatDutyKnown.
	HeatDuty      float64
	HeatDutyKnown bool
	// Closure is (in − out)/in per element over all streams.
	Closure map[string]float64
	// Notes lists assumptions that were needed: default thermochemistry,
	// missing data.
	Notes []string
}

// SpecError reports a bad value in a Spec; Field is the JSON path of it.
type SpecError struct {
	Field string
	Msg   string
}

// Error names the field and says what is wrong with it.
func (e *SpecError) Error() string { return fmt.Sprintf("calcine: %s: %s", e.Field, e.Msg) }

func specErr(field, format string, a ...any) error {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// maxFlow bounds every flow (mol/h or mol/s) so that sums stay finite; no
// plant comes near it.
const maxFlow = 1e12

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Validate checks the spec without running it. Errors are *SpecError values
// that name the offending field.
func (s *Spec) Validate() error {
	if s.FeedsMolPerH == nil {
		return specErr("feeds_mol_per_h", "required")
	}
	for _, k := range sortedKeys(s.FeedsMolPerH) {
		v := s.FeedsMolPerH[k]
		if _, err := chem.Lookup(k); err != nil {
			return specErr("feeds_mol_per_h."+k, "unknown element %q", k)
		}
		if _, err := chem.OxalateOf(k); err != nil {
			return specErr("feeds_mol_per_h."+k, "no oxalate hydrate is known for %s", k)
		}
		if !finite(v) || v < 0 || v > maxFlow {
			return specErr("feeds_mol_per_h."+k, "must be a number in [0, %g], got %v", maxFlow, v)
		}
	}
	temps := []struct {
		f string
		v float64
	}{
		{"feed_temperature_K", s.FeedTemperature},
		{"gas_in.temperature_K", s.GasIn.Temperature},
		{"product_temperature_K", s.ProductTemperature},
	}
	for _, p := range temps {
		if !finite(p.v) || p.v < 1 || p.v > 1e4 {
			return specErr(p.f, "must be a temperature in [1, 10000] K, got %v", p.v)
		}
	}
	if p := s.GasIn.Pressure; !finite(p) || p <= 0 || p > 1e9 {
		return specErr("gas_in.pressure_Pa", "must be a pressure in (0, 1e9] Pa, got %v", p)
	}
	if !finite(s.MoistureMolPerS) || s.MoistureMolPerS < 0 || s.MoistureMolPerS > maxFlow {
		return specErr("moisture_mol_per_s", "must be a number in [0, %g], got %v", maxFlow, s.MoistureMolPerS)
	}
	if !finite(s.GasIn.MolPerS) || s.GasIn.MolPerS < 0 || s.GasIn.MolPerS > maxFlow {
		return specErr("gas_in.mol_per_s", "must be a number in [0, %g], got %v", maxFlow, s.GasIn.MolPerS)
	}
	if s.GasIn.MoleFractions == nil {
		return specErr("gas_in.mole_fractions", "required")
	}
	var sum float64
	for _, k := range sortedKeys(s.GasIn.MoleFractions) {
		v := s.GasIn.MoleFractions[k]
		if _, ok := gasData[k]; !ok {
			return specErr("gas_in.mole_fractions."+k, "unknown gas species %q (want O2, N2, CO2, H2O or Ar)", k)
		}
		if !finite(v) || v < 0 || v > 1 {
			return specErr("gas_in.mole_fractions."+k, "must be in [0, 1], got %v", v)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-6 {
		return specErr("gas_in.mole_fractions", "must sum to 1, got %v", sum)
	}
	if r := s.OxideRecovery; !finite(r) || r < 0 || r > 1 {
		return specErr("oxide_recovery", "must be in [0, 1], got %v", r)
	}
	for _, k := range sortedKeys(s.RecoveryByElement) {
		r := s.RecoveryByElement[k]
		if _, ok := s.FeedsMolPerH[k]; !ok {
			return specErr("oxide_recovery_by_element."+k, "%s is not in feeds_mol_per_h", k)
		}
		if !finite(r) || r < 0 || r > 1 {
			return specErr("oxide_recovery_by_element."+k, "must be in [0, 1], got %v", r)
		}
	}
	switch s.Oxides {
	case Air, Sesquioxide:
	case "":
		return specErr("oxides", `required ("air" or "sesquioxide")`)
	default:
		return specErr("oxides", `unknown mode %q (want "air" or "sesquioxide")`, s.Oxides)
	}
	for _, k := range sortedKeys(s.Thermo) {
		th := s.Thermo[k]
		if _, err := chem.OxalateOf(k); err != nil {
			return specErr("thermo."+k, "no oxalate hydrate is known for %s", k)
		}
		for _, v := range []float64{th.OxalateDHf, th.OxalateCp0, th.OxalateCp1, th.OxideDHf, th.OxideCp0, th.OxideCp1} {
			if !finite(v) || math.Abs(v) > 1e9 {
				return specErr("thermo."+k, "values must be finite and below 1e9 in magnitude")
			}
		}
	}
	for _, k := range sortedKeys(s.AtomicWeights) {
		v := s.AtomicWeights[k]
		if _, err := chem.Lookup(k); err != nil {
			return specErr("atomic_weights_g_per_mol."+k, "unknown element %q", k)
		}
		if !finite(v) || v <= 0 || v > 1000 {
			return specErr("atomic_weights_g_per_mol."+k, "must be a positive number up to 1000, got %v", v)
		}
	}
	return nil
}

// unit is the working state of one metal's feed.
type unit struct {
	sym      string
	z        int
	hydrate  chem.Formula
	oxalate  chem.Oxalate
	oxide    chem.Oxide
	feed     float64 // hydrate formula units, mol/s
	oxideN   float64 // oxide formula units per hydrate unit
	recovery float64
}

// Simulate runs the calcination described by s. Bad specs give a
// *SpecError naming the field; so does a gas that cannot supply the O2.
func Simulate(s *Spec) (*Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	aw := func(sym string) float64 {
		if v, ok := s.AtomicWeights[sym]; ok {
			return v
		}
		return chem.MustLookup(sym).AtomicWeight
	}
	// mass sums in the order of f.Symbols, as chem.Formula.MolarMass does:
	// map order is random and the sum would change in its last bits.
	mass := func(f chem.Formula) float64 {
		var m float64
		for _, el := range f.Symbols() {
			m += float64(f[el]) * aw(el)
		}
		return m
	}
	res := &Result{Closure: map[string]float64{}}
	var units []*unit
	for _, sym := range sortedKeys(s.FeedsMolPerH) {
		ox, _ := chem.OxalateOf(sym)
		oxide, err := chem.OxideOf(sym, s.Oxides == Air)
		if err != nil {
			return nil, specErr("feeds_mol_per_h."+sym, "%v", err)
		}
		hyd, err := chem.ParseFormula(ox.Formula)
		if err != nil {
			return nil, fmt.Errorf("calcine: %w", err)
		}
		rec := s.OxideRecovery
		if r, ok := s.RecoveryByElement[sym]; ok {
			rec = r
		}
		units = append(units, &unit{
			sym: sym, z: chem.MustLookup(sym).Z, hydrate: hyd, oxalate: ox, oxide: oxide,
			feed:     s.FeedsMolPerH[sym] / 3600,
			oxideN:   float64(ox.Metal) / float64(oxide.Metal),
			recovery: rec,
		})
	}
	slices.SortFunc(units, func(a, b *unit) int { return a.z - b.z })

	// Gas balance.
	gasOut := map[string]float64{}
	for k, y := range s.GasIn.MoleFractions {
		gasOut[k] = y * s.GasIn.MolPerS
	}
	for _, u := range units {
		o2 := u.feed * u.oxideN * float64(u.oxide.Oxygen) / 2
		co2 := u.feed * 2 * float64(u.oxalate.Oxalate)
		h2o := u.feed * float64(u.oxalate.Water)
		res.O2Demand += o2
		res.CO2Released += co2
		res.H2OReleased += h2o
	}
	res.H2OReleased += s.MoistureMolPerS
	if o2 := gasOut["O2"]; res.O2Demand > o2 {
		return nil, specErr("gas_in", "not enough O2: the oxalates need %.6g mol/s, the gas carries %.6g mol/s", res.O2Demand, o2)
	}
	gasOut["O2"] -= res.O2Demand
	gasOut["CO2"] += res.CO2Released
	gasOut["H2O"] += res.H2OReleased
	var total float64
	for _, k := range sortedKeys(gasOut) {
		total += gasOut[k]
	}
	res.GasOut = Gas{MolPerS: total, Temperature: s.ProductTemperature, Pressure: s.GasIn.Pressure, MoleFractions: map[string]float64{}}
	for k, v := range gasOut {
		if total > 0 {
			res.GasOut.MoleFractions[k] = v / total
		} else {
			res.GasOut.MoleFractions[k] = 0
		}
	}

	// Solids.
	res.Product.MassFractions = map[string]float64{}
	res.Dust.MassFractions = map[string]float64{}
	for _, u := range units {
		oxMW := mass(map[string]int{u.sym: u.oxide.Metal, "O": u.oxide.Oxygen}) / 1000 // kg/mol
		n := u.feed * u.oxideN
		prod := OxideFlow{Element: u.sym, Formula: u.oxide.Formula, MolPerS: n * u.recovery}
		dust := OxideFlow{Element: u.sym, Formula: u.oxide.Formula, MolPerS: n * (1 - u.recovery)}
		prod.KgPerS = prod.MolPerS * oxMW
		dust.KgPerS = dust.MolPerS * oxMW
		res.Product.Oxides = append(res.Product.Oxides, prod)
		res.Dust.Oxides = append(res.Dust.Oxides, dust)
		res.Product.KgPerS += prod.KgPerS
		res.Dust.KgPerS += dust.KgPerS
		res.FeedKgPerS += u.feed * mass(u.hydrate) / 1000
	}
	for _, st := range []*Solids{&res.Product, &res.Dust} {
		for _, o := range st.Oxides {
			if st.KgPerS > 0 {
				st.MassFractions[o.Element] = o.KgPerS / st.KgPerS
			} else {
				st.MassFractions[o.Element] = 0
			}
		}
	}
	if res.FeedKgPerS > 0 {
		res.MassLoss = 1 - (res.Product.KgPerS+res.Dust.KgPerS)/res.FeedKgPerS
	}

	res.energy(s, units, gasOut, mass(map[string]int{"H": 2, "O": 1})/1000)
	res.closure(s, units, gasOut)
	return res, nil
}

// energy fills the heat duty, or leaves it unknown when an oxide has no
// sourced thermochemistry.
func (r *Result) energy(s *Spec, units []*unit, gasOut map[string]float64, waterKgPerMol float64) {
	var hIn, hOut float64
	known := true
	defaults := map[string][]string{} // quantity → metals that used a default
	for _, u := range units {
		th, missing := defaultThermo(u.sym)
		user, given := s.Thermo[u.sym]
		sesq, _ := chem.OxideOf(u.sym, false)
		switch {
		case given:
			th = user
		case u.oxide.Formula != sesq.Formula:
			// An air oxide (CeO2, Pr6O11, Tb4O7): PrOMMiS' data are for
			// the sesquioxide and no other source was retrieved.
			known = false
			r.Notes = append(r.Notes, fmt.Sprintf("no sourced formation enthalpy of %s: heat duty not computed (give thermo.%s or use oxides \"sesquioxide\")", u.oxide.Formula, u.sym))
			continue
		default:
			for _, q := range missing {
				defaults[q] = append(defaults[q], u.sym)
			}
		}
		hIn += u.feed * solidH(th.OxalateDHf, th.OxalateCp0, th.OxalateCp1, s.FeedTemperature)
		hOut += u.feed * u.oxideN * solidH(th.OxideDHf, th.OxideCp0, th.OxideCp1, s.ProductTemperature)
	}
	hIn += s.MoistureMolPerS * (liquidWaterDHf + liquidWaterCpPerKg*waterKgPerMol*(s.FeedTemperature-T0))
	// Gases in sorted order, not map order, so the duty is the same bits
	// every run.
	for _, k := range sortedKeys(s.GasIn.MoleFractions) {
		hIn += s.GasIn.MoleFractions[k] * s.GasIn.MolPerS * gasData[k].h(s.GasIn.Temperature)
	}
	for _, k := range sortedKeys(gasOut) {
		hOut += gasOut[k] * gasData[k].h(s.ProductTemperature)
	}
	for _, q := range []string{"oxalate ΔHf", "oxalate cp", "oxide ΔHf", "oxide cp"} {
		if els := defaults[q]; len(els) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("PrOMMiS default %s (average of La, Ce, Pr, Nd) used for %s", q, strings.Join(els, ", ")))
		}
	}
	r.HeatDutyKnown = known
	if known {
		r.HeatDuty = hOut - hIn
	}
}

// closure fills r.Closure from the streams as reported.
func (r *Result) closure(s *Spec, units []*unit, gasOut map[string]float64) {
	in := map[string]float64{}
	out := map[string]float64{}
	add := func(m map[string]float64, f map[string]int, n float64) {
		for el, c := range f {
			m[el] += float64(c) * n
		}
	}
	for _, u := range units {
		add(in, u.hydrate, u.feed)
	}
	add(in, gasFormula["H2O"], s.MoistureMolPerS)
	// Several gases carry O (and C, H): add them in sorted order, not map
	// order, so the closure is the same bits every run.
	for _, k := range sortedKeys(s.GasIn.MoleFractions) {
		add(in, gasFormula[k], s.GasIn.MoleFractions[k]*s.GasIn.MolPerS)
	}
	for _, k := range sortedKeys(r.GasOut.MoleFractions) {
		add(out, gasFormula[k], r.GasOut.MoleFractions[k]*r.GasOut.MolPerS)
	}
	for _, st := range []Solids{r.Product, r.Dust} {
		for _, o := range st.Oxides {
			u := unitOf(units, o.Element)
			add(out, map[string]int{o.Element: u.oxide.Metal, "O": u.oxide.Oxygen}, o.MolPerS)
		}
	}
	for el, v := range in {
		if v == 0 {
			r.Closure[el] = out[el]
			continue
		}
		r.Closure[el] = (v - out[el]) / v
	}
	for el, v := range out {
		if _, ok := in[el]; !ok {
			r.Closure[el] = -v
		}
	}
}

func unitOf(units []*unit, sym string) *unit {
	for _, u := range units {
		if u.sym == sym {
			return u
		}
	}
	return nil
}
