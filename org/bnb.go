package org

import (
	"math"
	"slices"
)

// SearchBranchAndBound is the search of InvestSpec.Search that explores
// portfolios depth first and prunes those a bound shows cannot beat the
// best found.
const SearchBranchAndBound = "branch_and_bound"

// branchAndBound searches the portfolios within the budget depth first,
// candidates ordered by their gain alone per unit of cost, and prunes a
// branch when a lower bound of the objective of every portfolio in it is
// worse than the best found (or equal, and the branch costs no less).
//
// The bound. Let f be the loss (≥ 0: lost demand or its cost, or the
// horizon minus the time to survive), on the same runs for every
// portfolio. A branch holds the portfolio S (evaluated)
// and may add any T from the candidates not yet decided, R, with cost(T)
// ≤ the budget left B. With g_i(S) = max(0, f(S) − f(S ∪ {i})), the gain
// of i added to S alone: if gains diminish from S on (f(S) − f(S ∪ T) ≤
// Σ_{i∈T} g_i(S): a candidate never helps more in company than alone),
// every portfolio of the branch has
//
//	f(S ∪ T) ≥ max(0, f(S) − K(R, B)),
//
// where K(R, B) is the largest Σ g_i(S) over items of R within B with
// fractions allowed (the linear relaxation of the knapsack, which bounds
// the integer one from above). The search first tries the cheap bound
// with the gains alone at the root, g_i(∅) (valid if gains diminish from
// the empty portfolio on), and before pruning on it checks the bound with
// the gains at S, evaluating S ∪ {i} for the undecided i (portfolios that
// count as evaluated). Candidates that complement each other beyond S
// (neither helps S alone, both together do) break the assumption, and
// the search may then miss the best portfolio; search "exhaustive" has no
// assumption. The tests check it against exhaustive search on the same
// runs.
func (inv *investment) branchAndBound(n int, base Portfolio, eval func([]int) (Portfolio, error)) error {
	budget := inv.spec.Budget
	memo := map[uint64]Portfolio{0: base}
	best := base
	get := func(set []int) (Portfolio, error) {
		var mask uint64
		for _, i := range set {
			mask |= 1 << i
		}
		if p, ok := memo[mask]; ok {
			return p, nil
		}
		sorted := slices.Clone(set)
		slices.Sort(sorted) // the order exhaustive search applies them in
		p, err := eval(sorted)
		if err != nil {
			return p, err
		}
		memo[mask] = p
		if p.loss < best.loss || p.loss == best.loss && p.Cost < best.Cost {
			best = p
		}
		return p, nil
	}
	// gains returns g_i(S) of the candidates of items (fitting the budget
	// left), evaluating S ∪ {i}.
	gains := func(set []int, cur Portfolio, items []int, left float64) ([]float64, error) {
		g := make([]float64, n)
		for _, i := range items {
			if inv.costs[i] > left {
				continue
			}
			p, err := get(append(slices.Clone(set), i))
			if err != nil {
				return nil, err
			}
			g[i] = max(0, cur.loss-p.loss)
		}
		return g, nil
	}
	var order []int
	for i := range n {
		if inv.costs[i] <= budget {
			order = append(order, i)
		}
	}
	root, err := gains(nil, base, order, budget)
	if err != nil {
		return err
	}
	slices.SortStableFunc(order, byRatio(root, inv.costs))
	prune := func(lb, cost float64) bool {
		return lb > best.loss || lb == best.loss && cost >= best.Cost
	}
	var walk func(k int, set []int, cost float64, cur Portfolio) error
	walk = func(k int, set []int, cost float64, cur Portfolio) error {
		if k == len(order) {
			return nil
		}
		left := budget - cost
		if prune(max(0, cur.loss-knapsack(order[k:], root, inv.costs, left)), cost) {
			if len(set) == 0 {
				return nil // the gains at S are the root's
			}
			local, err := gains(set, cur, order[k:], left)
			if err != nil {
				return err
			}
			rest := slices.Clone(order[k:])
			slices.SortStableFunc(rest, byRatio(local, inv.costs))
			if prune(max(0, cur.loss-knapsack(rest, local, inv.costs, left)), cost) {
				return nil
			}
		}
		i := order[k]
		if c := cost + inv.costs[i]; c <= budget {
			next := append(slices.Clone(set), i)
			pf, err := get(next)
			if err != nil {
				return err
			}
			if err := walk(k+1, next, c, pf); err != nil {
				return err
			}
		}
		return walk(k+1, set, cost, cur)
	}
	return walk(0, nil, 0, base)
}

// byRatio orders candidates by gain per unit of cost, descending (free
// ones first).
func byRatio(gain, costs []float64) func(a, b int) int {
	ratio := func(i int) float64 {
		if costs[i] == 0 {
			return math.Inf(1)
		}
		return gain[i] / costs[i]
	}
	return func(a, b int) int {
		ra, rb := ratio(a), ratio(b)
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	}
}

// knapsack is K: the largest sum of gains of items (ordered by ratio)
// within left, with one item taken in part.
func knapsack(items []int, gain, costs []float64, left float64) float64 {
	sum := 0.0
	for _, i := range items {
		c := costs[i]
		if c <= left {
			sum, left = sum+gain[i], left-c
			continue
		}
		if c > 0 && left > 0 {
			sum += gain[i] * left / c
		}
		break
	}
	return sum
}
