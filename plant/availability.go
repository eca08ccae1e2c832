package plant

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"lodestone/plant/reliability"
)

// The chain from equipment to capacity (issue 13 item 3): failure records
// of the plant's equipment → a life distribution fitted per equipment
// class → MTBF and MTTR per class → each SX train's reliability block
// diagram → the plant's availability, which [EffectiveCapacity] and the
// supply network multiply in. [PlantAvailability] runs it on a plant's
// part of the twin graph, given as plain values (this package imports
// nothing of the graph).

// GraphNode is one twin under a plant: its id, its model's short name (the
// last segment of the DTMI without version: "Pump"), whether the model
// is an Equipment (ISO 14224 equipment unit), and its properties.
type GraphNode struct {
	ID        string
	Model     string
	Equipment bool
	Props     map[string]any
}

// Edge is one relationship: Source --Name--> Target.
type Edge struct {
	Source, Name, Target string
}

// FailureRecord is a FailureRecord twin reduced to what the chain reads:
// the twin its "of" relationship points at, the item's operating time at
// the event, whether it is a suspension, and the downtime (nil: not
// recorded).
type FailureRecord struct {
	ID            string
	Of            string
	OperatingTime float64
	Suspension    bool
	Downtime      *float64
}

// ClassFigures are MTBF and MTTR (hours) of an equipment class given
// directly, with their source, instead of fitted from records.
type ClassFigures struct {
	MTBF   float64 `json:"mtbf"`
	MTTR   float64 `json:"mttr"`
	Source string  `json:"source"`
}

// AvailabilityInput is the plant's part of the graph and the options of
// the chain.
type AvailabilityInput struct {
	Plant   string
	Nodes   []GraphNode
	Edges   []Edge
	Records []FailureRecord
	// Figures overrides the records of a class (by model name).
	Figures map[string]ClassFigures
	// Fit chooses the life distribution (nil: Weibull, 95 % bounds).
	Fit *reliability.FitOptions
}

// ClassLife is how the chain got MTBF and MTTR of one equipment class.
type ClassLife struct {
	Model string `json:"model"`
	// Units are the twins of the class the trains need.
	Units int `json:"units"`
	// Records are the FailureRecord twins used, sorted; Failures of them
	// are failures (the rest suspensions).
	Records  []string               `json:"records"`
	Failures int                    `json:"failures"`
	Fit      *reliability.FitResult `json:"fit,omitempty"`
	MTBF     float64                `json:"mtbf,omitempty"`
	MTTR     float64                `json:"mttr,omitempty"`
	Source   string                 `json:"source,omitempty"`
	// Missing says why the class has no figures (then the plant's
	// availability is not computed).
	Missing string `json:"missing,omitempty"`
}

// TrainAvailability is one SX train's block diagram and its availability
// (nil Result when a class has no figures).
type TrainAvailability struct {
	Section string                   `json:"section"`
	Block   reliability.Block        `json:"block"`
	Result  *reliability.BlockResult `json:"result,omitempty"`
}

// AvailabilityResult is the plant's availability with how it was got, or
// why it was not computed.
type AvailabilityResult struct {
	Plant        string   `json:"plant"`
	Computed     bool     `json:"computed"`
	Availability *float64 `json:"availability"`
	// Reason says why it was not computed (Computed false).
	Reason string `json:"reason,omitempty"`
	// Source is the provenance written with the availability: which
	// records, which fits, which block diagrams.
	Source  string              `json:"source,omitempty"`
	Classes []ClassLife         `json:"classes"`
	Trains  []TrainAvailability `json:"trains"`
}

// ErrNoTrains is returned for a plant with no section of type sxTrain.
var ErrNoTrains = errors.New("plant: the plant has no SX train (a PlantSection with sectionType sxTrain, reached by hasSection)")

// graph indexes an AvailabilityInput.
type graph struct {
	nodes map[string]*GraphNode
	out   map[string][]Edge
	in    map[string][]Edge
}

func newGraph(in AvailabilityInput) graph {
	g := graph{nodes: map[string]*GraphNode{}, out: map[string][]Edge{}, in: map[string][]Edge{}}
	for i := range in.Nodes {
		g.nodes[in.Nodes[i].ID] = &in.Nodes[i]
	}
	for _, e := range in.Edges {
		g.out[e.Source] = append(g.out[e.Source], e)
		g.in[e.Target] = append(g.in[e.Target], e)
	}
	for _, es := range g.out {
		slices.SortFunc(es, func(a, b Edge) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Target, b.Target)) })
	}
	return g
}

// targets lists the nodes n points at with relationship name, in id order.
func (g graph) targets(n, name string) []*GraphNode {
	var out []*GraphNode
	for _, e := range g.out[n] {
		if e.Name == name && g.nodes[e.Target] != nil {
			out = append(out, g.nodes[e.Target])
		}
	}
	return out
}

// TrainNeeds lists, per SX train of the plant (sections of type sxTrain,
// in trainNumber then id order), the equipment units the train needs to
// run: the equipment of the section itself except on-line analysers (a
// train runs on lab assays without its analyser), and the equipment of the
// subunits of each stage's equipment (the agitator drives: a stage whose
// mixer stops stops the cascade). Vessels (mixers, settlers) and
// instruments hung on the stages are not in it: no failure of theirs is
// modelled as stopping the train.
func TrainNeeds(in AvailabilityInput) (sections []string, needs [][]*GraphNode, err error) {
	g := newGraph(in)
	if g.nodes[in.Plant] == nil {
		return nil, nil, fmt.Errorf("plant: %s: not among the nodes", in.Plant)
	}
	trains := []*GraphNode{}
	for _, s := range g.targets(in.Plant, "hasSection") {
		if st, _ := s.Props["sectionType"].(string); st == "sxTrain" {
			trains = append(trains, s)
		}
	}
	if len(trains) == 0 {
		return nil, nil, ErrNoTrains
	}
	num := func(n *GraphNode) float64 {
		v, ok := n.Props["trainNumber"].(float64)
		if !ok {
			return math.Inf(1)
		}
		return v
	}
	slices.SortFunc(trains, func(a, b *GraphNode) int { return cmp.Or(cmp.Compare(num(a), num(b)), cmp.Compare(a.ID, b.ID)) })
	for _, sec := range trains {
		var need []*GraphNode
		seen := map[string]bool{}
		add := func(n *GraphNode) {
			if n.Equipment && !seen[n.ID] {
				seen[n.ID] = true
				need = append(need, n)
			}
		}
		for _, u := range g.targets(sec.ID, "hasUnit") {
			for _, st := range g.targets(u.ID, "hasStage") {
				for _, eq := range g.targets(st.ID, "hasEquipment") {
					for _, sub := range g.targets(eq.ID, "hasSubunit") {
						for _, e := range g.targets(sub.ID, "hasEquipment") {
							add(e)
						}
					}
				}
			}
		}
		for _, e := range g.targets(sec.ID, "hasEquipment") {
			if e.Model != "Analyser" {
				add(e)
			}
		}
		sections = append(sections, sec.ID)
		needs = append(needs, need)
	}
	return sections, needs, nil
}

// pairKey is the duty/standby group of an equipment unit: its tag (or id)
// without a final single letter that follows a '-' or a digit, the plant
// convention for installed spares (P-201A and P-201B; …-p-feed-a and
// …-p-feed-b). Units of one model with the same key form a group.
func pairKey(n *GraphNode) (string, bool) {
	tag, _ := n.Props["tag"].(string)
	if tag == "" {
		tag = n.ID
	}
	l := len(tag)
	if l < 2 {
		return "", false
	}
	last, prev := tag[l-1], tag[l-2]
	isLetter := (last >= 'a' && last <= 'z') || (last >= 'A' && last <= 'Z')
	if !isLetter {
		return "", false
	}
	switch {
	case prev == '-' && l > 2:
		return n.Model + "|" + tag[:l-2], true
	case prev >= '0' && prev <= '9':
		return n.Model + "|" + tag[:l-1], true
	}
	return "", false
}

// trainBlock is the block diagram of one train's needs: a series of
// units, with each duty/standby group (pairKey) as one cold-standby block
// of n units, one running, one repair crew. fig gives MTBF and MTTR by
// model; a model without figures leaves them zero (the block is then not
// evaluated).
func trainBlock(name string, need []*GraphNode, fig map[string]ClassLife) reliability.Block {
	b := reliability.Block{Kind: reliability.KindSeries, Name: name}
	groups := map[string][]*GraphNode{}
	for _, n := range need {
		if k, ok := pairKey(n); ok {
			groups[k] = append(groups[k], n)
		}
	}
	done := map[string]bool{}
	for _, n := range need {
		f := fig[n.Model]
		k, ok := pairKey(n)
		if ok && len(groups[k]) > 1 {
			if done[k] {
				continue
			}
			done[k] = true
			ids := make([]string, len(groups[k]))
			for i, m := range groups[k] {
				ids[i] = m.ID
			}
			b.Blocks = append(b.Blocks, reliability.Block{Kind: reliability.KindStandby, Name: strings.Join(ids, " / ") + " (duty/standby)", N: len(ids), K: 1, MTBF: f.MTBF, MTTR: f.MTTR})
			continue
		}
		b.Blocks = append(b.Blocks, reliability.Block{Kind: reliability.KindUnit, Name: n.ID, MTBF: f.MTBF, MTTR: f.MTTR})
	}
	return b
}

// equipmentOf walks from a record's target up to its equipment unit:
// the target itself, or the equipment whose subunit (hasSubunit) holds it
// directly or through an item (hasItem).
func (g graph) equipmentOf(id string) *GraphNode {
	for range 4 { // item → subunit → equipment, at most
		n := g.nodes[id]
		if n == nil {
			return nil
		}
		if n.Equipment {
			return n
		}
		up := ""
		for _, e := range g.in[id] {
			if e.Name == "hasItem" || e.Name == "hasSubunit" {
				up = e.Source
				break
			}
		}
		if up == "" {
			return nil
		}
		id = up
	}
	return nil
}

// classLife fits the records of one class and takes the mean downtime of
// its failures as MTTR.
func classLife(c *ClassLife, recs []FailureRecord, opts *reliability.FitOptions) {
	var rr []reliability.Record
	var down []float64
	noDown := 0
	for _, r := range recs {
		c.Records = append(c.Records, r.ID)
		rr = append(rr, reliability.Record{ID: r.ID, OperatingTime: r.OperatingTime, Suspension: r.Suspension})
		if r.Suspension {
			continue
		}
		c.Failures++
		if r.Downtime == nil {
			noDown++
			continue
		}
		down = append(down, *r.Downtime)
	}
	slices.Sort(c.Records)
	obs, err := reliability.FromRecords(rr)
	if err == nil {
		c.Fit, err = reliability.Fit(obs, opts)
	}
	if err != nil {
		c.Missing = fmt.Sprintf("no life distribution from the %d failure records of %s units (%d failures): %v", len(recs), c.Model, c.Failures, strings.TrimPrefix(err.Error(), "reliability: "))
		c.Fit = nil
		return
	}
	if len(down) == 0 {
		c.Missing = fmt.Sprintf("none of the %d failures of %s units records its downtime: no MTTR", c.Failures, c.Model)
		return
	}
	var sum float64
	for i, d := range down {
		if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
			c.Missing = fmt.Sprintf("failure record downtime %v (record %d of the class) is not a non-negative number of hours", d, i+1)
			return
		}
		sum += d
	}
	c.MTBF, c.MTTR = c.Fit.MTTF, sum/float64(len(down))
	c.Source = fmt.Sprintf("%s: MTBF %.6g h = mean life of a %s fit (shape %.4g, scale %.6g h; %d records, %d failures, maximum likelihood with suspensions) of FailureRecord twins %s; MTTR %.4g h = mean downtime of %d failures",
		c.Model, c.MTBF, c.Fit.Distribution, c.Fit.Shape, c.Fit.Scale, len(recs), c.Failures, listIDs(c.Records), c.MTTR, len(down))
	if noDown > 0 {
		c.Source += fmt.Sprintf(" (%d failures without a downtime left out of the MTTR)", noDown)
	}
}

// listIDs names up to six ids and counts the rest.
func listIDs(ids []string) string {
	if len(ids) <= 6 {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:6], ", ") + fmt.Sprintf(" and %d more", len(ids)-6)
}

// PlantAvailability runs the chain. Missing data (a class the trains need
// with neither records that give a fit and an MTTR nor figures) is not an
// error: the result says Computed false and why. A plant without SX
// trains or a bad figure is an error.
//
// The plant's availability is the mean of its trains' availabilities:
// the capacity is trains × throughput per train × … × availability, so the
// availability is the expected fraction of the trains' capacity that
// runs (trains fail independently). MTBF per class is the mean life of the
// fitted distribution (a failed unit is replaced or restored as good as
// new); MTTR the mean recorded downtime of its failures. Records are
// pooled per equipment model across the plant.
func PlantAvailability(in AvailabilityInput) (*AvailabilityResult, error) {
	sections, needs, err := TrainNeeds(in)
	if err != nil {
		return nil, err
	}
	g := newGraph(in)
	res := &AvailabilityResult{Plant: in.Plant, Classes: []ClassLife{}, Trains: []TrainAvailability{}}
	units := map[string]int{}
	var models []string
	for _, need := range needs {
		for _, n := range need {
			if units[n.Model] == 0 {
				models = append(models, n.Model)
			}
			units[n.Model]++
		}
	}
	slices.Sort(models)
	recs := map[string][]FailureRecord{}
	for _, r := range in.Records {
		if e := g.equipmentOf(r.Of); e != nil && units[e.Model] > 0 {
			recs[e.Model] = append(recs[e.Model], r)
		}
	}
	fig := map[string]ClassLife{}
	var missing, noData []string
	for _, m := range models {
		c := ClassLife{Model: m, Units: units[m], Records: []string{}}
		if f, ok := in.Figures[m]; ok {
			if err := checkFigures(m, f); err != nil {
				return nil, err
			}
			c.MTBF, c.MTTR = f.MTBF, f.MTTR
			c.Source = fmt.Sprintf("%s: MTBF %.6g h, MTTR %.4g h given: %s", m, f.MTBF, f.MTTR, f.Source)
		} else if len(recs[m]) == 0 {
			c.Missing = fmt.Sprintf("no FailureRecord twins of any of the %d %s units the trains need, and no figures given", units[m], m)
			noData = append(noData, fmt.Sprintf("%s (%d units)", m, units[m]))
		} else {
			classLife(&c, recs[m], in.Fit)
			if c.Missing != "" {
				missing = append(missing, c.Missing)
			}
		}
		fig[m] = c
		res.Classes = append(res.Classes, c)
	}
	for i, sec := range sections {
		res.Trains = append(res.Trains, TrainAvailability{Section: sec, Block: trainBlock(sec, needs[i], fig)})
	}
	if len(noData) > 0 {
		missing = append([]string{"no FailureRecord twins (and no figures) for the " + strings.Join(noData, ", ") + " the SX trains need"}, missing...)
	}
	if len(missing) > 0 {
		res.Reason = "not computed: " + strings.Join(missing, "; ")
		return res, nil
	}
	var sum float64
	for i := range res.Trains {
		r, err := reliability.SystemAvailability(res.Trains[i].Block)
		if err != nil {
			return nil, fmt.Errorf("plant: train %s: %w", res.Trains[i].Section, err)
		}
		res.Trains[i].Result = r
		sum += r.Availability
	}
	a := sum / float64(len(res.Trains))
	res.Computed, res.Availability = true, &a
	parts := make([]string, len(res.Trains))
	for i, t := range res.Trains {
		parts[i] = fmt.Sprintf("%s %.6g", t.Section, t.Result.Availability)
	}
	srcs := make([]string, len(res.Classes))
	for i, c := range res.Classes {
		srcs[i] = c.Source
	}
	res.Source = fmt.Sprintf("mean availability of %d SX trains (%s), each a reliability block diagram of the equipment it needs (units in series, duty/standby groups as cold standby with one repair crew; plant.PlantAvailability); %s",
		len(res.Trains), strings.Join(parts, ", "), strings.Join(srcs, "; "))
	return res, nil
}

func checkFigures(m string, f ClassFigures) error {
	switch {
	case math.IsNaN(f.MTBF) || math.IsInf(f.MTBF, 0) || f.MTBF <= 0:
		return fmt.Errorf("plant: figures[%q].mtbf: %v must be a positive number of hours", m, f.MTBF)
	case math.IsNaN(f.MTTR) || math.IsInf(f.MTTR, 0) || f.MTTR < 0:
		return fmt.Errorf("plant: figures[%q].mttr: %v must be a non-negative number of hours", m, f.MTTR)
	case strings.TrimSpace(f.Source) == "":
		return fmt.Errorf("plant: figures[%q].source: missing (every figure carries its source)", m)
	}
	return nil
}

// ModelName is the short name of a DTMI ("dtmi:lodestone:Pump;1" →
// "Pump"): the last path segment without its version. A string that is not
// a DTMI is returned as it is.
func ModelName(dtmi string) string {
	s := dtmi
	if i := strings.LastIndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
