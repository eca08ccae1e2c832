package precip

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"lodestone/process/chem"
)

// Model names a precipitation model.
type Model string

// The precipitation models; the strings are those of the CLI contract.
const (
	Isotherm   Model = "isotherm"
	FixedSplit Model = "fixed-split"
	KspModel   Model = "ksp"
)

// Bounds that keep every product of spec values finite; no plant comes near
// them.
const (
	maxFlow = 1e12 // L/h
	maxConc = 1e7  // mg/L, 10 kg/L: denser than any liquor
)

// oxalicKey is the species key of oxalic acid in mg_per_L maps.
const oxalicKey = "H2C2O4"

// Spec is one precipitation problem. Zero-valued optional fields take the
// documented defaults.
type Spec struct {
	FlowLPerH   float64            `json:"flow_L_per_h"`  // aqueous feed, L/h
	Temperature float64            `json:"temperature_K"` // K
	MgPerL      map[string]float64 `json:"mg_per_L"`      // feed, mg/L by species; must hold "H2C2O4"
	Model       Model              `json:"model"`

	// Isotherm adds or replaces dose-isotherm parameters by metal symbol
	// (defaults: DefaultIsotherm).
	Isotherm map[string]IsothermParam `json:"isotherm,omitempty"`
	// FixedSplit adds or replaces precipitated fractions by metal symbol
	// (defaults: DefaultFixedSplit).
	FixedSplit map[string]float64 `json:"fixed_split,omitempty"`
	// Ksp holds the solubility-product parameters; required for model "ksp".
	Ksp *KspSpec `json:"ksp,omitempty"`
	// OxalicAcidEfficiency is the fraction of the dosed oxalic acid that
	// ends in the solids, in (0, 1]; 0 means DefaultEfficiency.
	OxalicAcidEfficiency float64 `json:"oxalic_acid_efficiency,omitempty"`
	// AtomicWeights overrides process/chem atomic weights (g/mol) by symbol.
	AtomicWeights map[string]float64 `json:"atomic_weights_g_per_mol,omitempty"`
}

// Solid is one precipitated oxalate.
type Solid struct {
	Element      string  // metal symbol
	Formula      string  // anhydrous formula unit, e.g. "Nd2(C2O4)3"
	HydrateWater int     // H2O per formula unit in the hydrate
	MolPerH      float64 // formula units per hour
	KgPerH       float64 // mass of the hydrate, kg/h
}

// OxalicAcid reports the oxalic acid balance, all in mol/h of H2C2O4.
type OxalicAcid struct {
	Supplied           float64 // in the feed
	Consumed           float64 // bound in the solids (stoichiometric use)
	ConsumedRareEarths float64 // part of Consumed bound by rare earths
	ConsumedImpurities float64 // part of Consumed bound by other metals
	Efficiency         float64 // assumed dosing efficiency
	Required           float64 // Consumed / Efficiency: dose a plant needs for this result
}

// Result is the outcome of Simulate.
type Result struct {
	Model       Model
	FlowLPerH   float64            // aqueous outlet, L/h (equal to the feed)
	Temperature float64            // K
	Aqueous     map[string]float64 // outlet, mg/L by species
	Solids      []Solid            // by atomic number of the metal
	Conversion  map[string]float64 // fraction of each precipitable metal in the solids
	OxalicAcid  OxalicAcid
	// AcidReleased is the H⁺ released by precipitation, mol/h.
	AcidReleased float64
	// PH is the speciated outlet pH (−log10 [H⁺] in mol/L) of the Ksp model;
	// zero for the other models.
	PH float64
	// OxalateLimited reports that the model asked for more oxalate than the
	// feed carries and the conversions were scaled down to what there is.
	OxalateLimited bool
	// PassThrough lists the metals with no known oxalate; they stay in the
	// liquor.
	PassThrough []string
	// Closure is the relative balance error (in − out)/in per metal, "C"
	// (oxalate carbon) and "H" (non-water hydrogen).
	Closure map[string]float64
}

// SpecError reports a bad value in a Spec; Field is the JSON path of it.
type SpecError struct {
	Field string
	Msg   string
}

// Error names the field and says what is wrong with it.
func (e *SpecError) Error() string { return fmt.Sprintf("precip: %s: %s", e.Field, e.Msg) }

func specErr(field, format string, a ...any) error {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// metal is the working state of one precipitable metal.
type metal struct {
	sym    string
	z      int
	rare   bool
	ox     chem.Oxalate
	nIn    float64 // mol/h
	conv   float64
	weight float64 // g/mol
}

// weights resolves atomic weights with the spec's overrides.
type weights map[string]float64

func (w weights) of(sym string) (float64, error) {
	if v, ok := w[sym]; ok {
		return v, nil
	}
	e, err := chem.Lookup(sym)
	if err != nil {
		return 0, err
	}
	return e.AtomicWeight, nil
}

// formula returns the molar mass of f in g/mol. It sums in the order of
// f.Symbols, as chem.Formula.MolarMass does, so the result is the same bits
// every run (map order is random) and, without overrides, equal to
// MolarMass.
func (w weights) formula(f chem.Formula) (float64, error) {
	var m float64
	for _, s := range f.Symbols() {
		a, err := w.of(s)
		if err != nil {
			return 0, err
		}
		m += float64(f[s]) * a
	}
	return m, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Validate checks the spec without running it. Errors are *SpecError values
// that name the offending field.
func (s *Spec) Validate() error {
	if !finite(s.FlowLPerH) || s.FlowLPerH < 0 {
		return specErr("flow_L_per_h", "must be a finite non-negative number, got %v", s.FlowLPerH)
	}
	if s.FlowLPerH > maxFlow {
		return specErr("flow_L_per_h", "must not exceed %g L/h, got %v", maxFlow, s.FlowLPerH)
	}
	if !finite(s.Temperature) || s.Temperature < 1 || s.Temperature > 1e4 {
		return specErr("temperature_K", "must be a temperature in [1, 10000] K, got %v", s.Temperature)
	}
	if s.MgPerL == nil {
		return specErr("mg_per_L", "required")
	}
	if _, ok := s.MgPerL[oxalicKey]; !ok {
		return specErr("mg_per_L."+oxalicKey, "required (oxalic acid in the feed, mg/L)")
	}
	for _, k := range sortedKeys(s.MgPerL) {
		v := s.MgPerL[k]
		if _, err := chem.LookupSpecies(k); err != nil {
			return specErr("mg_per_L."+k, "unknown species %q", k)
		}
		if !finite(v) || v < 0 {
			return specErr("mg_per_L."+k, "must be a finite non-negative number, got %v", v)
		}
		if v > maxConc {
			return specErr("mg_per_L."+k, "must not exceed %g mg/L (denser than any liquor), got %v", maxConc, v)
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
	if e := s.OxalicAcidEfficiency; !finite(e) || e < 0 || e > 1 {
		return specErr("oxalic_acid_efficiency", "must be in (0, 1], got %v", e)
	}
	for _, k := range sortedKeys(s.Isotherm) {
		p := s.Isotherm[k]
		f := "isotherm." + k
		if _, err := chem.OxalateOf(k); err != nil {
			return specErr(f, "no oxalate is known for %q", k)
		}
		if !finite(p.E) || p.E <= 0 {
			return specErr(f+".E_D", "must be a finite positive number, got %v", p.E)
		}
		if !finite(p.N) || p.N <= 0 {
			return specErr(f+".N_D", "must be a finite positive number, got %v", p.N)
		}
		if !finite(p.Fixed) || p.Fixed < 0 || p.Fixed > 1 {
			return specErr(f+".fixed_conversion", "must be in [0, 1], got %v", p.Fixed)
		}
	}
	for _, k := range sortedKeys(s.FixedSplit) {
		v := s.FixedSplit[k]
		if _, err := chem.OxalateOf(k); err != nil {
			return specErr("fixed_split."+k, "no oxalate is known for %q", k)
		}
		if !finite(v) || v < 0 || v > 1 {
			return specErr("fixed_split."+k, "must be a fraction in [0, 1], got %v", v)
		}
	}
	if s.Ksp != nil {
		if err := s.Ksp.validate(); err != nil {
			return err
		}
	}
	switch s.Model {
	case Isotherm, FixedSplit:
	case KspModel:
		if s.Ksp == nil {
			return specErr("ksp", "required for model %q", KspModel)
		}
	case "":
		return specErr("model", "required (isotherm, fixed-split or ksp)")
	default:
		return specErr("model", "unknown model %q (want isotherm, fixed-split or ksp)", s.Model)
	}
	return nil
}

func (k *KspSpec) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"ksp.pKa1", k.PKa1}, {"ksp.pKa2", k.PKa2}} {
		if !finite(f.v) || f.v < 0 || f.v > 30 {
			return specErr(f.name, "must be in [0, 30], got %v", f.v)
		}
	}
	for _, sym := range sortedKeys(k.Elements) {
		p := k.Elements[sym]
		f := "ksp.elements." + sym
		if _, err := chem.OxalateOf(sym); err != nil {
			return specErr(f, "no oxalate is known for %q", sym)
		}
		if !finite(p.Log10Ksp) || math.Abs(p.Log10Ksp) > 200 {
			return specErr(f+".log10_Ksp", "must be in [-200, 200], got %v", p.Log10Ksp)
		}
		if !finite(p.DeltaH) || math.Abs(p.DeltaH) > 1e7 {
			return specErr(f+".dH_J_per_mol", "must be in [-1e7, 1e7] J/mol, got %v", p.DeltaH)
		}
		if !finite(p.TRef) || p.TRef < 0 || p.TRef > 1e4 || p.TRef > 0 && p.TRef < 1 {
			return specErr(f+".T_ref_K", "must be a temperature in [1, 10000] K, got %v", p.TRef)
		}
		if p.Source == "" {
			return specErr(f+".source", "required: say where the solubility product comes from")
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Simulate runs the precipitation described by s. Bad specs give a
// *SpecError naming the field.
func Simulate(s *Spec) (*Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	w := weights(s.AtomicWeights)
	oxMW, err := w.formula(chem.Formula{"H": 2, "C": 2, "O": 4})
	if err != nil {
		return nil, fmt.Errorf("precip: %w", err)
	}
	hMW, err := w.of("H")
	if err != nil {
		return nil, fmt.Errorf("precip: %w", err)
	}
	F := s.FlowLPerH
	// mol/h from mg/L: c·F/1000/MW.
	oxIn := s.MgPerL[oxalicKey] * F / 1000 / oxMW
	hIn := s.MgPerL["H"] * F / 1000 / hMW

	res := &Result{
		Model:       s.Model,
		FlowLPerH:   F,
		Temperature: s.Temperature,
		Aqueous:     make(map[string]float64, len(s.MgPerL)),
		Conversion:  map[string]float64{},
		Closure:     map[string]float64{},
	}
	metals, err := res.feed(s, w)
	if err != nil {
		return nil, err
	}
	if err := res.conversions(s, metals, oxIn, hIn, w); err != nil {
		return nil, err
	}

	// Oxalate demand; scale down when the feed cannot supply it.
	var demand float64
	for _, m := range metals {
		demand += m.conv * m.nIn * m.ox.OxalicAcidPerMetal()
	}
	if demand > oxIn && demand > 0 {
		f := oxIn / demand
		for _, m := range metals {
			m.conv *= f
		}
		res.OxalateLimited = true
	}

	var bound float64
	for _, m := range metals {
		solid := m.conv * m.nIn / float64(m.ox.Metal)
		k := solid * float64(m.ox.Oxalate)
		bound += k
		if m.rare {
			res.OxalicAcid.ConsumedRareEarths += k
		} else {
			res.OxalicAcid.ConsumedImpurities += k
		}
		hyd, err := w.formula(chem.MustParseFormula(m.ox.Formula))
		if err != nil {
			return nil, fmt.Errorf("precip: %w", err)
		}
		res.Solids = append(res.Solids, Solid{
			Element: m.sym, Formula: m.ox.AnhydrousFormula(), HydrateWater: m.ox.Water,
			MolPerH: solid, KgPerH: solid * hyd / 1000,
		})
		res.Conversion[m.sym] = m.conv
		res.Aqueous[m.sym] = s.MgPerL[m.sym] * (1 - m.conv)
	}
	eff := s.OxalicAcidEfficiency
	if eff == 0 {
		eff = DefaultEfficiency
	}
	res.OxalicAcid.Supplied = oxIn
	res.OxalicAcid.Consumed = bound
	res.OxalicAcid.Efficiency = eff
	res.OxalicAcid.Required = bound / eff
	res.AcidReleased = 2 * bound

	oxOut := math.Max(oxIn-bound, 0)
	hOut := hIn + 2*bound
	if F > 0 {
		res.Aqueous[oxalicKey] = oxOut * oxMW * 1000 / F
		res.Aqueous["H"] = hOut * hMW * 1000 / F
	} else {
		res.Aqueous[oxalicKey] = 0
		res.Aqueous["H"] = 0
	}
	for _, k := range sortedKeys(res.Aqueous) {
		if !finite(res.Aqueous[k]) {
			return nil, fmt.Errorf("precip: numerical overflow in the outlet %s", k)
		}
	}
	res.closure(metals, oxIn, hIn, oxMW, hMW)
	return res, nil
}

// feed sorts the species of the feed: metals that form an oxalate, in
// order of atomic number, with their feed in mol/h; the others pass into
// res.Aqueous (and res.PassThrough for metals without an oxalate).
func (res *Result) feed(s *Spec, w weights) ([]*metal, error) {
	F := s.FlowLPerH
	var metals []*metal
	for _, k := range sortedKeys(s.MgPerL) {
		sp, _ := chem.LookupSpecies(k)
		if len(sp.Formula) != 1 || sp.Charge <= 0 || sp.Formula[k] != 1 || k == "H" {
			res.Aqueous[k] = s.MgPerL[k] // anions, acids, counter-ions
			continue
		}
		ox, err := chem.OxalateOf(k)
		if err != nil {
			res.Aqueous[k] = s.MgPerL[k]
			res.PassThrough = append(res.PassThrough, k)
			continue
		}
		el, _ := chem.Lookup(k)
		aw, err := w.of(k)
		if err != nil {
			return nil, fmt.Errorf("precip: %w", err)
		}
		metals = append(metals, &metal{sym: k, z: el.Z, rare: el.IsRareEarth(), ox: ox, nIn: s.MgPerL[k] * F / 1000 / aw, weight: aw})
	}
	slices.SortFunc(metals, func(a, b *metal) int { return a.z - b.z })

	return metals, nil
}

// conversions sets the fraction of each metal precipitated by the model,
// before any limit by the oxalic acid fed.
func (res *Result) conversions(s *Spec, metals []*metal, oxIn, hIn float64, w weights) error {
	switch s.Model {
	case Isotherm:
		params := DefaultIsotherm()
		for k, v := range s.Isotherm {
			params[k] = v
		}
		dose := s.MgPerL[oxalicKey] / 1000 // g/L
		for _, m := range metals {
			p, ok := params[m.sym]
			if !ok {
				return specErr("isotherm."+m.sym, "no isotherm parameters for %s (PrOMMiS has none); give E_D and N_D", m.sym)
			}
			m.conv = isothermConversion(p, dose)
		}
	case FixedSplit:
		split := DefaultFixedSplit()
		for k, v := range s.FixedSplit {
			split[k] = v
		}
		for _, m := range metals {
			f, ok := split[m.sym]
			if !ok {
				return specErr("fixed_split."+m.sym, "no precipitated fraction for %s; give one", m.sym)
			}
			m.conv = f
		}
	case KspModel:
		ph, err := solveKsp(s, metals, oxIn, hIn, w)
		if err != nil {
			return err
		}
		res.PH = ph
	}
	return nil
}

// isothermConversion evaluates conv = exp(−(E/dose)^N).
func isothermConversion(p IsothermParam, dose float64) float64 {
	if p.Fixed > 0 {
		return p.Fixed
	}
	if dose <= 0 {
		return 0
	}
	return math.Exp(-math.Pow(p.E/dose, p.N))
}

// closure fills r.Closure from the outlet streams as reported, so that it
// checks the unit conversions as well as the stoichiometry.
func (r *Result) closure(metals []*metal, oxIn, hIn, oxMW, hMW float64) {
	F := r.FlowLPerH
	rel := func(in, out float64) float64 {
		if in == 0 {
			return out
		}
		return (in - out) / in
	}
	var cSolid float64
	for i, m := range metals {
		sol := r.Solids[i]
		out := r.Aqueous[m.sym]*F/1000/m.weight + sol.MolPerH*float64(m.ox.Metal)
		r.Closure[m.sym] = rel(m.nIn, out)
		cSolid += 2 * float64(m.ox.Oxalate) * sol.MolPerH
	}
	oxOut := r.Aqueous[oxalicKey] * F / 1000 / oxMW
	hOut := r.Aqueous["H"] * F / 1000 / hMW
	r.Closure["C"] = rel(2*oxIn, 2*oxOut+cSolid)
	r.Closure["H"] = rel(hIn+2*oxIn, hOut+2*oxOut)
}
