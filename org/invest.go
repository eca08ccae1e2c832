package org

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
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
	// ObjectiveTimeToSurvive is the mean time to survive, days, which the
	// search maximises: per run, the days from the first disruption (the
	// earliest shock, random shock or control taking effect; the start
	// when there is none) to the first stockout at a node with external
	// demand, supply's empirical TTS (MCResult tts_days, research note
	// b.3); a run without such a stockout survives to the horizon
	// (censored there, as the note reports TTS ≥ T_max as "survives").
	ObjectiveTimeToSurvive = "time_to_survive"
)

// Objectives lists the objectives.
func Objectives() []string {
	return []string{ObjectiveExpectedLost, ObjectiveCVaR95, ObjectiveExpectedLostCost, ObjectiveTimeToSurvive}
}

// ExhaustiveMax is the largest candidate set searched exhaustively (2^10
// portfolios); larger sets are searched greedily, with a bound of the gap
// to the best portfolio (Bound).
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

// InvestSpec is the SPEC of `lodestone org invest`. It has exactly one of
// Scenario and Scenarios.
type InvestSpec struct {
	Scenario json.RawMessage `json:"scenario,omitempty"`
	// Scenarios judges each portfolio over a set of shocks: every
	// portfolio runs in every scenario, run r of each with the stream
	// (Seed, r) (common random numbers), and the objective is that of the
	// mixture in which scenario k has probability weight_k / Σ weight.
	Scenarios  []WeightedScenario `json:"scenarios,omitempty"`
	Candidates []Candidate        `json:"candidates"`
	Budget     float64            `json:"budget"`
	Runs       int                `json:"runs"`
	Seed       uint64             `json:"seed"`
	Objective  string             `json:"objective,omitempty"`
	Workers    int                `json:"workers,omitempty"` // goroutines; 0: 1
	// Search is "exhaustive", "greedy", "branch_and_bound" or empty:
	// exhaustive up to ExhaustiveMax candidates, greedy above.
	Search string `json:"search,omitempty"`
}

// WeightedScenario is one scenario of InvestSpec.Scenarios: a supply
// SCENARIO (optionally with "org") and its weight (> 0; absent: 1). All
// the scenarios share one start and horizon.
type WeightedScenario struct {
	Name     string          `json:"name,omitempty"`
	Weight   *float64        `json:"weight,omitempty"`
	Scenario json.RawMessage `json:"scenario"`
}

// Portfolio is a set of candidates with its cost and objective over the
// runs, with the 95 % confidence interval of the objective.
type Portfolio struct {
	Candidates []string   `json:"candidates"`
	Cost       float64    `json:"cost"`
	Objective  float64    `json:"objective"`
	CI         [2]float64 `json:"ci"`
	// loss is what the searches minimise: the objective, or for
	// time_to_survive the horizon minus it (≥ 0 either way).
	loss float64
}

// Bound says how far the best portfolio found may be from the best within
// the budget, on the same runs (not the sampling error, which CI gives).
// Objective is the bound: no portfolio within the budget has a better
// objective (lower, or higher for time_to_survive); Gap = |best −
// Objective|. Exhaustive search is exact (gap 0, assumes nothing); branch
// and bound is exact if gains diminish; greedy's bound holds if, besides,
// adding candidates never makes the objective worse (see greedyBound).
type Bound struct {
	Objective float64 `json:"objective"`
	Gap       float64 `json:"gap"`
	Assumes   string  `json:"assumes"`
	// Extra counts the evaluations made for the bound alone (greedy:
	// G ∪ {i} over the budget), which are not among the result's
	// portfolios nor in InvestResult.Evaluated.
	Extra int `json:"extra_evaluations,omitempty"`
}

// What the bounds of Bound assume.
const (
	AssumesNothing             = "nothing"
	AssumesDiminishingGains    = "diminishing_gains"
	AssumesMonotoneDiminishing = "monotone_diminishing_gains"
)

// InvestResult is the output of `lodestone org invest`.
type InvestResult struct {
	Best      Portfolio   `json:"best"`
	Frontier  []Portfolio `json:"frontier"` // cost ascending, objective strictly descending
	Baseline  Portfolio   `json:"baseline"` // no investment
	Objective string      `json:"objective"`
	Method    string      `json:"method"` // "exhaustive", "greedy" or "branch_and_bound"
	// Bound bounds the gap between Best and the best portfolio within the
	// budget on these runs.
	Bound     *Bound `json:"bound,omitempty"`
	Evaluated int    `json:"evaluated"`
	Runs      int    `json:"runs"`
	Seed      uint64 `json:"seed"`
}

// investment is a checked spec.
type investment struct {
	bases   []*Scenario // the scenario, or those of Scenarios
	weights []float64   // per base, summing to 1
	days    int         // the horizon every base shares
	cands   []Candidate
	costs   []float64 // over the horizon
	spec    *InvestSpec
	sampler Sampler // nil: Samples, here
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

// scenarioOf decodes a scenario of the spec at path p ("scenario" or
// "scenarios[k].scenario"): a supply scenario, with or without "org".
func scenarioOf(raw json.RawMessage, p string) (*Scenario, error) {
	if len(raw) == 0 {
		return nil, fieldErr(p, "required")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, fieldErr(p, "must be a JSON object")
	}
	if _, ok := top["org"]; ok {
		s, err := DecodeScenario(raw)
		if err != nil {
			return nil, prefix(err, p)
		}
		return s, nil
	}
	ss, err := supply.DecodeScenario(raw)
	if err != nil {
		return nil, prefix(err, p)
	}
	return &Scenario{Supply: ss}, nil
}

// prefix puts p and a dot before a field error's path.
func prefix(err error, p string) error {
	switch e := err.(type) {
	case *supply.FieldError:
		return fieldErr(p+"."+e.Field, "%s", e.Msg)
	case *FieldError:
		return fieldErr(p+"."+e.Field, "%s", e.Msg)
	}
	return err
}

// scenarios decodes the spec's scenario or scenarios and their weights
// (normalised to sum to 1; a single scenario has weight 1 exactly).
func (s *InvestSpec) scenarios() ([]*Scenario, []float64, error) {
	switch {
	case len(s.Scenario) > 0 && len(s.Scenarios) > 0:
		return nil, nil, fieldErr("scenarios", "give either scenario or scenarios, not both")
	case len(s.Scenarios) == 0:
		b, err := scenarioOf(s.Scenario, "scenario")
		if err != nil {
			return nil, nil, err
		}
		return []*Scenario{b}, []float64{1}, nil
	case len(s.Scenarios) > 100:
		return nil, nil, fieldErr("scenarios", "at most 100")
	}
	var bases []*Scenario
	var ws []float64
	sum := 0.0
	for k, ws0 := range s.Scenarios {
		p := fmt.Sprintf("scenarios[%d]", k)
		w := 1.0
		if ws0.Weight != nil {
			w = *ws0.Weight
		}
		if !(w > 0) || !finite(w) {
			return nil, nil, fieldErr(p+".weight", "must be a finite number > 0")
		}
		b, err := scenarioOf(ws0.Scenario, p+".scenario")
		if err != nil {
			return nil, nil, err
		}
		if k > 0 && (b.Supply.Start != bases[0].Supply.Start || b.Supply.Days != bases[0].Supply.Days) {
			return nil, nil, fieldErr(p+".scenario.days", "start %s and days %d differ from scenarios[0]'s %s and %d (the scenarios share one horizon, which candidates' costs run to)", b.Supply.Start, b.Supply.Days, bases[0].Supply.Start, bases[0].Supply.Days)
		}
		bases, ws = append(bases, b), append(ws, w)
		sum += w
	}
	if !finite(sum) {
		return nil, nil, fieldErr("scenarios", "the weights' sum is not finite")
	}
	for k := range ws {
		ws[k] /= sum
	}
	return bases, ws, nil
}

func (s *InvestSpec) check() (*investment, error) {
	bases, weights, err := s.scenarios()
	if err != nil {
		return nil, err
	}
	if s.Runs <= 0 || s.Runs > 1_000_000 {
		return nil, fieldErr("runs", "must be between 1 and 1000000")
	}
	if s.Budget < 0 || !finite(s.Budget) {
		return nil, fieldErr("budget", "must be a finite number >= 0")
	}
	if s.Objective != "" && !slices.Contains(Objectives(), s.Objective) {
		return nil, fieldErr("objective", "unknown objective %q (want one of %v)", s.Objective, Objectives())
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
	inv := &investment{bases: bases, weights: weights, days: bases[0].Supply.Days, cands: s.Candidates, spec: &c}
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
		days := max(0, inv.days-c.LeadTimeDays)
		inv.costs = append(inv.costs, *c.Cost+(c.RunningCostPerDay+c.Size*c.HoldingCostPerUnitDay)*float64(days))
		// Each candidate alone must give a valid scenario, in every one.
		for k := range inv.bases {
			if _, err := inv.apply(k, []int{i}); err != nil {
				return nil, err
			}
		}
	}
	return inv, nil
}

// apply returns a copy of base scenario k with the candidates set.
func (inv *investment) apply(k int, set []int) (*Scenario, error) {
	base := inv.bases[k]
	raw, err := json.Marshal(base.Supply)
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
	out := &Scenario{Supply: &s, Org: base.Org}
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
// run's measure: lost demand, its cost, or the time to survive. A sampler
// given to Invest computes them elsewhere, with the same bits.
func (inv *investment) samples(ctx context.Context, sc *Scenario) ([]float64, error) {
	if inv.sampler != nil {
		xs, err := inv.sampler(ctx, sc, inv.spec.Objective, inv.spec.Seed, inv.spec.Runs)
		if err == nil && len(xs) != inv.spec.Runs {
			err = fmt.Errorf("org: the sampler returned %d samples for %d runs", len(xs), inv.spec.Runs)
		}
		return xs, err
	}
	return Samples(ctx, sc, inv.spec.Objective, inv.spec.Seed, 0, inv.spec.Runs, inv.spec.Workers)
}

// survival is the time to survive of sim's last run, days
// (ObjectiveTimeToSurvive): from the first disruption within the horizon
// (the start without one) to the first stockout at a demand node, or to
// the horizon without one; 0 when the stockout comes first.
func survival(sim *supply.Sim, demand []int) float64 {
	days := sim.Days()
	end := days
	for _, i := range demand {
		if f := sim.FirstStockout(i); f >= 0 && f < end {
			end = f
		}
	}
	on := sim.Onset()
	if on < 0 || on >= days {
		on = 0
	}
	return float64(max(0, end-on))
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

// measureMix is the objective over the scenarios' samples xs[k][r] (run r
// of scenario k, the same stream r in every scenario) with weights w
// (summing to 1): the objective of the mixture in which scenario k has
// probability w[k]. A mean is that of y_r = Σ_k w[k]·xs[k][r], with the
// interval of the y_r (independent over r, whatever the scenarios share
// through common random numbers). CVaR 95 % is the mean of the worst
// 5 % of the mixture's mass, each sample weighing w[k] runs (the boundary
// one in part), with measure's interval over the tail's mass. With one
// scenario, w = [1], both are measure's bits (y_r = 0 + 1·x_r = x_r, and
// the tail is the same ⌈5 % n⌉ runs summed in the same order).
func measureMix(xs [][]float64, w []float64, objective string) (float64, [2]float64) {
	runs := len(xs[0])
	if objective != ObjectiveCVaR95 {
		y := make([]float64, runs)
		for k, x := range xs {
			for r := range y {
				y[r] += w[k] * x[r]
			}
		}
		return measure(y, objective)
	}
	type sample struct{ x, m float64 }
	all := make([]sample, 0, len(xs)*runs)
	for k, x := range xs {
		for _, v := range x {
			all = append(all, sample{v, w[k]})
		}
	}
	slices.SortStableFunc(all, func(a, b sample) int { return cmp.Compare(a.x, b.x) })
	kk := max(1, int(math.Ceil(0.05*float64(runs))))
	mass := float64(kk)
	// The tail, from the worst down until it holds mass runs.
	i, acc := len(all), 0.0
	for i > 0 && acc < mass {
		i--
		all[i].m = min(all[i].m, mass-acc)
		acc += all[i].m
	}
	tail := all[i:]
	m := 0.0
	for _, s := range tail {
		m += s.m * s.x
	}
	m /= acc
	if len(tail) < 2 || acc < 2 {
		return m, [2]float64{m, m}
	}
	v := 0.0
	for _, s := range tail {
		v += s.m * (s.x - m) * (s.x - m)
	}
	h := 1.96 * math.Sqrt(v/(acc-1)/acc)
	return m, [2]float64{m - h, m + h}
}

// Invest finds the portfolio of candidates with the best objective whose
// cost is within the budget, and the efficient frontier of cost against
// the objective among the portfolios evaluated. WithSampler computes the
// portfolios' runs elsewhere (the same bits).
func Invest(ctx context.Context, spec *InvestSpec, opts ...InvestOption) (*InvestResult, error) {
	inv, err := spec.checkWith(opts)
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
	var lb float64 // a lower bound of the loss within the budget
	extra := 0
	assumes := AssumesDiminishingGains
	switch {
	case spec.Search == "exhaustive" || spec.Search == "" && n <= ExhaustiveMax:
		res.Method, assumes = "exhaustive", AssumesNothing
		err = inv.exhaustive(n, eval)
	case spec.Search == SearchBranchAndBound:
		res.Method = SearchBranchAndBound
		err = inv.branchAndBound(n, base, eval)
	default:
		res.Method, assumes = "greedy", AssumesMonotoneDiminishing
		lb, extra, err = inv.greedy(ctx, n, base, eval)
	}
	if err != nil {
		return nil, err
	}
	res.Evaluated = len(seen)
	res.Best, res.Frontier = choose(seen)
	// Exhaustive search is exact, branch and bound too if gains diminish.
	b := &Bound{Objective: res.Best.Objective, Assumes: assumes}
	if res.Method == "greedy" {
		b.Objective, b.Gap, b.Extra = lb, res.Best.loss-lb, extra
		if obj == ObjectiveTimeToSurvive {
			b.Objective = float64(inv.days) - lb
		}
	}
	res.Bound = b
	return res, nil
}

// eval evaluates one portfolio (candidate indices) over the runs of every
// scenario.
func (inv *investment) eval(ctx context.Context, set []int) (Portfolio, error) {
	xs := make([][]float64, len(inv.bases))
	for k := range inv.bases {
		sc, err := inv.apply(k, set)
		if err != nil {
			return Portfolio{}, err
		}
		if xs[k], err = inv.samples(ctx, sc); err != nil {
			return Portfolio{}, err
		}
	}
	pf := Portfolio{Candidates: []string{}}
	for _, i := range set {
		pf.Candidates = append(pf.Candidates, inv.cands[i].ID)
		pf.Cost += inv.costs[i]
	}
	pf.Objective, pf.CI = measureMix(xs, inv.weights, inv.spec.Objective)
	pf.loss = pf.Objective
	if inv.spec.Objective == ObjectiveTimeToSurvive {
		pf.loss = float64(inv.days) - pf.Objective
	}
	return pf, nil
}

// Evaluate evaluates the portfolio of the candidates ids over the spec's
// runs (the same runs Invest uses), whatever the budget.
func Evaluate(ctx context.Context, spec *InvestSpec, ids []string, opts ...InvestOption) (Portfolio, error) {
	inv, err := spec.checkWith(opts)
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
// improvement of the loss per unit of cost (a free improving one first),
// and stops when none improves. It returns a lower bound of the loss of
// every portfolio within the budget, the best of greedyBound's at each
// greedy portfolio G_k, and the evaluations made for it alone.
//
// At G_k the gain of a candidate that did not fit the budget left is
// that of the latest round that evaluated it: if gains diminish, an
// earlier gain is at least the gain at G_k, so the bound stays valid
// (round 0, at the empty portfolio, evaluates every candidate within the
// budget). At the final G the gains are evaluated exactly: those the
// budget left could not take are evaluated for the bound only (over the
// budget, they are not portfolios of the result).
func (inv *investment) greedy(ctx context.Context, n int, base Portfolio, eval func([]int) (Portfolio, error)) (float64, int, error) {
	budget := inv.spec.Budget
	var set []int
	cur, cost := base, 0.0
	in := make([]bool, n)
	gain := make([]float64, n) // the latest gain known of each candidate
	fresh := make([]bool, n)   // gain[i] is at the current portfolio
	lb := 0.0
	bound := func() {
		var items []int
		for i := range n {
			if !in[i] && inv.costs[i] <= budget {
				items = append(items, i)
			}
		}
		lb = max(lb, greedyBound(cur.loss, items, gain, inv.costs, budget))
	}
	for {
		clear(fresh)
		bestI, bestScore := -1, 0.0
		var bestPf Portfolio
		for i := range n {
			if in[i] || cost+inv.costs[i] > budget {
				continue
			}
			pf, err := eval(append(slices.Clone(set), i))
			if err != nil {
				return 0, 0, err
			}
			g := cur.loss - pf.loss
			gain[i], fresh[i] = max(0, g), true
			if g <= 0 {
				continue
			}
			score := math.Inf(1)
			if inv.costs[i] > 0 {
				score = g / inv.costs[i]
			}
			if bestI < 0 || score > bestScore {
				bestI, bestScore, bestPf = i, score, pf
			}
		}
		if bestI < 0 {
			break
		}
		bound()
		in[bestI] = true
		set = append(set, bestI)
		cost += inv.costs[bestI]
		cur = bestPf
	}
	extra := 0
	for i := range n {
		if in[i] || fresh[i] || inv.costs[i] > budget {
			continue
		}
		pf, err := inv.eval(ctx, append(slices.Clone(set), i))
		if err != nil {
			return 0, 0, err
		}
		gain[i] = max(0, cur.loss-pf.loss)
		extra++
	}
	bound()
	return lb, extra, nil
}

// InvestCost is the estimated cost of an investment search, for admission
// (the server's study limits): at most Portfolios evaluations (an upper
// bound: exhaustive search evaluates every portfolio within the budget,
// counted; greedy at most 1 + n(n+1)/2 + n with its bound; branch and
// bound in the worst case every portfolio within the budget, counted up
// to 20 candidates and 2^n above), each of Runs runs in each of
// Scenarios scenarios: Total simulated runs of Days days over at most
// Nodes nodes. Counts saturate at math.MaxInt64.
type InvestCost struct {
	Portfolios int64 `json:"portfolios"`
	Runs       int   `json:"runs"`
	Scenarios  int   `json:"scenarios"`
	Total      int64 `json:"total"`
	Days       int   `json:"days"`
	Nodes      int   `json:"nodes"`
}

// Cost estimates the cost of Invest on the spec, after checking it.
func (s *InvestSpec) Cost() (InvestCost, error) {
	inv, err := s.check()
	if err != nil {
		return InvestCost{}, err
	}
	n := len(inv.cands)
	c := InvestCost{Runs: s.Runs, Scenarios: len(inv.bases), Days: inv.days}
	for _, b := range inv.bases {
		c.Nodes = max(c.Nodes, len(b.Supply.Network.Nodes))
	}
	for _, k := range inv.cands {
		if k.Kind == KindStockpile {
			c.Nodes++ // each adds its node
		}
	}
	switch {
	case s.Search == "exhaustive" || s.Search == "" && n <= ExhaustiveMax,
		s.Search == SearchBranchAndBound && n <= 20:
		c.Portfolios = inv.withinBudget()
	case s.Search == SearchBranchAndBound:
		c.Portfolios = math.MaxInt64
		if n < 63 {
			c.Portfolios = 1 << n
		}
	default:
		c.Portfolios = 1 + int64(n*(n+1)/2) + int64(n)
	}
	c.Total = satMul(satMul(c.Portfolios, int64(c.Runs)), int64(c.Scenarios))
	return c, nil
}

// withinBudget counts the portfolios (with the empty one) whose cost is
// within the budget; n ≤ 20.
func (inv *investment) withinBudget() int64 {
	n := len(inv.cands)
	var count int64
	for mask := range 1 << n {
		cost := 0.0
		for i := range n {
			if mask&(1<<i) != 0 {
				cost += inv.costs[i]
			}
		}
		if cost <= inv.spec.Budget {
			count++
		}
	}
	return count
}

// satMul is a·b for a, b ≥ 0, saturating at math.MaxInt64.
func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// greedyBound is a lower bound of the loss f(T) of every portfolio T
// within budget B, from the greedy portfolio G: with g_i = max(0, f(G) −
// f(G ∪ {i})) for the candidates i outside G (items),
//
//	f(T) ≥ f(G ∪ T) ≥ f(G) − Σ_{i∈T∖G} g_i ≥ f(G) − K(items, B),
//
// the first step if adding candidates never raises the loss (monotone),
// the second if gains diminish (a candidate never helps more in company
// than alone: submodular), the third since T∖G costs at most B, K being
// the fractional knapsack of the gains within B, which bounds the integer
// one from above (the data-dependent bound of budgeted submodular
// maximisation, Leskovec et al., "Cost-effective outbreak detection in
// networks", KDD 2007). The bound is on the same runs; it is at least 0.
func greedyBound(loss float64, items []int, gain, costs []float64, budget float64) float64 {
	items = slices.Clone(items)
	slices.SortStableFunc(items, byRatio(gain, costs))
	return max(0, loss-knapsack(items, gain, costs, budget))
}

// choose returns the best portfolio (lowest loss, then lowest cost) and
// the efficient frontier: the portfolios no other is at least as cheap and
// strictly better than, cost ascending.
func choose(seen []Portfolio) (Portfolio, []Portfolio) {
	s := slices.Clone(seen)
	sort.SliceStable(s, func(a, b int) bool {
		if s[a].Cost != s[b].Cost {
			return s[a].Cost < s[b].Cost
		}
		return s[a].loss < s[b].loss
	})
	var front []Portfolio
	for _, p := range s {
		if len(front) == 0 || p.loss < front[len(front)-1].loss {
			front = append(front, p)
		}
	}
	return front[len(front)-1], front
}
