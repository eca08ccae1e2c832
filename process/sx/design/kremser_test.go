package design_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/internal/golden"
	"lodestone/process/sx/design"
)

// TestPuritiesMatchSolver compares the closed form of the check cascade
// with the rigorous solver at several stage counts: the impurities agree to
// 1e-7 relative.
func TestPuritiesMatchSolver(t *testing.T) {
	for _, s := range []design.Spec{
		{Beta: 1.5, FeedFractionA: 0.3, PurityA: 0.999, PurityB: 0.99, Feed: design.AqueousFeed},
		{Beta: 2, FeedFractionA: 0.3, PurityA: 0.99, PurityB: 0.99, Feed: design.OrganicFeed},
		{Beta: 5, FeedFractionA: 0.9, PurityA: 0.9999, PurityB: 0.99, Feed: design.AqueousFeed},
		{Beta: 1.3, FeedFractionA: 0.1, PurityA: 0.99, PurityB: 0.9999, Feed: design.OrganicFeed},
	} {
		d, err := design.New(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, nm := range [][2]int{{1, 1}, {d.N, d.M}, {3, 17}, {d.N + 5, d.M + 2}} {
			c, err := d.CheckAt(t.Context(), nm[0], nm[1])
			if err != nil {
				t.Fatal(err)
			}
			pa, pb := d.Purities(nm[0], nm[1])
			if e := math.Abs((1-pa)-(1-c.PurityA)) / (1 - c.PurityA); e > 1e-7 {
				t.Errorf("%+v at %v: impurity of A %g closed form, %g solver", s, nm, 1-pa, 1-c.PurityA)
			}
			if e := math.Abs((1-pb)-(1-c.PurityB)) / (1 - c.PurityB); e > 1e-7 {
				t.Errorf("%+v at %v: impurity of B %g closed form, %g solver", s, nm, 1-pb, 1-c.PurityB)
			}
		}
	}
}

// tableCases is the grid of the acceptance table: β 1.3–5, f_A 0.1–0.9,
// purities 0.99–0.9999, both feed phases.
func tableCases() []design.Spec {
	var out []design.Spec
	for _, feed := range []design.FeedPhase{design.AqueousFeed, design.OrganicFeed} {
		for _, beta := range []float64{1.3, 1.5, 2, 3, 5} {
			for _, fA := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
				for _, pa := range []float64{0.99, 0.999, 0.9999} {
					for _, pb := range []float64{0.99, 0.999, 0.9999} {
						out = append(out, design.Spec{Beta: beta, FeedFractionA: fA, PurityA: pa, PurityB: pb, Feed: feed})
					}
				}
			}
		}
	}
	return out
}

// TestKremserAgainstRigorous is the acceptance table: the closed-form
// stage counts of Xu's model (KremserStages) against the rigorous solver.
// At the closed-form counts the solver meets both targets in every case;
// on every fifth case (every 45th with -short; a one-off run over all 450
// found them all equal) the solver's own fewest-stages search (Required)
// agrees within one stage per section.
func TestKremserAgainstRigorous(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 9
	}
	for i, s := range tableCases() {
		d, err := design.New(s)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		n, m, err := d.KremserStages(0)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		c, err := d.CheckAt(t.Context(), n, m)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if !c.Meets || c.Closure > 1e-9 {
			t.Errorf("%+v at closed-form n %d m %d: purities %v, %v, closure %g", s, n, m, c.PurityA, c.PurityB, c.Closure)
		}
		if i%(step*5) != 0 {
			continue
		}
		r, err := d.Required(t.Context(), 0)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if abs(r.N-n) > 1 || abs(r.M-m) > 1 {
			t.Errorf("%+v: rigorous n %d m %d, closed form n %d m %d", s, r.N, r.M, n, m)
		}
	}
}

// TestXuTable records, for every case of the acceptance table, Xu's
// stage counts (the closed forms n = ln b/ln(β·E_M), m = ln a/ln(β/E'_M),
// rounded up) beside the stage counts of the same model solved exactly
// (KremserStages, which the rigorous solver confirms above), in
// testdata/xu-vs-rigorous.txt (regenerate with -update). It asserts the
// table, not an agreement: Xu's leading-order forms deviate by more than
// one stage in many cases (see the package documentation for why).
func TestXuTable(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Xu's stage counts vs the exact solution of the same model (= rigorous solver), at Xu's optimum flows.\n")
	fmt.Fprintf(&b, "# feed beta fA PA PB regime fA' | Xu n m (exact) | rigorous n m | dn dm | constant-flow n m\n")
	within, worst, cfWithin, cfWorst := 0, 0, 0, 0
	cases := tableCases()
	for _, s := range cases {
		d, err := design.New(s)
		if err != nil {
			t.Fatal(err)
		}
		n, m, err := d.KremserStages(0)
		if err != nil {
			t.Fatal(err)
		}
		dn, dm := n-d.N, m-d.M
		if abs(dn) <= 1 && abs(dm) <= 1 {
			within++
		}
		worst = max(worst, abs(dn), abs(dm))
		cn, cm := stageByStage(t, s)
		if abs(cn-d.N) <= 1 && abs(cm-d.M) <= 1 {
			cfWithin++
		}
		cfWorst = max(cfWorst, abs(cn-d.N), abs(cm-d.M))
		fmt.Fprintf(&b, "%-7s %-4g %-3g %-6g %-6g %-10s %.4f | %3d %3d (%6.2f %6.2f) | %3d %3d | %+3d %+3d | %3d %3d\n",
			s.Feed, s.Beta, s.FeedFractionA, s.PurityA, s.PurityB, strings.TrimSuffix(d.Regime.String(), "-controlled"),
			d.FAPrime, d.N, d.M, d.NExact, d.MExact, n, m, dn, dm, cn, cm)
	}
	fmt.Fprintf(&b, "# Xu within one stage per section of the rigorous solver: %d of %d; largest deviation %d stages\n", within, len(cases), worst)
	fmt.Fprintf(&b, "# Xu within one stage per section of the constant-flow idealisation: %d of %d; largest deviation %d stages\n", cfWithin, len(cases), cfWorst)
	golden.Check(t, filepath.Join("testdata", "xu-vs-rigorous.txt"), golden.Snapshot(
		"every column is this code's evaluation: Xu's closed forms as the research note states them "+
			"(process-twin.md §b.5, marked verify there), the exact solution of the same model (which "+
			"TestKremserAgainstRigorous confirms against the rigorous solver) and the constant-flow count "+
			"stage by stage; the table records the gap, it asserts no agreement"), []byte(b.String()))
}

// stageByStage counts the stages of Xu's constant-flow idealisation (a
// saturated organic: RE flows S and W+1 below an aqueous feed, S and W
// above it; equilibrium y_A = β·x_A/(1+(β−1)·x_A) in RE mole fractions)
// at the design's flows, stepping McCabe–Thiele fashion from the
// raffinate and switching to the scrub operating line at the first stage
// whose organic passes the intersection of the two lines (the optimal feed
// stage). An organic feed is counted on its mirror (B/A, aqueous feed,
// phases and sections swapped; TestMirror).
func stageByStage(t *testing.T, s design.Spec) (n, m int) {
	t.Helper()
	if s.Feed == design.OrganicFeed {
		mn, mm := stageByStage(t, design.Spec{Beta: s.Beta, FeedFractionA: 1 - s.FeedFractionA, PurityA: s.PurityB, PurityB: s.PurityA, Feed: design.AqueousFeed})
		return mm, mn
	}
	d, err := design.New(s)
	if err != nil {
		t.Fatal(err)
	}
	beta, fA := s.Beta, s.FeedFractionA
	L, S, W := d.W+1, d.S, d.W
	x1 := 1 - s.PurityB
	yInt := (L*fA - d.FBPrime*x1) / S // organic on both operating lines
	x := x1
	for i := 1; i <= 2000; i++ {
		y := beta * x / (1 + (beta-1)*x)
		if y >= s.PurityA {
			if n == 0 {
				n = i
			}
			return n, i - n
		}
		if n == 0 && y >= yInt {
			n = i
		}
		if n == 0 {
			x = (S*y + d.FBPrime*x1) / L
		} else {
			x = (S*y - d.FAPrime*s.PurityA) / W
		}
	}
	t.Fatalf("%+v: constant-flow cascade does not reach the targets in 2000 stages", s)
	return 0, 0
}
