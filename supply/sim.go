package supply

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
)

// MonthKPI is one month of a node's KPIs.
type MonthKPI struct {
	Month        string  `json:"month"`         // "2025-06"
	FillRate     float64 `json:"fill_rate"`     // filled / requested in the month (1 with no request)
	Lost         float64 `json:"lost"`          // external demand lost in the month, units
	InventoryEnd float64 `json:"inventory_end"` // output stock on hand at the month's last simulated day
}

// NodeKPI holds one node's KPIs over a run. Requests are external demand
// plus new orders from downstream nodes; fill rate is what was shipped or
// served over what was requested. External demand not met the same day is
// lost (no backorders); orders from nodes stay open until shipped or
// cancelled. A stockout day is a day with lost demand or with open orders
// the node could not ship.
type NodeKPI struct {
	FirstStockout *Date   `json:"first_stockout"` // first day with an unfilled request; null if none
	StockoutDays  int     `json:"stockout_days"`
	FillRate      float64 `json:"fill_rate"`
	Requested     float64 `json:"requested"`
	Lost          float64 `json:"lost"` // external demand lost, units
	// The output balance over the run, in the node's output units:
	// inventory_start + produced − shipped − served = inventory_end
	// (up to Tolerance × the largest quantity per day).
	InventoryStart float64 `json:"inventory_start"`
	Produced       float64 `json:"produced"`
	Shipped        float64 `json:"shipped"` // to customer nodes
	Served         float64 `json:"served"`  // external demand met
	InventoryEnd   float64 `json:"inventory_end"`
	// StockUnitDays is the end-of-day stock summed over the days (unit-days),
	// what holding costs are charged on.
	StockUnitDays float64    `json:"stock_unit_days"`
	Monthly       []MonthKPI `json:"monthly"`
	// Cost is the node's money over the run (nil when the scenario has no
	// costs).
	Cost *NodeCost `json:"cost,omitempty"`
}

// Result is the outcome of one simulated run.
type Result struct {
	Start Date                `json:"start"`
	Days  int                 `json:"days"`
	Nodes map[NodeID]*NodeKPI `json:"nodes"`
	// Cost sums the nodes' costs (nil when the scenario has no money).
	Cost *RunCost `json:"cost,omitempty"`
	// Arcs are the lanes' flows over the run, one per network arc in the
	// network's order (a map draws them as they are, not estimated).
	Arcs []ArcFlow `json:"arcs"`
}

// ArcFlow is what one arc carried over a run: Shipped is what its
// upstream node shipped on it (the ship phase), in the upstream node's
// output units (UpstreamUnits; tonnes in graph scenarios), including what
// is still in transit at the horizon.
type ArcFlow struct {
	From     NodeID  `json:"from"`
	To       NodeID  `json:"to"`
	Material string  `json:"material,omitempty"` // as declared; empty: the node's default input
	Shipped  float64 `json:"shipped"`
	Unit     string  `json:"unit"`
}

// UpstreamUnits is ArcFlow.Unit: the network's quantities carry no unit
// of their own, so an arc's flow is in its upstream node's output units.
const UpstreamUnits = "upstream output units"

// workspace holds all per-run state; Run reuses it so a day step does not
// allocate.
type workspace struct {
	m *model

	capF, demF []float64 // today's node capacity and demand factors
	capE       []float64 // today's effective capacity: (capacity + builds) × capF
	arcF       []float64 // today's lane factor
	arcDelay   []int
	allow      []float64 // share of an arc's flow export controls allow today
	openF      []float64 // min(arcF, allow): share of an arc's flow that may move today
	needLic    []int     // control whose missing licence blocks the arc (−1)
	qualF      []float64

	out     []float64 // output stock
	inBuf   []float64 // input stock per group, output-equivalent units
	pipe    []float64 // ringLen × arc (slot-major): upstream units arriving on that slot
	pSum    []float64 // per group, in transit, output-equivalent units
	backlog []float64 // per arc, upstream units ordered and not yet shipped
	newOrd  []float64 // per arc, upstream units ordered yesterday (the supplier's new requests today)
	wt      []float64 // per arc, scratch: split weights
	short   []float64 // per group, today's unfilled orders, output-equivalent
	ordIn   []float64 // per node, open orders (backlog) at production time

	// Content tracking for content-scoped controls: share of a stock that
	// contains controlled-origin material (c × node, c × group, c × arc × slot).
	tOut, tIn, tPipe []float64

	licState []int8 // control × arc: 0 none, 1 pending, 2 approved
	licDay   []int  // decision day (pending) or expiry (approved)
	qUsed    []float64

	actDay []int      // per arc: day a standby arc is activated (never: not yet)
	ctl    Controller // nil: no decisions (phase 0 skipped)
	act    actState   // what a Controller changed in this run (hook_actions.go)

	events []cshock // sampled random shocks of this run
	ctlRng []*rand.Rand
	ctlSrc []*rand.PCG
	shkRng []*rand.Rand
	shkSrc []*rand.PCG

	// KPIs.
	req, fill, lost []float64 // per node over the run
	// Output balance per node over the run: produced, shipped to
	// customers, served to external demand, and the sum of the end-of-day
	// stock (unit-days, for holding costs).
	produced, shipped, served, stockDays []float64
	arcShipped                           []float64 // per arc, shipped over the run
	soDays, firstSO                      []int
	mAcc                                 []float64 // node × month × 4: requested, filled, lost, inventory at the month's end (one cache line per day's update)
	win                                  []float64 // node × 7 × 2 trailing window (request, fill)
	recovered                            []int     // day the trailing fill rate came back ≥ 95% after the first stockout
	firstOnset                           int
}

// window is the trailing window of the empirical time to recover, days.
const window = 7

func newWorkspace(m *model) *workspace {
	ng := len(m.groupNode)
	w := &workspace{m: m,
		capF: make([]float64, m.n), capE: make([]float64, m.n), demF: make([]float64, m.n), arcF: make([]float64, m.na), arcDelay: make([]int, m.na),
		allow: make([]float64, m.na), openF: make([]float64, m.na), needLic: make([]int, m.na), qualF: make([]float64, m.na),
		out: make([]float64, m.n), inBuf: make([]float64, ng), pipe: make([]float64, m.na*m.ringLen), pSum: make([]float64, ng),
		backlog: make([]float64, m.na), newOrd: make([]float64, m.na), wt: make([]float64, m.na), short: make([]float64, ng), ordIn: make([]float64, m.n),
		tOut: make([]float64, m.nContent*m.n), tIn: make([]float64, m.nContent*ng), tPipe: make([]float64, m.nContent*m.na*m.ringLen),
		licState: make([]int8, len(m.controls)*m.na), licDay: make([]int, len(m.controls)*m.na),
		qUsed: make([]float64, len(m.controls)),
		req:   make([]float64, m.n), fill: make([]float64, m.n), lost: make([]float64, m.n),
		soDays: make([]int, m.n), firstSO: make([]int, m.n),
		produced: make([]float64, m.n), shipped: make([]float64, m.n), served: make([]float64, m.n), stockDays: make([]float64, m.n), arcShipped: make([]float64, m.na),
		mAcc: make([]float64, m.n*len(m.monthLabel)*4),
		win:  make([]float64, m.n*window*2), recovered: make([]int, m.n),
		actDay: make([]int, m.na),
	}
	for range m.controls {
		src := rand.NewPCG(0, 0)
		w.ctlSrc = append(w.ctlSrc, src)
		w.ctlRng = append(w.ctlRng, rand.New(src))
	}
	for range m.random {
		src := rand.NewPCG(0, 0)
		w.shkSrc = append(w.shkSrc, src)
		w.shkRng = append(w.shkRng, rand.New(src))
	}
	return w
}

func clear64(s []float64) {
	for i := range s {
		s[i] = 0
	}
}

// reset prepares a new run; rng seeds the per-entity streams (one per
// control and per random shock, in file order: common random numbers).
func (w *workspace) reset(rng *rand.Rand) {
	m := w.m
	copy(w.out, m.inv0)
	copy(w.inBuf, m.inStock0)
	for _, s := range [][]float64{w.pipe, w.pSum, w.backlog, w.newOrd, w.short, w.ordIn, w.tOut, w.tIn, w.tPipe, w.qUsed,
		w.req, w.fill, w.lost, w.mAcc, w.win, w.produced, w.shipped, w.served, w.stockDays, w.arcShipped} {
		clear64(s)
	}
	for i := range w.licState {
		w.licState[i] = 0
	}
	for a := range m.na {
		w.arcF[a], w.arcDelay[a], w.allow[a], w.needLic[a], w.qualF[a] = 1, 0, 1, -1, 1
	}
	for i := range m.n {
		w.capF[i], w.demF[i] = 1, 1
	}
	w.updateCapacity(0)
	for a := range w.actDay {
		w.actDay[a] = never
	}
	w.act.reset(m)
	for i := range w.soDays {
		w.soDays[i] = 0
		w.firstSO[i] = -1
		w.recovered[i] = -1
	}
	for _, ctl := range m.controls {
		if ctl.contentIdx < 0 {
			continue
		}
		for i := range m.n {
			if ctl.originNode[i] {
				w.tOut[ctl.contentIdx*m.n+i] = 1
			}
		}
	}
	w.fillPipeline()
	if m.backlog0 != nil {
		copy(w.backlog, m.backlog0)
	}
	for i := range m.controls {
		w.ctlSrc[i].Seed(rng.Uint64(), rng.Uint64())
	}
	for i := range m.random {
		w.shkSrc[i].Seed(rng.Uint64(), rng.Uint64())
	}
	w.events = w.events[:0]
	w.firstOnset = never
	for _, s := range m.shocks {
		w.firstOnset = min(w.firstOnset, s.from)
	}
	for _, c := range m.controls {
		w.firstOnset = min(w.firstOnset, c.effective)
	}
	for k, r := range m.random {
		rg := w.shkRng[k]
		d := 0
		for r.p > 0 {
			gap := 0
			if r.p < 1 {
				gap = int(math.Floor(math.Log(1-rg.Float64()) / math.Log(1-r.p)))
			}
			on := d + gap
			if on >= m.days || gap < 0 {
				break
			}
			dur := r.median
			if r.sig > 0 {
				dur *= math.Exp(r.sig * rg.NormFloat64())
			}
			n := max(1, int(math.Round(dur)))
			for _, j := range r.nodes {
				w.events = append(w.events, cshock{kind: 0, node: j, arc: -1, from: on, to: on + n - 1, factor: r.factor})
			}
			w.firstOnset = min(w.firstOnset, on)
			d = on + n
		}
	}
}

// fillPipeline puts each arc's declared in-transit quantity on the way: it
// arrives in equal parts on days 0 … max(1, lead)−1, as a pipeline at
// rest would (shipped on the lead time's days before the start).
func (w *workspace) fillPipeline() {
	m := w.m
	for a, q := range m.transit0 {
		if q == 0 {
			continue
		}
		L := max(1, m.lead[a])
		part := q / float64(L)
		g := m.arcGroup[a]
		for d := range L {
			pi := (d%m.ringLen)*m.na + a
			w.pipe[pi] += part
			for c := range m.nContent {
				w.tPipe[c*m.na*m.ringLen+pi] += part * w.tOut[c*m.n+m.from[a]]
			}
		}
		w.pSum[g] += q * m.invRatio[a]
	}
}

// Run simulates the scenario once. rng drives licence decisions and random
// shocks (each control and random shock gets its own stream seeded from rng,
// so runs of two scenarios that share them see the same draws). The same
// scenario and rng state give the same bits.
func Run(ctx context.Context, s *SimScenario, rng *rand.Rand) (*Result, error) {
	if rng == nil {
		return nil, errors.New("supply: run: nil random source")
	}
	m, err := compile(s)
	if err != nil {
		return nil, err
	}
	w := newWorkspace(m)
	w.reset(rng)
	if err := w.run(ctx); err != nil {
		return nil, err
	}
	return w.result(), nil
}

func (w *workspace) run(ctx context.Context) error {
	for d := range w.m.days {
		if d%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		w.step(d)
	}
	return nil
}

// step advances one day through the fixed phase order documented in doc.go.
// The phases are methods that share only the workspace. Each takes the
// per-arc and per-node slices it uses as locals of fixed length, so its loops
// need no bounds checks and no reloads of the slice headers.
func (w *workspace) step(d int) {
	if w.ctl != nil {
		w.ctl.Decide(Day{w: w, d: d})
	}
	w.regimes(d)
	slot := d % w.m.ringLen
	w.arrivals(slot)
	w.cancelBlocked()
	w.produce()
	w.ship(d, slot)
	w.order(d)
}

// regimes is phase 1: today's node and arc factors from shocks, builds,
// substitutions, qualifications and export controls, then openF, the share
// of each arc's flow that may move today.
func (w *workspace) regimes(d int) {
	m := w.m
	n, na := m.n, m.na
	// Phase 1: regimes. Node factors and effective capacities are
	// recomputed only when something can change them; otherwise they keep
	// the values reset set (capF = demF = 1, capE = capacity, which is what
	// the recomputation gives bit for bit).
	dynCap := len(m.shocks) > 0 || len(w.events) > 0
	if dynCap || len(w.act.substs) > 0 {
		for i := range n {
			w.capF[i], w.demF[i] = 1, 1
		}
	}
	// Arc regimes are reset only when something can change them (reset
	// leaves them at 1, 0, 1, −1, 1).
	if len(m.shocks) > 0 {
		for a := range na {
			w.arcF[a], w.arcDelay[a] = 1, 0
		}
	}
	if len(m.controls) > 0 {
		allow, needLic := w.allow[:na], w.needLic[:na]
		for a := range allow {
			allow[a], needLic[a] = 1, -1
		}
	}
	for k := range m.shocks {
		w.applyShock(&m.shocks[k], d)
	}
	for k := range w.events {
		w.applyShock(&w.events[k], d)
	}
	if dynCap || len(m.builds) > 0 || len(w.act.builds) > 0 {
		w.updateCapacity(d)
	}
	for k := range w.act.substs {
		sb := &w.act.substs[k]
		if d >= sb.from {
			w.demF[sb.node] *= 1 - min(sb.maxShare, sb.rate*float64(d-sb.from+1))
		}
	}
	for q := range m.quals {
		_, w.qualF[m.qualArcs[q]] = m.quals[q].State(d - m.qualDay0[q])
	}
	for _, a := range m.standby {
		if d < w.actDay[a] {
			w.qualF[a] = 0
		} else if m.qualArc[a] < 0 {
			w.qualF[a] = 1
		}
	}
	w.controlRegimes(d)
	openF, arcF, allow := w.openF[:na], w.arcF[:na], w.allow[:na]
	for a := range openF {
		openF[a] = min(arcF[a], allow[a])
	}
}

// controlRegimes is the export-control part of phase 1: quota periods,
// licence decisions and expiries, the share of each controlled arc's flow
// allowed today (allow) and the control whose missing licence blocks it
// (needLic).
func (w *workspace) controlRegimes(d int) {
	m := w.m
	n, na := m.n, m.na
	for c := range m.controls {
		ctl := &m.controls[c]
		// Quota periods start on the effective date.
		if ctl.mode == 2 && d >= ctl.effective && (d-ctl.effective)%ctl.quotaPeriod == 0 {
			w.qUsed[c] = 0
			if d > ctl.effective {
				// A new quota period reopens the lanes: customers of
				// controlled lanes re-place all their open orders of
				// that material among the sources open today (phase 5).
				for _, a := range ctl.arcs {
					for _, b := range m.groupArcs[m.arcGroup[a]] {
						w.backlog[b] = 0
					}
				}
			}
		}
		active := d >= ctl.effective && !(d >= ctl.suspended && d < ctl.resumes)
		for k, a := range ctl.arcs {
			li := c*na + a
			switch w.licState[li] {
			case 1:
				if d >= w.licDay[li] {
					if w.ctlRng[c].Float64() < ctl.approve {
						w.licState[li] = 2
						w.licDay[li] = never
						if ctl.valid > 0 {
							w.licDay[li] = d + ctl.valid
						}
					} else {
						w.licState[li] = 0
						w.act.refused[c]++
					}
				}
			case 2:
				if d >= w.licDay[li] {
					w.licState[li] = 0
				}
			}
			if !active {
				continue
			}
			share := 0.0 // share of the flow not allowed without a licence
			if ctl.byOrigin[k] {
				share = 1
			} else if t := w.tOut[ctl.contentIdx*n+m.from[a]]; t > ctl.threshold {
				share = t
			}
			if ctl.mode == 2 {
				// A lane whose quota is used up is closed until the next
				// period: its open orders are cancelled and placed with
				// other sources.
				if share > 0 && w.qUsed[c] >= ctl.quota {
					w.allow[a] = 0
				}
				continue
			}
			if share == 0 || (ctl.mode == 0 && w.licState[li] == 2) {
				continue
			}
			w.allow[a] = min(w.allow[a], 1-share)
			if ctl.mode == 0 && w.licState[li] == 0 {
				w.needLic[a] = c
			}
		}
	}
}

// arrivals is phase 2: shipments due in ring slot slot reach their
// customers' input stocks, with their controlled content.
func (w *workspace) arrivals(slot int) {
	m := w.m
	na, nc := m.na, m.nContent
	invRatio, arcGroup := m.invRatio[:na], m.arcGroup[:na]
	// Phase 2: arrivals.
	inBuf, pSum := w.inBuf, w.pSum
	arriving := w.pipe[slot*na:][:na]
	zero := m.zero
	for a, q := range arriving {
		if q == 0 {
			continue
		}
		pi := slot*na + a
		g := arcGroup[a]
		eq := q * invRatio[a]
		if eq < zero {
			// Below the tolerance: dropped (counted as a rounding loss).
			pSum[g] = max(0, pSum[g]-eq)
			for c := range nc {
				w.tPipe[c*na*m.ringLen+pi] = 0
			}
			arriving[a] = 0
			continue
		}
		old := inBuf[g]
		inBuf[g] = old + eq
		pSum[g] = max(0, pSum[g]-eq)
		for c := range nc {
			ti := c*len(m.groupNode) + g
			w.tIn[ti] = (old*w.tIn[ti] + eq*w.tPipe[c*na*m.ringLen+pi]/q) / inBuf[g]
			w.tPipe[c*na*m.ringLen+pi] = 0
		}
		arriving[a] = 0
	}
}

// cancelBlocked drops the open orders of lanes that cannot flow today and
// sums each supplier's open orders (ordIn).
func (w *workspace) cancelBlocked() {
	m := w.m
	n, na := m.n, m.na
	openF, qualF, backlog, from := w.openF[:na], w.qualF[:na], w.backlog[:na], m.from[:na]
	capE, out, ordIn := w.capE[:n], w.out[:n], w.ordIn[:n]
	// Open orders on lanes that cannot flow today are cancelled: the
	// customer orders again from its other sources in phase 5. (Orders at
	// suppliers that are down with nothing in stock move in phase 5 when
	// another source can take them, else they wait for the restart.)
	clear64(ordIn)
	for a, i := range from {
		if backlog[a] > 0 && openF[a]*qualF[a] == 0 {
			backlog[a] = 0
		}
		ordIn[i] += backlog[a]
	}
	_ = capE
	_ = out
}

// produce is phase 3.
func (w *workspace) produce() {
	m := w.m
	n, nc := m.n, m.nContent
	capE, out, ordIn, demF := w.capE[:n], w.out[:n], w.ordIn[:n], w.demF[:n]
	demand, inv0 := m.demand[:n], m.inv0[:n]
	// Phase 3: production, limited by capacity, the scarcest input and need.
	nodeGrp := m.nodeGrp[:n]
	for j := range n {
		if capE[j] == 0 {
			continue
		}
		want := ordIn[j] + demand[j]*demF[j] + inv0[j] - out[j]
		u := min(capE[j], want)
		for _, g := range nodeGrp[j] {
			u = min(u, w.inBuf[g])
		}
		if u < m.zero {
			continue
		}
		for _, g := range nodeGrp[j] {
			if w.inBuf[g] -= u; w.inBuf[g] < m.zero {
				w.inBuf[g] = 0
			}
		}
		w.produced[j] += u
		old := out[j]
		out[j] = old + u
		for c := range nc {
			ti := c*n + j
			tu := 1.0
			if !m.controls[m.contentCtl[c]].originNode[j] {
				clean := 1.0
				for _, g := range nodeGrp[j] {
					clean *= 1 - w.tIn[c*len(m.groupNode)+g]
				}
				tu = 1 - clean
			}
			w.tOut[ti] = (old*w.tOut[ti] + u*tu) / out[j]
		}
	}
}

// ship is phase 4, with phase 6 (the day's KPIs) of each node recorded as
// soon as its shipments are known.
func (w *workspace) ship(d, slot int) {
	m := w.m
	n, na, nc := m.n, m.na, m.nContent
	openF, backlog, newOrd := w.openF[:na], w.backlog[:na], w.newOrd[:na]
	invRatio, arcGroup := m.invRatio[:na], m.arcGroup[:na]
	out, demF := w.out[:n], w.demF[:n]
	demand := m.demand[:n]
	pSum := w.pSum
	// Phase 4: allocation and shipping.
	clear64(w.short)
	hasQuota := m.hasQuota
	lead, arcDelay, pipe := m.lead[:na], w.arcDelay[:na], w.pipe
	accStride, accOff := len(m.monthLabel)*4, m.month[d]*4
	ws := (d % window) * 2
	outArcs := m.outArcs[:n]
	mAcc, soDays, firstSO := w.mAcc, w.soDays[:n], w.firstSO[:n]
	for i := range n {
		ext := demand[i] * demF[i]
		total := ext
		for _, a := range outArcs[i] {
			total += backlog[a] * openF[a]
		}
		avail := max(out[i], 0)
		frac := 1.0
		if total > avail && total > 0 {
			frac = avail / total
		}
		left := avail
		var served float64
		if w.act.priority {
			served = min(ext, left)
			left -= served
		} else {
			served = ext * frac
		}
		filled := served
		open := 0.0
		req := ext
		for _, a := range outArcs[i] {
			req += newOrd[a]
			r := backlog[a] * openF[a]
			var s float64
			if w.act.priority {
				s = min(r, left)
				left -= s
			} else {
				s = r * frac
			}
			if hasQuota {
				for _, c := range m.quotaOf[a] {
					if w.inQuota(c, a, d) {
						s = min(s, max(0, m.controls[c].quota-w.qUsed[c]))
					}
				}
				for _, c := range m.quotaOf[a] {
					if w.inQuota(c, a, d) {
						w.qUsed[c] += s
					}
				}
			}
			if unf := r - s; unf > 0 {
				w.short[arcGroup[a]] += unf * invRatio[a]
				open += unf
			}
			if s <= 0 {
				continue
			}
			if backlog[a] -= s; backlog[a] < m.zero {
				backlog[a] = 0
			}
			filled += s
			w.shipped[i] += s
			w.arcShipped[a] += s
			// The ring holds lead + delay + 2 slots, so one wrap suffices.
			at := slot + max(1, lead[a]+arcDelay[a])
			if at >= m.ringLen {
				at -= m.ringLen
			}
			pi := at*na + a
			pipe[pi] += s
			pSum[arcGroup[a]] += s * invRatio[a]
			for c := range nc {
				w.tPipe[c*na*m.ringLen+pi] += s * w.tOut[c*n+i]
			}
		}
		if out[i] -= filled; out[i] < m.zero {
			out[i] = 0
		}
		w.served[i] += served
		w.stockDays[i] += out[i]
		// Phase 6 for this node, recorded while the numbers are at hand (it
		// reads only this node's results of phase 4): month sums, stockout
		// days and the trailing window of the empirical time to recover.
		so := (ext > 0 && ext-served > stockoutTol*ext) || open > stockoutTol*max(total, 1e-300)
		acc := mAcc[i*accStride+accOff:][:4]
		acc[0] += req
		acc[1] += filled
		acc[2] += ext - served
		acc[3] = out[i]
		if so {
			soDays[i]++
			if firstSO[i] < 0 {
				firstSO[i] = d
			}
		}
		win := w.win[i*window*2:][:window*2]
		win[ws], win[ws+1] = req, filled
		if f := firstSO[i]; f >= 0 && d > f && w.recovered[i] < 0 && !so {
			w.checkRecovered(i, d, win)
		}
	}
}

// order is phase 5: each input group orders up to its level from the
// sources open today, in proportion to what they can supply; stockpiles
// released on shortfall cover the day's unfilled orders.
func (w *workspace) order(d int) {
	m := w.m
	n, na := m.n, m.na
	backlog, newOrd, wt := w.backlog[:na], w.newOrd[:na], w.wt[:na]
	from, invRatio := m.from[:na], m.invRatio[:na]
	out := w.out[:n]
	// Phase 5: ordering.
	groupArcs := m.groupArcs
	stockpile := m.stockpile[:n]
	for g, j := range m.groupNode {
		wsum, nsp, queued := w.weights(g, d)
		ip := w.inBuf[g] + w.pSum[g]
		for _, a := range groupArcs[g] {
			ip += backlog[a] * invRatio[a]
		}
		// The node's finished stock below its declared level is input it
		// must also get: the level of the inputs rises by the gap, so a
		// node restores its declared stock (echelon order-up-to).
		gap := max(0, m.inv0[j]-out[j])
		q := 0.0
		if r := m.levelR[g]; r < 0 || ip <= r+gap {
			q = max(0, w.act.levelS[g]+gap-ip)
		}
		if q < m.zero {
			q = 0
		}
		short := w.short[g]
		if wsum == 0 || queued {
			short += q
		}
		qw := 0.0
		if wsum > 0 {
			qw = q / wsum
		}
		for _, a := range groupArcs[g] {
			i := from[a]
			if stockpile[i] && m.sourceMode(i, d) == srcShortfall {
				// A stockpile released on shortfall covers today's unfilled
				// orders; its open order is replaced, not added to.
				backlog[a] = 0
				if out[i] > 0 && short > 0 {
					v := short / float64(nsp)
					if r := m.releasePerDay[i]; r > 0 {
						v = min(v, r/m.ratio[a])
					}
					backlog[a] = v * m.ratio[a]
					newOrd[a] = backlog[a]
				}
			} else if wsum > 0 && q > 0 {
				newOrd[a] = qw * wt[a] * m.ratio[a]
				backlog[a] += newOrd[a]
			}
		}
	}
}

// weights sets the split weights wt of group g's arcs for today's orders
// and returns their sum, the number of stockpiles released on shortfall
// that hold stock, and whether the orders only queue at sources that are
// down (nothing can supply today: a shortfall). A source weighs what it can supply today, (capacity ×
// factor + stock) × the lane's open and qualified share. When some source
// can supply, open orders at sources that are down with nothing in stock
// are cancelled (the customer orders again from the others); when none can,
// orders queue at the sources that are down in proportion to their
// nominal capacity, to be shipped the day they restart.
func (w *workspace) weights(g, d int) (wsum float64, nsp int, queued bool) {
	m := w.m
	n, na := m.n, m.na
	openF, qualF, backlog, newOrd, wt := w.openF[:na], w.qualF[:na], w.backlog[:na], w.newOrd[:na], w.wt[:na]
	capE, out, from := w.capE[:n], w.out[:n], m.from[:na]
	arcs := m.groupArcs[g]
	regular := 0
	stuck := false // an open order at a source that cannot supply today
	for _, a := range arcs {
		newOrd[a], wt[a] = 0, 0
		i := from[a]
		if m.stockpile[i] {
			switch m.sourceMode(i, d) {
			case srcShortfall:
				if out[i] > 0 {
					nsp++
				}
				continue
			case srcInactive:
				backlog[a] = 0
				continue
			}
		}
		regular++
		if c := w.needLic[a]; c >= 0 {
			li := c*na + a
			w.licState[li] = 1
			w.licDay[li] = d + m.controls[c].review
		}
		// Weights below the tolerance are zero: a sum of leftovers of
		// rounding (3.56e-307 of stock) must not be divided by.
		if v := (capE[i] + out[i]) * openF[a] * qualF[a]; v >= m.zero {
			wt[a] = v
			wsum += v
		} else if backlog[a] > 0 {
			stuck = true
		}
	}
	if regular == 0 || wsum > 0 && !stuck {
		return wsum, nsp, false
	}
	for _, a := range arcs {
		i := from[a]
		if m.stockpile[i] && m.sourceMode(i, d) != srcRegular {
			continue
		}
		switch {
		case wsum > 0 && wt[a] == 0 && capE[i]+out[i] < m.zero:
			backlog[a] = 0
		case wsum == 0:
			if v := m.capMax[i] * openF[a] * qualF[a]; v >= m.zero {
				wt[a] = v
			}
		}
	}
	if wsum == 0 {
		for _, a := range arcs {
			wsum += wt[a]
		}
		queued = true
	}
	return wsum, nsp, queued
}

// updateCapacity sets today's effective capacities: capacity plus builds,
// times today's capacity factor.
func (w *workspace) updateCapacity(d int) {
	m := w.m
	for i := range m.n {
		w.capE[i] = m.capacity[i]
	}
	for k := range m.builds {
		b := &m.builds[k]
		if d >= b.online {
			f := 1.0
			if b.ramp > 0 {
				f = min(1, float64(d-b.online+1)/float64(b.ramp))
			}
			w.capE[b.node] += b.add * f
		}
	}
	w.act.addBuilds(d, w.capE) // builds a Controller started (hook_actions.go)
	for i := range m.n {
		w.capE[i] *= w.capF[i]
	}
}

// Source modes of a node toward its customers.
const (
	srcRegular   = iota // takes orders
	srcShortfall        // stockpile released on shortfall
	srcInactive         // stockpile not yet released by date
)

// sourceMode says how node i takes orders on day d.
func (m *model) sourceMode(i, d int) int8 {
	switch {
	case !m.stockpile[i]:
		return srcRegular
	case !m.releaseDate[i]:
		return srcShortfall
	case d >= m.releaseFrom[i]:
		return srcRegular
	}
	return srcInactive
}

// inQuota reports whether arc a falls under quota control c on day d.
func (w *workspace) inQuota(c, a, d int) bool {
	ctl := &w.m.controls[c]
	if d < ctl.effective || (d >= ctl.suspended && d < ctl.resumes) {
		return false
	}
	for k, b := range ctl.arcs {
		if b == a {
			return ctl.byOrigin[k] || w.tOut[ctl.contentIdx*w.m.n+w.m.from[a]] > ctl.threshold
		}
	}
	return false
}

func (w *workspace) applyShock(s *cshock, d int) {
	if d < s.from || d > s.to {
		return
	}
	switch s.kind {
	case 0:
		w.capF[s.node] *= s.factor
	case 1:
		w.arcF[s.arc] *= s.factor
	case 2:
		w.arcDelay[s.arc] += s.delay
	case 3:
		w.demF[s.node] *= s.factor
	}
}

// stockoutTol is the unfilled share of a day's requests below which the day
// does not count as a stockout (floating-point noise).
const stockoutTol = 1e-9

// checkRecovered sets the recovery day of node i to d when its trailing
// window's fill rate is 95% or more.
func (w *workspace) checkRecovered(i, d int, win []float64) {
	r, f := 0.0, 0.0
	for j := range window {
		r += win[2*j]
		f += win[2*j+1]
	}
	if r == 0 || f >= 0.95*r {
		w.recovered[i] = d
	}
}

// ratio is a fill rate: f/r clamped to [0, 1], 1 when nothing was asked.
// Shipments of backlog can exceed a month's new requests, hence the clamp.
func ratio(f, r float64) float64 {
	if r <= 0 {
		return 1
	}
	return min(1, f/r)
}

// totals sums the month series into the run totals of requests, fills
// and lost demand per node (the step keeps only month sums).
func (w *workspace) totals() {
	nm := len(w.m.monthLabel)
	for i := range w.m.n {
		var r, f, l float64
		for mo := range nm {
			x := i*nm + mo
			r += w.mAcc[x*4]
			f += w.mAcc[x*4+1]
			l += w.mAcc[x*4+2]
		}
		w.req[i], w.fill[i], w.lost[i] = r, f, l
	}
}

func (w *workspace) result() *Result {
	w.totals()
	m := w.m
	res := &Result{Start: Date(m.start.Format(dateLayout)), Days: m.days, Nodes: make(map[NodeID]*NodeKPI, m.n)}
	nm := len(m.monthLabel)
	for i, id := range m.ids {
		k := &NodeKPI{StockoutDays: w.soDays[i], FillRate: ratio(w.fill[i], w.req[i]), Requested: w.req[i], Lost: w.lost[i],
			InventoryStart: m.inv0[i], Produced: w.produced[i], Shipped: w.shipped[i], Served: w.served[i], InventoryEnd: w.out[i],
			StockUnitDays: w.stockDays[i]}
		if w.firstSO[i] >= 0 {
			dt := Date(m.start.AddDate(0, 0, w.firstSO[i]).Format(dateLayout))
			k.FirstStockout = &dt
		}
		k.Monthly = make([]MonthKPI, nm)
		for mo := range nm {
			x := i*nm + mo
			k.Monthly[mo] = MonthKPI{Month: m.monthLabel[mo], FillRate: ratio(w.mAcc[x*4+1], w.mAcc[x*4]), Lost: w.mAcc[x*4+2], InventoryEnd: w.mAcc[x*4+3]}
		}
		if mo := m.money; mo != nil {
			c := mo.nodeCost(m.stockpile[i], i, w.lost[i], w.stockDays[i])
			k.Cost = &c
		}
		res.Nodes[id] = k
	}
	res.Arcs = make([]ArcFlow, m.na)
	for a := range res.Arcs {
		res.Arcs[a] = ArcFlow{From: m.ids[m.from[a]], To: m.ids[m.to[a]], Material: m.arcMaterial[a], Shipped: w.arcShipped[a], Unit: UpstreamUnits}
	}
	if m.money != nil {
		costs := make(map[NodeID]*NodeCost, m.n)
		for id, k := range res.Nodes {
			costs[id] = k.Cost
		}
		rc := SumCosts(m.money.currency, m.ids, costs)
		res.Cost = &rc
	}
	return res
}
