package world

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"lodestone/supply"
)

// Level selects how finely a network follows materials.
type Level string

// Network levels.
const (
	// LevelAggregate follows REO, rare-earth metal and magnets in bulk
	// (the default). It needs no parameter beyond the data.
	LevelAggregate Level = "aggregate"
	// LevelElement follows NdPr, Dy and Tb separately from each mine to the
	// magnet grade's bill of materials. It needs NetworkOptions.REOSplit for
	// every mine: the research note has no element split per deposit.
	LevelElement Level = "element"
)

// DefaultGrade is the magnet grade of the element-level network when
// NetworkOptions.Grade is empty: the research note's suggested EV traction
// grade (itself a modelling assumption of the note, c.4).
const DefaultGrade = "NdFeB-EV-traction"

// magnetREs are the magnet rare earths the element-level network follows,
// in order.
var magnetREs = []string{"NdPr", "Dy", "Tb"}

// NetworkOptions holds the knobs of World.Network. The zero value gives the
// aggregate network per day.
type NetworkOptions struct {
	// PerYear keeps quantities per year; the default divides annual
	// capacities and demands by 365 to give a per-day network (the unit of
	// `lodestone supply run`). Inventories are tonnes either way.
	PerYear bool
	// Level is LevelAggregate (default) or LevelElement.
	Level Level
	// REOSplit gives, per mine node, the mass fraction of NdPr, Dy and Tb
	// oxide in its REO (keys "NdPr", "Dy", "Tb"). Required for every mine
	// by LevelElement; there is no default.
	REOSplit map[supply.NodeID]map[string]float64
	// Grade is the magnet grade of the element-level network; empty means
	// DefaultGrade.
	Grade string
	// StockpileTonnes sets the holdings of stockpile nodes, in tonnes of
	// their material. Holdings were not retrieved, so they default to 0.
	StockpileTonnes map[supply.NodeID]float64
	// DefaultTTRPeriods sets the network's default_ttr_periods, the time to
	// recover of the node-by-node stress test, in the network's periods.
	// The research note gives no TTR per node; 0 leaves the engine's
	// default (supply.DefaultTTR).
	DefaultTTRPeriods float64
}

// daysPerYear converts annual figures to per-day figures.
const daysPerYear = 365

// arcMaterial is the material name an arc carries in the supply network:
// the code and the contained elements, so export controls by element match
// (supply.Control.Elements is matched against the name's tokens).
func arcMaterial(code string, elements []string) string {
	return code + " (" + strings.Join(elements, " ") + ")"
}

// Network converts the world into a supply network. Capacities and demands
// are annual tonnes / 365 per day (or annual with PerYear); inventories are
// tonnes. The result passes supply's validation. For LevelElement a missing
// REO split is a *FieldError naming the parameter (reo_split[MINE].ELEMENT).
func (w *World) Network(opts *NetworkOptions) (*supply.Network, error) {
	var o NetworkOptions
	if opts != nil {
		o = *opts
	}
	for id := range o.StockpileTonnes {
		n := w.Node(id)
		if n == nil || n.Stage != supply.StageStockpile {
			return nil, fieldErr("stockpile_tonnes["+string(id)+"]", "not a stockpile node of the world")
		}
		if v := o.StockpileTonnes[id]; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fieldErr("stockpile_tonnes["+string(id)+"]", "must be a finite number >= 0")
		}
	}
	var net *supply.Network
	var err error
	switch o.Level {
	case "", LevelAggregate:
		net = w.aggregate(&o)
	case LevelElement:
		net, err = w.element(&o)
		if err != nil {
			return nil, err
		}
	default:
		return nil, fieldErr("level", "unknown level %q (want aggregate or element)", o.Level)
	}
	net.DefaultTTRPeriods = o.DefaultTTRPeriods
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("world: network: %w", err)
	}
	return net, nil
}

func (o *NetworkOptions) periods() float64 {
	if o.PerYear {
		return 1
	}
	return daysPerYear
}

// nodeSource summarises the sources of a node's numbers.
func nodeSource(n *Node) string {
	var parts []string
	for _, f := range []struct {
		name string
		q    *Quantity
	}{{"capacity", n.CapacityTonnesPerYear}, {"demand", n.DemandTonnesPerYear}, {"inventory", n.InventoryTonnes}} {
		if f.q == nil {
			continue
		}
		s := f.name + ": " + f.q.Source
		if f.q.Derived {
			s += " (derived: " + f.q.Formula + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (w *World) baseNode(n *Node, o *NetworkOptions) supply.Node {
	per := o.periods()
	sn := supply.Node{
		ID:                n.ID,
		Stage:             n.Stage,
		Country:           n.Country,
		CapacityPerPeriod: n.Capacity() / per,
		DemandPerPeriod:   n.Demand() / per,
		Inventory:         n.InventoryTonnes.value(),
		Source:            nodeSource(n),
	}
	if n.Stage == supply.StageOEM {
		// An OEM "produces" by using magnets: its capacity is its demand
		// (assumption: turning magnets into products is not the
		// constraint), and with no cost data a lost tonne counts 1, so
		// stress-test losses are in tonnes.
		sn.CapacityPerPeriod = sn.DemandPerPeriod
		sn.LossPerUnit = 1
		sn.Source += "; capacity = demand and loss_per_unit = 1 (assumptions: no OEM capacity or cost data)"
	}
	if n.Stage == supply.StageStockpile {
		sn.Inventory = o.StockpileTonnes[n.ID]
		sn.Source = "holdings: not retrieved (NetworkOptions.StockpileTonnes); target cover: " + n.TargetCoverDays.Source
	}
	return sn
}

func (w *World) arcRatio(a *Arc) *Quantity {
	if a.Ratio != nil {
		return a.Ratio
	}
	return w.Material(a.Material).ConsumptionRatio
}

func arcSource(a *Arc, ratio *Quantity) string {
	route := a.Source
	if a.Assumption {
		route = "assumed route: " + a.Why
	}
	return "route: " + route + "; ratio: " + ratio.Source
}

func leadDays(a *Arc) int {
	if a.LeadTimeDays == nil {
		return 0
	}
	return int(math.Round(a.LeadTimeDays.Value))
}

// aggregate builds the bulk network: one node per world node, one arc per
// world arc.
func (w *World) aggregate(o *NetworkOptions) *supply.Network {
	net := &supply.Network{Description: w.Name + " (aggregate, " + unitWord(o) + ")"}
	for i := range w.Nodes {
		net.Nodes = append(net.Nodes, w.baseNode(&w.Nodes[i], o))
	}
	for i := range w.Arcs {
		a := &w.Arcs[i]
		m := w.Material(a.Material)
		r := w.arcRatio(a)
		net.Arcs = append(net.Arcs, supply.Arc{
			From: a.From, To: a.To, Ratio: r.Value,
			Material:     arcMaterial(m.Code, m.Elements),
			LeadTimeDays: leadDays(a),
			Source:       arcSource(a, r),
		})
	}
	return net
}

func unitWord(o *NetworkOptions) string {
	if o.PerYear {
		return "tonnes per year"
	}
	return "tonnes per day = annual / 365"
}

// gradeElements expands a grade's composition keys into element symbols
// for naming (NdPr → Nd Pr), in a fixed order.
func gradeElements(g *Grade) []string {
	var out []string
	for _, k := range []string{"NdPr", "Dy", "Tb", "Fe", "B", "Co"} {
		if q, ok := g.Composition[k]; ok && q.Value > 0 {
			if k == "NdPr" {
				out = append(out, "Nd", "Pr")
				continue
			}
			out = append(out, k)
		}
	}
	return out
}

// element builds the element-level network. Each mine, separator and metal
// maker is split into one node per magnet rare earth of the grade ("ID:Dy");
// magnet makers, OEMs and magnet stockpiles stay whole and take the grade's
// bill of materials. Named scenarios disrupt all the element nodes of one
// world node at once.
func (w *World) element(o *NetworkOptions) (*supply.Network, error) {
	code := o.Grade
	if code == "" {
		code = DefaultGrade
	}
	g := w.Grade(code)
	if g == nil {
		return nil, fieldErr("grade", "unknown magnet grade %q", code)
	}
	var res []string
	reSum := 0.0
	for _, e := range magnetREs {
		if q, ok := g.Composition[e]; ok && q.Value > 0 {
			res = append(res, e)
			reSum += q.Value
		}
	}
	// Check the split of every mine; the error names the parameter.
	for id := range o.REOSplit {
		if n := w.Node(id); n == nil || n.Stage != supply.StageMine {
			return nil, fieldErr("reo_split["+string(id)+"]", "not a mine node of the world")
		}
	}
	capSum, weighted := 0.0, map[string]float64{}
	for i := range w.Nodes {
		n := &w.Nodes[i]
		if n.Stage != supply.StageMine {
			continue
		}
		split, ok := o.REOSplit[n.ID]
		if !ok {
			return nil, fieldErr("reo_split["+string(n.ID)+"]", "required parameter missing: the element split of REO per deposit was not retrieved in the research note and has no default; give the mass fractions of %s oxide in the mine's REO", strings.Join(res, ", "))
		}
		sum := 0.0
		for _, e := range res {
			v, ok := split[e]
			p := "reo_split[" + string(n.ID) + "]." + e
			if !ok {
				return nil, fieldErr(p, "required parameter missing (no default)")
			}
			if math.IsNaN(v) || v < 0 || v > 1 {
				return nil, fieldErr(p, "must be in [0, 1]")
			}
			sum += v
			weighted[e] += n.Capacity() * v
		}
		if sum > 1+1e-9 {
			return nil, fieldErr("reo_split["+string(n.ID)+"]", "fractions sum to %g > 1", sum)
		}
		capSum += n.Capacity()
	}
	per := o.periods()
	net := &supply.Network{Description: w.Name + " (element level, grade " + code + ", " + unitWord(o) + ")"}
	split := map[supply.NodeID][]supply.NodeID{}
	for i := range w.Nodes {
		n := &w.Nodes[i]
		base := w.baseNode(n, o)
		switch n.Stage {
		case supply.StageMine, supply.StageSeparation, supply.StageMetal:
			for _, e := range res {
				sn := base
				sn.ID = supply.NodeID(string(n.ID) + ":" + e)
				switch n.Stage {
				case supply.StageMine:
					f := o.REOSplit[n.ID][e]
					sn.CapacityPerPeriod = n.Capacity() * f / per
					sn.Source = fmt.Sprintf("derived: capacity x reo_split %s %g (user parameter); %s", e, f, base.Source)
				case supply.StageSeparation:
					f := 0.0
					if capSum > 0 {
						f = weighted[e] / capSum
					}
					sn.CapacityPerPeriod = n.Capacity() * f / per
					sn.Source = fmt.Sprintf("derived: capacity x world-mine-weighted %s fraction %.6g of the reo_split parameters; %s", e, f, base.Source)
				case supply.StageMetal:
					f := g.Composition[e].Value / reSum
					sn.CapacityPerPeriod = n.Capacity() * f / per
					sn.Source = fmt.Sprintf("derived: capacity x %s share %.6g of the rare earths of grade %s; %s", e, f, code, base.Source)
				}
				net.Nodes = append(net.Nodes, sn)
				split[n.ID] = append(split[n.ID], sn.ID)
			}
		case supply.StageStockpile:
			if n.Output != "NdFeB-magnet" {
				continue // metal stockpiles have no element form in the data
			}
			net.Nodes = append(net.Nodes, base)
		default:
			net.Nodes = append(net.Nodes, base)
		}
	}
	magnet := arcMaterial(code, gradeElements(g))
	for i := range w.Arcs {
		a := &w.Arcs[i]
		from := w.Node(a.From)
		if from.Stage == supply.StageStockpile && from.Output != "NdFeB-magnet" {
			continue
		}
		switch from.Stage {
		case supply.StageMine, supply.StageSeparation:
			r := w.arcRatio(a)
			for _, e := range res {
				ratio, mat, src := r.Value, e+"-concentrate", arcSource(a, r)
				if from.Stage == supply.StageSeparation {
					f := w.OxideMetalFraction[e]
					ratio = 1 / (f.Value * (1 - w.OxideMetalLoss.Value))
					mat = e + "-oxide"
					src = fmt.Sprintf("route: %s; ratio: 1 / (metal fraction %g x (1 - loss %g)): %s; %s", routeOf(a), f.Value, w.OxideMetalLoss.Value, f.Source, w.OxideMetalLoss.Source)
				}
				net.Arcs = append(net.Arcs, supply.Arc{
					From: supply.NodeID(string(a.From) + ":" + e), To: supply.NodeID(string(a.To) + ":" + e),
					Ratio: ratio, Material: mat, LeadTimeDays: leadDays(a), Source: src,
				})
			}
		case supply.StageMetal:
			for _, e := range res {
				q := g.Composition[e]
				net.Arcs = append(net.Arcs, supply.Arc{
					From: supply.NodeID(string(a.From) + ":" + e), To: a.To,
					Ratio: q.Value, Material: e + "-metal", LeadTimeDays: leadDays(a),
					Source: fmt.Sprintf("route: %s; ratio: grade %s %s mass fraction: %s", routeOf(a), code, e, q.Source),
				})
			}
		default:
			r := w.arcRatio(a)
			net.Arcs = append(net.Arcs, supply.Arc{
				From: a.From, To: a.To, Ratio: r.Value, Material: magnet,
				LeadTimeDays: leadDays(a), Source: arcSource(a, r),
			})
		}
	}
	// One scenario per world node, disrupting all its element nodes.
	for i := range w.Nodes {
		n := &w.Nodes[i]
		if n.Stage == supply.StageStockpile && n.Output != "NdFeB-magnet" {
			continue
		}
		ids := split[n.ID]
		if ids == nil {
			ids = []supply.NodeID{n.ID}
		}
		net.Scenarios = append(net.Scenarios, supply.Scenario{Name: string(n.ID), Disrupted: slices.Clone(ids), TTRPeriods: cmp.Or(o.DefaultTTRPeriods, supply.DefaultTTR*o.periods()/daysPerYear)})
	}
	return net, nil
}

func routeOf(a *Arc) string {
	if a.Assumption {
		return "assumed: " + a.Why
	}
	return a.Source
}
