package supply

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// StressResult is the outcome of one stress-test scenario.
type StressResult struct {
	Name            string             `json:"name"`
	TTR             float64            `json:"ttr"`              // time to recover assumed, periods
	LostUnits       float64            `json:"lost_units"`       // Σ l_j at the TTR optimum, output units
	LossValue       float64            `json:"loss_value"`       // PI(n) = Σ f_j l_j
	REI             float64            `json:"rei"`              // risk exposure index PI(n)/max_m PI(m)
	TTS             float64            `json:"tts"`              // time to survive, periods
	TTSCapped       bool               `json:"tts_capped"`       // TTS reached the cap: the network survives
	ShortagePeriods float64            `json:"shortage_periods"` // max(TTR − TTS, 0)
	Exposed         bool               `json:"exposed"`          // TTS < TTR
	Lost            map[NodeID]float64 `json:"lost,omitempty"`   // lost units per demand node
}

// StressOptions holds the knobs of Stress. The zero value is usable.
type StressOptions struct {
	// Workers is the number of goroutines solving scenarios; 0 means
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
}

// Scenarios returns the network's scenarios, or, when it names none, one
// scenario per node (every node alone, full outage, TTR = DefaultTTRPeriods or
// DefaultTTR).
func (n *Network) scenarios() []Scenario {
	if len(n.Scenarios) > 0 {
		return n.Scenarios
	}
	ttr := n.DefaultTTRPeriods
	if ttr == 0 {
		ttr = DefaultTTR
	}
	out := make([]Scenario, len(n.Nodes))
	for i, nd := range n.Nodes {
		out[i] = Scenario{Name: string(nd.ID), Disrupted: []NodeID{nd.ID}, TTRPeriods: ttr}
	}
	return out
}

// Stress runs the time-to-recover and time-to-survive LPs for every
// scenario of the network (every node alone when it names none) and fills in
// the risk exposure index. The network must be valid.
func Stress(ctx context.Context, n *Network, opts *StressOptions) ([]StressResult, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	scs := n.scenarios()
	workers := runtime.GOMAXPROCS(0)
	if opts != nil && opts.Workers > 0 {
		workers = opts.Workers
	}
	workers = max(1, min(workers, len(scs)))
	t := newTopology(n)
	res := make([]StressResult, len(scs))
	errs := make([]error, len(scs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				res[i], errs[i] = stressOne(n, t, scs[i])
			}
		})
	}
	for i := range scs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("scenario %q: %w", scs[i].Name, err)
		}
	}
	useValue := false
	for _, nd := range n.Nodes {
		if nd.LossPerUnit > 0 {
			useValue = true
		}
	}
	worst := 0.0
	impact := func(r StressResult) float64 {
		if useValue {
			return r.LossValue
		}
		return r.LostUnits
	}
	for _, r := range res {
		worst = max(worst, impact(r))
	}
	for i := range res {
		if worst > 0 {
			res[i].REI = impact(res[i]) / worst
		}
		r := &res[i]
		r.LostUnits, r.LossValue, r.REI = round9(r.LostUnits), round9(r.LossValue), round9(r.REI)
		r.TTS, r.ShortagePeriods = round9(r.TTS), round9(r.ShortagePeriods)
		for k, v := range r.Lost {
			r.Lost[k] = round9(v)
		}
	}
	return res, nil
}

func stressOne(n *Network, t *topology, s Scenario) (StressResult, error) {
	r := StressResult{Name: s.Name, TTR: s.TTRPeriods}
	lost, per, err := TimeToRecover(n, s)
	if err != nil {
		return r, err
	}
	r.Lost = per
	r.LostUnits = lost
	for i, nd := range n.Nodes {
		r.LossValue += nd.LossPerUnit * per[nd.ID]
		_ = i
	}
	tts, err := TimeToSurvive(n, s)
	if err != nil {
		return r, err
	}
	r.TTS = tts
	r.TTSCapped = tts >= n.ttsCap()*(1-1e-9)
	r.ShortagePeriods = max(s.TTRPeriods-tts, 0)
	r.Exposed = tts < s.TTRPeriods*(1-1e-9)
	return r, nil
}

func (n *Network) ttsCap() float64 {
	if n.TTSCapPeriods > 0 {
		return n.TTSCapPeriods
	}
	return DefaultTTSCap
}

// scale returns the quantity scale σ: the largest capacity, inventory or
// demand. LPs work in units of σ so that their entries are of order one.
func (n *Network) scale() float64 {
	s := 0.0
	for _, nd := range n.Nodes {
		s = max(s, nd.CapacityPerPeriod, nd.Inventory, nd.DemandPerPeriod)
	}
	if s == 0 {
		return 1
	}
	return s
}

// negligible is the share of the largest quantity below which the LPs treat
// a capacity, stock or demand as zero: a range of more than 1e9 between
// quantities only feeds rounding noise to the simplex.
const negligible = 1e-9

// lpView returns a copy of the network's nodes for the LPs, with negligible
// quantities set to zero.
func (n *Network) lpView() *Network {
	sigma := n.scale()
	c := *n
	c.Nodes = slices.Clone(n.Nodes)
	for i := range c.Nodes {
		nd := &c.Nodes[i]
		for _, v := range []*float64{&nd.CapacityPerPeriod, &nd.Inventory, &nd.DemandPerPeriod} {
			if *v < negligible*sigma {
				*v = 0
			}
		}
	}
	return &c
}

// factors returns each node's remaining capacity share θ_i under s.
func factors(n *Network, t *topology, s Scenario) []float64 {
	th := make([]float64, len(n.Nodes))
	for i := range th {
		th[i] = 1
	}
	for _, id := range s.Disrupted {
		th[t.idx[id]] = s.CapacityFactor
	}
	return th
}

// flowModel is the production and shipment part of one scenario block of
// the LPs, reduced before it reaches the simplex (gonum's Simplex refactors a
// dense basis every iteration, so rows cost m³):
//
//   - a source node i (no input arc) has no production variable: it can
//     ship up to s_i + θ_i c_i T, so u_i = θ_i c_i T enters its balance row as a
//     constant (or as θ_i c_i·t in the TTS LP);
//   - a node with one input material needs no production variable either:
//     receiving more than it turns into output never helps, so u_j =
//     Σ_a y_a / r_a exactly, and the capacity row bounds that sum;
//   - a node with several input materials (a bill of materials) keeps u_j
//     with u_j ≤ Σ_{a∈k} y_a / r_a for every material k;
//   - shipments into a node that cannot produce (θ c = 0) are dropped.
type flowModel struct {
	y       []int       // LP variable of each arc's shipment, −1 if none
	u       []int       // LP variable of a BOM node's production, −1 if none
	prodCap []float64   // θ_i c_i / σ: production per period of a source node
	inIdx   [][]int     // per single-input node: variables of its inputs
	inVal   [][]float64 // per single-input node: 1/r of those inputs
}

// flowVars adds the shipment and production variables of one scenario block
// and its capacity and bill-of-materials rows. The capacity right-hand side is
// θ c T when tvar < 0 (TTR, stock sizing); otherwise capacity rows read
// production − θ c t ≤ 0 (TTS). stock marks nodes that may hold extra stock
// (stock sizing) and so can ship even when they cannot produce.
func flowVars(p *lpProblem, n *Network, t *topology, th []float64, sigma, T float64, tvar int, stock []int) *flowModel {
	N := len(n.Nodes)
	fm := &flowModel{y: make([]int, len(n.Arcs)), u: make([]int, N), prodCap: make([]float64, N),
		inIdx: make([][]int, N), inVal: make([][]float64, N)}
	alive := make([]bool, N)
	for i, nd := range n.Nodes {
		fm.u[i] = -1
		fm.prodCap[i] = th[i] * nd.CapacityPerPeriod / sigma
		alive[i] = fm.prodCap[i] > 0
	}
	for a, arc := range n.Arcs {
		f, to := t.idx[arc.From], t.idx[arc.To]
		fm.y[a] = -1
		canShip := alive[f] || n.Nodes[f].Inventory > 0 || (stock != nil && stock[f] >= 0)
		if canShip && alive[to] {
			fm.y[a] = p.addVar(0)
		}
	}
	capRow := func(i int, idx []int, val []float64) {
		if tvar < 0 {
			p.addRow("capacity", le, fm.prodCap[i]*T, idx, val)
			return
		}
		p.addRow("capacity", le, 0, append(idx, tvar), append(val, -fm.prodCap[i]))
	}
	for i := range N {
		if !alive[i] {
			continue
		}
		switch len(t.groups[i]) {
		case 0: // source: capacity enters the balance row
		case 1:
			for _, a := range t.groups[i][0] {
				if fm.y[a] >= 0 {
					fm.inIdx[i] = append(fm.inIdx[i], fm.y[a])
					fm.inVal[i] = append(fm.inVal[i], 1/n.Arcs[a].Ratio)
				}
			}
			if len(fm.inIdx[i]) > 0 {
				capRow(i, slices.Clone(fm.inIdx[i]), slices.Clone(fm.inVal[i]))
			}
		default:
			fm.u[i] = p.addVar(0)
			capRow(i, []int{fm.u[i]}, []float64{1})
			for _, g := range t.groups[i] {
				idx := []int{fm.u[i]}
				val := []float64{1}
				for _, a := range g {
					if fm.y[a] >= 0 {
						idx = append(idx, fm.y[a])
						val = append(val, -1/n.Arcs[a].Ratio)
					}
				}
				p.addRow("bill of materials", le, 0, idx, val)
			}
		}
	}
	return fm
}

// balance returns the terms of node i's balance row Σ_out y − u_i (u_i as
// its production term for the node's kind) and the constant production a
// source adds to the right-hand side over the window T (TTR) — or, with
// tvar ≥ 0, the source's −θc·t term instead.
func (fm *flowModel) balance(t *topology, i int, T float64, tvar int) (idx []int, val []float64, rhs float64) {
	for _, a := range t.out[i] {
		if fm.y[a] >= 0 {
			idx = append(idx, fm.y[a])
			val = append(val, 1)
		}
	}
	switch {
	case fm.u[i] >= 0:
		idx = append(idx, fm.u[i])
		val = append(val, -1)
	case len(t.groups[i]) == 0 && fm.prodCap[i] > 0:
		if tvar < 0 {
			rhs = fm.prodCap[i] * T
		} else {
			idx = append(idx, tvar)
			val = append(val, -fm.prodCap[i])
		}
	default:
		for k, v := range fm.inIdx[i] {
			idx = append(idx, v)
			val = append(val, -fm.inVal[i][k])
		}
	}
	return idx, val, rhs
}

// TimeToRecover solves the TTR LP of Simchi-Levi et al. (2015) for one
// scenario: the least loss Σ f_j l_j over the disruption window
// [0, TTRPeriods] when the scenario's nodes keep the share CapacityFactor of
// their capacity. It returns the total lost units and the lost units per
// demand node. Ties in loss value are broken toward fewer lost units.
func TimeToRecover(n *Network, s Scenario) (float64, map[NodeID]float64, error) {
	n = n.lpView()
	t := newTopology(n)
	sigma := n.scale()
	th := factors(n, t, s)
	T := s.TTRPeriods
	p := &lpProblem{name: "time-to-recover"}
	fm := flowVars(p, n, t, th, sigma, T, -1, nil)
	maxF := 0.0
	for _, nd := range n.Nodes {
		maxF = max(maxF, nd.LossPerUnit)
	}
	tie := 1e-6 * max(maxF, 1)
	l := make([]int, len(n.Nodes))
	for i, nd := range n.Nodes {
		l[i] = -1
		if nd.DemandPerPeriod > 0 {
			l[i] = p.addVar(nd.LossPerUnit + tie)
		}
	}
	for i, nd := range n.Nodes {
		idx, val, prod := fm.balance(t, i, T, -1)
		if l[i] >= 0 {
			idx = append(idx, l[i])
			val = append(val, -1)
			// Lost demand above d·T would free units to ship downstream;
			// a node with no customers needs no such bound.
			if len(t.out[i]) > 0 {
				p.addRow("lost demand", le, nd.DemandPerPeriod*T/sigma, []int{l[i]}, []float64{1})
			}
		}
		p.addRow("flow balance", le, (nd.Inventory-nd.DemandPerPeriod*T)/sigma+prod, idx, val)
	}
	_, x, err := p.solve()
	if err != nil {
		return 0, nil, err
	}
	per := make(map[NodeID]float64)
	total := 0.0
	for i, nd := range n.Nodes {
		if l[i] >= 0 {
			v := x[l[i]] * sigma
			if v < 1e-9*sigma {
				v = 0
			}
			per[nd.ID] = v
			total += v
		}
	}
	return total, per, nil
}

// TimeToSurvive solves the TTS LP: the longest time t ≤ T_max during which
// every demand is met in full after the scenario's disruption starts (with
// the disrupted nodes down for good). A result equal to the cap means the
// network survives.
func TimeToSurvive(n *Network, s Scenario) (float64, error) {
	n = n.lpView()
	t := newTopology(n)
	sigma := n.scale()
	th := factors(n, t, s)
	p := &lpProblem{name: "time-to-survive"}
	tv := p.addVar(-1)
	fm := flowVars(p, n, t, th, sigma, 0, tv, nil)
	for i, nd := range n.Nodes {
		idx, val, _ := fm.balance(t, i, 0, tv)
		if nd.DemandPerPeriod > 0 {
			idx = append(idx, tv)
			val = append(val, nd.DemandPerPeriod/sigma)
		}
		p.addRow("flow balance", le, nd.Inventory/sigma, idx, val)
	}
	p.addRow("time cap", le, n.ttsCap(), []int{tv}, []float64{1})
	_, x, err := p.solve()
	if err != nil {
		return 0, err
	}
	return min(x[tv], n.ttsCap()), nil
}

// StockPlan is the result of StrategicStock: extra stock per node.
type StockPlan struct {
	Extra map[NodeID]float64 // extra units to hold at each node (only nonzero entries)
	Cost  float64            // Σ h_i x_i
}

// StrategicStock solves the strategic-stock sizing LP of the research note
// (b.4): the least-cost extra stock x_i ≥ 0 at the candidate nodes (all nodes
// when candidates is empty) such that for every scenario the network meets
// all demand for the scenario's whole TTR, i.e. TTS ≥ TTR. The cost of a
// unit held at node i is its HoldingCost (1 when unset).
func StrategicStock(n *Network, candidates []NodeID) (*StockPlan, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	n = n.lpView()
	t := newTopology(n)
	sigma := n.scale()
	p := &lpProblem{name: "strategic stock"}
	xs := make([]int, len(n.Nodes))
	for i := range xs {
		xs[i] = -1
	}
	if len(candidates) == 0 {
		for _, nd := range n.Nodes {
			candidates = append(candidates, nd.ID)
		}
	}
	for k, id := range candidates {
		i, ok := t.idx[id]
		if !ok {
			return nil, fieldErr(fmt.Sprintf("candidates[%d]", k), "unknown node %q", id)
		}
		h := n.Nodes[i].HoldingCost
		if h == 0 {
			h = 1
		}
		if xs[i] < 0 {
			xs[i] = p.addVar(h)
		}
	}
	for _, s := range n.scenarios() {
		th := factors(n, t, s)
		T := s.TTRPeriods
		fm := flowVars(p, n, t, th, sigma, T, -1, xs)
		for i, nd := range n.Nodes {
			idx, val, prod := fm.balance(t, i, T, -1)
			if xs[i] >= 0 {
				idx = append(idx, xs[i])
				val = append(val, -1)
			}
			p.addRow("flow balance", le, (nd.Inventory-nd.DemandPerPeriod*T)/sigma+prod, idx, val)
		}
	}
	f, x, err := p.solve()
	if err != nil {
		return nil, err
	}
	plan := &StockPlan{Extra: map[NodeID]float64{}, Cost: round9(f * sigma)}
	for i, nd := range n.Nodes {
		if xs[i] >= 0 && x[xs[i]]*sigma > 1e-9*sigma {
			plan.Extra[nd.ID] = round9(x[xs[i]] * sigma)
		}
	}
	if math.Abs(plan.Cost) < 1e-9*sigma {
		plan.Cost = 0
	}
	return plan, nil
}

// round9 rounds x to 9 significant digits: the simplex leaves noise in the
// last bits (1e-13 relative) that would otherwise show in reports.
func round9(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	e := math.Pow(10, 8-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*e) / e
}
