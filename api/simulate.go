package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"lodestone/models"
	"lodestone/pipeline"
	"lodestone/plant"
	"lodestone/process/sx"
	"lodestone/store"
	"lodestone/twin"
	"lodestone/world"
)

// SXModelVersion names the process-twin engine that produced a result, so
// a result written to a twin can be traced to the code that made it.
const SXModelVersion = "lodestone/process/sx steady-state v1"

func (a *API) processRoutes() []Route {
	return []Route{
		{Pattern: "POST /digitaltwins/{id}/simulate", Handler: a.simulate, Summary: "Run the steady-state SX simulation of an SXCascade twin's spec (or a spec in the body) and write the results back to the cascade and its separation plant", Body: "SimulateRequest", Response: "SimulateResponse"},
	}
}

// SimulateRequest is the optional body of POST /digitaltwins/{id}/simulate:
// a spec in the SPEC.json format of `lodestone sx simulate` that replaces
// the twin's own for this run, and whether to write results back.
type SimulateRequest struct {
	Spec   json.RawMessage `json:"spec,omitempty"`
	DryRun bool            `json:"dryRun,omitempty"`
	// Link is the explicit scale-up that lets the result set the
	// separation plant's capacity; without it only the cascade is
	// written (PlantLink.Refused says why).
	Link *LinkRequest `json:"link,omitempty"`
}

// SimulateResponse is the full steady-state result and what was written to
// which twins.
type SimulateResponse struct {
	Twin         twin.ID            `json:"twin"`
	InputHash    string             `json:"inputHash"`
	ModelVersion string             `json:"modelVersion"`
	Result       *sx.Output         `json:"result"`
	Summary      SimulationSummary  `json:"summary"`
	Written      []twin.ID          `json:"written"`
	Assumptions  []string           `json:"assumptions"`
	Recovery     map[string]float64 `json:"recovery"`
	Purity       map[string]float64 `json:"purity"`
	// PlantLink reports the write-back to the cascade's separation plant
	// (absent when the cascade has none or on a dry run).
	PlantLink *PlantLink `json:"plantLink,omitempty"`
}

// SimulationSummary is what the process twin contributes to the other
// layers: the properties of SimulatedPerformance.
type SimulationSummary struct {
	ThroughputTonnesREOPerYear float64            `json:"throughputCapacityTonnesReoPerYear"`
	AcidKgPerTonneREO          float64            `json:"acidKgPerTonneReo"`
	BaseKgPerTonneREO          float64            `json:"baseKgPerTonneReo"`
	ExtractantKgPerTonneREO    float64            `json:"extractantMakeupKgPerTonneReo"`
	REOByElementTonnesPerYear  map[string]float64 `json:"reoByElementTonnesPerYear"`
}

// specFromTwin turns the "spec" property of an SXCascade twin into the
// SPEC.json of the sx engine. The twin keeps model parameters, which differ
// per equilibrium model, as JSON text in equilibrium.parametersJson; they
// are merged back into the equilibrium object here.
func specFromTwin(t twin.Twin) ([]byte, error) {
	raw, ok := t.Properties["spec"].(map[string]any)
	if !ok {
		return nil, badRequest("InvalidArgument", "twin %s has no spec property; set it (the SPEC.json of lodestone sx simulate) or send {\"spec\": …} in the body", t.ID)
	}
	spec := make(map[string]any, len(raw))
	for k, v := range raw {
		spec[k] = v
	}
	if eq, ok := spec["equilibrium"].(map[string]any); ok {
		merged := map[string]any{}
		for k, v := range eq {
			if k != "parametersJson" {
				merged[k] = v
			}
		}
		if pj, ok := eq["parametersJson"].(string); ok && pj != "" {
			var params map[string]any
			if err := json.Unmarshal([]byte(pj), &params); err != nil {
				return nil, badRequest("ValidationFailed", "spec.equilibrium.parametersJson: not a JSON object: %v", err)
			}
			for k, v := range params {
				merged[k] = v
			}
		}
		spec["equilibrium"] = merged
	}
	return json.Marshal(spec)
}

func (a *API) simulate(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	var req SimulateRequest
	if r.ContentLength != 0 {
		body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
		if err != nil {
			return err
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := decodeJSON(body, &req); err != nil {
				return err
			}
		}
	}
	// A twin the principal does not see is not found; a shared one is
	// simulated from what the share shows of it.
	t, iface, err := a.sourceTwin(r, id)
	if err != nil {
		return err
	}
	if !iface.IsAID(models.SXCascade) {
		return badRequest("InvalidArgument", "twin %s is a %s, not an SXCascade; only cascades can be simulated", id, t.Metadata.Model)
	}
	specJSON := []byte(req.Spec)
	if len(specJSON) == 0 {
		if specJSON, err = specFromTwin(t); err != nil {
			return err
		}
	}
	spec, err := sx.ParseSpec(specJSON)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "spec: " + err.Error(), Err: err}
	}
	c, err := spec.Case()
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "spec: " + err.Error(), Err: err}
	}
	res, solveErr := sx.Solve(r.Context(), c.Problem, nil)
	var ce *sx.ConvergenceError
	if solveErr != nil && !errors.As(solveErr, &ce) {
		return solveErr
	}
	out := c.Output(res)
	sum := sha256.Sum256(canonicalJSON(specJSON))
	resp := SimulateResponse{
		Twin:         id,
		InputHash:    "sha256:" + hex.EncodeToString(sum[:]),
		ModelVersion: SXModelVersion,
		Result:       out,
		Written:      []twin.ID{},
		Assumptions: []string{
			fmt.Sprintf("throughput capacity assumes continuous operation, %d h a year, at the simulated feed", sx.HoursPerYear),
			"REO is each rare earth's metal in the outlets reported as its oxide (process/chem, CeO2/Pr6O11/Tb4O7 in air)",
			"base is counted as NaOH; acid as HCl (chloride media) or H2SO4 (sulfate media)",
		},
	}
	resp.Summary, resp.Recovery, resp.Purity = summarise(out)
	if !req.DryRun {
		if err := a.writeBack(r.Context(), r, id, req.Link, &resp); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if ce != nil {
		// The best iterate and its residuals are returned with a
		// non-converged status, as the issue asks; nothing is hidden.
		resp.Assumptions = append(resp.Assumptions, "NOT CONVERGED: "+ce.Error())
	}
	if _, err := json.Marshal(resp); err != nil {
		// A diverged solve can leave non-finite numbers, which JSON cannot
		// carry; say so instead of failing with a 500.
		return &Error{Status: http.StatusUnprocessableEntity, Code: "SimulationFailed", Message: "the simulation produced non-finite values: " + strings.Join(resp.Assumptions, "; "), Err: err}
	}
	return writeJSON(w, status, resp)
}

// writeBack writes the SimulatedPerformance properties to the cascade and,
// through an explicit scale-up (link), the effective capacity to its
// separation plant. A link that fails its checks writes nothing.
func (a *API) writeBack(ctx context.Context, r *http.Request, id twin.ID, link *LinkRequest, resp *SimulateResponse) error {
	props := performancePatch(*resp, a.now())
	var plantPatch twin.Patch
	pid, hasPlant := a.plantOf(r, id)
	if hasPlant {
		pt, err := a.opts.Store.GetTwin(ctx, pid)
		if err != nil {
			return err
		}
		if rd := a.readerOf(ctx); !rd.all {
			pt, _ = rd.pol.ProjectTwin(rd.pr, pt) // plantOf checked it is visible
		}
		// A plant without an availability property gets the chain's
		// (PlantAvailability from its equipment's failure records), or
		// the chain's reason for having none.
		var chain *plant.AvailabilityResult
		if _, ok := pt.Properties["availability"]; !ok {
			chain, err = a.plantAvailabilityOf(ctx, pid, PlantAvailabilityRequest{})
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) {
					return err
				}
				chain = &plant.AvailabilityResult{Reason: "not computed: " + ae.Message}
			}
		}
		pl, patch, err := linkPlant(pt, id, link, resp, props, chain)
		if err != nil && link == nil {
			// Without a link the plant is not written anyway; a bad
			// figure (a zero throughput, a plant's bad availability) must
			// not fail the cascade's run.
			pl, patch, err = PlantLink{Plant: pid, MaxNameplateFactor: DefaultMaxNameplateFactor, Refused: "link: required to write the result to plant " + string(pid) + " (" + err.Error() + ")"}, nil, nil
		}
		if err != nil {
			return err
		}
		if link != nil && pl.Refused != "" {
			return &Error{Status: http.StatusBadRequest, Code: "LinkRefused", Message: pl.Refused,
				Details: []ErrorDetail{{Message: "outside the nameplate band", Path: strings.SplitN(pl.Refused, ":", 2)[0]}}}
		}
		resp.PlantLink, plantPatch = &pl, patch
	} else if link != nil {
		return badRequest("InvalidArgument", "link: cascade %s is the unit of no separation plant (hasUnit); there is no plant to link", id)
	}
	wctx := asWriteBack(ctx)
	if _, err := a.pipe.PatchTwin(wctx, id, props, store.Condition{}, ""); err != nil {
		return fmt.Errorf("write results to %s: %w", id, err)
	}
	resp.Written = append(resp.Written, id)
	if plantPatch != nil {
		if _, err := a.pipe.PatchTwin(wctx, pid, plantPatch, store.Condition{}, ""); err != nil {
			return fmt.Errorf("write results to %s: %w", pid, err)
		}
		resp.Written = append(resp.Written, pid)
		resp.PlantLink.Written = true
	}
	return nil
}

// plantOf finds the SeparationPlant whose hasUnit relationship points at
// the cascade.
func (a *API) plantOf(r *http.Request, cascade twin.ID) (twin.ID, bool) {
	in, err := a.opts.Store.ListIncomingRelationships(r.Context(), cascade)
	if err != nil {
		return "", false
	}
	// Only a plant the principal sees, through a relationship it sees.
	tc := a.newTwinCache(r.Context(), a.readerOf(r.Context()))
	for _, rel := range in {
		if rel.Name != "hasUnit" {
			continue
		}
		if _, ok, err := tc.relationship(rel); err != nil || !ok {
			continue
		}
		c, err := tc.get(rel.SourceID)
		if err != nil || !c.visible {
			continue
		}
		src := c.t
		if iface, _ := a.pipe.Models().Interface(src.Metadata.Model); iface != nil && iface.IsAID(models.SeparationPlant) {
			return rel.SourceID, true
		}
	}
	return "", false
}

// summarise reduces a cascade result to per-product recovery and purity
// (keys "organic_Nd", "aqueous_La", the shape of the twin's maps) and the
// REO throughput and reagent intensities of sx.Output.Performance.
func summarise(o *sx.Output) (SimulationSummary, map[string]float64, map[string]float64) {
	rec, pur := map[string]float64{}, map[string]float64{}
	for product, m := range o.Recovery {
		for el, v := range m {
			rec[product+"_"+el] = v
		}
	}
	for product, m := range o.Purity {
		for el, v := range m {
			pur[product+"_"+el] = v
		}
	}
	p := o.Performance()
	s := SimulationSummary{
		ThroughputTonnesREOPerYear: p.ThroughputTonnesREOPerYear,
		AcidKgPerTonneREO:          p.AcidKgPerTonneREO,
		BaseKgPerTonneREO:          p.BaseKgPerTonneREO,
		ExtractantKgPerTonneREO:    p.ExtractantKgPerTonneREO,
		REOByElementTonnesPerYear:  p.REOByElementTonnesPerYear,
	}
	return s, rec, pur
}

// performancePatch writes the SimulatedPerformance properties.
func performancePatch(r SimulateResponse, now time.Time) twin.Patch {
	add := func(name string, v any) twin.Operation { return twin.Operation{Op: "add", Path: "/" + name, Value: v} }
	// A reagent the model does not track (constant D has no proton
	// balance) comes out NaN; it is left out rather than written as 0.
	reagents := map[string]any{}
	for k, v := range map[string]float64{
		"acidKgPerTonneReo":             r.Summary.AcidKgPerTonneREO,
		"baseKgPerTonneReo":             r.Summary.BaseKgPerTonneREO,
		"extractantMakeupKgPerTonneReo": r.Summary.ExtractantKgPerTonneREO,
	} {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			reagents[k] = v
		}
	}
	return twin.Patch{
		add("recovery", anyMap(r.Recovery)),
		add("purity", anyMap(r.Purity)),
		add("throughputCapacityTonnesReoPerYear", r.Summary.ThroughputTonnesREOPerYear),
		add("reagentUse", reagents),
		add("converged", r.Result.Converged),
		add("modelVersion", r.ModelVersion),
		add("inputHash", r.InputHash),
		add("simulatedAt", now.UTC().Format(time.RFC3339Nano)),
	}
}

func anyMap(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// canonicalJSON re-encodes JSON with sorted keys so that equal specs hash
// equally whatever their key order.
func canonicalJSON(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, err := json.Marshal(v) // encoding/json sorts map keys
	if err != nil {
		return b
	}
	return out
}

// LinkRequest is the explicit scale-up that lets a process result set a
// separation plant's capacity (docs/formats/process-link.md). Either the
// number of trains (each running the simulated cascade at its simulated
// feed) or a design throughput per train is required; the other defaults
// to 1 train or the cascade's simulated feed. Every figure given takes a
// source; MaxNameplateFactor (default 5) bounds the result against the
// plant's nameplate capacityTonnesPerYear.
type LinkRequest struct {
	Trains                                   *float64 `json:"trains,omitempty"`
	TrainsSource                             string   `json:"trainsSource,omitempty"`
	DesignThroughputTonnesReoPerYearPerTrain *float64 `json:"designThroughputTonnesReoPerYearPerTrain,omitempty"`
	DesignThroughputSource                   string   `json:"designThroughputSource,omitempty"`
	ScaleUp                                  *float64 `json:"scaleUp,omitempty"`
	ScaleUpSource                            string   `json:"scaleUpSource,omitempty"`
	MaxNameplateFactor                       float64  `json:"maxNameplateFactor,omitempty"`
}

// PlantLink reports what the write-back did to the cascade's separation
// plant: the effective capacity with every term and its source, the
// capacity written to the plant (before availability, which the supply
// network applies from the plant's availability property), or why the
// plant was not written (Refused names the field).
type PlantLink struct {
	Plant   twin.ID `json:"plant"`
	Written bool    `json:"written"`
	Refused string  `json:"refused,omitempty"`
	// Capacity is plant.EffectiveCapacity of the link's terms.
	Capacity *plant.CapacityResult `json:"capacity,omitempty"`
	// ThroughputCapacityTonnesReoPerYear is what the plant twin's
	// throughputCapacityTonnesReoPerYear is set to: trains × design
	// throughput × recovery × scale-up.
	ThroughputCapacityTonnesReoPerYear float64 `json:"throughputCapacityTonnesReoPerYear,omitempty"`
	MaxNameplateFactor                 float64 `json:"maxNameplateFactor"`
}

// DefaultMaxNameplateFactor is LinkRequest.MaxNameplateFactor's default,
// the same as the supply network's (world.DefaultMaxNameplateFactor).
const DefaultMaxNameplateFactor = world.DefaultMaxNameplateFactor

// ComputedProperties are the properties only the simulate write-back sets
// (those of SimulatedPerformance, on cascades and separation plants); a
// PUT or PATCH by a user that changes one is refused (ComputedGuard).
var ComputedProperties = []string{"recovery", "purity", "throughputCapacityTonnesReoPerYear", "reagentUse", "converged", "modelVersion", "inputHash", "simulatedAt"}

type writeBackKey struct{}

// asWriteBack marks ctx as the simulate write-back's, which ComputedGuard
// lets set computed properties.
func asWriteBack(ctx context.Context) context.Context {
	return context.WithValue(ctx, writeBackKey{}, true)
}

// pipeModels is the pipeline's current model set, nil before the API has
// its pipeline.
func (a *API) pipeModels() *pipeline.Models {
	if a.pipe == nil {
		return nil
	}
	return a.pipe.Models()
}

// ComputedGuard is the pipeline hook that keeps computed properties for
// the simulate write-back: a twin write whose model extends
// SimulatedPerformance and that sets or changes one of
// ComputedProperties is refused with a 400 naming it. Removing one is
// allowed (the plant then falls back to its nameplate). Models gives the
// current model set (the pipeline's).
type ComputedGuard struct {
	Store  store.Store
	Models func() *pipeline.Models
}

// Check implements pipeline.Hook.
func (g ComputedGuard) Check(ctx context.Context, w *pipeline.Write) error {
	if w.Kind != store.KindTwin || w.Twin == nil || (w.Op != store.OpReplace && w.Op != store.OpPatch && w.Op != store.OpCreate) {
		return nil
	}
	if v, _ := ctx.Value(writeBackKey{}).(bool); v {
		return nil
	}
	if !hasAny(w.Twin.Properties, ComputedProperties) {
		return nil
	}
	ms := g.Models()
	if ms == nil {
		return nil
	}
	if iface, _ := ms.Interface(w.Twin.Metadata.Model); iface == nil || !iface.IsAID(models.SimulatedPerformance) {
		return nil
	}
	cur, err := g.Store.GetTwin(ctx, w.Twin.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	for _, p := range ComputedProperties {
		nv, ok := w.Twin.Properties[p]
		if !ok || jsonEqual(nv, cur.Properties[p]) {
			continue
		}
		return &Error{Status: http.StatusBadRequest, Code: "ComputedProperty",
			Message: fmt.Sprintf("property %s of twin %s is computed: only POST /digitaltwins/{cascade}/simulate sets it (remove it, or run the simulation)", p, w.Twin.ID),
			Details: []ErrorDetail{{Message: "computed by the process twin", Path: p}}}
	}
	return nil
}

// Committed implements pipeline.Hook.
func (ComputedGuard) Committed(context.Context, []store.Record) error { return nil }

func hasAny(m map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// linkPlant works out the plant's effective capacity from the link's
// scale-up and the plant twin (nameplate, availability), and the patch
// that writes it. A missing link or a result outside the nameplate band
// gives a PlantLink with Refused naming the field; bad link figures are a
// 400.
func linkPlant(p twin.Twin, cascade twin.ID, req *LinkRequest, resp *SimulateResponse, props twin.Patch, chain *plant.AvailabilityResult) (PlantLink, twin.Patch, error) {
	pl := PlantLink{Plant: p.ID, MaxNameplateFactor: DefaultMaxNameplateFactor}
	link := req
	if link == nil {
		link = &LinkRequest{}
	}
	if link.MaxNameplateFactor != 0 {
		f := link.MaxNameplateFactor
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 1 {
			return pl, nil, badRequest("ValidationFailed", "link.maxNameplateFactor: %v must be a finite number >= 1", f)
		}
		pl.MaxNameplateFactor = f
	}
	thr := resp.Summary.ThroughputTonnesREOPerYear
	src := func(s, def string) string {
		if s != "" {
			return s
		}
		return def
	}
	in := plant.CapacityInput{
		Trains:                   plant.Quantity{Value: 1, Source: "one train (link.trains not given)"},
		DesignThroughputPerTrain: plant.Quantity{Value: thr, Source: fmt.Sprintf("feed simulated by cascade %s (%s, %s), throughputCapacityTonnesReoPerYear", cascade, resp.ModelVersion, resp.InputHash)},
		Band:                     [2]float64{1 / pl.MaxNameplateFactor, pl.MaxNameplateFactor},
	}
	field := "link"
	if link.Trains != nil {
		in.Trains = plant.Quantity{Value: *link.Trains, Source: src(link.TrainsSource, "simulate request link.trains")}
		field = "link.trains"
	}
	if link.DesignThroughputTonnesReoPerYearPerTrain != nil {
		in.DesignThroughputPerTrain = plant.Quantity{Value: *link.DesignThroughputTonnesReoPerYearPerTrain, Source: src(link.DesignThroughputSource, "simulate request link.designThroughputTonnesReoPerYearPerTrain")}
		field = "link.designThroughputTonnesReoPerYearPerTrain"
	}
	if link.ScaleUp != nil {
		in.ScaleUp = plant.Quantity{Value: *link.ScaleUp, Source: src(link.ScaleUpSource, "simulate request link.scaleUp")}
	}
	rec, basis, err := world.Recovery(anyMap(resp.Recovery), nil, "recovery")
	if err != nil {
		return pl, nil, err
	}
	in.Recovery = plant.Quantity{Value: rec, Source: fmt.Sprintf("cascade %s (%s, %s): %s", cascade, resp.ModelVersion, resp.InputHash, basis)}
	in.Availability = plant.Quantity{Value: 1, Source: "no availability on plant twin " + string(p.ID) + ": 1 assumed"}
	switch {
	case chain != nil && chain.Computed:
		in.Availability = plant.Quantity{Value: *chain.Availability, Source: "computed from the equipment models of plant " + string(p.ID) + ": " + chain.Source}
	case chain != nil:
		in.Availability.Source = "no availability on plant twin " + string(p.ID) + " and none from its equipment models (" + chain.Reason + "): 1 assumed"
	}
	if v, ok := p.Properties["availability"]; ok {
		f, isNum := v.(float64)
		if !isNum || f < 0 || f > 1 {
			return pl, nil, badRequest("ValidationFailed", "plant %s: availability %v is not in [0, 1]", p.ID, v)
		}
		in.Availability = plant.Quantity{Value: f, Source: "plant twin " + string(p.ID) + " availability: " + propSource(p, "availability")}
	}
	if v, ok := p.Properties["capacityTonnesPerYear"].(float64); ok && v > 0 {
		in.Nameplate = &plant.Quantity{Value: v, Source: "plant twin " + string(p.ID) + " capacityTonnesPerYear: " + propSource(p, "capacityTonnesPerYear")}
	}
	res, err := plant.EffectiveCapacity(in)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "plant: ")
		return pl, nil, &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "link: " + msg, Err: err}
	}
	pl.Capacity = res
	switch {
	case req == nil:
		pl.Refused = fmt.Sprintf("link: required to write the result to plant %s: a process result feeds a plant only through an explicit scale-up (link.trains or link.designThroughputTonnesReoPerYearPerTrain); at the cascade's own scale (one train at its simulated feed %.4g t REO/yr) it gives %.4g t REO/yr", p.ID, thr, res.TonnesReoPerYear)
		if res.NameplateRatio != nil {
			pl.Refused += fmt.Sprintf(", %.3g times the nameplate capacityTonnesPerYear %.4g t/yr", *res.NameplateRatio, in.Nameplate.Value)
		}
		return pl, nil, nil
	case len(res.Warnings) > 0:
		pl.Refused = fmt.Sprintf("%s: %s (maxNameplateFactor %g)", field, res.Warnings[0], pl.MaxNameplateFactor)
		return pl, nil, nil
	}
	if in.Nameplate == nil {
		res.Warnings = append(res.Warnings, "plant "+string(p.ID)+" has no capacityTonnesPerYear: the result is not checked against a nameplate")
	}
	preAvail := 1.0
	var parts []string
	for _, t := range res.Terms {
		if t.Name == "availability" || t.Name == "nameplate" {
			continue
		}
		preAvail *= t.Value
		parts = append(parts, fmt.Sprintf("%s %.6g (%s)", t.Name, t.Value, t.Source))
	}
	pl.ThroughputCapacityTonnesReoPerYear = preAvail
	sources := map[string]any{}
	if m, ok := p.Properties["sources"].(map[string]any); ok {
		for k, v := range m {
			sources[k] = v
		}
	}
	sources["throughputCapacityTonnesReoPerYear"] = "trains × design_throughput_per_train × recovery × scale_up = " + strings.Join(parts, " × ") + "; the supply network multiplies in the availability property"
	patch := slices.Clone(props)
	for i := range patch {
		if patch[i].Path == "/throughputCapacityTonnesReoPerYear" {
			patch[i].Value = preAvail
		}
	}
	if chain != nil && chain.Computed {
		// The network multiplies in the plant's availability property:
		// the chain's value goes there, with its provenance.
		sources["availability"] = chain.Source
		patch = append(patch, twin.Operation{Op: "add", Path: "/availability", Value: *chain.Availability})
	}
	patch = append(patch, twin.Operation{Op: "add", Path: "/sources", Value: sources})
	return pl, patch, nil
}

// propSource is the citation of a twin's property: its sources entry, its
// source, or "no source on the twin".
func propSource(t twin.Twin, prop string) string {
	if m, ok := t.Properties["sources"].(map[string]any); ok {
		if s, _ := m[prop].(string); s != "" {
			return s
		}
	}
	if s, _ := t.Properties["source"].(string); s != "" {
		return s
	}
	return "no source on the twin"
}

// unlinkProcess removes what the write-back set on a separation plant when
// its hasUnit relationship to the cascade that produced the result (same
// inputHash) is deleted, so that the plant falls back to its nameplate.
// Called after the relationship's delete; errors are the caller's to log.
func (a *API) unlinkProcess(ctx context.Context, rel twin.Relationship) error {
	if rel.Name != "hasUnit" {
		return nil
	}
	p, err := a.opts.Store.GetTwin(ctx, rel.SourceID)
	if err != nil {
		return nil // gone: nothing to clear
	}
	iface, _ := a.pipe.Models().Interface(p.Metadata.Model)
	if iface == nil || !iface.IsAID(models.SeparationPlant) {
		return nil
	}
	h, _ := p.Properties["inputHash"].(string)
	c, err := a.opts.Store.GetTwin(ctx, rel.TargetID)
	if ch, _ := c.Properties["inputHash"].(string); err != nil || h == "" || ch != h {
		return nil
	}
	var pt twin.Patch
	for _, name := range ComputedProperties {
		if _, ok := p.Properties[name]; ok {
			pt = append(pt, twin.Operation{Op: "remove", Path: "/" + name})
		}
	}
	if m, ok := p.Properties["sources"].(map[string]any); ok {
		if _, ok := m["throughputCapacityTonnesReoPerYear"]; ok {
			pt = append(pt, twin.Operation{Op: "remove", Path: "/sources/throughputCapacityTonnesReoPerYear"})
		}
	}
	if len(pt) == 0 {
		return nil
	}
	_, err = a.pipe.PatchTwin(asWriteBack(ctx), p.ID, pt, store.Condition{}, "")
	return err
}
