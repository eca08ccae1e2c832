package world

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"lodestone/models"
	"lodestone/supply"
	"lodestone/twin"
)

// GraphOptions holds the knobs of NetworkFromTwins. The zero value gives a
// per-day network that takes separation plants' capacity and recovery from
// their process-twin results when present.
type GraphOptions struct {
	// PerYear keeps quantities per year; the default divides annual figures
	// by 365 (the unit of `lodestone supply run`), as World.Network does.
	PerYear bool
	// StockpileTonnes overrides the holdings of stockpile twins, in tonnes
	// (their inventoryTonnes property otherwise; 0 when absent).
	StockpileTonnes map[supply.NodeID]float64
	// DefaultTTRPeriods sets the network's default_ttr_periods.
	DefaultTTRPeriods float64
	// IgnoreProcess keeps the facility figures of separation plants even
	// when process-twin results are present.
	IgnoreProcess bool
	// RecoveryElements restricts the recovery taken from a process-twin
	// result to these elements ("Nd", "Pr"); empty means every element of
	// the result.
	RecoveryElements []string
	// Materials maps a material code to the elements it contains, which
	// name the arc's material for export controls ("RE-metal (Nd Pr Dy
	// Tb)"). Nil uses the default world's catalogue; codes it lacks take
	// the keys of their Material twin's composition.
	Materials map[string][]string
	// Description names the network (for example the snapshot time).
	Description string
	// MaxNameplateFactor bounds how far a process-twin capacity may sit
	// from the plant's nameplate (capacityTonnesPerYear) and still be
	// used: within [nameplate / f, nameplate × f]. Zero means
	// DefaultMaxNameplateFactor.
	MaxNameplateFactor float64
}

// DefaultMaxNameplateFactor is the default of
// GraphOptions.MaxNameplateFactor: a plant-scale result within 5× of the
// nameplate is plausible (derating, debottlenecking); a bench-scale run
// (2.95 t/yr against Lynas's 19,500) is not (docs/formats/process-link.md).
const DefaultMaxNameplateFactor = 5

// ProcessLink reports how a separation plant's process-twin results
// entered the network, with their provenance.
type ProcessLink struct {
	Node supply.NodeID `json:"node"`
	// Cascade is the process twin (the target of the plant's hasUnit
	// relationship) whose inputHash the plant's result carries; empty when
	// none is linked, and the result is then not used.
	Cascade string `json:"cascade,omitempty"`
	// Provenance is the plant's sources entry for the capacity, written
	// by the simulate route's scale-up (trains × design throughput ×
	// recovery × scale-up, each with its source).
	Provenance string `json:"provenance,omitempty"`
	// Used is false when the result was present but not used (Why says why).
	Used bool   `json:"used"`
	Why  string `json:"why,omitempty"`
	// FacilityCapacityTonnesPerYear is the plant twin's own capacity and
	// CapacityTonnesPerYear the process twin's throughput used instead.
	FacilityCapacityTonnesPerYear float64 `json:"facility_capacity_tonnes_per_year"`
	CapacityTonnesPerYear         float64 `json:"capacity_tonnes_per_year"`
	// Recovery is the share of the feed's REO that reaches a product (1
	// when the result has none); the plant's input ratios are divided by it.
	Recovery      float64 `json:"recovery"`
	RecoveryBasis string  `json:"recovery_basis"`
	Converged     bool    `json:"converged"`
	ModelVersion  string  `json:"model_version,omitempty"`
	InputHash     string  `json:"input_hash,omitempty"`
	SimulatedAt   string  `json:"simulated_at,omitempty"`
}

// GraphNetwork is a supply network built from the twin graph, with the
// provenance of the process-twin figures it used and what it left out.
type GraphNetwork struct {
	Network *supply.Network `json:"network"`
	Process []ProcessLink   `json:"process,omitempty"`
	// Skipped lists relationships or properties not used, with the reason.
	Skipped []string `json:"skipped,omitempty"`
}

// modelStage maps an ontology interface to the supply stage of its twins
// (the inverse of stageModel; AlloyMaker makes metal-stage products).
func modelStage(model string) (string, bool) {
	if model == models.AlloyMaker {
		return supply.StageMetal, true
	}
	for stage, m := range stageModel {
		if m == model {
			return stage, true
		}
	}
	return "", false
}

// defaultMaterials holds the element lists of the default world's
// materials, read once; callers must not modify the map.
var defaultMaterials = sync.OnceValue(defaultMaterialElements)

// defaultMaterialElements returns the element lists of the default world's
// materials and grades by code.
func defaultMaterialElements() map[string][]string {
	out := map[string][]string{}
	w, err := Load()
	if err != nil {
		return out // the embedded data is checked by the package's tests
	}
	for _, m := range w.Materials {
		out[m.Code] = m.Elements
	}
	for i := range w.Grades {
		out[w.Grades[i].Code] = gradeElements(&w.Grades[i])
	}
	return out
}

// NetworkFromTwins builds a supply network from facility twins (Mine,
// Concentrator, SeparationPlant, MetalRefinery, AlloyMaker, MagnetPlant, OEM,
// Stockpile, Warehouse) and their feeds relationships, such as a snapshot of
// the twin graph as of a date. The network is in canonical order
// (SortNetwork), whatever the order of twins and relationships, so that a
// run does not depend on how a store lists them; World.Twins gives back
// World.Network in that order.
//
// A node takes capacityTonnesPerYear (an OEM: its magnetDemandTonnesPerYear,
// as capacity and demand, and lostDemandCostUsdPerTonne as its loss per
// unit, 1 when absent), inventoryTonnes, and its country from the isoCode of
// the Country twin it is locatedIn ("ROW" without one). An arc takes the
// feeds edge's ratio (required), materialCode, leadTimeDays and standby (a
// lane that carries nothing until an organisation rule puts it into
// service); the edge's tonnesPerYear is reported in Skipped, as supply
// lanes have no capacity.
// A facility's availability (0..1, from its plant twin) scales its capacity.
//
// A separation plant with converged process-twin results
// (SimulatedPerformance: throughputCapacityTonnesReoPerYear, recovery) takes
// that throughput as its capacity, and the ratios of its inputs are divided
// by the recovery: the mean over elements of the best recovery of each
// element to any product ("organic_Nd", "aqueous_Nd" → Nd), but only while
// the plant has a hasUnit relationship to the process twin carrying the
// same inputHash (removing the link gives back the nameplate) and the
// throughput is within MaxNameplateFactor of capacityTonnesPerYear (a
// bench-scale run is refused; the simulate route's explicit scale-up makes
// a plant-scale figure, docs/formats/process-link.md). Each such plant is
// reported in Process with the result's inputHash, modelVersion, the
// linked cascade, the capacity's provenance, and why it was not used.
// Bad input is a *FieldError naming the twin or relationship and property.
func NetworkFromTwins(twins []twin.Twin, rels []twin.Relationship, opts *GraphOptions) (*GraphNetwork, error) {
	var o GraphOptions
	if opts != nil {
		o = *opts
	}
	per := float64(daysPerYear)
	unit := "tonnes per day = annual / 365"
	if o.PerYear {
		per, unit = 1, "tonnes per year"
	}
	mats := o.Materials
	if mats == nil {
		mats = defaultMaterials()
	}
	byID := make(map[twin.ID]*twin.Twin, len(twins))
	for i := range twins {
		byID[twins[i].ID] = &twins[i]
	}
	country := map[twin.ID]string{}
	for _, r := range rels {
		if r.Name != "locatedIn" {
			continue
		}
		if c := byID[r.TargetID]; c != nil {
			if iso, _ := c.Properties["isoCode"].(string); iso != "" {
				country[r.SourceID] = iso
			}
		}
	}
	desc := o.Description
	if desc == "" {
		desc = "twin graph"
	}
	g := &GraphNetwork{Network: &supply.Network{Description: desc + " (" + unit + ")", DefaultTTRPeriods: o.DefaultTTRPeriods}}
	recovery := map[twin.ID]float64{}
	nodes := map[twin.ID]bool{}
	units := map[twin.ID][]twin.ID{}
	for _, r := range rels {
		if r.Name == "hasUnit" {
			units[r.SourceID] = append(units[r.SourceID], r.TargetID)
		}
	}
	factor := o.MaxNameplateFactor
	if factor == 0 {
		factor = DefaultMaxNameplateFactor
	}
	if math.IsNaN(factor) || math.IsInf(factor, 0) || factor < 1 {
		return nil, fieldErr("max_nameplate_factor", "must be a finite number >= 1, got %v", factor)
	}
	for i := range twins {
		t := &twins[i]
		stage, ok := modelStage(t.Metadata.Model)
		if !ok {
			continue
		}
		field := func(p string) string { return "twins[" + string(t.ID) + "]." + p }
		num := func(p string) (float64, bool, error) {
			v, ok := t.Properties[p]
			if !ok || v == nil {
				return 0, false, nil
			}
			f, isNum := toFloat(v)
			if !isNum || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				return 0, true, fieldErr(field(p), "must be a finite number >= 0, got %v", v)
			}
			return f, true, nil
		}
		capY, _, err := num("capacityTonnesPerYear")
		if err != nil {
			return nil, err
		}
		inv, _, err := num("inventoryTonnes")
		if err != nil {
			return nil, err
		}
		n := supply.Node{
			ID: supply.NodeID(t.ID), Stage: stage, Country: cmpOr(country[t.ID], "ROW"),
			CapacityPerPeriod: capY / per, Inventory: inv, Source: twinSource(t),
		}
		switch stage {
		case supply.StageOEM:
			d, _, err := num("magnetDemandTonnesPerYear")
			if err != nil {
				return nil, err
			}
			n.DemandPerPeriod = d / per
			n.CapacityPerPeriod = n.DemandPerPeriod
			n.LossPerUnit = 1
			if l, ok, err := num("lostDemandCostUsdPerTonne"); err != nil {
				return nil, err
			} else if ok {
				n.LossPerUnit = l
			}
		case supply.StageStockpile:
			if v, ok := o.StockpileTonnes[n.ID]; ok {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					return nil, fieldErr("stockpile_tonnes["+string(n.ID)+"]", "must be a finite number >= 0")
				}
				n.Inventory = v
			}
		case supply.StageSeparation:
			if !o.IgnoreProcess {
				link, ok, err := processLink(t, capY, o.RecoveryElements)
				if err != nil {
					return nil, err
				}
				if ok && link.Used {
					checkLink(&link, t, linkedCascade(t, units[t.ID], byID), factor)
				}
				if ok {
					if link.Used {
						n.CapacityPerPeriod = link.CapacityTonnesPerYear / per
						recovery[t.ID] = link.Recovery
						n.Source += fmt.Sprintf("; capacity and recovery from the process twin %s (%s, %s)", link.Cascade, link.ModelVersion, link.InputHash)
						if link.Provenance != "" {
							n.Source += ": " + link.Provenance
						}
					}
					g.Process = append(g.Process, link)
				}
			}
		}
		if av, ok := t.Properties["availability"]; ok && stage != supply.StageOEM {
			f, isNum := toFloat(av)
			if !isNum || math.IsNaN(f) || f < 0 || f > 1 {
				return nil, fieldErr(field("availability"), "must be in [0, 1], got %v", av)
			}
			n.CapacityPerPeriod *= f
			n.Source += fmt.Sprintf("; capacity x availability %g (plant twin)", f)
		}
		nodes[t.ID] = true
		g.Network.Nodes = append(g.Network.Nodes, n)
	}
	for _, id := range slices.Sorted(maps.Keys(o.StockpileTonnes)) {
		if i := slices.IndexFunc(g.Network.Nodes, func(n supply.Node) bool { return n.ID == id }); i < 0 || g.Network.Nodes[i].Stage != supply.StageStockpile {
			return nil, fieldErr("stockpile_tonnes["+string(id)+"]", "not a stockpile twin of the graph")
		}
	}
	for i, r := range rels {
		if r.Name != "feeds" {
			continue
		}
		field := func(p string) string {
			id := r.ID
			if id == "" {
				id = fmt.Sprint(i)
			}
			return "relationships[" + id + "]." + p
		}
		if !nodes[r.SourceID] || !nodes[r.TargetID] {
			g.Skipped = append(g.Skipped, fmt.Sprintf("%s: feeds %s -> %s: an end is not a facility twin", field("$targetId"), r.SourceID, r.TargetID))
			continue
		}
		rv, ok := r.Properties["ratio"]
		if !ok {
			return nil, fieldErr(field("ratio"), "required: the tonnes of the material per tonne of the receiving node's output")
		}
		ratio, isNum := toFloat(rv)
		if !isNum || math.IsNaN(ratio) || math.IsInf(ratio, 0) || ratio <= 0 {
			return nil, fieldErr(field("ratio"), "must be a finite number > 0, got %v", rv)
		}
		if rec, ok := recovery[r.TargetID]; ok {
			ratio /= rec
		}
		a := supply.Arc{From: supply.NodeID(r.SourceID), To: supply.NodeID(r.TargetID), Ratio: ratio, Source: "twin graph: relationship " + r.ID}
		if code, _ := r.Properties["materialCode"].(string); code != "" {
			els := mats[code]
			if els == nil {
				if m := byID[MaterialTwinID(code)]; m != nil {
					if comp, ok := m.Properties["composition"].(map[string]any); ok {
						els = slices.Sorted(maps.Keys(comp))
					}
				}
			}
			a.Material = code
			if len(els) > 0 {
				a.Material = arcMaterial(code, els)
			}
		}
		if lv, ok := r.Properties["leadTimeDays"]; ok {
			l, isNum := toFloat(lv)
			if !isNum || math.IsNaN(l) || l < 0 || l > 1e6 {
				return nil, fieldErr(field("leadTimeDays"), "must be a number of days >= 0, got %v", lv)
			}
			a.LeadTimeDays = int(math.Round(l))
		}
		if sv, ok := r.Properties["standby"]; ok {
			b, isBool := sv.(bool)
			if !isBool {
				return nil, fieldErr(field("standby"), "must be true or false, got %v", sv)
			}
			a.Standby = b
		}
		if tv, ok := r.Properties["tonnesPerYear"]; ok {
			g.Skipped = append(g.Skipped, fmt.Sprintf("%s = %v: not used (supply lanes have no capacity)", field("tonnesPerYear"), tv))
		}
		g.Network.Arcs = append(g.Network.Arcs, a)
	}
	dropUnconnected(g)
	SortNetwork(g.Network)
	if len(g.Network.Nodes) == 0 {
		return nil, fieldErr("twins", "no facility twin (Mine, SeparationPlant, MetalRefinery, MagnetPlant, OEM, …) in the graph")
	}
	if err := g.Network.Validate(); err != nil {
		return nil, fmt.Errorf("world: network from twins: %w", err)
	}
	return g, nil
}

// dropUnconnected leaves out facilities that take part in no feeds edge,
// such as the demo's reference separation plant (a detailed plant twin,
// not a node of the trade network): they can neither supply nor be
// supplied, so as nodes they would only add capacity nobody can use. An
// OEM stays even alone, since its demand is then all lost. Each one left
// out is reported in Skipped.
func dropUnconnected(g *GraphNetwork) {
	linked := map[supply.NodeID]bool{}
	for _, a := range g.Network.Arcs {
		linked[a.From], linked[a.To] = true, true
	}
	if len(linked) == 0 {
		return
	}
	g.Network.Nodes = slices.DeleteFunc(g.Network.Nodes, func(n supply.Node) bool {
		if linked[n.ID] || n.Stage == supply.StageOEM {
			return false
		}
		g.Skipped = append(g.Skipped, fmt.Sprintf("twins[%s]: a %s facility with no feeds relationship: left out of the network", n.ID, n.Stage))
		return true
	})
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// twinSource summarises a twin's provenance for the node's source.
func twinSource(t *twin.Twin) string {
	s := "twin " + string(t.ID)
	if src, _ := t.Properties["source"].(string); src != "" {
		s += ": " + src
	}
	return s
}

// processLink reads a separation plant's SimulatedPerformance properties.
// ok is false when the twin has no process-twin result.
func processLink(t *twin.Twin, facilityCap float64, elements []string) (ProcessLink, bool, error) {
	tv, ok := t.Properties["throughputCapacityTonnesReoPerYear"]
	if !ok {
		return ProcessLink{}, false, nil
	}
	field := "twins[" + string(t.ID) + "]."
	thr, isNum := toFloat(tv)
	if !isNum || math.IsNaN(thr) || math.IsInf(thr, 0) || thr < 0 {
		return ProcessLink{}, false, fieldErr(field+"throughputCapacityTonnesReoPerYear", "must be a finite number >= 0, got %v", tv)
	}
	l := ProcessLink{Node: supply.NodeID(t.ID), FacilityCapacityTonnesPerYear: facilityCap, CapacityTonnesPerYear: thr, Recovery: 1}
	l.ModelVersion, _ = t.Properties["modelVersion"].(string)
	l.InputHash, _ = t.Properties["inputHash"].(string)
	l.SimulatedAt, _ = t.Properties["simulatedAt"].(string)
	conv, hasConv := t.Properties["converged"].(bool)
	l.Converged = conv || !hasConv
	if rm, ok := t.Properties["recovery"].(map[string]any); ok {
		rec, basis, err := Recovery(rm, elements, field+"recovery")
		if err != nil {
			return ProcessLink{}, false, err
		}
		l.Recovery, l.RecoveryBasis = rec, basis
	} else {
		l.Recovery, l.RecoveryBasis = 1, "no recovery in the result: 1"
	}
	switch {
	case hasConv && !conv:
		l.Why = "the process-twin run did not converge; the facility figures are kept"
	case thr == 0:
		l.Why = "the process twin's throughput is 0; the facility figures are kept"
	case l.Recovery <= 0:
		l.Why = "the process twin's recovery is 0; the facility figures are kept"
	default:
		l.Used = true
	}
	return l, true, nil
}

// Recovery reduces a SimulatedPerformance recovery map (keys
// "organic_Nd", "aqueous_Nd" or "Nd") to one share of the feed's REO that
// reaches a product: the mean over elements (restricted to elements when
// not empty) of each element's best recovery to any product. It is 1 with
// the basis "no recovery in the result: 1" when nothing is left. Bad
// values are a *FieldError on field.key.
func Recovery(rm map[string]any, elements []string, field string) (float64, string, error) {
	best := map[string]float64{}
	for k, v := range rm {
		f, isNum := toFloat(v)
		if !isNum || math.IsNaN(f) || f < 0 || f > 1+1e-9 {
			return 0, "", fieldErr(field+"."+k, "must be in [0, 1], got %v", v)
		}
		el := k
		if i := strings.LastIndexByte(k, '_'); i >= 0 {
			el = k[i+1:]
		}
		if len(elements) > 0 && !slices.Contains(elements, el) {
			continue
		}
		best[el] = max(best[el], f)
	}
	if len(best) == 0 {
		return 1, "no recovery in the result: 1", nil
	}
	sum := 0.0
	els := slices.Sorted(maps.Keys(best))
	for _, e := range els {
		sum += best[e]
	}
	return sum / float64(len(els)), "mean over " + strings.Join(els, ", ") + " of each element's best recovery to a product", nil
}

// linkedCascade returns the unit of the plant (a hasUnit target) whose
// inputHash is the plant's: the process twin that produced the plant's
// result. "" when none is: the relationship was removed, or the result
// came from elsewhere (typed by hand, an import).
func linkedCascade(t *twin.Twin, units []twin.ID, byID map[twin.ID]*twin.Twin) twin.ID {
	h, _ := t.Properties["inputHash"].(string)
	if h == "" {
		return ""
	}
	for _, u := range slices.Sorted(slices.Values(units)) {
		if c := byID[u]; c != nil {
			if ch, _ := c.Properties["inputHash"].(string); ch == h {
				return u
			}
		}
	}
	return ""
}

// checkLink refuses a used result that is not linked to its process twin,
// or whose capacity is more than factor away from the nameplate (the
// audit's bench cascade set Lynas to 2.95 t/yr instead of 19,500): the
// facility figures are then kept and Why says which field and why.
func checkLink(l *ProcessLink, t *twin.Twin, cascade twin.ID, factor float64) {
	field := "twins[" + string(t.ID) + "]."
	if srcs, ok := t.Properties["sources"].(map[string]any); ok {
		l.Provenance, _ = srcs["throughputCapacityTonnesReoPerYear"].(string)
	}
	l.Cascade = string(cascade)
	if cascade == "" {
		l.Used = false
		l.Why = field + "inputHash: no hasUnit relationship to the process twin that produced the result (the link was removed or never made); the nameplate is kept"
		return
	}
	np := l.FacilityCapacityTonnesPerYear
	if np <= 0 {
		return // no nameplate to check against; the provenance says so
	}
	if r := l.CapacityTonnesPerYear / np; r > factor || r < 1/factor {
		l.Used = false
		l.Why = fmt.Sprintf("%sthroughputCapacityTonnesReoPerYear: %.4g t/yr is %.3g times the nameplate capacityTonnesPerYear %.4g t/yr, outside the factor %g allowed (a bench-scale result needs an explicit scale-up); the nameplate is kept",
			field, l.CapacityTonnesPerYear, r, np, factor)
	}
}

// toFloat reads a JSON number held as float64, an integer type or a
// json.Number.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// GraphScenario makes a SCENARIO from a document that supplies shocks,
// controls, policies and dates, and a network built from the twin graph. An
// empty document is the baseline: five years from DefaultStart with nothing
// else. A missing start is DefaultStart and missing days five years from
// the start. The document must not carry a network of its own (the error
// names the field "network"). The result is decoded strictly and
// validated by supply.DecodeScenario, so errors name the field.
func GraphScenario(doc []byte, net *supply.Network) (*supply.SimScenario, error) {
	m := map[string]json.RawMessage{}
	if len(strings.TrimSpace(string(doc))) > 0 {
		if err := json.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("world: scenario: %w", err)
		}
		if m == nil { // the document "null"
			m = map[string]json.RawMessage{}
		}
	}
	if _, ok := m["network"]; ok {
		return nil, fieldErr("network", "not allowed with the twin graph: the network comes from the graph")
	}
	start := DefaultStart
	if raw, ok := m["start"]; ok {
		if err := json.Unmarshal(raw, &start); err != nil {
			return nil, fieldErr("start", "want a date YYYY-MM-DD: %v", err)
		}
	} else {
		m["start"], _ = json.Marshal(start)
	}
	if _, ok := m["days"]; !ok {
		t0, err := time.Parse(time.DateOnly, string(start))
		if err != nil {
			return nil, fieldErr("start", "invalid date %q (want YYYY-MM-DD)", start)
		}
		m["days"], _ = json.Marshal(int(t0.AddDate(5, 0, 0).Sub(t0).Hours() / 24))
	}
	nb, err := json.Marshal(net)
	if err != nil {
		return nil, fmt.Errorf("world: scenario: %w", err)
	}
	m["network"] = nb
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("world: scenario: %w", err)
	}
	return supply.DecodeScenario(b)
}

// stageRank orders stages from the mine to the OEM, then stocks.
var stageRank = map[string]int{
	supply.StageMine: 0, supply.StageConcentrate: 1, supply.StageSeparation: 2, supply.StageMetal: 3,
	supply.StageMagnet: 4, supply.StageOEM: 5, supply.StageStockpile: 6, supply.StageWarehouse: 7,
}

// SortNetwork puts a network in canonical order: nodes by stage (mine to
// OEM, then stockpiles and warehouses, unknown stages last) and id; arcs
// by the stage and id of their ends, then material. The simulation's
// allocation and licence draws follow file order, so two listings of one
// network give the same results only in the same order.
func SortNetwork(n *supply.Network) {
	rank := func(stage string) int {
		if r, ok := stageRank[stage]; ok {
			return r
		}
		return len(stageRank)
	}
	byID := map[supply.NodeID]int{}
	slices.SortStableFunc(n.Nodes, func(a, b supply.Node) int {
		return cmp.Or(cmp.Compare(rank(a.Stage), rank(b.Stage)), strings.Compare(string(a.ID), string(b.ID)))
	})
	for i, nd := range n.Nodes {
		byID[nd.ID] = i
	}
	slices.SortStableFunc(n.Arcs, func(a, b supply.Arc) int {
		return cmp.Or(cmp.Compare(byID[a.From], byID[b.From]), cmp.Compare(byID[a.To], byID[b.To]), strings.Compare(a.Material, b.Material))
	})
}
