package supply

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/stat/distuv"
)

// MCOptions holds the knobs of MonteCarlo.
type MCOptions struct {
	Runs int    // number of replications; 0 means 100
	Seed uint64 // run r draws from rand.NewPCG(Seed, r)
	// Workers is the number of goroutines; 0 means runtime.GOMAXPROCS(0).
	// Results do not depend on it.
	Workers int
	// Progress, if set, is called after each block of runs with the number
	// of runs done; it may be called from several goroutines at once.
	Progress func(done, total int)
}

// Dist summarises a sample: mean and empirical quantiles.
type Dist struct {
	N    int     `json:"n"` // sample size (runs where the quantity is defined)
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	// CI95 is the half-width of the 95% confidence interval of the mean,
	// t_{0.975, n−1} s / √n with s the sample standard deviation (0 when
	// n < 2): the mean is Mean ± CI95.
	CI95 float64 `json:"ci95"`
	// CVaR95 is the mean of the worst 5% (the largest values); set for
	// lost demand only.
	CVaR95 *float64 `json:"cvar95,omitempty"`
}

// MonthMean is the mean over runs of one month's KPIs.
type MonthMean struct {
	Month        string  `json:"month"`
	FillRate     float64 `json:"fill_rate"`
	Lost         float64 `json:"lost"`
	InventoryEnd float64 `json:"inventory_end"`
	// The half-widths of the 95% confidence intervals of the three means
	// (t-based, as Dist.CI95).
	FillRateCI95     float64 `json:"fill_rate_ci95"`
	LostCI95         float64 `json:"lost_ci95"`
	InventoryEndCI95 float64 `json:"inventory_end_ci95"`
	// The 10th, 50th and 90th percentiles over the runs of the month's
	// fill rate, for a fan chart. They come from a histogram of fanBins
	// bins over [0, 1] (plus one for exactly 0 and one for exactly 1), so
	// they are exact at 0 and 1 and otherwise the middle of a bin 0.005
	// wide; nearest rank (the ⌈p·runs⌉-th smallest run). Integer counts
	// merge exactly, so shards give the same bits.
	FillRateP10 float64 `json:"fill_rate_p10"`
	FillRateP50 float64 `json:"fill_rate_p50"`
	FillRateP90 float64 `json:"fill_rate_p90"`
}

// fanBins is the number of bins of the monthly fill-rate histograms over
// (0, 1); fanSlots adds one for exactly 0 and one for exactly 1. A study
// keeps nodes × months × fanSlots counts (25 × 60 × 202 × 4 B ≈ 1.2 MB),
// whatever its number of runs.
const (
	fanBins  = 200
	fanSlots = fanBins + 2
)

// fanSlot is the histogram slot of a fill rate in [0, 1].
func fanSlot(fr float64) int {
	switch {
	case fr <= 0:
		return 0
	case fr >= 1:
		return fanSlots - 1
	}
	return 1 + min(fanBins-1, int(fr*fanBins))
}

// fanValue is the value a quantile in slot k reports.
func fanValue(k int) float64 {
	switch k {
	case 0:
		return 0
	case fanSlots - 1:
		return 1
	}
	return (float64(k-1) + 0.5) / fanBins
}

// fanQuantile is the nearest-rank p-quantile of the runs counted in h.
func fanQuantile(h []uint32, runs int, p float64) float64 {
	rank := max(1, int(math.Ceil(p*float64(runs))))
	c := 0
	for k, x := range h {
		c += int(x)
		if c >= rank {
			return fanValue(k)
		}
	}
	return math.NaN()
}

// NodeDist holds the distributions of one node's KPIs over the runs.
type NodeDist struct {
	StockoutDays Dist `json:"stockout_days"`
	FillRate     Dist `json:"fill_rate"`
	Lost         Dist `json:"lost"`
	// PStockout is the share of runs with at least one stockout day;
	// PStockoutCI95 the half-width of its 95% confidence interval (t-based
	// on the 0/1 sample, as Dist.CI95).
	PStockout     float64 `json:"p_stockout"`
	PStockoutCI95 float64 `json:"p_stockout_ci95"`
	// FirstStockoutDay is the day index (0 = start) of the first stockout,
	// over the runs that have one.
	FirstStockoutDay Dist `json:"first_stockout_day"`
	// TTSDays is the empirical time to survive: days from the first shock
	// onset (or control taking effect) to the first stockout, over runs
	// with both. TTRDays is the empirical time to recover: days from the
	// first stockout until the trailing 7-day fill rate is back at ≥ 95%,
	// censored at the horizon.
	TTSDays Dist        `json:"tts_days"`
	TTRDays Dist        `json:"ttr_days"`
	Monthly []MonthMean `json:"monthly"`
	// Cost is the distribution of the node's total cost over the runs
	// (NodeCost.Total; nil when the scenario has no money).
	Cost *Dist `json:"cost,omitempty"`
}

// CostDist holds the distributions over runs of a study's summed costs
// (RunCost), in Currency.
type CostDist struct {
	Currency       string `json:"currency"`
	RevenueAtRisk  Dist   `json:"revenue_at_risk"`
	LostDemandCost Dist   `json:"lost_demand_cost"`
	HoldingCost    Dist   `json:"holding_cost"`
	MitigationCost Dist   `json:"mitigation_cost"`
	Total          Dist   `json:"total"`
}

// MCResult is the outcome of a Monte Carlo study.
type MCResult struct {
	Runs  int                  `json:"runs"`
	Seed  uint64               `json:"seed"`
	Start Date                 `json:"start"`
	Days  int                  `json:"days"`
	Nodes map[NodeID]*NodeDist `json:"nodes"`
	// Cost is the distribution of the summed costs (nil without money).
	Cost *CostDist `json:"cost,omitempty"`
}

// mcBlock is the number of consecutive runs one worker takes at a time; the
// monthly sums are reduced per block in run order, then over blocks in block
// order, so the bits do not depend on the number of workers.
const mcBlock = 32

// MonteCarlo simulates the scenario Runs times in parallel and summarises
// the KPIs. Run r uses the stream rand.NewPCG(Seed, r), from which every
// control and random shock gets its own stream (common random numbers: two
// scenarios with the same controls and random shocks see the same draws).
func MonteCarlo(ctx context.Context, s *SimScenario, opts MCOptions) (*MCResult, error) {
	m, err := compile(s)
	if err != nil {
		return nil, err
	}
	smp, err := monteCarlo(ctx, m, opts)
	if err != nil {
		return nil, err
	}
	return smp.result(m, opts.Seed), nil
}

// monteCarlo runs the study of the compiled model m and keeps its samples.
func monteCarlo(ctx context.Context, m *model, opts MCOptions) (*mcSamples, error) {
	runs := opts.Runs
	if runs == 0 {
		runs = 100
	}
	if runs < 0 {
		return nil, errors.New("supply: monte carlo: runs must be > 0")
	}
	return monteCarloRange(ctx, m, opts, 0, runs)
}

// monteCarloRange runs runs [from, to) of the study, from a multiple of
// mcBlock, and keeps their samples; progress counts the runs of the range.
func monteCarloRange(ctx context.Context, m *model, opts MCOptions, from, to int) (*mcSamples, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	runs := to - from
	b0 := from / mcBlock
	nb := (to+mcBlock-1)/mcBlock - b0
	workers = max(1, min(workers, nb))
	n, nm := m.n, len(m.monthLabel)
	smp := newMCSamples(runs, nb, n, nm, m.money != nil)
	smp.base = from
	var next atomic.Int64
	var done atomic.Int64
	var wg sync.WaitGroup
	// Each worker counts its runs' monthly fill rates in its own
	// histogram; the counts are added after (integers: any order).
	// The first worker counts straight into the samples'.
	hists := make([][]uint32, workers)
	for wi := range workers {
		hists[wi] = smp.fillHist
		if wi > 0 {
			hists[wi] = make([]uint32, n*nm*fanSlots)
		}
		h := hists[wi]
		wg.Go(func() {
			w := newWorkspace(m)
			src := rand.NewPCG(0, 0)
			rng := rand.New(src)
			for {
				b := int(next.Add(1) - 1)
				if b >= nb || ctx.Err() != nil {
					return
				}
				bs := smp.msum[b*n*nm*6 : (b+1)*n*nm*6]
				lo, hi := (b0+b)*mcBlock, min(to, (b0+b+1)*mcBlock)
				for r := lo; r < hi; r++ {
					src.Seed(opts.Seed, uint64(r))
					w.reset(rng)
					if w.run(ctx) != nil {
						return
					}
					w.totals()
					smp.record(w, r, bs, h)
				}
				d := done.Add(int64(hi - lo))
				if opts.Progress != nil {
					opts.Progress(int(d), runs)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, h := range hists[1:] {
		for k, x := range h {
			smp.fillHist[k] += x
		}
	}
	return smp, nil
}

// mcSamples is what a Monte Carlo study keeps of its runs: per run and node
// scalars (NaN where undefined), indexed run*n + node, and monthly sums per
// block of runs, block × node × month × 6 (fill rate, lost, inventory and
// their squares). A
// block is summed by one worker in run order, and the blocks are added in
// block order, so the result does not depend on the number of workers.
type mcSamples struct {
	runs, nb, n, nm           int
	base                      int // the study's index of the first run kept
	soDays, fill, lost, first []float64
	tts, ttr                  []float64
	msum                      []float64
	// fillHist counts the runs' monthly fill rates, node × month ×
	// fanSlots (see fanSlot).
	fillHist []uint32
	// With money: nodeCost per run*n + node (NodeCost.Total) and cost per
	// run*5 + k, the RunCost fields in order (revenue at risk, lost demand
	// cost, holding, mitigation, total).
	nodeCost, cost []float64
}

// newMCSamples allocates the samples of runs runs in nb blocks of n nodes and nm months.
func newMCSamples(runs, nb, n, nm int, money bool) *mcSamples {
	smp := &mcSamples{runs: runs, nb: nb, n: n, nm: nm,
		soDays: make([]float64, runs*n), fill: make([]float64, runs*n), lost: make([]float64, runs*n),
		first: make([]float64, runs*n), tts: make([]float64, runs*n), ttr: make([]float64, runs*n),
		msum: make([]float64, nb*n*nm*6), fillHist: make([]uint32, n*nm*fanSlots)}
	if money {
		smp.nodeCost, smp.cost = make([]float64, runs*n), make([]float64, runs*5)
	}
	return smp
}

// record stores run r, just simulated in w, adds its months to bs, the
// sums of its block, and counts its monthly fill rates in h.
func (smp *mcSamples) record(w *workspace, r int, bs []float64, h []uint32) {
	m, n, nm := w.m, smp.n, smp.nm
	soDays, fill, lost, first, tts, ttr := smp.soDays, smp.fill, smp.lost, smp.first, smp.tts, smp.ttr
	r -= smp.base
	for i := range n {
		k := r*n + i
		soDays[k] = float64(w.soDays[i])
		fill[k] = ratio(w.fill[i], w.req[i])
		lost[k] = w.lost[i]
		first[k], tts[k], ttr[k] = math.NaN(), math.NaN(), math.NaN()
		if f := w.firstSO[i]; f >= 0 {
			first[k] = float64(f)
			if w.firstOnset <= f {
				tts[k] = float64(f - w.firstOnset)
			}
			rec := w.recovered[i]
			if rec < 0 {
				rec = m.days
			}
			ttr[k] = float64(rec - f)
		}
		if mo := m.money; mo != nil {
			c := mo.nodeCost(m.stockpile[i], i, w.lost[i], w.stockDays[i])
			smp.nodeCost[k] = c.Total
			rc := smp.cost[r*5:][:5]
			rc[0] += c.RevenueAtRisk
			rc[1] += c.LostDemandCost
			rc[2] += c.HoldingCost
			rc[3] += c.MitigationCost
			rc[4] += c.Total
		}
		for mo := range nm {
			x := i*nm + mo
			acc := w.mAcc[x*4:][:4]
			fr := ratio(acc[1], acc[0])
			s := bs[x*6:][:6]
			s[0] += fr
			s[1] += acc[2]
			s[2] += acc[3]
			s[3] += fr * fr
			s[4] += acc[2] * acc[2]
			s[5] += acc[3] * acc[3]
			h[x*fanSlots+fanSlot(fr)]++
		}
	}
}

// result summarises the samples per node.
func (smp *mcSamples) result(m *model, seed uint64) *MCResult {
	runs, nb, n, nm := smp.runs, smp.nb, smp.n, smp.nm
	soDays, fill, lost, first, tts, ttr, msum := smp.soDays, smp.fill, smp.lost, smp.first, smp.tts, smp.ttr, smp.msum
	res := &MCResult{Runs: runs, Seed: seed, Start: Date(m.start.Format(dateLayout)), Days: m.days, Nodes: make(map[NodeID]*NodeDist, n)}
	col := make([]float64, runs)
	pick := func(src []float64, i int) []float64 {
		col = col[:0]
		for r := range runs {
			if v := src[r*n+i]; !math.IsNaN(v) {
				col = append(col, v)
			}
		}
		return col
	}
	tq := 0.0
	if runs > 1 {
		tq = tQuantile975(runs - 1)
	}
	for i, id := range m.ids {
		nd := &NodeDist{
			StockoutDays:     summarize(pick(soDays, i), false),
			FillRate:         summarize(pick(fill, i), false),
			Lost:             summarize(pick(lost, i), true),
			FirstStockoutDay: summarize(pick(first, i), false),
			TTSDays:          summarize(pick(tts, i), false),
			TTRDays:          summarize(pick(ttr, i), false),
		}
		nd.PStockout = float64(nd.FirstStockoutDay.N) / float64(runs)
		nd.PStockoutCI95 = tq * sdOfSums(float64(nd.FirstStockoutDay.N), float64(nd.FirstStockoutDay.N), runs) / math.Sqrt(float64(runs))
		if smp.nodeCost != nil {
			c := summarize(pick(smp.nodeCost, i), false)
			nd.Cost = &c
		}
		nd.Monthly = make([]MonthMean, nm)
		for mo := range nm {
			var t [6]float64
			for b := range nb {
				x := (b*n*nm + i*nm + mo) * 6
				for k := range t {
					t[k] += msum[x+k]
				}
			}
			r := float64(runs)
			nd.Monthly[mo] = MonthMean{Month: m.monthLabel[mo], FillRate: t[0] / r, Lost: t[1] / r, InventoryEnd: t[2] / r,
				FillRateCI95: tq * sdOfSums(t[0], t[3], runs) / math.Sqrt(r), LostCI95: tq * sdOfSums(t[1], t[4], runs) / math.Sqrt(r),
				InventoryEndCI95: tq * sdOfSums(t[2], t[5], runs) / math.Sqrt(r)}
			h := smp.fillHist[(i*nm+mo)*fanSlots:][:fanSlots]
			mm := &nd.Monthly[mo]
			mm.FillRateP10, mm.FillRateP50, mm.FillRateP90 = fanQuantile(h, runs, 0.1), fanQuantile(h, runs, 0.5), fanQuantile(h, runs, 0.9)
		}
		res.Nodes[id] = nd
	}
	if smp.cost != nil {
		res.Cost = smp.costDist(m.money.currency)
	}
	return res
}

// costDist summarises the summed costs of the runs.
func (smp *mcSamples) costDist(currency string) *CostDist {
	col := func(k int) Dist {
		xs := make([]float64, smp.runs)
		for r := range xs {
			xs[r] = smp.cost[r*5+k]
		}
		return summarize(xs, false)
	}
	return &CostDist{Currency: currency, RevenueAtRisk: col(0), LostDemandCost: col(1), HoldingCost: col(2), MitigationCost: col(3), Total: col(4)}
}

// summarize sorts xs in place and returns its mean and empirical quantiles
// (the smallest value with at least the share p of the sample at or below
// it); with cvar it adds the mean of the worst ⌈5%⌉ of values.
func summarize(xs []float64, cvar bool) Dist {
	d := Dist{N: len(xs)}
	if len(xs) == 0 {
		return d
	}
	slices.Sort(xs)
	s := 0.0
	for _, v := range xs {
		s += v
	}
	d.Mean = s / float64(len(xs))
	d.CI95 = halfWidth95(xs, d.Mean)
	q := func(p float64) float64 {
		k := int(math.Ceil(p*float64(len(xs)))) - 1
		return xs[max(0, min(k, len(xs)-1))]
	}
	d.P50, d.P90, d.P95 = q(0.5), q(0.9), q(0.95)
	if cvar {
		k := int(math.Ceil(0.05 * float64(len(xs))))
		t := 0.0
		for _, v := range xs[len(xs)-k:] {
			t += v
		}
		c := t / float64(k)
		d.CVaR95 = &c
	}
	return d
}

// sdOfSums is the sample standard deviation of n values from their sum s
// and sum of squares q (0 for n < 2; rounding never makes it NaN).
func sdOfSums(s, q float64, n int) float64 {
	if n < 2 {
		return 0
	}
	v := (q - s*s/float64(n)) / float64(n-1)
	return math.Sqrt(max(0, v))
}

// halfWidth95 is the t-based half-width of the 95% confidence interval of
// the mean of xs: t_{0.975, n−1} s/√n, 0 for fewer than two values.
func halfWidth95(xs []float64, mean float64) float64 {
	n := len(xs)
	if n < 2 {
		return 0
	}
	ss := 0.0
	for _, v := range xs {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	return tQuantile975(n-1) * sd / math.Sqrt(float64(n))
}

// tQuantile975 is the 0.975 quantile of Student's t with nu degrees of
// freedom (1.959964 as nu → ∞).
func tQuantile975(nu int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(nu)}.Quantile(0.975)
}

// MCBlock is the granularity of shards of a study: a shard starts at a
// multiple of MCBlock runs, so that its monthly sums are those of whole
// blocks, added in run order as MonteCarlo adds them.
const MCBlock = mcBlock

// MCShard holds the samples of runs [From, To) of a study: per run and
// node scalars (NaN where undefined), indexed (run−From)·Nodes + node, and
// the monthly sums of its blocks (see mcSamples). Merged in run order with
// the other shards of the study (MergeMC) they give the bits of
// MonteCarlo, whatever machine ran which shard.
type MCShard struct {
	From, To                            int
	Nodes, Months                       int
	SoDays, Fill, Lost, First, TTS, TTR []float64
	MSum                                []float64
	// FillHist counts the shard's monthly fill rates, node × month × 202
	// slots (exactly 0, 200 bins over (0, 1), exactly 1).
	FillHist []uint32
	// NodeCost and Cost are nil without money.
	NodeCost, Cost []float64
}

// MonteCarloShard runs runs [from, to) of the study of opts.Runs runs
// (from a multiple of MCBlock; to a multiple too, or opts.Runs). Run r
// draws from rand.NewPCG(opts.Seed, r), as in MonteCarlo. opts.Progress
// counts the shard's runs.
func MonteCarloShard(ctx context.Context, s *SimScenario, opts MCOptions, from, to int) (*MCShard, error) {
	if opts.Runs <= 0 || from < 0 || from%mcBlock != 0 || to <= from || to > opts.Runs || to%mcBlock != 0 && to != opts.Runs {
		return nil, &FieldError{Field: "shard", Msg: fmt.Sprintf("runs [%d, %d) of %d: want 0 ≤ from < to ≤ runs, both multiples of %d (to may be runs)", from, to, opts.Runs, mcBlock)}
	}
	m, err := compile(s)
	if err != nil {
		return nil, err
	}
	smp, err := monteCarloRange(ctx, m, opts, from, to)
	if err != nil {
		return nil, err
	}
	return &MCShard{From: from, To: to, Nodes: smp.n, Months: smp.nm, SoDays: smp.soDays, Fill: smp.fill, Lost: smp.lost,
		First: smp.first, TTS: smp.tts, TTR: smp.ttr, MSum: smp.msum, FillHist: smp.fillHist, NodeCost: smp.nodeCost, Cost: smp.cost}, nil
}

// MergeMC summarises the shards of a study of opts.Runs runs of s: they
// must cover [0, opts.Runs) exactly, in any order. The result has the bits
// of MonteCarlo(s, opts).
func MergeMC(s *SimScenario, opts MCOptions, shards []*MCShard) (*MCResult, error) {
	m, err := compile(s)
	if err != nil {
		return nil, err
	}
	runs, n, nm := opts.Runs, m.n, len(m.monthLabel)
	sorted := slices.Clone(shards)
	slices.SortFunc(sorted, func(a, b *MCShard) int { return a.From - b.From })
	nb := (runs + mcBlock - 1) / mcBlock
	smp := newMCSamples(runs, nb, n, nm, m.money != nil)
	next := 0
	for _, sh := range sorted {
		k := sh.To - sh.From
		blocks := (sh.To+mcBlock-1)/mcBlock - sh.From/mcBlock
		switch {
		case sh.From != next:
			return nil, &FieldError{Field: "shards", Msg: fmt.Sprintf("runs [%d, %d) missing or doubled (a shard starts at %d)", next, sh.From, sh.From)}
		case sh.To > runs || sh.Nodes != n || sh.Months != nm || len(sh.SoDays) != k*n || len(sh.Fill) != k*n || len(sh.Lost) != k*n ||
			len(sh.First) != k*n || len(sh.TTS) != k*n || len(sh.TTR) != k*n || len(sh.MSum) != blocks*n*nm*6 || len(sh.FillHist) != n*nm*fanSlots ||
			(m.money != nil) != (sh.Cost != nil) || sh.Cost != nil && (len(sh.Cost) != k*5 || len(sh.NodeCost) != k*n):
			return nil, &FieldError{Field: "shards", Msg: fmt.Sprintf("shard [%d, %d) does not fit the study (%d runs, %d nodes, %d months)", sh.From, sh.To, runs, n, nm)}
		}
		o := sh.From * n
		copy(smp.soDays[o:], sh.SoDays)
		copy(smp.fill[o:], sh.Fill)
		copy(smp.lost[o:], sh.Lost)
		copy(smp.first[o:], sh.First)
		copy(smp.tts[o:], sh.TTS)
		copy(smp.ttr[o:], sh.TTR)
		copy(smp.msum[sh.From/mcBlock*n*nm*6:], sh.MSum)
		for k, x := range sh.FillHist {
			smp.fillHist[k] += x
		}
		if sh.Cost != nil {
			copy(smp.nodeCost[o:], sh.NodeCost)
			copy(smp.cost[sh.From*5:], sh.Cost)
		}
		next = sh.To
	}
	if next != runs {
		return nil, &FieldError{Field: "shards", Msg: fmt.Sprintf("runs [%d, %d) missing", next, runs)}
	}
	return smp.result(m, opts.Seed), nil
}
