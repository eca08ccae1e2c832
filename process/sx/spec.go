package sx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"lodestone/process/chem"
)

// Spec is the JSON specification of `lodestone sx simulate`
// (docs/formats/sx-simulate.md). Concentrations are mg/L keyed by element
// symbol or species name, flows L/h.
type Spec struct {
	Stages       *int        `json:"stages"`
	TemperatureK *float64    `json:"temperature_K"`
	Media        *string     `json:"media"`
	Inlets       []SpecInlet `json:"inlets"`
	Equilibrium  *SpecModel  `json:"equilibrium"`
	// Ka2 overrides DefaultKa2 (mol/L), sulfate media only.
	Ka2 *float64 `json:"ka2_mol_per_L,omitempty"`
	// MolarMass overrides the molar masses (g/mol) used to convert mg/L,
	// e.g. {"H": 1, "HSO4": 97} to reproduce PrOMMiS, whose property
	// packages round them.
	MolarMass map[string]float64 `json:"molar_mass_g_per_mol,omitempty"`
}

// SpecInlet is one inlet stream of a Spec.
type SpecInlet struct {
	Name   string             `json:"name,omitempty"`
	Phase  *string            `json:"phase"`
	Stage  *int               `json:"stage"`
	Flow   *float64           `json:"flow_L_per_h"`
	MgPerL map[string]float64 `json:"mg_per_L"`
}

// SpecModel selects and parameterises the equilibrium model.
type SpecModel struct {
	Model *string `json:"model"`
	// constant: D per component; sites_per_charge is ν (default 1).
	D              map[string]float64 `json:"D,omitempty"`
	SitesPerCharge *float64           `json:"sites_per_charge,omitempty"`
	// prommis-dehpa: a fixed dosage in % v/v; absent means per stage from
	// the free DEHPA.
	DosagePercent *float64 `json:"dosage_percent,omitempty"`
	// mass-action: log10 K_ex per component (counter-ions included).
	LogK map[string]float64 `json:"log_K,omitempty"`
}

// SpecError is a problem with a Spec, naming the offending field.
type SpecError struct {
	Field string // JSON path, e.g. "inlets[2].stage"
	Msg   string
}

// Error returns "sx: spec: FIELD: MSG".
func (e *SpecError) Error() string {
	if e.Field == "" {
		return "sx: spec: " + e.Msg
	}
	return "sx: spec: " + e.Field + ": " + e.Msg
}

func specErr(field, format string, args ...any) *SpecError {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ParseSpec decodes a Spec strictly: unknown fields, trailing data and
// values of the wrong type are errors that name the field.
func ParseSpec(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, jsonSpecError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, specErr("", "trailing data after the JSON object")
	}
	return &s, nil
}

func jsonSpecError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return specErr(te.Field, "cannot use a JSON %s here (want %v)", te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return specErr("", "invalid JSON at byte %d: %v", se.Offset, err)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return specErr(strings.Trim(f, `"`), "unknown field")
	}
	return specErr("", "%v", err)
}

// Case is a Spec turned into an engine Problem, with what is needed to
// report the result in mg/L.
type Case struct {
	Problem    Problem
	Model      string             // model name of the spec
	Extractant string             // name of the extractant species ("" if none)
	Spectators []string           // aqueous anions carried but not modelled (Cl, NO3, …)
	MolarMass  map[string]float64 // g/mol of every key reported
	spectIn    []map[string]float64
	temp       float64
}

// acidKeys and spectatorKeys are the aqueous non-metal species a spec may
// carry; H, HSO4 and SO4 are modelled, the others ride along with the
// aqueous flow.
//
//lodestone:readonly
var (
	acidKeys      = map[string]bool{"H": true, "HSO4": true, "SO4": true}
	spectatorKeys = map[string]bool{"Cl": true, "NO3": true, "H2C2O4": true, "HC2O4": true, "C2O4": true, "OH": true}
)

// Case validates the spec and builds the cascade problem. Fields are checked
// in a fixed order, so of several problems the same one is reported first
// (except among the keys of one map, which are visited in map order).
func (s *Spec) Case() (*Case, error) {
	b := &caseBuilder{s: s, c: &Case{MolarMass: map[string]float64{}}}
	if err := b.header(); err != nil {
		return nil, err
	}
	compSet, err := b.checkInlets()
	if err != nil {
		return nil, err
	}
	if len(compSet) == 0 {
		return nil, specErr("inlets", "no metal in any inlet")
	}
	b.components(compSet)
	p := Problem{Stages: *s.Stages, Components: b.comps, Media: b.media}
	if s.Ka2 != nil {
		if v := *s.Ka2; !(v > 0) || math.IsInf(v, 0) {
			return nil, specErr("ka2_mol_per_L", "%v, want a positive value", v)
		}
		p.Ka2 = *s.Ka2
	}
	b.inlets(&p) // in mol/L
	if err := b.model(&p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, specErr("", "%s", strings.TrimPrefix(err.Error(), "sx: "))
	}
	b.c.Problem = p
	return b.c, nil
}

// caseBuilder holds what the steps of Spec.Case share.
type caseBuilder struct {
	s     *Spec
	c     *Case
	media Media
	names []string       // components, sorted
	comps []Component    // in names order
	idx   map[string]int // index of each component in names
}

// molarMass returns the molar mass of a key of the spec (g/mol): the
// override of molar_mass_g_per_mol, else the species' or extractant's, else 0.
func (s *Spec) molarMass(key string) float64 {
	if v, ok := s.MolarMass[key]; ok {
		return v
	}
	sp, err := chem.LookupSpecies(key)
	if err != nil {
		if x, err := chem.LookupExtractant(key); err == nil {
			return x.MolarMass
		}
		return 0
	}
	return sp.MolarMass()
}

// header checks the molar-mass overrides and the scalar fields, and that the
// inlets and the equilibrium model are given. Maps are checked in sorted key
// order here and below, so that of several bad keys the same one is
// reported every time.
func (b *caseBuilder) header() error {
	s := b.s
	for _, k := range slices.Sorted(maps.Keys(s.MolarMass)) {
		if v := s.MolarMass[k]; !(v > 0) || math.IsInf(v, 0) {
			return specErr("molar_mass_g_per_mol."+k, "%v, want a positive value", v)
		}
	}
	if s.Stages == nil {
		return specErr("stages", "missing")
	}
	if *s.Stages < 1 || *s.Stages > 10000 {
		return specErr("stages", "%d is out of range 1..10000", *s.Stages)
	}
	if s.TemperatureK == nil {
		return specErr("temperature_K", "missing")
	}
	if t := *s.TemperatureK; !(t > 0) || math.IsInf(t, 0) {
		return specErr("temperature_K", "%v, want a positive temperature", t)
	}
	b.c.temp = *s.TemperatureK
	if s.Media == nil {
		return specErr("media", "missing")
	}
	switch *s.Media {
	case "sulfate":
		b.media = Sulfate
	case "chloride":
		b.media = Chloride
	default:
		return specErr("media", "%q is neither \"sulfate\" nor \"chloride\"", *s.Media)
	}
	if len(s.Inlets) == 0 {
		return specErr("inlets", "missing")
	}
	if s.Equilibrium == nil {
		return specErr("equilibrium", "missing")
	}
	if s.Equilibrium.Model == nil {
		return specErr("equilibrium.model", "missing")
	}
	return nil
}

// checkInlets checks each inlet and returns the set of components, the
// metals and counter-ions named in any inlet. It records the extractant.
func (b *caseBuilder) checkInlets() (map[string]bool, error) {
	s := b.s
	compSet := map[string]bool{}
	for i, in := range s.Inlets {
		f := fmt.Sprintf("inlets[%d]", i)
		if in.Phase == nil {
			return nil, specErr(f+".phase", "missing")
		}
		if *in.Phase != "aqueous" && *in.Phase != "organic" {
			return nil, specErr(f+".phase", "%q is neither \"aqueous\" nor \"organic\"", *in.Phase)
		}
		if in.Stage == nil {
			return nil, specErr(f+".stage", "missing")
		}
		if *in.Stage < 1 || *in.Stage > *s.Stages {
			return nil, specErr(f+".stage", "%d is out of range 1..%d", *in.Stage, *s.Stages)
		}
		if in.Flow == nil {
			return nil, specErr(f+".flow_L_per_h", "missing")
		}
		if v := *in.Flow; v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, specErr(f+".flow_L_per_h", "%v is negative or not finite", v)
		}
		if in.MgPerL == nil {
			return nil, specErr(f+".mg_per_L", "missing")
		}
		for _, k := range slices.Sorted(maps.Keys(in.MgPerL)) {
			v := in.MgPerL[k]
			fk := f + ".mg_per_L." + k
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, specErr(fk, "%v is negative or not finite", v)
			}
			switch {
			case acidKeys[k] || spectatorKeys[k]:
				if *in.Phase == "organic" {
					return nil, specErr(fk, "aqueous species in an organic inlet")
				}
				if b.media == Chloride && (k == "HSO4" || k == "SO4") {
					return nil, specErr(fk, "sulfate species in chloride media")
				}
			case isExtractant(k):
				if *in.Phase == "aqueous" {
					return nil, specErr(fk, "extractant in an aqueous inlet")
				}
				x, _ := chem.LookupExtractant(k)
				if b.c.Extractant != "" && b.c.Extractant != x.Name {
					return nil, specErr(fk, "a second extractant (%s is already used)", b.c.Extractant)
				}
				b.c.Extractant = x.Name
				b.c.MolarMass[k] = s.molarMass(k)
			case k == "Na" || k == "NH4":
				compSet[k] = true
			default:
				e, err := chem.Lookup(k)
				if err != nil || e.Valence == 0 {
					return nil, specErr(fk, "unknown element or species %q", k)
				}
				compSet[k] = true
			}
		}
	}
	return compSet, nil
}

// components orders the components by name and records the molar masses
// reported.
func (b *caseBuilder) components(compSet map[string]bool) {
	s := b.s
	b.names = make([]string, 0, len(compSet))
	for k := range compSet {
		b.names = append(b.names, k)
	}
	sort.Strings(b.names)
	b.comps = make([]Component, len(b.names))
	b.idx = map[string]int{}
	for i, n := range b.names {
		b.idx[n] = i
		m := s.molarMass(n)
		if n == "Na" || n == "NH4" {
			b.comps[i] = Component{Name: n, Charge: 1, MolarMass: m, CounterIon: true}
			continue
		}
		e := chem.MustLookup(n)
		b.comps[i] = Component{Name: n, Charge: e.Valence, MolarMass: m}
	}
	for _, k := range []string{"H", "HSO4", "SO4"} {
		b.c.MolarMass[k] = s.molarMass(k)
	}
	for _, n := range b.names {
		b.c.MolarMass[n] = s.molarMass(n)
	}
}

// inlets converts the inlets to mol/L and sorts the spectators out.
func (b *caseBuilder) inlets(p *Problem) {
	s := b.s
	spect := map[string]bool{}
	for _, in := range s.Inlets {
		pin := Inlet{Name: in.Name, Stage: *in.Stage, Flow: *in.Flow, Conc: make([]float64, len(b.comps))}
		sp := map[string]float64{}
		if *in.Phase == "aqueous" {
			pin.Phase = Aqueous
		} else {
			pin.Phase = Organic
		}
		for k, v := range in.MgPerL {
			mol := v / 1000 / s.molarMass(k)
			switch {
			case k == "H":
				pin.H = mol
			case k == "HSO4":
				pin.HSO4 = mol
			case k == "SO4":
				pin.SO4 = mol
			case spectatorKeys[k]:
				sp[k] = mol
				spect[k] = true
				b.c.MolarMass[k] = s.molarMass(k)
			case isExtractant(k):
				pin.Extractant = mol
			default:
				pin.Conc[b.idx[k]] = mol
			}
		}
		b.c.spectIn = append(b.c.spectIn, sp)
		p.Inlets = append(p.Inlets, pin)
	}
	for k := range spect {
		b.c.Spectators = append(b.c.Spectators, k)
	}
	sort.Strings(b.c.Spectators)
}

// model builds the equilibrium model.
func (b *caseBuilder) model(p *Problem) error {
	s := b.s
	em := s.Equilibrium
	b.c.Model = *em.Model
	onlyFor := func(model string, set bool, field string) error {
		if set && b.c.Model != model {
			return specErr("equilibrium."+field, "only used by the %q model", model)
		}
		return nil
	}
	for _, chk := range []error{
		onlyFor("constant", em.D != nil, "D"), onlyFor("constant", em.SitesPerCharge != nil, "sites_per_charge"),
		onlyFor("prommis-dehpa", em.DosagePercent != nil, "dosage_percent"), onlyFor("mass-action", em.LogK != nil, "log_K"),
	} {
		if chk != nil {
			return chk
		}
	}
	switch b.c.Model {
	case "constant":
		d, err := b.perComp("D", em.D)
		if err != nil {
			return err
		}
		for i, v := range d {
			if v < 0 {
				return specErr("equilibrium.D."+b.names[i], "%v is negative", v)
			}
		}
		m := Constant{D: d}
		if em.SitesPerCharge != nil {
			if v := *em.SitesPerCharge; !(v > 0) || math.IsInf(v, 0) {
				return specErr("equilibrium.sites_per_charge", "%v, want a positive value", v)
			}
			m.Sites = *em.SitesPerCharge
		}
		p.Model = m
	case "prommis-dehpa":
		if b.c.Extractant != "" && b.c.Extractant != "DEHPA" {
			return specErr("equilibrium.model", "prommis-dehpa needs DEHPA, the inlets carry %s", b.c.Extractant)
		}
		m, err := NewPrommisDEHPA(b.comps)
		if err != nil {
			return specErr("equilibrium.model", "%v", strings.TrimPrefix(err.Error(), "sx: "))
		}
		if em.DosagePercent != nil {
			if v := *em.DosagePercent; !(v > 0) || math.IsInf(v, 0) {
				return specErr("equilibrium.dosage_percent", "%v, want a positive value", v)
			}
			m.Dosage = *em.DosagePercent
		}
		p.Model = m
	case "mass-action":
		lk, err := b.perComp("log_K", em.LogK)
		if err != nil {
			return err
		}
		p.Model = MassAction{LogK: lk}
	default:
		return specErr("equilibrium.model", "%q is not one of \"constant\", \"prommis-dehpa\", \"mass-action\"", b.c.Model)
	}
	return nil
}

// perComp returns a per-component value of the model, every component given.
// Of several bad keys it reports the first in sorted order.
func (b *caseBuilder) perComp(field string, m map[string]float64) ([]float64, error) {
	out := make([]float64, len(b.comps))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		i, ok := b.idx[k]
		if !ok {
			return nil, specErr("equilibrium."+field+"."+k, "%q is not a component of any inlet", k)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, specErr("equilibrium."+field+"."+k, "%v is not finite", v)
		}
		out[i] = v
	}
	for _, n := range b.names {
		if _, ok := m[n]; !ok {
			return nil, specErr("equilibrium."+field+"."+n, "missing")
		}
	}
	return out, nil
}

func isExtractant(k string) bool {
	_, err := chem.LookupExtractant(k)
	return err == nil
}
