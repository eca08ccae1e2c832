package reliability

import (
	"fmt"
	"math"
)

// The kinds of availability block.
const (
	KindUnit     = "unit"     // one repairable item: mtbf and mttr, or availability
	KindSeries   = "series"   // every child block must be up
	KindParallel = "parallel" // at least one child block must be up
	KindKOfN     = "k_of_n"   // at least k of the child blocks must be up
	KindStandby  = "standby"  // n identical units, k running, the rest standby
)

// Block is a reliability block diagram node. Times are in any one unit.
type Block struct {
	Name string `json:"name,omitempty"`
	Kind string `json:"kind"`
	// MTBF and MTTR of a unit, or of each unit of a standby group.
	MTBF float64 `json:"mtbf,omitempty"`
	MTTR float64 `json:"mttr,omitempty"`
	// Availability of a unit, when given instead of MTBF and MTTR.
	Availability *float64 `json:"availability,omitempty"`
	// K is how many must be up (k_of_n, standby; standby defaults to 1).
	K int `json:"k,omitempty"`
	// N is the number of identical units of a standby group.
	N int `json:"n,omitempty"`
	// RepairCrews of a standby group (default 1).
	RepairCrews int `json:"repair_crews,omitempty"`
	// Hot makes standby units fail while waiting (default cold).
	Hot    bool    `json:"hot,omitempty"`
	Blocks []Block `json:"blocks,omitempty"`
}

// BlockResult is the steady-state availability of a block and its children.
type BlockResult struct {
	Name         string        `json:"name,omitempty"`
	Kind         string        `json:"kind"`
	Availability float64       `json:"availability"`
	Blocks       []BlockResult `json:"blocks,omitempty"`
}

// ItemAvailability is MTBF/(MTBF+MTTR).
func ItemAvailability(mtbf, mttr float64) float64 { return mtbf / (mtbf + mttr) }

// SystemAvailability evaluates a block diagram. Errors name the block by
// its path ("blocks[2].mttr").
func SystemAvailability(b Block) (*BlockResult, error) { return evalBlock(b, "") }

func fieldErr(path, field, reason string) error {
	return &DataError{Field: path + field, Reason: reason}
}

func positive(path, field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return fieldErr(path, field, fmt.Sprintf("%v must be a positive number", v))
	}
	return nil
}

func evalBlock(b Block, path string) (*BlockResult, error) {
	res := &BlockResult{Name: b.Name, Kind: b.Kind}
	switch b.Kind {
	case KindUnit:
		if b.Availability != nil {
			a := *b.Availability
			if !(a >= 0 && a <= 1) {
				return nil, fieldErr(path, "availability", fmt.Sprintf("%v is not in [0,1]", a))
			}
			res.Availability = a
			return res, nil
		}
		if err := positive(path, "mtbf", b.MTBF); err != nil {
			return nil, err
		}
		if math.IsNaN(b.MTTR) || math.IsInf(b.MTTR, 0) || b.MTTR < 0 {
			return nil, fieldErr(path, "mttr", fmt.Sprintf("%v must be a non-negative number", b.MTTR))
		}
		res.Availability = ItemAvailability(b.MTBF, b.MTTR)
		return res, nil
	case KindStandby:
		a, err := standby(b, path)
		res.Availability = a
		return res, err
	case KindSeries, KindParallel, KindKOfN:
	default:
		return nil, fieldErr(path, "kind", fmt.Sprintf("%q is not one of unit, series, parallel, k_of_n, standby", b.Kind))
	}
	if len(b.Blocks) == 0 {
		return nil, fieldErr(path, "blocks", "a "+b.Kind+" block needs at least one child block")
	}
	as := make([]float64, len(b.Blocks))
	for i, c := range b.Blocks {
		cr, err := evalBlock(c, fmt.Sprintf("%sblocks[%d].", path, i))
		if err != nil {
			return nil, err
		}
		as[i] = cr.Availability
		res.Blocks = append(res.Blocks, *cr)
	}
	k := b.K
	switch b.Kind {
	case KindSeries:
		k = len(as)
	case KindParallel:
		k = 1
	default:
		if k < 1 || k > len(as) {
			return nil, fieldErr(path, "k", fmt.Sprintf("%d is not between 1 and the %d child blocks", b.K, len(as)))
		}
	}
	res.Availability = KOfN(k, as)
	return res, nil
}

// maxStandby bounds the units of a standby group (the chain has n+1
// states; no plant has more than a few identical units on standby).
const maxStandby = 10000

// KOfN is the probability that at least k of independent blocks with
// availabilities as are up (series is k = n, parallel k = 1).
func KOfN(k int, as []float64) float64 {
	// p[j] = P(exactly j up) among the blocks seen so far.
	p := make([]float64, len(as)+1)
	p[0] = 1
	for i, a := range as {
		for j := i + 1; j >= 1; j-- {
			p[j] = p[j]*(1-a) + p[j-1]*a
		}
		p[0] *= 1 - a
	}
	var s float64
	for j := k; j <= len(as); j++ {
		s += p[j]
	}
	return s
}

// standby is the steady-state availability of a group of n identical
// units of which k must run, the others waiting (cold: they do not fail
// while waiting; hot: they do), repaired by c crews: a birth–death chain in
// the number of failed units j with failure rate min(n−j, k)·λ (cold: only
// running units fail) or (n−j)·λ (hot: every up unit fails) and repair
// rate min(j, c)·μ. Up when j ≤ n−k.
func standby(b Block, path string) (float64, error) {
	if err := positive(path, "mtbf", b.MTBF); err != nil {
		return 0, err
	}
	if err := positive(path, "mttr", b.MTTR); err != nil {
		return 0, err
	}
	n, k, c := b.N, b.K, b.RepairCrews
	if k == 0 {
		k = 1
	}
	if c == 0 {
		c = 1
	}
	switch {
	case n < 1 || n > maxStandby:
		return 0, fieldErr(path, "n", fmt.Sprintf("%d is not between 1 and %d units", n, maxStandby))
	case k < 1 || k > n:
		return 0, fieldErr(path, "k", fmt.Sprintf("%d is not between 1 and n = %d", b.K, n))
	case c < 1:
		return 0, fieldErr(path, "repair_crews", fmt.Sprintf("%d must be at least 1", b.RepairCrews))
	}
	lam, mu := 1/b.MTBF, 1/b.MTTR
	// Unnormalised stationary probabilities π_j, by detailed balance.
	pi := make([]float64, n+1)
	pi[0] = 1
	for j := 1; j <= n; j++ {
		up := n - (j - 1) // units up before this failure
		rate := float64(min(up, k)) * lam
		if b.Hot {
			rate = float64(up) * lam
		}
		pi[j] = pi[j-1] * rate / (float64(min(j, c)) * mu)
	}
	var tot, upP float64
	for j, p := range pi {
		tot += p
		if j <= n-k {
			upP += p
		}
	}
	return upP / tot, nil
}
