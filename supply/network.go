package supply

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// NodeID names a node of a network.
type NodeID string

// Stage names of the mine-to-magnet chain. A node's stage is free text; these
// are the ones the default world uses.
const (
	StageMine        = "mine"
	StageConcentrate = "concentrator"
	StageSeparation  = "separation"
	StageMetal       = "metal"
	StageMagnet      = "magnet"
	StageOEM         = "oem"
	StageStockpile   = "stockpile"
	StageWarehouse   = "warehouse"
)

// Node is a site of the network: a mine, a plant, a warehouse, a stockpile or
// a demand point. Quantities are in units of the node's output per period (a
// period is whatever unit the caller uses consistently: a day in simulations,
// often a week or month in stress tests).
type Node struct {
	ID                NodeID  `json:"id" req:"true"`
	Stage             string  `json:"stage,omitempty"`
	Country           string  `json:"country,omitempty"`
	CapacityPerPeriod float64 `json:"capacity_per_period"`         // output units per period
	Inventory         float64 `json:"inventory"`                   // output units on hand (and in pipeline toward the node, as in Simchi-Levi et al.)
	DemandPerPeriod   float64 `json:"demand_per_period,omitempty"` // external demand, output units per period
	LossPerUnit       float64 `json:"loss_per_unit,omitempty"`     // loss (margin or penalty) per unit of lost demand
	HoldingCost       float64 `json:"holding_cost,omitempty"`      // cost per unit of strategic stock (stock sizing LP); 0 means 1
	// InputInventory is the stock of each input material on hand at the
	// start of a simulation, in units of that material (converted to the
	// node's output at the ratio of its first arc carrying it). The key is
	// the arcs' material, or DefaultMaterial for arcs that name none.
	// Input stocks not given start empty.
	InputInventory map[string]float64 `json:"input_inventory,omitempty"`
	Source         string             `json:"source,omitempty"` // where the numbers come from
}

// Arc is a supply lane from one node to another.
type Arc struct {
	// ID optionally names the arc for shocks and qualifications; an arc is
	// also known as "FROM->TO".
	ID   string `json:"id,omitempty"`
	From NodeID `json:"from" req:"true"`
	To   NodeID `json:"to" req:"true"`
	// Ratio is the units of the upstream material consumed per unit of the
	// downstream node's output.
	Ratio float64 `json:"ratio" req:"true"`
	// Material names what the arc carries. Arcs into a node with the same
	// material are alternative sources of it; different materials are all
	// required (a bill of materials). Empty means the node's one default
	// input (DefaultMaterial): arcs without a material are alternative
	// sources of each other, as in Simchi-Levi's formulation; a material is
	// needed only for a real bill of materials.
	Material string `json:"material,omitempty"`
	// LeadTimeDays is the transit time in days (simulation only).
	LeadTimeDays int `json:"lead_time_days,omitempty"`
	// InTransit is what is on its way on the arc at the start of a
	// simulation, in upstream units; it arrives in equal parts over the
	// next max(1, lead_time_days) days. 0: the pipeline starts empty.
	InTransit float64 `json:"in_transit,omitempty"`
	// Standby marks a lane that carries nothing until a Controller
	// activates it (simulation only; see Day.ActivateArc): a second
	// source that has been qualified but is not being used.
	Standby bool `json:"standby,omitempty"`
	// Source says where the numbers come from.
	Source string `json:"source,omitempty"`
}

// DefaultMaterial is the name of a node's default input: what the arcs
// into it that name no material carry (the key of input_inventory for it).
const DefaultMaterial = "default"

// material returns the material group key of the arc.
func (a Arc) material() string {
	if a.Material != "" {
		return a.Material
	}
	return DefaultMaterial
}

// MaxFactor bounds every capacity, lane and demand factor of a shock or
// scenario. Factors above 1 are surges, rebounds and ramp-ups (China's
// magnet exports in July 2025 were 1.057 × July 2024, research note c.6);
// a factor above 10 is taken to be an error of units, not a scenario.
const MaxFactor = 10

// Scenario is one disruption of the stress test: the nodes in Disrupted lose
// their capacity (all of it, or the share 1−CapacityFactor) for TTRPeriods.
// An empty Disrupted is the baseline row (nothing disrupted).
type Scenario struct {
	Name       string   `json:"name" req:"true"`
	Disrupted  []NodeID `json:"disrupted" req:"true"`
	TTRPeriods float64  `json:"ttr_periods" req:"true"`
	// CapacityFactor is the share of capacity the disrupted nodes keep
	// (0, the default, is a full outage; above 1, up to MaxFactor, a surge
	// of capacity, never of output beyond what inputs allow).
	CapacityFactor float64 `json:"capacity_factor,omitempty"`
}

// Network is a supply network with optional stress-test scenarios. It is the
// NETWORK document of `lodestone supply stress`.
type Network struct {
	Description string     `json:"description,omitempty"`
	Nodes       []Node     `json:"nodes" req:"true"`
	Arcs        []Arc      `json:"arcs"`
	Scenarios   []Scenario `json:"scenarios,omitempty"`
	// TTSCapPeriods caps the time-to-survive LP (T_max); 0 means DefaultTTSCap.
	TTSCapPeriods float64 `json:"tts_cap_periods,omitempty"`
	// DefaultTTRPeriods is the TTR used for the one-node-at-a-time scenarios
	// when Scenarios is empty; 0 means DefaultTTR.
	DefaultTTRPeriods float64 `json:"default_ttr_periods,omitempty"`
}

// DefaultTTSCap is the time-to-survive cap T_max used when a network sets
// none, as in the teaching notebook of the research note (b.2).
const DefaultTTSCap = 999

// DefaultTTR is the time to recover, in days, given to every node in the
// node-by-node stress test when the network names no scenarios (and by the
// API and the dashboard). It is the time an OEM needs to qualify a new
// supplier for a production programme: screening 24 + samples and PPAP 75
// + audit 45 days, the mid-points of the playbook's ranges (research note
// c.8 and b.8: 4–7 months in all [S27], vendor source), as in
// DefaultQualification. A network whose period is not a day must set
// default_ttr_periods.
const DefaultTTR = 144

// DefaultTTRSource names where DefaultTTR comes from; outputs carry it.
const DefaultTTRSource = "new-supplier qualification for a production programme, 4–7 months: screening 24 + samples/PPAP 75 + audit 45 days (mid-points), research note supply-chain-twin.md c.8/b.8 [S27]"

// DecodeNetwork decodes a NETWORK JSON document strictly (unknown and missing
// required fields are errors naming the field) and validates it.
func DecodeNetwork(data []byte) (*Network, error) {
	var n Network
	if err := decodeStrict(data, &n); err != nil {
		return nil, err
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	return &n, nil
}

// maxQuantity bounds every quantity and time of a network: far above any
// world figure (world REO output is ~4e5 t/yr) and far enough below the
// float64 range that products such as d·T and ratios of them stay exact
// enough for the LPs.
const maxQuantity = 1e12

// minRatio bounds arc ratios to [1e-6, 1e6]: real conversion ratios (tonnes
// of concentrate per tonne of oxide, oxide per magnet) lie well inside, and
// wider ranges make the dense simplex numerically unreliable.
const minRatio = 1e-6

func checkNum(field string, v float64, positive bool) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fieldErr(field, "must be a finite number")
	case math.Abs(v) > maxQuantity:
		return fieldErr(field, "must be at most %g", maxQuantity)
	case positive && v <= 0:
		return fieldErr(field, "must be > 0")
	case v < 0:
		return fieldErr(field, "must be >= 0")
	}
	return nil
}

// Validate checks the network: unique non-empty node ids, finite
// non-negative quantities, arcs between known nodes with a positive ratio,
// no cycle whose nodes hold no stock, and scenarios naming known nodes.
// The error is a *FieldError naming the field.
func (n *Network) Validate() error {
	if len(n.Nodes) == 0 {
		return fieldErr("nodes", "at least one node is required")
	}
	idx := make(map[NodeID]int, len(n.Nodes))
	for i, nd := range n.Nodes {
		p := fmt.Sprintf("nodes[%d]", i)
		if nd.ID == "" {
			return fieldErr(p+".id", "must not be empty")
		}
		if j, dup := idx[nd.ID]; dup {
			return fieldErr(p+".id", "duplicate id %q (also nodes[%d])", nd.ID, j)
		}
		idx[nd.ID] = i
		for _, f := range []struct {
			name string
			v    float64
		}{
			{"capacity_per_period", nd.CapacityPerPeriod},
			{"inventory", nd.Inventory},
			{"demand_per_period", nd.DemandPerPeriod},
			{"loss_per_unit", nd.LossPerUnit},
			{"holding_cost", nd.HoldingCost},
		} {
			if err := checkNum(p+"."+f.name, f.v, false); err != nil {
				return err
			}
		}
	}
	for i, a := range n.Arcs {
		p := fmt.Sprintf("arcs[%d]", i)
		if _, ok := idx[a.From]; !ok {
			return fieldErr(p+".from", "unknown node %q", a.From)
		}
		if _, ok := idx[a.To]; !ok {
			return fieldErr(p+".to", "unknown node %q", a.To)
		}
		if a.From == a.To {
			return fieldErr(p+".to", "arc from %q to itself", a.To)
		}
		if err := checkNum(p+".ratio", a.Ratio, true); err != nil {
			return err
		}
		if a.Ratio < minRatio || a.Ratio > 1/minRatio {
			return fieldErr(p+".ratio", "must be in [%g, %g]", minRatio, 1/minRatio)
		}
		if a.LeadTimeDays < 0 {
			return fieldErr(p+".lead_time_days", "must be >= 0")
		}
		if err := checkNum(p+".in_transit", a.InTransit, false); err != nil {
			return err
		}
	}
	if err := n.checkInputInventory(); err != nil {
		return err
	}
	if err := n.checkCycles(idx); err != nil {
		return err
	}
	if err := checkNum("tts_cap_periods", n.TTSCapPeriods, false); err != nil {
		return err
	}
	if err := checkNum("default_ttr_periods", n.DefaultTTRPeriods, false); err != nil {
		return err
	}
	for i, s := range n.Scenarios {
		p := fmt.Sprintf("scenarios[%d]", i)
		if s.Name == "" {
			return fieldErr(p+".name", "must not be empty")
		}
		for j, id := range s.Disrupted {
			if _, ok := idx[id]; !ok {
				return fieldErr(fmt.Sprintf("%s.disrupted[%d]", p, j), "unknown node %q", id)
			}
		}
		if err := checkNum(p+".ttr_periods", s.TTRPeriods, true); err != nil {
			return err
		}
		if err := checkNum(p+".capacity_factor", s.CapacityFactor, false); err != nil {
			return err
		}
		if s.CapacityFactor > MaxFactor {
			return fieldErr(p+".capacity_factor", "must be <= %g (MaxFactor)", float64(MaxFactor))
		}
	}
	return nil
}

// checkInputInventory checks that every node's input_inventory names a
// material the node takes (an arc into it carries) with a finite
// non-negative quantity.
func (n *Network) checkInputInventory() error {
	for i, nd := range n.Nodes {
		if len(nd.InputInventory) == 0 {
			continue
		}
		takes := map[string]bool{}
		for _, a := range n.Arcs {
			if a.To == nd.ID {
				takes[a.material()] = true
			}
		}
		for _, k := range slices.Sorted(maps.Keys(nd.InputInventory)) {
			f := fmt.Sprintf("nodes[%d].input_inventory.%s", i, k)
			if !takes[k] {
				has := "it has no input arcs"
				if len(takes) > 0 {
					has = "its arcs carry " + strings.Join(slices.Sorted(maps.Keys(takes)), ", ")
				}
				return fieldErr(f, "node %q takes no material %q (%s)", nd.ID, k, has)
			}
			if err := checkNum(f, nd.InputInventory[k], false); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCycles rejects a directed cycle of arcs whose nodes all hold zero
// inventory: such a loop can never start producing. Cycles with stock
// (recycling loops) are allowed. It uses Tarjan's strongly connected
// components.
func (n *Network) checkCycles(idx map[NodeID]int) error {
	N := len(n.Nodes)
	adj := make([][]int, N)
	arcOf := make(map[[2]int]int)
	for i, a := range n.Arcs {
		f, t := idx[a.From], idx[a.To]
		adj[f] = append(adj[f], t)
		if _, ok := arcOf[[2]int{f, t}]; !ok {
			arcOf[[2]int{f, t}] = i
		}
	}
	index := make([]int, N)
	low := make([]int, N)
	on := make([]bool, N)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next := 0
	var bad []int
	var strong func(v int)
	strong = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		on[v] = true
		for _, w := range adj[v] {
			if index[w] < 0 {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			if len(comp) > 1 && bad == nil {
				stock := 0.0
				for _, c := range comp {
					stock += n.Nodes[c].Inventory
				}
				if stock == 0 {
					bad = comp
				}
			}
		}
	}
	for v := range N {
		if index[v] < 0 {
			strong(v)
		}
	}
	if bad == nil {
		return nil
	}
	slices.Sort(bad)
	in := make(map[int]bool, len(bad))
	names := make([]string, len(bad))
	for i, c := range bad {
		in[c] = true
		names[i] = string(n.Nodes[c].ID)
	}
	first := len(n.Arcs)
	for k, i := range arcOf {
		if in[k[0]] && in[k[1]] {
			first = min(first, i)
		}
	}
	return fieldErr(fmt.Sprintf("arcs[%d]", first), "cycle through %s with no stock", strings.Join(names, ", "))
}

// topology is the index form of a network used by the solvers.
type topology struct {
	idx    map[NodeID]int
	in     [][]int   // arcs into each node
	out    [][]int   // arcs out of each node
	groups [][][]int // per node, its input arcs grouped by material (in first-seen order)
}

func newTopology(n *Network) *topology {
	t := &topology{idx: make(map[NodeID]int, len(n.Nodes))}
	for i, nd := range n.Nodes {
		t.idx[nd.ID] = i
	}
	N := len(n.Nodes)
	t.in = make([][]int, N)
	t.out = make([][]int, N)
	t.groups = make([][][]int, N)
	for i, a := range n.Arcs {
		f, to := t.idx[a.From], t.idx[a.To]
		t.out[f] = append(t.out[f], i)
		t.in[to] = append(t.in[to], i)
	}
	for j := range N {
		var keys []string
		pos := map[string]int{}
		for _, a := range t.in[j] {
			k := n.Arcs[a].material()
			g, ok := pos[k]
			if !ok {
				g = len(keys)
				pos[k] = g
				keys = append(keys, k)
				t.groups[j] = append(t.groups[j], nil)
			}
			t.groups[j][g] = append(t.groups[j][g], a)
		}
	}
	return t
}
