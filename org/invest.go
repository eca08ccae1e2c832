package org

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"lodestone/supply"
)

// Candidate kinds.
const (
	KindBuild         = "build"         // new capacity at Node: AddCapacityPerPeriod from start + lead, over RampDays
	KindStockpile     = "stockpile"     // Size units of Node's input held in a stockpile released on shortfall
	KindQualification = "qualification" // qualify the standby Arc: the default programme (144 days) from start + lead
	KindStandbyLane   = "standby_lane"  // put the standby Arc into service from start + lead
	KindSubstitution  = "substitution"  // lower Node's demand by RatePerYear up to MaxShare from start + lead
)

// Objectives.
const (
	ObjectiveExpectedLost     = "expected_lost"      // mean external demand lost, units (the default)
	ObjectiveCVaR95           = "cvar95"             // mean of the worst 5 % of runs' lost demand, units
	ObjectiveExpectedLostCost = "expected_lost_cost" // mean cost of lost demand, scenario currency (needs money)
)

// ExhaustiveMax is the largest candidate set searched exhaustively (2^10
// portfolios); larger sets are searched greedily.
const ExhaustiveMax = 10

// Candidate is one investment. Cost is its capital cost; its cost over the
// horizon, which the budget limits, is Cost + (RunningCostPerDay + Size ×
// HoldingCostPerUnitDay) × the days it is in service.
type Candidate struct {
	ID                    string   `json:"id"`
	Kind                  string   `json:"kind"`
	Cost                  *float64 `json:"cost"`
	RunningCostPerDay     float64  `json:"running_cost_per_day,omitempty"`
	LeadTimeDays          int      `json:"lead_time_days,omitempty"`
	Node                  string   `json:"node,omitempty"`
	Arc                   string   `json:"arc,omitempty"`
	AddCapacityPerPeriod  float64  `json:"add_capacity_per_period,omitempty"`
	RampDays              int      `json:"ramp_days,omitempty"`
	Size                  float64  `json:"size,omitempty"`
	Material              string   `json:"material,omitempty"`
	HoldingCostPerUnitDay float64  `json:"holding_cost_per_unit_day,omitempty"`
	RatePerYear           float64  `json:"rate_per_year,omitempty"`
	MaxShare              float64  `json:"max_share,omitempty"`
	Source                string   `json:"source,omitempty"`
}

// InvestSpec is the SPEC of `lodestone org invest`.
type InvestSpec struct {
	Scenario   json.RawMessage `json:"scenario"`
	Candidates []Candidate     `json:"candidates"`
	Budget     float64         `json:"budget"`
	Runs       int             `json:"runs"`
	Seed       uint64          `json:"seed"`
	Objective  string          `json:"objective,omitempty"`
	Workers    int             `json:"workers,omitempty"` // goroutines; 0: 1
	// Search is "exhaustive", "greedy", "branch_and_bound" or empty:
	// exhaustive up to ExhaustiveMax candidates, greedy above.
	Search string `json:"search,omitempty"`
}

// Portfolio is a set of candidates with its cost and objective over the
// runs, with the 95 % confidence interval of the objective.
type Portfolio struct {
	Candidates []string   `json:"candidates"`
	Cost       float64    `json:"cost"`
	Objective  float64    `json:"objective"`
	CI         [2]float64 `json:"ci"`
}

// InvestResult is the output of `lodestone org invest`.
type InvestResult struct {
	Best      Portfolio   `json:"best"`
	Frontier  []Portfolio `json:"frontier"` // cost ascending, objective strictly descending
	Baseline  Portfolio   `json:"baseline"` // no investment
	Objective string      `json:"objective"`
	Method    string      `json:"method"` // "exhaustive", "greedy" or "branch_and_bound"
	Evaluated int         `json:"evaluated"`
	Runs      int         `json:"runs"`
	Seed      uint64      `json:"seed"`
}

// investment is a checked spec.
type investment struct {
	base  *Scenario
	cands []Candidate
	costs []float64 // over the horizon
	spec  *InvestSpec
}

// DecodeInvestSpec decodes a SPEC strictly and checks it.
func DecodeInvestSpec(data []byte) (*InvestSpec, error) {
	var s InvestSpec
	if err := strict(data, &s, "spec"); err != nil {
		return nil, err
	}
	if _, err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// scenarioOf decodes the spec's scenario: a supply scenario, with or
// without "org".
func scenarioOf(raw json.RawMessage) (*Scenario, error) {
	if len(raw) == 0 {
		return nil, fieldErr("scenario", "required")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, fieldErr("scenario", "must be a JSON object")
	}
	if _, ok := top["org"]; ok {
		s, err := DecodeScenario(raw)
		if err != nil {
			return nil, prefix(err)
		}
		return s, nil
	}
	ss, err := supply.DecodeScenario(raw)
	if err != nil {
		return nil, prefix(err)
	}
	return &Scenario{Supply: ss}, nil
}

// prefix puts "scenario." before a field error's path.
func prefix(err error) error {
	switch e := err.(type) {
	case *supply.FieldError:
		return fieldErr("scenario."+e.Field, "%s", e.Msg)
	case *FieldError:
		return fieldErr("scenario."+e.Field, "%s", e.Msg)
	}
	return err
}

func (s *InvestSpec) check() (*investment, error) {
	base, err := scenarioOf(s.Scenario)
	if err != nil {
		return nil, err
	}
	if s.Runs <= 0 || s.Runs > 1_000_000 {
		return nil, fieldErr("runs", "must be between 1 and 1000000")
	}
	if s.Budget < 0 || !finite(s.Budget) {
		return nil, fieldErr("budget", "must be a finite number >= 0")
	}
	switch s.Objective {
	case "", ObjectiveExpectedLost, ObjectiveCVaR95, ObjectiveExpectedLostCost:
	default:
		return nil, fieldErr("objective", "unknown objective %q (want %s, %s or %s)", s.Objective, ObjectiveExpectedLost, ObjectiveCVaR95, ObjectiveExpectedLostCost)
	}
	if s.Workers < 0 {
		return nil, fieldErr("workers", "must be >= 0")
	}
	if s.Search != "" && s.Search != "exhaustive" && s.Search != "greedy" && s.Search != SearchBranchAndBound {
		return nil, fieldErr("search", "unknown search %q (want exhaustive, greedy or %s)", s.Search, SearchBranchAndBound)
	}
	if s.Search == "exhaustive" && len(s.Candidates) > 20 {
		return nil, fieldErr("search", "exhaustive search of %d candidates (2^%d portfolios): use greedy", len(s.Candidates), len(s.Candidates))
	}
	if len(s.Candidates) > 64 {
		return nil, fieldErr("candidates", "at most 64")
	}
	c := *s
	if c.Objective == "" {
		c.Objective = ObjectiveExpectedLost
	}
	c.Workers = max(1, c.Workers)
	inv := &investment{base: base, cands: s.Candidates, spec: &c}
	ids := map[string]bool{}
	for i, c := range s.Candidates {
		p := fmt.Sprintf("candidates[%d]", i)
		if c.ID == "" {
			return nil, fieldErr(p+".id", "required")
		}
		if ids[c.ID] {
			return nil, fieldErr(p+".id", "duplicate candidate %q", c.ID)
		}
		ids[c.ID] = true
		if c.Cost == nil {
			return nil, fieldErr(p+".cost", "required (the capital cost, scenario currency; 0 if none)")
		}
		for _, f := range []struct {
			n string
			v float64
		}{{"cost", *c.Cost}, {"running_cost_per_day", c.RunningCostPerDay}, {"size", c.Size}, {"holding_cost_per_unit_day", c.HoldingCostPerUnitDay}, {"add_capacity_per_period", c.AddCapacityPerPeriod}, {"rate_per_year", c.RatePerYear}, {"max_share", c.MaxShare}} {
			if f.v < 0 || !finite(f.v) {
				return nil, fieldErr(p+"."+f.n, "must be a finite number >= 0")
			}
		}
		if c.LeadTimeDays < 0 {
			return nil, fieldErr(p+".lead_time_days", "must be >= 0")
		}
		if c.RampDays < 0 {
			return nil, fieldErr(p+".ramp_days", "must be >= 0")
		}
		days := max(0, base.Supply.Days-c.LeadTimeDays)
		inv.costs = append(inv.costs, *c.Cost+(c.RunningCostPerDay+c.Size*c.HoldingCostPerUnitDay)*float64(days))
		// Each candidate alone must give a valid scenario.
		if _, err := inv.apply([]int{i}); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// apply returns a copy of the base scenario with the candidates set.
func (inv *investment) apply(set []int) (*Scenario, error) {
	raw, err := json.Marshal(inv.base.Supply)
	if err != nil {
		return nil, err
	}
	var s supply.SimScenario
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	start, err := time.Parse("2006-01-02", string(s.Start))
	if err != nil {
		return nil, fieldErr("scenario.start", "invalid date")
	}
	for _, i := range set {
		c := inv.cands[i]
		p := fmt.Sprintf("candidates[%d]", i)
		on := supply.Date(start.AddDate(0, 0, c.LeadTimeDays).Format("2006-01-02"))
		if err := applyOne(&s, c, p, on); err != nil {
			return nil, err
		}
	}
	out := &Scenario{Supply: &s, Org: inv.base.Org}
	if err := s.Validate(); err != nil && len(set) > 0 {
		return nil, fieldErr(fmt.Sprintf("candidates[%d]", set[len(set)-1]), "gives an invalid scenario: %v", err)
	} else if err != nil {
		return nil, err
	}
	return out, nil
}

func arcName(a supply.Arc) string { return string(a.From) + "->" + string(a.To) }

func nodeIndex(s *supply.SimScenario, id string) int {
	for i, n := range s.Network.Nodes {
		if string(n.ID) == id {
			return i
		}
	}
	return -1
}

func applyOne(s *supply.SimScenario, c Candidate, p string, on supply.Date) error {
	needNode := func() (int, error) {
		j := nodeIndex(s, c.Node)
		if j < 0 {
			return 0, fieldErr(p+".node", "unknown node %q", c.Node)
		}
		return j, nil
	}
	needStandby := func() (int, error) {
		a, ok := arcIndex(s, c.Arc)
		if !ok {
			return 0, fieldErr(p+".arc", "unknown arc %q", c.Arc)
		}
		if !s.Network.Arcs[a].Standby {
			return 0, fieldErr(p+".arc", "arc %q is not on standby (a lane the candidate would open)", c.Arc)
		}
		return a, nil
	}
	switch c.Kind {
	case KindBuild:
		if _, err := needNode(); err != nil {
			return err
		}
		if c.AddCapacityPerPeriod <= 0 {
			return fieldErr(p+".add_capacity_per_period", "must be > 0")
		}
		s.Builds = append(s.Builds, supply.Build{Node: supply.NodeID(c.Node), Online: on, AddCapacityPerPeriod: c.AddCapacityPerPeriod, RampDays: c.RampDays, Source: c.Source})
	case KindSubstitution:
		if _, err := needNode(); err != nil {
			return err
		}
		s.Substitutions = append(s.Substitutions, supply.Substitution{Node: supply.NodeID(c.Node), From: on, RatePerYear: c.RatePerYear, MaxShare: c.MaxShare, Source: c.Source})
	case KindQualification, KindStandbyLane:
		a, err := needStandby()
		if err != nil {
			return err
		}
		s.Network.Arcs[a].Standby = false
		q := supply.Qualification{Arc: c.Arc, Start: on, RampDays: c.RampDays}
		if c.Kind == KindQualification {
			q = supply.DefaultQualification(c.Arc, on, c.RampDays)
		}
		for k, x := range s.Qualifications {
			if x.Arc != c.Arc && x.Arc != arcName(s.Network.Arcs[a]) && x.Arc != s.Network.Arcs[a].ID {
				continue
			}
			if c.Kind == KindQualification {
				return fieldErr(p+".arc", "arc %q already has a qualification", c.Arc)
			}
			// A standby lane with its own programme: the programme
			// starts no earlier than the lane is put in service.
			if x.Start < on {
				s.Qualifications[k].Start = on
			}
			return nil
		}
		s.Qualifications = append(s.Qualifications, q)
	case KindStockpile:
		return applyStockpile(s, c, p, needNode)
	case "":
		return fieldErr(p+".kind", "required")
	default:
		return fieldErr(p+".kind", "unknown kind %q", c.Kind)
	}
	return nil
}

func applyStockpile(s *supply.SimScenario, c Candidate, p string, needNode func() (int, error)) error {
	j, err := needNode()
	if err != nil {
		return err
	}
	if c.Size <= 0 {
		return fieldErr(p+".size", "must be > 0")
	}
	if c.LeadTimeDays != 0 {
		return fieldErr(p+".lead_time_days", "a stockpile is in place from the start (lead time 0)")
	}
	ratio := 0.0
	for _, a := range s.Network.Arcs {
		if a.To == s.Network.Nodes[j].ID && a.Material == c.Material {
			ratio = a.Ratio
			break
		}
	}
	if ratio == 0 {
		return fieldErr(p+".material", "node %q has no input arc of material %q", c.Node, c.Material)
	}
	id := supply.NodeID("stockpile-" + c.ID)
	s.Network.Nodes = append(s.Network.Nodes, supply.Node{ID: id, Stage: supply.StageStockpile, Inventory: c.Size, Source: c.Source})
	s.Network.Arcs = append(s.Network.Arcs, supply.Arc{From: id, To: supply.NodeID(c.Node), Ratio: ratio, Material: c.Material})
	return nil
}

// samples runs the scenario spec.Runs times, run r with the stream (Seed,
// r) whatever the portfolio (common random numbers), and returns each
// run's measure.
func (inv *investment) samples(ctx context.Context, sc *Scenario) ([]float64, error) {
	p, err := compile(sc)
	if err != nil {
		return nil, err
	}
	runs := inv.spec.Runs
	workers := max(1, min(inv.spec.Workers, runs))
	out := make([]float64, runs)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			sim, err := supply.NewSim(sc.Supply)
			if err != nil {
				errs[k] = err
				return
			}
			var c supply.Controller
			var ctl *controller
			if len(p.rules) > 0 {
				ctl = &controller{p: p, off: -1}
				c = ctl
			}
			for r := k; r < runs; r += workers {
				if ctl != nil {
					ctl.reset()
				}
				rng := rand.New(rand.NewPCG(inv.spec.Seed, uint64(r)))
				if inv.spec.Objective == ObjectiveExpectedLostCost {
					res, err := sim.Run(ctx, rng, c)
					if err != nil {
						errs[k] = err
						return
					}
					if res.Cost == nil {
						errs[k] = fieldErr("objective", "%s needs a scenario with prices or costs", ObjectiveExpectedLostCost)
						return
					}
					out[r] = res.Cost.LostDemandCost
					continue
				}
				if out[r], err = sim.LostOnly(ctx, rng, c); err != nil {
					errs[k] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return out, nil
}

// measure is the objective and its 95 % confidence interval over the runs.
// The interval is mean ± 1.96 s/√n of the runs (of the worst 5 % for
// CVaR: an approximation that ignores the error of the 95 % quantile).
func measure(xs []float64, objective string) (float64, [2]float64) {
	if objective == ObjectiveCVaR95 {
		s := slices.Clone(xs)
		slices.Sort(s)
		k := max(1, int(math.Ceil(0.05*float64(len(s)))))
		xs = s[len(s)-k:]
	}
	n := float64(len(xs))
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= n
	if len(xs) < 2 {
		return m, [2]float64{m, m}
	}
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	h := 1.96 * math.Sqrt(v/(n-1)/n)
	return m, [2]float64{m - h, m + h}
}

// Invest finds the portfolio of candidates with the best objective whose
// cost is within the budget, and the efficient frontier of cost against
// the objective among the portfolios evaluated.
func Invest(ctx context.Context, spec *InvestSpec) (*InvestResult, error) {
	inv, err := spec.check()
	if err != nil {
		return nil, err
	}
	obj := inv.spec.Objective
	res := &InvestResult{Objective: obj, Runs: spec.Runs, Seed: spec.Seed}
	var seen []Portfolio
	eval := func(set []int) (Portfolio, error) {
		pf, err := inv.eval(ctx, set)
		if err == nil {
			seen = append(seen, pf)
		}
		return pf, err
	}
	base, err := eval(nil)
	if err != nil {
		return nil, err
	}
	res.Baseline = base
	n := len(inv.cands)
	switch {
	case spec.Search == "exhaustive" || spec.Search == "" && n <= ExhaustiveMax:
		res.Method = "exhaustive"
		err = inv.exhaustive(n, eval)
	case spec.Search == SearchBranchAndBound:
		res.Method = SearchBranchAndBound
		err = inv.branchAndBound(n, base, eval)
	default:
		res.Method = "greedy"
		err = inv.greedy(n, base, eval)
	}
	if err != nil {
		return nil, err
	}
	res.Evaluated = len(seen)
	res.Best, res.Frontier = choose(seen)
	return res, nil
}

// eval evaluates one portfolio (candidate indices) over the runs.
func (inv *investment) eval(ctx context.Context, set []int) (Portfolio, error) {
	sc, err := inv.apply(set)
	if err != nil {
		return Portfolio{}, err
	}
	xs, err := inv.samples(ctx, sc)
	if err != nil {
		return Portfolio{}, err
	}
	pf := Portfolio{Candidates: []string{}}
	for _, i := range set {
		pf.Candidates = append(pf.Candidates, inv.cands[i].ID)
		pf.Cost += inv.costs[i]
	}
	pf.Objective, pf.CI = measure(xs, inv.spec.Objective)
	return pf, nil
}

// Evaluate evaluates the portfolio of the candidates ids over the spec's
// runs (the same runs Invest uses), whatever the budget.
func Evaluate(ctx context.Context, spec *InvestSpec, ids []string) (Portfolio, error) {
	inv, err := spec.check()
	if err != nil {
		return Portfolio{}, err
	}
	var set []int
	for _, id := range ids {
		i := slices.IndexFunc(inv.cands, func(c Candidate) bool { return c.ID == id })
		if i < 0 {
			return Portfolio{}, fieldErr("candidates", "unknown candidate %q", id)
		}
		set = append(set, i)
	}
	return inv.eval(ctx, set)
}

// exhaustive evaluates every portfolio within the budget.
func (inv *investment) exhaustive(n int, eval func([]int) (Portfolio, error)) error {
	for mask := 1; mask < 1<<n; mask++ {
		var set []int
		cost := 0.0
		for i := range n {
			if mask&(1<<i) != 0 {
				set = append(set, i)
				cost += inv.costs[i]
			}
		}
		if cost > inv.spec.Budget {
			continue
		}
		if _, err := eval(set); err != nil {
			return err
		}
	}
	return nil
}

// greedy adds, while the budget allows, the candidate with the largest
// improvement of the objective per unit of cost (a free improving one
// first), and stops when none improves. It has no optimality guarantee.
func (inv *investment) greedy(n int, base Portfolio, eval func([]int) (Portfolio, error)) error {
	var set []int
	cur, cost := base, 0.0
	in := make([]bool, n)
	for {
		bestI, bestScore := -1, 0.0
		var bestPf Portfolio
		for i := range n {
			if in[i] || cost+inv.costs[i] > inv.spec.Budget {
				continue
			}
			pf, err := eval(append(slices.Clone(set), i))
			if err != nil {
				return err
			}
			gain := cur.Objective - pf.Objective
			if gain <= 0 {
				continue
			}
			score := math.Inf(1)
			if inv.costs[i] > 0 {
				score = gain / inv.costs[i]
			}
			if bestI < 0 || score > bestScore {
				bestI, bestScore, bestPf = i, score, pf
			}
		}
		if bestI < 0 {
			return nil
		}
		in[bestI] = true
		set = append(set, bestI)
		cost += inv.costs[bestI]
		cur = bestPf
	}
}

// choose returns the best portfolio (lowest objective, then lowest cost)
// and the efficient frontier: the portfolios no other is at least as cheap
// and strictly better than, cost ascending.
func choose(seen []Portfolio) (Portfolio, []Portfolio) {
	s := slices.Clone(seen)
	sort.SliceStable(s, func(a, b int) bool {
		if s[a].Cost != s[b].Cost {
			return s[a].Cost < s[b].Cost
		}
		return s[a].Objective < s[b].Objective
	})
	var front []Portfolio
	for _, p := range s {
		if len(front) == 0 || p.Objective < front[len(front)-1].Objective {
			front = append(front, p)
		}
	}
	return front[len(front)-1], front
}
