package flowsheet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"lodestone/process/calcine"
	"lodestone/process/chem"
	"lodestone/process/precip"
	"lodestone/process/sx"
)

// Stream is an aqueous stream: flow and concentrations by species.
type Stream struct {
	FlowLPerH float64            `json:"flow_L_per_h"`
	MgPerL    map[string]float64 `json:"mg_per_L"`
}

// Equilibrium selects the distribution model of both cascades.
type Equilibrium struct {
	// Model is "mass-action" (ideal mass action of an acidic extractant,
	// dimer basis, log_K per metal; process/sx MassAction) or "constant"
	// (D per metal, with separate values for the load and strip cascades).
	Model  string             `json:"model"`
	LogK   map[string]float64 `json:"log_K,omitempty"`
	DLoad  map[string]float64 `json:"D_load,omitempty"`
	DStrip map[string]float64 `json:"D_strip,omitempty"`
	Source string             `json:"source,omitempty"` // where the constants come from
}

// Load is the loading cascade: extraction stages 1..n, scrub stages
// n+1..n+m.
type Load struct {
	ExtractionStages  int     `json:"extraction_stages"`
	ScrubStages       int     `json:"scrub_stages"`
	OrganicFlowLPerH  float64 `json:"organic_flow_L_per_h"`
	ExtractantMolPerL float64 `json:"extractant_mol_per_L"` // fresh organic, HA monomer
	Scrub             *Stream `json:"scrub,omitempty"`      // scrub acid at stage n+m; required when m > 0
}

// Strip is the strip cascade.
type Strip struct {
	Stages          int     `json:"stages"`
	Acid            Stream  `json:"acid"`             // fresh strip acid at the last stage
	FiltrateRecycle float64 `json:"filtrate_recycle"` // fraction of the filtrate returned to the strip acid, [0, 1)
}

// Precipitation is the oxalate precipitation of the strip liquor.
type Precipitation struct {
	Model                precip.Model                    `json:"model"`
	OxalicAcidMgPerL     float64                         `json:"oxalic_acid_mg_per_L"` // fresh dose, mg per L of strip liquor
	Temperature          float64                         `json:"temperature_K"`
	Isotherm             map[string]precip.IsothermParam `json:"isotherm,omitempty"`
	FixedSplit           map[string]float64              `json:"fixed_split,omitempty"`
	Ksp                  *precip.KspSpec                 `json:"ksp,omitempty"`
	OxalicAcidEfficiency float64                         `json:"oxalic_acid_efficiency,omitempty"`
}

// Filtration separates the precipitate from the liquor.
type Filtration struct {
	SolidsRecovery float64 `json:"solids_recovery"`         // fraction of the solids in the cake
	CakeMoisture   float64 `json:"cake_moisture_kg_per_kg"` // kg liquor per kg hydrate in the cake
}

// Calcination roasts the cake.
type Calcination struct {
	FeedTemperature    float64           `json:"feed_temperature_K"`
	GasIn              calcine.Gas       `json:"gas_in"`
	ProductTemperature float64           `json:"product_temperature_K"`
	OxideRecovery      float64           `json:"oxide_recovery"`
	Oxides             calcine.OxideMode `json:"oxides"`
}

// Spec is a plant: feed, cascades, recycles and downstream units.
type Spec struct {
	Media          string        `json:"media"` // "chloride" or "sulfate"
	Feed           Stream        `json:"feed"`
	Extractant     string        `json:"extractant,omitempty"` // chem extractant name for make-up mass ("PC88A", "DEHPA")
	Equilibrium    Equilibrium   `json:"equilibrium"`
	Load           Load          `json:"load"`
	Strip          Strip         `json:"strip"`
	OrganicRecycle float64       `json:"organic_recycle"` // fraction of stripped organic returned to the load cascade
	Precipitation  Precipitation `json:"precipitation"`
	Filtration     Filtration    `json:"filtration"`
	Calcination    Calcination   `json:"calcination"`
	MaxIterations  int           `json:"max_iterations,omitempty"` // recycle passes; 0 means 500
	Tolerance      float64       `json:"tolerance,omitempty"`      // largest relative tear change; 0 means 1e-11
}

// Reagents is the reagent use of the plant.
type Reagents struct {
	OxalicAcidKgPerH     float64 // fresh oxalic acid dosed (anhydrous)
	OxalicAcidKgPerTREO  float64
	AcidMolPerH          float64 // H⁺ fed: scrub plus fresh strip acid (H⁺ + HSO4⁻)
	AcidName             string  // "HCl" or "H2SO4"
	AcidKgPerH           float64 // as AcidName
	AcidKgPerTREO        float64
	ExtractantMolPerH    float64 // make-up, HA monomer
	ExtractantKgPerH     float64 // 0 when Spec.Extractant is not given
	ExtractantKgPerTREO  float64
	CalcinationHeatDutyW float64 // NaN-free: valid only when HeatDutyKnown
	HeatDutyKnown        bool
}

// Result is the converged plant.
type Result struct {
	Converged    bool
	Iterations   int
	TearResidual float64 // largest relative change of a tear variable in the last pass

	Load          *sx.Result
	Strip         *sx.Result
	StripLiquor   Stream // into precipitation, before the oxalic acid dose
	Precipitation *precip.Result
	Calcination   *calcine.Result

	// Recovery is the fraction of each metal of the feed that ends in the
	// oxide product.
	Recovery map[string]float64
	// Purity is the mass fraction of each metal's oxide in the product.
	Purity        map[string]float64
	ProductKgPerH float64
	REOKgPerH     float64 // rare-earth oxides in the product
	REOPurity     float64 // REOKgPerH / ProductKgPerH
	Reagents      Reagents
	// Losses are the metal flows leaving other than in the product, mol/h,
	// keyed by outlet ("raffinate", "organic_purge", "filtrate_bleed",
	// "filter_loss", "dust") and metal.
	Losses map[string]map[string]float64
	// Closure is (in − out)/in per metal over the whole plant.
	Closure map[string]float64
}

// SpecError reports a bad value in a Spec; Field is the JSON path of it.
type SpecError struct {
	Field string
	Msg   string
}

// Error names the field and says what is wrong with it.
func (e *SpecError) Error() string { return fmt.Sprintf("flowsheet: %s: %s", e.Field, e.Msg) }

func specErr(field, format string, a ...any) error {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// ErrNotConverged is returned with the last iterate when the recycle loop
// does not converge within MaxIterations; checked with errors.Is.
var ErrNotConverged = errors.New("flowsheet: recycle loop did not converge")

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// isMetal reports whether species key k is a metal the cascades carry.
func isMetal(k string) bool {
	e, err := chem.Lookup(k)
	return err == nil && e.Valence > 0 && e.Group != chem.Light
}

func validStream(field string, s *Stream, needFlow bool) error {
	if !finite(s.FlowLPerH) || s.FlowLPerH < 0 || s.FlowLPerH > 1e12 {
		return specErr(field+".flow_L_per_h", "must be a number in [0, 1e12], got %v", s.FlowLPerH)
	}
	if needFlow && s.FlowLPerH == 0 {
		return specErr(field+".flow_L_per_h", "must be positive")
	}
	for _, k := range sortedKeys(s.MgPerL) {
		v := s.MgPerL[k]
		if _, err := chem.LookupSpecies(k); err != nil {
			return specErr(field+".mg_per_L."+k, "unknown species %q", k)
		}
		if !finite(v) || v < 0 || v > 1e7 {
			return specErr(field+".mg_per_L."+k, "must be a number in [0, 1e7], got %v", v)
		}
	}
	return nil
}

// Validate checks the spec without running it. Errors are *SpecError values
// that name the offending field; the unit engines check their own parts
// when Run calls them.
func (s *Spec) Validate() error {
	switch s.Media {
	case "chloride", "sulfate":
	case "":
		return specErr("media", `required ("chloride" or "sulfate")`)
	default:
		return specErr("media", `unknown media %q (want "chloride" or "sulfate")`, s.Media)
	}
	if err := validStream("feed", &s.Feed, true); err != nil {
		return err
	}
	if s.Extractant != "" {
		if _, err := chem.LookupExtractant(s.Extractant); err != nil {
			return specErr("extractant", "unknown extractant %q", s.Extractant)
		}
	}
	switch s.Equilibrium.Model {
	case "mass-action", "constant":
	case "":
		return specErr("equilibrium.model", `required ("mass-action" or "constant")`)
	default:
		return specErr("equilibrium.model", `unknown model %q (want "mass-action" or "constant")`, s.Equilibrium.Model)
	}
	l := &s.Load
	if l.ExtractionStages < 1 || l.ExtractionStages > 1000 {
		return specErr("load.extraction_stages", "must be in 1..1000, got %d", l.ExtractionStages)
	}
	if l.ScrubStages < 0 || l.ScrubStages > 1000 {
		return specErr("load.scrub_stages", "must be in 0..1000, got %d", l.ScrubStages)
	}
	if !finite(l.OrganicFlowLPerH) || l.OrganicFlowLPerH <= 0 || l.OrganicFlowLPerH > 1e12 {
		return specErr("load.organic_flow_L_per_h", "must be a positive number up to 1e12, got %v", l.OrganicFlowLPerH)
	}
	if !finite(l.ExtractantMolPerL) || l.ExtractantMolPerL < 0 || l.ExtractantMolPerL > 10 {
		return specErr("load.extractant_mol_per_L", "must be in [0, 10], got %v", l.ExtractantMolPerL)
	}
	if l.ScrubStages > 0 {
		if l.Scrub == nil {
			return specErr("load.scrub", "required when scrub_stages > 0")
		}
		if err := validStream("load.scrub", l.Scrub, true); err != nil {
			return err
		}
	} else if l.Scrub != nil {
		return specErr("load.scrub", "given but scrub_stages is 0")
	}
	if s.Strip.Stages < 1 || s.Strip.Stages > 1000 {
		return specErr("strip.stages", "must be in 1..1000, got %d", s.Strip.Stages)
	}
	if err := validStream("strip.acid", &s.Strip.Acid, true); err != nil {
		return err
	}
	if r := s.Strip.FiltrateRecycle; !finite(r) || r < 0 || r >= 1 {
		return specErr("strip.filtrate_recycle", "must be in [0, 1), got %v", r)
	}
	if r := s.OrganicRecycle; !finite(r) || r < 0 || r > 1 {
		return specErr("organic_recycle", "must be in [0, 1], got %v", r)
	}
	if d := s.Precipitation.OxalicAcidMgPerL; !finite(d) || d < 0 || d > 1e6 {
		return specErr("precipitation.oxalic_acid_mg_per_L", "must be in [0, 1e6], got %v", d)
	}
	if f := s.Filtration; !finite(f.SolidsRecovery) || f.SolidsRecovery < 0 || f.SolidsRecovery > 1 {
		return specErr("filtration.solids_recovery", "must be in [0, 1], got %v", f.SolidsRecovery)
	}
	if m := s.Filtration.CakeMoisture; !finite(m) || m < 0 || m > 100 {
		return specErr("filtration.cake_moisture_kg_per_kg", "must be in [0, 100], got %v", m)
	}
	if s.MaxIterations < 0 {
		return specErr("max_iterations", "must not be negative, got %d", s.MaxIterations)
	}
	if t := s.Tolerance; !finite(t) || t < 0 || t >= 1 {
		return specErr("tolerance", "must be in [0, 1), got %v", t)
	}
	return nil
}

// plant holds the working state of Run.
type plant struct {
	s      *Spec
	metals []string // carried by the cascades, by atomic number
	mw     map[string]float64
	comps  []sx.Component
	loadM  sx.Equilibrium
	stripM sx.Equilibrium
	sulf   bool
}

func (p *plant) molar(st *Stream) (conc []float64, h, hso4, so4 float64) {
	conc = make([]float64, len(p.metals))
	for i, m := range p.metals {
		conc[i] = st.MgPerL[m] / 1000 / p.mw[m]
	}
	h = st.MgPerL["H"] / 1000 / p.mw["H"]
	hso4 = st.MgPerL["HSO4"] / 1000 / p.mw["HSO4"]
	so4 = st.MgPerL["SO4"] / 1000 / p.mw["SO4"]
	return
}

func (p *plant) setup() error {
	s := p.s
	p.sulf = s.Media == "sulfate"
	p.mw = map[string]float64{}
	seen := map[string]bool{}
	add := func(m map[string]float64) {
		for k := range m {
			if isMetal(k) {
				seen[k] = true
			}
		}
	}
	add(s.Feed.MgPerL)
	if s.Load.Scrub != nil {
		add(s.Load.Scrub.MgPerL)
	}
	add(s.Strip.Acid.MgPerL)
	for k := range seen {
		p.metals = append(p.metals, k)
	}
	slices.SortFunc(p.metals, func(a, b string) int { return chem.MustLookup(a).Z - chem.MustLookup(b).Z })
	if len(p.metals) == 0 {
		return specErr("feed.mg_per_L", "no metal to separate")
	}
	for _, k := range []string{"H", "HSO4", "SO4", "H2C2O4"} {
		sp, err := chem.LookupSpecies(k)
		if err != nil {
			return fmt.Errorf("flowsheet: %w", err)
		}
		p.mw[k] = sp.MolarMass()
	}
	for _, m := range p.metals {
		e := chem.MustLookup(m)
		p.mw[m] = e.AtomicWeight
		p.comps = append(p.comps, sx.Component{Name: m, Charge: e.Valence, MolarMass: e.AtomicWeight})
	}
	eq := s.Equilibrium
	switch eq.Model {
	case "mass-action":
		k := make([]float64, len(p.metals))
		for i, m := range p.metals {
			v, ok := eq.LogK[m]
			if !ok {
				return specErr("equilibrium.log_K."+m, "required: %s is in the plant", m)
			}
			if !finite(v) {
				return specErr("equilibrium.log_K."+m, "must be finite, got %v", v)
			}
			k[i] = v
		}
		p.loadM = sx.MassAction{LogK: k}
		p.stripM = p.loadM
		if s.Load.ExtractantMolPerL == 0 {
			return specErr("load.extractant_mol_per_L", "must be positive for the mass-action model")
		}
	case "constant":
		dl := make([]float64, len(p.metals))
		ds := make([]float64, len(p.metals))
		for i, m := range p.metals {
			v, ok := eq.DLoad[m]
			if !ok {
				return specErr("equilibrium.D_load."+m, "required: %s is in the plant", m)
			}
			w, ok := eq.DStrip[m]
			if !ok {
				return specErr("equilibrium.D_strip."+m, "required: %s is in the plant", m)
			}
			if !finite(v) || v < 0 {
				return specErr("equilibrium.D_load."+m, "must be a finite non-negative number, got %v", v)
			}
			if !finite(w) || w < 0 {
				return specErr("equilibrium.D_strip."+m, "must be a finite non-negative number, got %v", w)
			}
			dl[i], ds[i] = v, w
		}
		p.loadM = sx.Constant{D: dl}
		p.stripM = sx.Constant{D: ds}
	}
	return nil
}

// tears is the state carried between passes.
type tears struct {
	orgConc  []float64 // stripped organic, mol/L
	orgFree  float64   // free extractant of the stripped organic, mol/L HA
	filtrate map[string]float64
}

// Run solves the plant. A bad spec gives a *SpecError (or a unit engine's
// error naming its field); a recycle loop that does not converge returns
// the last iterate with an error wrapping ErrNotConverged; a canceled ctx
// returns ctx.Err().
func Run(ctx context.Context, s *Spec) (*Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	p := &plant{s: s}
	if err := p.setup(); err != nil {
		return nil, err
	}
	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = 500
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = 1e-11
	}
	N := s.Load.ExtractionStages + s.Load.ScrubStages
	O := s.Load.OrganicFlowLPerH
	rf, ro := s.Strip.FiltrateRecycle, s.OrganicRecycle
	// The strip aqueous flow is fixed by the recycle: F = Facid + rf·F.
	stripFlow := s.Strip.Acid.FlowLPerH / (1 - rf)

	feedC, feedH, feedHSO4, feedSO4 := p.molar(&s.Feed)
	inlets := []sx.Inlet{{Name: "feed", Phase: sx.Aqueous, Stage: s.Load.ExtractionStages, Flow: s.Feed.FlowLPerH,
		Conc: feedC, H: feedH, HSO4: feedHSO4, SO4: feedSO4}}
	if s.Load.Scrub != nil {
		c, h, hs, so := p.molar(s.Load.Scrub)
		inlets = append(inlets, sx.Inlet{Name: "scrub", Phase: sx.Aqueous, Stage: N, Flow: s.Load.Scrub.FlowLPerH, Conc: c, H: h, HSO4: hs, SO4: so})
	}
	if !p.sulf {
		for i := range inlets {
			inlets[i].HSO4, inlets[i].SO4 = 0, 0
		}
	}
	t := tears{orgConc: make([]float64, len(p.metals)), orgFree: s.Load.ExtractantMolPerL, filtrate: map[string]float64{}}
	res := &Result{}
	var lastErr error
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Iterations = it
		// Load cascade: organic at stage 1 is recycled plus fresh.
		load := sx.Problem{Stages: N, Components: p.comps, Model: p.loadM, Inlets: append(slices.Clone(inlets),
			sx.Inlet{Name: "fresh organic", Phase: sx.Organic, Stage: 1, Flow: (1 - ro) * O, Extractant: s.Load.ExtractantMolPerL},
			sx.Inlet{Name: "recycled organic", Phase: sx.Organic, Stage: 1, Flow: ro * O, Conc: slices.Clone(t.orgConc), Extractant: t.orgFree},
		)}
		if p.sulf {
			load.Media = sx.Sulfate
		}
		lr, err := sx.Solve(ctx, load, nil)
		if err != nil {
			return res, fmt.Errorf("flowsheet: load cascade: %w", err)
		}
		// Strip cascade: fresh acid plus recycled filtrate at the last stage.
		acid := mixStreams(s.Strip.Acid, Stream{FlowLPerH: rf * stripFlow, MgPerL: t.filtrate})
		ac, ah, ahs, aso := p.molar(&acid)
		if !p.sulf {
			ahs, aso = 0, 0
		}
		strip := sx.Problem{Stages: s.Strip.Stages, Components: p.comps, Model: p.stripM, Inlets: []sx.Inlet{
			{Name: "loaded organic", Phase: sx.Organic, Stage: 1, Flow: lr.Extract.Flow, Conc: lr.Extract.Conc, Extractant: lr.Extract.Extractant},
			{Name: "strip acid", Phase: sx.Aqueous, Stage: s.Strip.Stages, Flow: acid.FlowLPerH, Conc: ac, H: ah, HSO4: ahs, SO4: aso},
		}}
		if p.sulf {
			strip.Media = sx.Sulfate
		}
		sr, err := sx.Solve(ctx, strip, nil)
		if err != nil {
			return res, fmt.Errorf("flowsheet: strip cascade: %w", err)
		}
		// Strip liquor: metals and acid from the cascade, spectators mixed.
		liquor := Stream{FlowLPerH: sr.Raffinate.Flow, MgPerL: map[string]float64{}}
		for k, v := range acid.MgPerL {
			if !isMetal(k) && k != "H" && k != "HSO4" && k != "SO4" {
				liquor.MgPerL[k] = v
			}
		}
		for i, m := range p.metals {
			liquor.MgPerL[m] = sr.Raffinate.Conc[i] * 1000 * p.mw[m]
		}
		liquor.MgPerL["H"] = sr.Raffinate.H * 1000 * p.mw["H"]
		if p.sulf {
			liquor.MgPerL["HSO4"] = sr.Raffinate.HSO4 * 1000 * p.mw["HSO4"]
			liquor.MgPerL["SO4"] = sr.Raffinate.SO4 * 1000 * p.mw["SO4"]
		}
		ps := p.precipSpec(liquor)
		pr, err := precip.Simulate(ps)
		if err != nil {
			var se *precip.SpecError
			if errors.As(err, &se) {
				return res, specErr("precipitation."+se.Field, "%s", se.Msg)
			}
			return res, fmt.Errorf("flowsheet: precipitation: %w", err)
		}
		newT := tears{orgConc: slices.Clone(sr.Extract.Conc), orgFree: sr.Extract.Extractant, filtrate: pr.Aqueous}
		res.TearResidual = t.change(&newT)
		t = newT
		res.Load, res.Strip, res.StripLiquor, res.Precipitation = lr, sr, liquor, pr
		if res.TearResidual <= tol {
			res.Converged = true
			break
		}
		lastErr = ErrNotConverged
	}
	if err := p.downstream(res); err != nil {
		return res, err
	}
	if !res.Converged {
		return res, fmt.Errorf("%w after %d passes (tear change %.3g)", lastErr, res.Iterations, res.TearResidual)
	}
	return res, nil
}

// precipSpec builds the precipitation spec for the strip liquor plus the
// fresh oxalic acid dose.
func (p *plant) precipSpec(liquor Stream) *precip.Spec {
	pc := p.s.Precipitation
	mg := make(map[string]float64, len(liquor.MgPerL)+1)
	for k, v := range liquor.MgPerL {
		mg[k] = v
	}
	mg["H2C2O4"] += pc.OxalicAcidMgPerL
	temp := pc.Temperature
	if temp == 0 {
		temp = 298.15
	}
	return &precip.Spec{
		FlowLPerH: liquor.FlowLPerH, Temperature: temp, MgPerL: mg, Model: pc.Model,
		Isotherm: pc.Isotherm, FixedSplit: pc.FixedSplit, Ksp: pc.Ksp, OxalicAcidEfficiency: pc.OxalicAcidEfficiency,
	}
}

// mixStreams mixes two aqueous streams.
func mixStreams(a, b Stream) Stream {
	f := a.FlowLPerH + b.FlowLPerH
	out := Stream{FlowLPerH: f, MgPerL: map[string]float64{}}
	if f == 0 {
		return out
	}
	for k, v := range a.MgPerL {
		out.MgPerL[k] += v * a.FlowLPerH / f
	}
	for k, v := range b.MgPerL {
		out.MgPerL[k] += v * b.FlowLPerH / f
	}
	return out
}

// change returns the largest relative change between two tear states.
func (t *tears) change(n *tears) float64 {
	rel := func(a, b, floor float64) float64 {
		return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), floor)
	}
	var m float64
	for i := range t.orgConc {
		m = math.Max(m, rel(t.orgConc[i], n.orgConc[i], 1e-12))
	}
	m = math.Max(m, rel(t.orgFree, n.orgFree, 1e-12))
	keys := map[string]bool{}
	for k := range t.filtrate {
		keys[k] = true
	}
	for k := range n.filtrate {
		keys[k] = true
	}
	for k := range keys {
		m = math.Max(m, rel(t.filtrate[k], n.filtrate[k], 1e-9))
	}
	return m
}

// downstream runs filtration and calcination on the last pass and fills
// the plant-level results.
func (p *plant) downstream(res *Result) error {
	if res.Precipitation == nil {
		return nil
	}
	if err := p.calcination(res); err != nil {
		return err
	}
	p.balances(res)
	p.reagents(res)
	return nil
}

// calcination filters the precipitate and calcines the cake into
// res.Calcination.
func (p *plant) calcination(res *Result) error {
	s := p.s
	pr := res.Precipitation
	sr := s.Filtration.SolidsRecovery
	feeds := map[string]float64{}
	var cakeKgPerH float64
	for _, sol := range pr.Solids {
		feeds[sol.Element] = sr * sol.MolPerH
		cakeKgPerH += sr * sol.KgPerH
	}
	waterMW, err := chem.LookupSpecies("H2O")
	if err != nil {
		return fmt.Errorf("flowsheet: %w", err)
	}
	c := s.Calcination
	cs := &calcine.Spec{
		FeedsMolPerH: feeds, FeedTemperature: c.FeedTemperature,
		MoistureMolPerS: s.Filtration.CakeMoisture * cakeKgPerH / (waterMW.MolarMass() / 1000) / 3600,
		GasIn:           c.GasIn, ProductTemperature: c.ProductTemperature, OxideRecovery: c.OxideRecovery, Oxides: c.Oxides,
	}
	cr, err := calcine.Simulate(cs)
	if err != nil {
		var se *calcine.SpecError
		if errors.As(err, &se) {
			return specErr("calcination."+se.Field, "%s", se.Msg)
		}
		return fmt.Errorf("flowsheet: calcination: %w", err)
	}
	res.Calcination = cr
	return nil
}

// balances fills the metal balances of the plant: losses by route,
// recovery, closure, and the product's mass and purity.
func (p *plant) balances(res *Result) {
	s := p.s
	pr, cr, c := res.Precipitation, res.Calcination, s.Calcination
	sr := s.Filtration.SolidsRecovery
	// Metal flows, mol/h.
	in := map[string]float64{}
	addStream := func(m map[string]float64, st *Stream, frac float64) {
		for _, k := range p.metals {
			m[k] += frac * st.FlowLPerH * st.MgPerL[k] / 1000 / p.mw[k]
		}
	}
	addStream(in, &s.Feed, 1)
	if s.Load.Scrub != nil {
		addStream(in, s.Load.Scrub, 1)
	}
	addStream(in, &s.Strip.Acid, 1)
	// The outlets of Result.Losses; the closure sums them in this order, not
	// in map order, so that it is the same bits every run.
	outlets := []string{"raffinate", "organic_purge", "filtrate_bleed", "filter_loss", "dust"}
	res.Losses = make(map[string]map[string]float64, len(outlets))
	for _, o := range outlets {
		res.Losses[o] = map[string]float64{}
	}
	lr, st := res.Load, res.Strip
	for i, m := range p.metals {
		res.Losses["raffinate"][m] = lr.Raffinate.Flow * lr.Raffinate.Conc[i]
		res.Losses["organic_purge"][m] = (1 - s.OrganicRecycle) * st.Extract.Flow * st.Extract.Conc[i]
	}
	bleed := Stream{FlowLPerH: pr.FlowLPerH, MgPerL: pr.Aqueous}
	addStream(res.Losses["filtrate_bleed"], &bleed, 1-s.Strip.FiltrateRecycle)
	product := map[string]float64{}
	for _, sol := range pr.Solids {
		ox, _ := chem.OxalateOf(sol.Element)
		res.Losses["filter_loss"][sol.Element] += (1 - sr) * sol.MolPerH * float64(ox.Metal)
	}
	for _, o := range cr.Product.Oxides {
		ox, _ := chem.OxideOf(o.Element, c.Oxides == calcine.Air)
		product[o.Element] += o.MolPerS * 3600 * float64(ox.Metal)
	}
	for _, o := range cr.Dust.Oxides {
		ox, _ := chem.OxideOf(o.Element, c.Oxides == calcine.Air)
		res.Losses["dust"][o.Element] += o.MolPerS * 3600 * float64(ox.Metal)
	}
	res.Recovery = map[string]float64{}
	res.Closure = map[string]float64{}
	for _, m := range p.metals {
		out := product[m]
		for _, o := range outlets {
			out += res.Losses[o][m]
		}
		if in[m] > 0 {
			res.Recovery[m] = product[m] / in[m]
			res.Closure[m] = (in[m] - out) / in[m]
		} else {
			res.Closure[m] = -out
		}
	}
	res.ProductKgPerH = cr.Product.KgPerS * 3600
	res.Purity = cr.Product.MassFractions
	for _, o := range cr.Product.Oxides {
		if chem.MustLookup(o.Element).IsRareEarth() {
			res.REOKgPerH += o.KgPerS * 3600
		}
	}
	if res.ProductKgPerH > 0 {
		res.REOPurity = res.REOKgPerH / res.ProductKgPerH
	}
}

// reagents fills res.Reagents: oxalic acid, acid and extractant make-up,
// per hour and per tonne of rare-earth oxide, and the calcination duty.
func (p *plant) reagents(res *Result) {
	s := p.s
	pr, cr, st := res.Precipitation, res.Calcination, res.Strip
	rg := &res.Reagents
	rg.OxalicAcidKgPerH = s.Precipitation.OxalicAcidMgPerL * pr.FlowLPerH / 1e6
	acidIn := func(st *Stream) float64 {
		return st.FlowLPerH * (st.MgPerL["H"]/p.mw["H"] + st.MgPerL["HSO4"]/p.mw["HSO4"]) / 1000
	}
	rg.AcidMolPerH = acidIn(&s.Strip.Acid)
	if s.Load.Scrub != nil {
		rg.AcidMolPerH += acidIn(s.Load.Scrub)
	}
	if s.Media == "sulfate" {
		rg.AcidName = "H2SO4"
		rg.AcidKgPerH = rg.AcidMolPerH / 2 * chem.MustParseFormula("H2SO4").MolarMass() / 1000
	} else {
		rg.AcidName = "HCl"
		rg.AcidKgPerH = rg.AcidMolPerH * chem.MustParseFormula("HCl").MolarMass() / 1000
	}
	// Make-up: the purged organic's extractant, free plus bound.
	nu := p.loadM.SitesPerCharge()
	bound := 0.0
	for i, c := range p.comps {
		bound += nu * float64(c.Charge) * st.Extract.Conc[i]
	}
	rg.ExtractantMolPerH = (1 - s.OrganicRecycle) * st.Extract.Flow * (st.Extract.Extractant + bound)
	if s.Extractant != "" {
		x, _ := chem.LookupExtractant(s.Extractant)
		rg.ExtractantKgPerH = rg.ExtractantMolPerH * x.MolarMass / 1000
	}
	if t := res.REOKgPerH / 1000; t > 0 {
		rg.OxalicAcidKgPerTREO = rg.OxalicAcidKgPerH / t
		rg.AcidKgPerTREO = rg.AcidKgPerH / t
		rg.ExtractantKgPerTREO = rg.ExtractantKgPerH / t
	}
	rg.HeatDutyKnown = cr.HeatDutyKnown
	rg.CalcinationHeatDutyW = cr.HeatDuty
}
