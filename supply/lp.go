package supply

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// InfeasibleError reports an LP with no feasible point. Sets names the
// constraint families whose removal alone makes the LP feasible (the culprits);
// it is empty when no single family is to blame.
type InfeasibleError struct {
	LP   string   // which LP: "time-to-recover", "time-to-survive", "strategic stock"
	Sets []string // e.g. ["bill of materials"]
}

// Error names the LP and the constraint sets to blame.
func (e *InfeasibleError) Error() string {
	if len(e.Sets) == 0 {
		return fmt.Sprintf("supply: %s LP is infeasible (no single constraint set is to blame)", e.LP)
	}
	return fmt.Sprintf("supply: %s LP is infeasible: constraint set %s cannot be met", e.LP, strings.Join(quoteAll(e.Sets), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

type sense int8

const (
	le sense = iota // a·x ≤ b
	ge              // a·x ≥ b
)

// lpRow is one sparse constraint row.
type lpRow struct {
	idx   []int
	val   []float64
	sense sense
	rhs   float64
	set   string // constraint family, for infeasibility diagnostics
}

// lpProblem is min c·x subject to rows, x ≥ 0, built sparsely and converted
// to gonum's standard form (A x = b, x ≥ 0) by adding one slack or surplus
// column per row.
type lpProblem struct {
	name string
	c    []float64
	rows []lpRow
}

func (p *lpProblem) addVar(cost float64) int {
	p.c = append(p.c, cost)
	return len(p.c) - 1
}

func (p *lpProblem) addRow(set string, s sense, rhs float64, idx []int, val []float64) {
	p.rows = append(p.rows, lpRow{idx: idx, val: val, sense: s, rhs: rhs, set: set})
}

// zeroTol treats right-hand sides this close to zero as zero (values are
// scaled to order one before they reach the LP).
const zeroTol = 1e-12

// solve returns the optimum and the structural variables.
func (p *lpProblem) solve() (float64, []float64, error) {
	f, x, err := p.solveWith(p.rows, p.c)
	if errors.Is(err, lp.ErrInfeasible) {
		return 0, nil, p.diagnose()
	}
	if err != nil {
		return 0, nil, fmt.Errorf("supply: %s LP: %w", p.name, err)
	}
	return f, x, nil
}

// diagnose finds the constraint families whose removal makes the LP feasible.
func (p *lpProblem) diagnose() error {
	var sets []string
	for _, r := range p.rows {
		if !slices.Contains(sets, r.set) {
			sets = append(sets, r.set)
		}
	}
	zero := make([]float64, len(p.c))
	e := &InfeasibleError{LP: p.name}
	for _, s := range sets {
		var keep []lpRow
		for _, r := range p.rows {
			if r.set != s {
				keep = append(keep, r)
			}
		}
		if _, _, err := p.solveWith(keep, zero); !errors.Is(err, lp.ErrInfeasible) {
			e.Sets = append(e.Sets, s)
		}
	}
	return e
}

// solveWith solves min cost·x over rows, x ≥ 0: it drops empty rows and
// unused columns, equilibrates, adds one slack or surplus column per row and
// runs the simplex from initialBasis (gonum's phase I if there is none, or
// if that start fails).
func (p *lpProblem) solveWith(rows []lpRow, cost []float64) (opt float64, x []float64, err error) {
	n := len(cost)
	// Keep only rows with a nonzero coefficient; an empty row is either
	// trivially met or proves infeasibility.
	var live []lpRow
	used := make([]bool, n)
	for _, r := range rows {
		nz := false
		for k, j := range r.idx {
			if r.val[k] != 0 {
				nz = true
				used[j] = true
			}
		}
		if !nz {
			if (r.sense == le && r.rhs < -zeroTol) || (r.sense == ge && r.rhs > zeroTol) {
				return 0, nil, lp.ErrInfeasible
			}
			continue
		}
		live = append(live, r)
	}
	// Columns in no row: at the optimum they sit at zero, or the LP is
	// unbounded if their cost is negative.
	col := make([]int, n)
	ns := 0
	for j := range n {
		if !used[j] {
			if cost[j] < 0 {
				return 0, nil, lp.ErrUnbounded
			}
			col[j] = -1
			continue
		}
		col[j] = ns
		ns++
	}
	m := len(live)
	x = make([]float64, n)
	if m == 0 {
		return 0, x, nil
	}
	cols := ns + m
	S, b, cscale := equilibrated(live, col, ns)
	// Then the slacks, with rows negated where needed so that b ≥ 0.
	A := mat.NewDense(m, cols, nil)
	c := make([]float64, cols)
	for j := range n {
		if col[j] >= 0 {
			c[col[j]] = cost[j] / cscale[col[j]]
		}
	}
	slackSign := make([]float64, m)
	for i, r := range live {
		sgn := 1.0
		if b[i] < 0 {
			sgn = -1
		}
		for j := range ns {
			if v := S[i*ns+j]; v != 0 {
				A.Set(i, j, sgn*v)
			}
		}
		s := 1.0
		if r.sense == ge {
			s = -1
		}
		A.Set(i, ns+i, sgn*s)
		slackSign[i] = sgn * s
		b[i] *= sgn
	}
	basis := initialBasis(A, b, ns, slackSign)
	opt, xs, err := simplexSafe(c, A, b, basis)
	if err != nil && basis != nil && !errors.Is(err, lp.ErrInfeasible) && !errors.Is(err, lp.ErrUnbounded) {
		opt, xs, err = simplexSafe(c, A, b, nil)
	}
	if err != nil {
		return 0, nil, err
	}
	for j := range n {
		if col[j] >= 0 {
			x[j] = max(xs[col[j]], 0) / cscale[col[j]]
		}
	}
	return opt, x, nil
}

// equilibrated returns the structural part of the live rows (S, m × ns,
// row-major, over the columns col maps them to) and their right-hand sides,
// with every column and then every row scaled to a largest coefficient of
// one, and the column scales. Data such as ratios of 1e-9 and 1e9 otherwise
// make the dense simplex stall.
func equilibrated(live []lpRow, col []int, ns int) (S, b, cscale []float64) {
	m := len(live)
	S = make([]float64, m*ns)
	b = make([]float64, m)
	for i, r := range live {
		for k, j := range r.idx {
			S[i*ns+col[j]] += r.val[k]
		}
		b[i] = r.rhs
		if math.Abs(b[i]) < zeroTol {
			b[i] = 0
		}
	}
	cscale = make([]float64, ns)
	for j := range ns {
		mx := 0.0
		for i := range m {
			mx = max(mx, math.Abs(S[i*ns+j]))
		}
		if mx == 0 {
			mx = 1
		}
		cscale[j] = mx
		for i := range m {
			S[i*ns+j] /= mx
		}
	}
	for i := range m {
		mx := 0.0
		for j := range ns {
			mx = max(mx, math.Abs(S[i*ns+j]))
		}
		if mx == 0 {
			mx = 1
		}
		for j := range ns {
			S[i*ns+j] /= mx
		}
		b[i] /= mx
	}
	return S, b, cscale
}

// simplexSafe calls lp.Simplex and turns its panics on a bad initial basis
// into errors.
func simplexSafe(c []float64, A *mat.Dense, b []float64, basis []int) (opt float64, x []float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("supply: simplex: %v", r)
		}
	}()
	return lp.Simplex(c, A, b, 1e-10, basis)
}

// initialBasis looks for an obvious feasible basis: the slack of every row
// whose slack has coefficient +1, and for each remaining row a structural
// column that is positive in that row and nonzero otherwise only in rows
// covered by slacks. It returns nil if the result is not feasible, and gonum
// then runs its own phase I.
func initialBasis(A *mat.Dense, b []float64, ns int, slackSign []float64) []int {
	m, _ := A.Dims()
	basis := make([]int, m)
	covered := make([]bool, m)
	for i := range m {
		if slackSign[i] > 0 || b[i] == 0 {
			basis[i] = ns + i
			covered[i] = true
		} else {
			basis[i] = -1
		}
	}
	val := make([]float64, ns)
	taken := make([]bool, ns)
	for i := range m {
		if covered[i] {
			continue
		}
		found := -1
	cand:
		for j := range ns {
			if taken[j] || A.At(i, j) <= 0 {
				continue
			}
			for r := range m {
				if r != i && A.At(r, j) != 0 && !covered[r] {
					continue cand
				}
			}
			found = j
			break
		}
		if found < 0 {
			return nil
		}
		taken[found] = true
		val[found] = b[i] / A.At(i, found)
		basis[i] = found
	}
	// Slack values of the covered rows must stay non-negative.
	for r := range m {
		if !covered[r] {
			continue
		}
		s := b[r]
		for j := range ns {
			if taken[j] {
				s -= A.At(r, j) * val[j]
			}
		}
		if s/slackSign[r] < 0 {
			return nil
		}
	}
	return basis
}
