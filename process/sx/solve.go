package sx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Status is the outcome of a solve, as in gonum's optimize.Status.
type Status int

// The statuses.
const (
	NotTerminated  Status = iota
	Converged             // the scaled residual is below Settings.Tolerance
	IterationLimit        // Settings.MaxIterations reached first
	Stagnated             // the line search could not reduce the residual
	Singular              // the Newton matrix was singular
	Canceled              // the context was canceled
)

// String names the status.
func (s Status) String() string {
	switch s {
	case NotTerminated:
		return "not terminated"
	case Converged:
		return "converged"
	case IterationLimit:
		return "iteration limit"
	case Stagnated:
		return "stagnated"
	case Singular:
		return "singular"
	case Canceled:
		return "canceled"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// ConvergenceError reports a solve that did not converge. The Result
// returned with it holds the best iterate.
type ConvergenceError struct {
	Status   Status
	Iter     int     // Newton iterations done
	Residual float64 // largest scaled residual of the best iterate
	// Reason is a likely cause read from the best iterate, or "": acid
	// exhausted or extractant saturated at a stage, which no steady state
	// of the spec can avoid.
	Reason string
}

// Error describes the failure.
func (e *ConvergenceError) Error() string {
	msg := fmt.Sprintf("sx: no convergence (%v) after %d iterations, scaled residual %.3g", e.Status, e.Iter, e.Residual)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// diagnose looks for the usual causes of an infeasible spec in the best
// iterate.
func (w *workspace) diagnose() string {
	C, n := w.C, w.n
	// With constant D, where the metals go does not depend on the state:
	// does the organic hold them?
	if _, ok := w.p.Model.(Constant); ok {
		if msg := w.capacityCheck(); msg != "" {
			return msg
		}
	}
	for k := 0; k < w.N; k++ {
		if h := math.Exp(w.v[k*n+C]); h < 1e-7 {
			return fmt.Sprintf("the aqueous phase turns alkaline at stage %d (pH %.1f): more base (or stripping demand) than acid; hydroxide precipitation is not modelled", k+1, -math.Log10(h))
		}
	}
	// Otherwise name the balance that fails most.
	w.residual(w.v, w.r)
	bk, bj, bv := 0, 0, 0.0
	for k := 0; k < w.N; k++ {
		for j := 0; j < n; j++ {
			if v := math.Abs(w.r[k*n+j] / w.sc[j]); v > bv {
				bk, bj, bv = k, j, v
			}
		}
	}
	switch {
	case bj == C:
		return fmt.Sprintf("the acid balance fails most at stage %d", bk+1)
	case bj == C+1:
		return fmt.Sprintf("the extractant balance fails most at stage %d", bk+1)
	}
	return fmt.Sprintf("the balance of %s fails most at stage %d", w.comps[bj].Name, bk+1)
}

// capacityCheck solves the component balances at the current distribution
// ratios (exact for constant D) and reports a stage whose organic would
// need more extractant than it has.
func (w *workspace) capacityCheck() string {
	C, n := w.C, w.n
	copy(w.vt, w.v)
	w.solveComponents(w.vt)
	for k := 0; k < w.N; k++ {
		var bound float64
		for i := 0; i < C; i++ {
			bound += w.nu * w.z[i] * w.D[k*C+i] * w.vt[k*n+i]
		}
		if bound > w.T[k] {
			return fmt.Sprintf("extractant saturated at stage %d: the organic would carry %.3g mol/L of extractant sites, it has %.3g", k+1, bound, w.T[k])
		}
	}
	return ""
}

// Settings are the knobs of Solve. A nil *Settings means the defaults.
type Settings struct {
	MaxSubstitutions int     // successive-substitution sweeps before Newton; 0 means 1, <0 none
	MaxIterations    int     // Newton and transient steps; 0 means 1000
	Tolerance        float64 // largest scaled residual accepted; 0 means 1e-12
}

func (s *Settings) defaults() Settings {
	var d Settings
	if s != nil {
		d = *s
	}
	if d.MaxSubstitutions == 0 {
		d.MaxSubstitutions = 1
	}
	if d.MaxIterations == 0 {
		d.MaxIterations = 1000
	}
	if d.Tolerance == 0 {
		d.Tolerance = 1e-12
	}
	return d
}

// Stats counts the work of a solve.
type Stats struct {
	Substitutions    int           // successive-substitution sweeps
	NewtonIterations int           // Newton (or transient) steps
	Factorizations   int           // block-tridiagonal factorisations (steps along the transient may reuse one)
	Evaluations      int           // residual evaluations
	Residual         float64       // largest scaled residual at the end
	Runtime          time.Duration // measured by the caller's clock; Solve leaves it 0 (no wall clock in engines)
}

// Stream is an outlet stream.
type Stream struct {
	Phase Phase
	Stage int       // stage it leaves
	Flow  float64   // L/h
	Conc  []float64 // mol/L per component
	// Aqueous: free H⁺, HSO4⁻ and SO4²⁻ (mol/L). Organic: free extractant
	// (mol/L of HA monomer).
	H, HSO4, SO4, Extractant float64
}

// Reagents summarises acid, base and extractant use, all in mol/h.
type Reagents struct {
	AcidIn        float64 // acidity fed (H⁺ + HSO4⁻ of aqueous inlets)
	AcidOut       float64 // acidity leaving in the raffinate
	AcidConsumed  float64 // AcidIn − AcidOut; negative when extraction releases acid
	Base          float64 // counter-ion (Na⁺/NH4⁺) fed on the organic: NaOH or NH3 used for saponification
	ExtractantIn  float64 // HA fed on organic inlets, free plus bound
	ExtractantOut float64 // HA leaving in the extract
}

// Result is the steady state of a cascade. Per-stage slices are indexed by
// stage−1.
type Result struct {
	Status Status
	Stats  Stats

	Components  []Component
	Aqueous     [][]float64 // [stage][component] mol/L
	Organic     [][]float64 // [stage][component] mol/L
	D           [][]float64 // distribution ratios
	H           []float64   // free H⁺, mol/L
	HSO4, SO4   []float64   // mol/L (zero in chloride media)
	Extractant  []float64   // free extractant, mol/L HA monomer
	AqueousFlow []float64   // L/h leaving each stage
	OrganicFlow []float64   // L/h leaving each stage

	Raffinate Stream // aqueous leaving stage 1
	Extract   Stream // organic leaving stage N

	In      []float64 // mol/h of each component fed
	Closure []float64 // |in − out|/in per component (0 when nothing is fed)
	// Recovery[c] and Purity[c] per product: index 0 the raffinate, 1 the
	// extract. Recovery is the fraction of the feed of c leaving in the
	// product; purity is the mass (or mole) fraction of c among the
	// non-counter-ion metals of the product.
	Recovery [2][]float64
	Purity   [2][]float64
	Reagents Reagents
}

// PH returns −log10 of the free H⁺ of each stage.
func (r *Result) PH() []float64 {
	out := make([]float64, len(r.H))
	for i, h := range r.H {
		out[i] = -math.Log10(h)
	}
	return out
}

// MaxClosure returns the largest closure error over the components.
func (r *Result) MaxClosure() float64 {
	var m float64
	for _, c := range r.Closure {
		m = math.Max(m, c)
	}
	return m
}

// Solve computes the steady state of the cascade p. With a nil error the
// Result has Status Converged. When the solver does not converge it returns
// the best iterate together with a *ConvergenceError; a bad problem gives a
// nil Result and an error naming the field. A canceled ctx stops the solve
// with the best iterate and ctx.Err().
func Solve(ctx context.Context, p Problem, s *Settings) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	set := s.defaults()
	w := newWorkspace(&p)
	status, err := w.run(ctx, set)
	res := w.result(status)
	w.release()
	if err != nil {
		return res, err
	}
	if status != Converged {
		return res, &ConvergenceError{Status: status, Iter: w.stats.NewtonIterations, Residual: w.stats.Residual, Reason: w.diagnose()}
	}
	return res, nil
}

// workspace holds every buffer of a solve, so that iterations do not
// allocate.
type workspace struct {
	p      *Problem
	model  Equilibrium // p.Model, or a faster equivalent prepared for this solve
	comps  []Component
	z      []float64 // charges
	N, C   int
	n      int // block size C+2
	ka     float64
	nu     float64
	sulf   bool
	A, O   []float64 // flows leaving each stage
	qa, qo []float64 // inlet mol/h per stage and component [k*C+i]
	qH     []float64 // inlet acidity per stage
	S      []float64 // total sulfate per stage (mol/L)
	T      []float64 // total extractant per stage (mol/L HA)
	in     []float64 // total mol/h per component

	sc []float64 // residual scale per row of a block
	xs []float64 // mean feed concentration of each component, mol/L

	v, vt, vb, dv []float64 // unknowns: x (C), ln h, ln f per stage
	r, rt         []float64
	D, Dh, Df     []float64 // per stage and component
	HT, dHT       []float64

	blocks []float64 // backing store of jd, jl, G and binv (blockPool)
	jd, jl []float64 // diagonal and lower blocks, n×n per stage
	ju     []float64 // diagonal of the upper blocks
	G      []float64 // block Thomas: B'^{-1} U per stage ((C+1)² each, after condensation)
	binv   []float64 // block Thomas: B'^{-1} per stage ((C+1)² each)
	g      []float64
	eh     []float64 // condensation scratch (length n)
	ehp    []float64
	q      []float64
	piv    []int
	col    []float64

	tri [3][]float64 // tridiagonal scratch for substitution

	stats Stats
}

// blockPool recycles the block buffers (jd, jl, G, binv) of finished
// solves: they are most of a solve's memory, and allocating them afresh
// each time costs page faults and garbage collections. getBlocks returns
// them zeroed, as a fresh allocation would be, so nothing of one solve
// reaches another.
//
//lodestone:scratch
var blockPool sync.Pool // of *[]float64

func getBlocks(size int) []float64 {
	if p, ok := blockPool.Get().(*[]float64); ok && cap(*p) >= size {
		b := (*p)[:size]
		clear(b)
		return b
	}
	return make([]float64, size)
}

// release returns the block buffers to blockPool; w must not be used
// after.
func (w *workspace) release() {
	b := w.blocks
	w.blocks, w.jd, w.jl, w.G, w.binv = nil, nil, nil, nil, nil
	blockPool.Put(&b)
}

func newWorkspace(p *Problem) *workspace {
	N, C := p.Stages, len(p.Components)
	n := C + 2
	w := &workspace{p: p, comps: p.Components, N: N, C: C, n: n, nu: p.Model.SitesPerCharge(), sulf: p.Media == Sulfate}
	w.model = p.Model
	if m, ok := p.Model.(MassAction); ok {
		w.model = newMassActionK(m)
	}
	w.ka = p.Ka2
	if w.ka == 0 {
		w.ka = DefaultKa2
	}
	f := func(k int) []float64 { return make([]float64, k) }
	w.z = f(C)
	for i, c := range p.Components {
		w.z[i] = float64(c.Charge)
	}
	w.A, w.O, w.qH, w.S, w.T = f(N), f(N), f(N), f(N), f(N)
	w.qa, w.qo = f(N*C), f(N*C)
	w.in = f(C)
	w.sc = f(n)
	w.xs = f(C)
	w.v, w.vt, w.vb, w.dv, w.r, w.rt = f(N*n), f(N*n), f(N*n), f(N*n), f(N*n), f(N*n)
	w.D, w.Dh, w.Df = f(N*C), f(N*C), f(N*C)
	w.HT, w.dHT = f(N), f(N)
	w.blocks = getBlocks(2*N*n*n + 2*N*(n-1)*(n-1))
	b := w.blocks
	w.jd, b = b[:N*n*n:N*n*n], b[N*n*n:]
	w.jl, b = b[:N*n*n:N*n*n], b[N*n*n:]
	w.G, b = b[:N*(n-1)*(n-1):N*(n-1)*(n-1)], b[N*(n-1)*(n-1):] // condensed blocks
	w.binv = b[: N*(n-1)*(n-1) : N*(n-1)*(n-1)]
	w.ju, w.g = f(N*n), f(N*n)
	w.col = f(n)
	w.eh, w.ehp, w.q = f(n), f(n), f(n)
	w.piv = make([]int, n)
	for i := range w.tri {
		w.tri[i] = f(N)
	}

	// Flows and a-priori balances of sulfate and extractant.
	sIn := f(N) // sulfate fed per stage, mol/h
	tIn := f(N) // extractant fed per stage, mol/h
	for _, in := range p.Inlets {
		k := in.Stage - 1
		if in.Phase == Aqueous {
			w.A[k] += in.Flow
			w.qH[k] += in.Flow * (in.H + in.HSO4)
			sIn[k] += in.Flow * (in.HSO4 + in.SO4)
		} else {
			w.O[k] += in.Flow
			tIn[k] += in.Flow * in.Extractant
		}
		for i, c := range in.Conc {
			q := in.Flow * c
			if in.Phase == Aqueous {
				w.qa[k*C+i] += q
			} else {
				w.qo[k*C+i] += q
				tIn[k] += w.nu * w.z[i] * q
			}
			w.in[i] += q
		}
	}
	for k := N - 2; k >= 0; k-- {
		w.A[k] += w.A[k+1]
	}
	for k := 1; k < N; k++ {
		w.O[k] += w.O[k-1]
	}
	var sAcc, tAcc float64
	for k := N - 1; k >= 0; k-- {
		sAcc += sIn[k]
		w.S[k] = sAcc / w.A[k]
	}
	for k := 0; k < N; k++ {
		tAcc += tIn[k]
		w.T[k] = tAcc / w.O[k]
	}
	// Residual scales: the feed of each component, the acidity and charge
	// fed, and the extractant fed.
	var hs, ts float64
	for k := 0; k < N; k++ {
		hs += w.qH[k]
		ts = math.Max(ts, w.O[k]*w.T[k])
	}
	var flow float64
	for k := 0; k < N; k++ {
		flow = math.Max(flow, w.A[k]+w.O[k])
	}
	for i := 0; i < C; i++ {
		w.xs[i] = w.in[i] / flow
		w.sc[i] = math.Max(w.in[i], 1e-300)
		hs += w.z[i] * w.in[i]
	}
	w.sc[C] = math.Max(hs, 1e-300)
	w.sc[C+1] = math.Max(ts, 1e-300)
	return w
}

// Kw is the ion product of water, [H⁺][OH⁻] in (mol/L)², at 25 °C [std];
// its temperature dependence is ignored.
const Kw = 1e-14

// hFromHT solves HT = h + S·h/(h+Ka) − Kw/h for the free H⁺ h > 0. The
// acidity HT counts H⁺ and HSO4⁻ less OH⁻, so it may be negative (an
// alkaline liquor, e.g. after a saponified organic has taken up all the
// acid).
func (w *workspace) hFromHT(ht, s float64) float64 {
	// Chloride-like root, exact without sulfate; a start otherwise.
	var h float64
	if ht >= 0 {
		h = (ht + math.Sqrt(ht*ht+4*Kw)) / 2
	} else {
		h = 2 * Kw / (-ht + math.Sqrt(ht*ht+4*Kw))
	}
	if !w.sulf || s == 0 {
		return h
	}
	// HT(h) is increasing; Newton in ln h, safeguarded by bisection.
	lo, hi := math.Log(1e-30), math.Log(math.Max(ht, 0)+1)
	x := math.Min(math.Max(math.Log(h), lo), hi)
	for it := 0; it < 100; it++ {
		hv := math.Exp(x)
		g, dg := w.htOf(hv, s)
		g -= ht
		if g > 0 {
			hi = x
		} else {
			lo = x
		}
		if math.Abs(g) <= 1e-15*(math.Abs(ht)+hv) {
			break
		}
		next := x - g/(dg*hv)
		if !(next > lo && next < hi) {
			next = 0.5 * (lo + hi)
		}
		if math.Abs(next-x) < 1e-14 {
			x = next
			break
		}
		x = next
	}
	return math.Exp(x)
}

// htOf returns the total acidity HT = h + S·h/(h+Ka) − Kw/h and its
// derivative with respect to h.
func (w *workspace) htOf(h, s float64) (float64, float64) {
	if !w.sulf || s == 0 {
		return h - Kw/h, 1 + Kw/(h*h)
	}
	den := h + w.ka
	return h + s*h/den - Kw/h, 1 + s*w.ka/(den*den) + Kw/(h*h)
}

// distribution evaluates the model at every stage of v.
func (w *workspace) distribution(v []float64) {
	C, n := w.C, w.n
	for k := 0; k < w.N; k++ {
		h, f := math.Exp(v[k*n+C]), math.Exp(v[k*n+C+1])
		w.model.Distribution(w.comps, k+1, h, f, w.D[k*C:(k+1)*C], w.Dh[k*C:(k+1)*C], w.Df[k*C:(k+1)*C])
		w.HT[k], w.dHT[k] = w.htOf(h, w.S[k])
	}
}

// residual fills r from v (after distribution(v)) and returns the largest
// scaled residual and half the sum of squares of the scaled residuals.
func (w *workspace) residual(v, r []float64) (maxAbs, phi float64) {
	w.stats.Evaluations++
	N, C, n := w.N, w.C, w.n
	for k := 0; k < N; k++ {
		row := r[k*n : (k+1)*n]
		var aUp, oDn float64
		if k+1 < N {
			aUp = w.A[k+1]
		}
		if k > 0 {
			oDn = w.O[k-1]
		}
		rh := w.qH[k] - w.A[k]*w.HT[k]
		if k+1 < N {
			rh += aUp * w.HT[k+1]
		}
		re := w.O[k] * (w.T[k] - math.Exp(v[k*n+C+1]))
		for i := 0; i < C; i++ {
			x := v[k*n+i]
			y := w.D[k*C+i] * x
			var ri float64 = w.qa[k*C+i] + w.qo[k*C+i] - w.A[k]*x - w.O[k]*y
			var yDn float64
			if k > 0 {
				yDn = w.D[(k-1)*C+i] * v[(k-1)*n+i]
				ri += oDn * yDn
			}
			if k+1 < N {
				ri += aUp * v[(k+1)*n+i]
			}
			row[i] = ri
			t := w.O[k]*y - oDn*yDn - w.qo[k*C+i]
			rh += w.z[i] * t
			re -= w.O[k] * w.nu * w.z[i] * y
		}
		row[C] = rh
		row[C+1] = re
		for j := 0; j < n; j++ {
			s := row[j] / w.sc[j]
			maxAbs = max(maxAbs, math.Abs(s)) // builtin max: same NaN and ±0 rules as math.Max, inlined
			phi += 0.5 * s * s
		}
	}
	return maxAbs, phi
}

// jacobian fills the blocks at v (after distribution(v)). Columns are
// x_i, ln h, ln f of a stage.
func (w *workspace) jacobian(v []float64) {
	N, C, n := w.N, w.C, w.n
	clear(w.jd)
	clear(w.jl)
	clear(w.ju)
	for k := 0; k < N; k++ {
		jd := w.jd[k*n*n : (k+1)*n*n]
		h, f := math.Exp(v[k*n+C]), math.Exp(v[k*n+C+1])
		O := w.O[k]
		var sh, sf float64 // Σ z·O·∂y/∂ln h, ∂ln f
		for i := 0; i < C; i++ {
			x := v[k*n+i]
			D := w.D[k*C+i]
			dyh := w.Dh[k*C+i] * x * h
			dyf := w.Df[k*C+i] * x * f
			jd[i*n+i] = -w.A[k] - O*D
			jd[i*n+C] = -O * dyh
			jd[i*n+C+1] = -O * dyf
			jd[C*n+i] = w.z[i] * O * D
			jd[(C+1)*n+i] = -O * w.nu * w.z[i] * D
			sh += w.z[i] * O * dyh
			sf += w.z[i] * O * dyf
		}
		jd[C*n+C] = -w.A[k]*w.dHT[k]*h + sh
		jd[C*n+C+1] = sf
		jd[(C+1)*n+C] = -w.nu * sh
		jd[(C+1)*n+C+1] = -O*f - w.nu*sf
		if k > 0 {
			jl := w.jl[k*n*n : (k+1)*n*n]
			hp, fp := math.Exp(v[(k-1)*n+C]), math.Exp(v[(k-1)*n+C+1])
			Op := w.O[k-1]
			var lh, lf float64
			for i := 0; i < C; i++ {
				x := v[(k-1)*n+i]
				D := w.D[(k-1)*C+i]
				dyh := w.Dh[(k-1)*C+i] * x * hp
				dyf := w.Df[(k-1)*C+i] * x * fp
				jl[i*n+i] = Op * D
				jl[i*n+C] = Op * dyh
				jl[i*n+C+1] = Op * dyf
				jl[C*n+i] = -w.z[i] * Op * D
				lh += w.z[i] * Op * dyh
				lf += w.z[i] * Op * dyf
			}
			jl[C*n+C] = -lh
			jl[C*n+C+1] = -lf
		}
		if k+1 < N {
			u := w.ju[k*n : (k+1)*n]
			for i := 0; i < C; i++ {
				u[i] = w.A[k+1]
			}
			u[C] = w.A[k+1] * w.dHT[k+1] * math.Exp(v[(k+1)*n+C])
		}
	}
}

var errSingular = errors.New("sx: singular block")

// updateRow sets rr −= l·rc, as one elimination step of invert does to a
// row with a non-zero l in the pivot column c (rr[c] set to 0 first).
func updateRow(rr, rc []float64, l float64, c int) {
	rr = rr[:len(rc)]
	rr[c] = 0
	for j, v := range rc {
		rr[j] -= l * v
	}
}

// fixPair sets the pivot columns c and c1 = c+1 of a row updated for both
// pivots as one pivot at a time leaves them: each is set to zero before
// its own step.
func fixPair(rr, rc, rc1 []float64, l, l1 float64, c, c1 int) {
	var z0, z1 float64
	z0 -= l * rc[c]
	z0 -= l1 * rc1[c]
	z1 -= l1 * rc1[c1]
	rr[c], rr[c1] = z0, z1
}

// pivotRow picks, swaps and scales the pivot row of column c.
func pivotRow(a []float64, piv []int, n, c int) ([]float64, error) {
	p := c
	m := math.Abs(a[c*n+c])
	for r := c + 1; r < n; r++ {
		if v := math.Abs(a[r*n+c]); v > m {
			p, m = r, v
		}
	}
	piv[c] = p
	if m == 0 || math.IsNaN(m) {
		return nil, errSingular
	}
	rc := a[c*n : (c+1)*n]
	if p != c {
		rp := a[p*n : (p+1)*n]
		for j := range rc {
			rc[j], rp[j] = rp[j], rc[j]
		}
	}
	inv := 1 / rc[c]
	rc[c] = 1
	for j := range rc {
		rc[j] *= inv
	}
	return rc, nil
}

// eliminate applies the step of pivot c (pivot row rc) to every other row.
func eliminate(a, rc []float64, n, c int) {
	for r := 0; r < n; r++ {
		if r != c && a[r*n+c] != 0 {
			updateRow(a[r*n:(r+1)*n], rc, a[r*n+c], c)
		}
	}
}

// invert replaces the n×n matrix a by its inverse (Gauss–Jordan with
// partial pivoting; n³ flops, against 8n³/3 for LU plus n solves). piv
// records the row swaps, undone on the columns at the end. Pivots are
// taken two at a time: each row other than the two pivot rows is
// updated for both in one pass over it (half the loads and stores), with
// the same operations in the same order as one pivot at a time, so the
// result is the same bit for bit (TestInvertMatchesSequential).
func invert(a []float64, piv []int, n int) error {
	c := 0
	for ; c+1 < n; c += 2 {
		rc, err := pivotRow(a, piv, n, c)
		if err != nil {
			return err
		}
		// Step c on rows c+1..n−1 in column c+1 only, to pick the pivot of
		// step c+1 as the sequential order would.
		c1 := c + 1
		p := c1
		var mx float64 = -1
		for r := c1; r < n; r++ {
			v := a[r*n+c1]
			if a[r*n+c] != 0 {
				v -= a[r*n+c] * rc[c1]
			}
			if av := math.Abs(v); r == c1 || av > mx {
				p, mx = r, av
			}
		}
		if mx == 0 || math.IsNaN(mx) {
			eliminate(a, rc, n, c)
			piv[c1] = p
			return errSingular
		}
		// Rows c+1 and p get step c in full; then they are the pivot
		// rows of step c+1.
		for _, r := range [2]int{c1, p} {
			if l := a[r*n+c]; l != 0 {
				updateRow(a[r*n:(r+1)*n], rc, l, c)
			}
			if p == c1 {
				break
			}
		}
		rc1, _ := pivotRowNoSearch(a, n, c1, p)
		piv[c1] = p
		// Every other row: both steps in one pass, two rows at a time
		// (each element of the pivot rows loaded once for both).
		rc1 = rc1[:len(rc)]
		pend := -1 // a row waiting for a partner
		var pl, pl1 float64
		for r := 0; r < n; r++ {
			if r == c || r == c1 || r == p {
				continue
			}
			rr := a[r*n : (r+1)*n]
			rr = rr[:len(rc)]
			l := rr[c]
			if l == 0 {
				if l1 := rr[c1]; l1 != 0 {
					updateRow(rr, rc1, l1, c1)
				}
				continue
			}
			l1 := rr[c1] - l*rc[c1]
			if l1 == 0 {
				updateRow(rr, rc, l, c)
				continue
			}
			if pend < 0 {
				pend, pl, pl1 = r, l, l1
				continue
			}
			qr := a[pend*n : (pend+1)*n]
			qr = qr[:len(rc)]
			for j, v := range rc {
				w := rc1[j]
				qr[j] = (qr[j] - pl*v) - pl1*w
				rr[j] = (rr[j] - l*v) - l1*w
			}
			fixPair(qr, rc, rc1, pl, pl1, c, c1)
			fixPair(rr, rc, rc1, l, l1, c, c1)
			pend = -1
		}
		if pend >= 0 {
			qr := a[pend*n : (pend+1)*n]
			qr = qr[:len(rc)]
			for j, v := range rc {
				qr[j] = (qr[j] - pl*v) - pl1*rc1[j]
			}
			fixPair(qr, rc, rc1, pl, pl1, c, c1)
		}
		// Row c and row p (now the old row c+1) need step c+1 only; row c
		// last, as the rows above still read it as the pivot row of step c.
		if p != c1 {
			if l := a[p*n+c1]; l != 0 {
				updateRow(a[p*n:(p+1)*n], rc1, l, c1)
			}
		}
		if l := a[c*n+c1]; l != 0 {
			updateRow(a[c*n:(c+1)*n], rc1, l, c1)
		}
	}
	if c < n {
		rc, err := pivotRow(a, piv, n, c)
		if err != nil {
			return err
		}
		eliminate(a, rc, n, c)
	}
	for c := n - 1; c >= 0; c-- {
		if p := piv[c]; p != c {
			for r := 0; r < n; r++ {
				row := a[r*n : (r+1)*n]
				row[c], row[p] = row[p], row[c]
			}
		}
	}
	return nil
}

// pivotRowNoSearch swaps row p into c and scales it.
func pivotRowNoSearch(a []float64, n, c, p int) ([]float64, error) {
	rc := a[c*n : (c+1)*n]
	if p != c {
		rp := a[p*n : (p+1)*n]
		for j := range rc {
			rc[j], rp[j] = rp[j], rc[j]
		}
	}
	inv := 1 / rc[c]
	rc[c] = 1
	for j := range rc {
		rc[j] *= inv
	}
	return rc, nil
}

// The extractant row of a stage couples only that stage's unknowns, and
// the extractant column appears only in that stage's rows and in the lower
// block of the next stage. So ln f is eliminated first (static
// condensation): with ê = e/e_f (e the extractant row) and ρ = −r_E/e_f,
//
//	d ln f = ρ − ê·dv',  dv' = (dx, d ln h)
//
// and the block Thomas algorithm runs on blocks of size C+1 instead of C+2.
// eliminated returns ê (length m = n−1) of stage k into dst and ρ.
func (w *workspace) eliminated(k int, dst []float64) (rho float64) {
	n := w.n
	m := n - 1
	e := w.jd[k*n*n+m*n : k*n*n+(m+1)*n]
	ef := e[m]
	for c := 0; c < m; c++ {
		dst[c] = e[c] / ef
	}
	return -w.r[k*n+m] / ef
}

// factorize runs the forward elimination of the block Thomas algorithm on
// the condensed blocks: B'_k = B̃_k − L̃_k·G_{k−1}, kept inverted in binv,
// and G_k = B'_k⁻¹·U_k (U_k is diagonal, so G_k is B'_k⁻¹ with scaled
// columns). The factors stay valid for solve until the next call.
func (w *workspace) factorize() error {
	w.stats.Factorizations++
	N, n := w.N, w.n
	m := n - 1 // condensed block size
	C := n - 2
	eh, ehp, q := w.eh[:m], w.ehp[:m], w.q[:m]
	for k := 0; k < N; k++ {
		B := w.binv[k*m*m : (k+1)*m*m]
		jd := w.jd[k*n*n : (k+1)*n*n]
		w.eliminated(k, eh)
		for r := 0; r < m; r++ {
			a := jd[r*n+m]
			Br := B[r*m : (r+1)*m]
			jr, e := jd[r*n:r*n+m], eh[:len(Br)] // equal lengths: no bounds checks below
			jr = jr[:len(Br)]
			for c := range Br {
				Br[c] = jr[c] - a*e[c]
			}
		}
		if k > 0 {
			// L̃_k = L_k[:, :m] − L_k[:, f]·ê_{k−1}. Metal row i of L_k has
			// entries in columns i, h and f only; the acidity row is dense;
			// the extractant row is zero.
			L := w.jl[k*n*n : (k+1)*n*n]
			Gp := w.G[(k-1)*m*m : k*m*m]
			w.eliminated(k-1, ehp)
			// q = ê_{k−1}ᵀ·G_{k−1}
			clear(q)
			for r, a := range ehp {
				if a == 0 {
					continue
				}
				gr := Gp[r*m : (r+1)*m]
				gr = gr[:len(q)]
				for c, g := range gr {
					q[c] += a * g
				}
			}
			gh := Gp[C*m : (C+1)*m]
			for i := 0; i < C; i++ {
				Bi := B[i*m : (i+1)*m]
				gi := Gp[i*m : (i+1)*m]
				li, lh, lf := L[i*n+i], L[i*n+C], L[i*n+m]
				gi, gh, q := gi[:len(Bi)], gh[:len(Bi)], q[:len(Bi)]
				for c := range Bi {
					Bi[c] -= li*gi[c] + lh*gh[c] - lf*q[c]
				}
			}
			Bh := B[C*m : (C+1)*m]
			for j, l := range L[C*n : C*n+m] {
				if l == 0 {
					continue
				}
				gj := Gp[j*m : (j+1)*m]
				gj = gj[:len(Bh)]
				for c, g := range gj {
					Bh[c] -= l * g
				}
			}
			if lf := L[C*n+m]; lf != 0 {
				q := q[:len(Bh)]
				for c := range Bh {
					Bh[c] += lf * q[c]
				}
			}
		}
		if err := invert(B, w.piv[:m], m); err != nil {
			return err
		}
		if k+1 < N {
			G := w.G[k*m*m : (k+1)*m*m]
			u := w.ju[k*n : k*n+m]
			for r := 0; r < m; r++ {
				Gr, Br := G[r*m:(r+1)*m], B[r*m:(r+1)*m]
				Br, u := Br[:len(Gr)], u[:len(Gr)]
				for c, b := range Br {
					Gr[c] = b * u[c]
				}
			}
		}
	}
	return nil
}

// solve sets dv from −r with the factors of factorize: forward,
// g_k = B'_k⁻¹·(r̃_k − L̃_k·g_{k−1}); backward, dv'_k = g_k − G_k·dv'_{k+1},
// then d ln f_k = ρ_k − ê_k·dv'_k.
func (w *workspace) solve() error {
	N, n := w.N, w.n
	m := n - 1
	C := n - 2
	rhs := w.col[:m]
	eh, ehp := w.eh[:m], w.ehp[:m]
	var rhoPrev float64
	for k := 0; k < N; k++ {
		jd := w.jd[k*n*n : (k+1)*n*n]
		rho := w.eliminated(k, eh)
		for r := 0; r < m; r++ {
			rhs[r] = -w.r[k*n+r] - jd[r*n+m]*rho
		}
		if k > 0 {
			L := w.jl[k*n*n : (k+1)*n*n]
			gp := w.g[(k-1)*n : (k-1)*n+m]
			rhoPrev = w.eliminated(k-1, ehp)
			var eg float64 // ê_{k−1}·g_{k−1}
			for c, a := range ehp {
				eg += a * gp[c]
			}
			for i := 0; i < C; i++ {
				lf := L[i*n+m]
				rhs[i] -= L[i*n+i]*gp[i] + L[i*n+C]*gp[C] - lf*eg + lf*rhoPrev
			}
			for j, l := range L[C*n : C*n+m] {
				rhs[C] -= l * gp[j]
			}
			lf := L[C*n+m]
			rhs[C] -= -lf*eg + lf*rhoPrev
		}
		B := w.binv[k*m*m : (k+1)*m*m]
		gk := w.g[k*n : k*n+m]
		matVec(gk, B, rhs, m)
	}
	for k := N - 1; k >= 0; k-- {
		d := w.dv[k*n : (k+1)*n]
		copy(d[:m], w.g[k*n:k*n+m])
		if k+1 < N {
			G := w.G[k*m*m : (k+1)*m*m]
			next := w.dv[(k+1)*n : (k+1)*n+m]
			gv := w.col[:m] // rhs is free in the backward sweep
			matVec(gv, G, next, m)
			for r, s := range gv {
				d[r] -= s
			}
		}
		rho := w.eliminated(k, eh)
		df := rho
		for c, a := range eh {
			df -= a * d[c]
		}
		d[m] = df
	}
	for _, d := range w.dv {
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return errSingular
		}
	}
	return nil
}

// matVec sets dst[r] = Σ_c a[r·m+c]·x[c] (r < m), each sum in order of c
// from zero; four rows run side by side, so that their sums are
// independent chains of additions (the result is the same, bit for bit,
// as one row at a time).
func matVec(dst, a, x []float64, m int) {
	x = x[:m]
	r := 0
	for ; r+4 <= m; r += 4 {
		a0 := a[r*m : (r+1)*m]
		a1 := a[(r+1)*m : (r+2)*m]
		a2 := a[(r+2)*m : (r+3)*m]
		a3 := a[(r+3)*m : (r+4)*m]
		a0, a1, a2, a3 = a0[:len(x)], a1[:len(x)], a2[:len(x)], a3[:len(x)]
		var s0, s1, s2, s3 float64
		for c, v := range x {
			s0 += a0[c] * v
			s1 += a1[c] * v
			s2 += a2[c] * v
			s3 += a3[c] * v
		}
		dst[r], dst[r+1], dst[r+2], dst[r+3] = s0, s1, s2, s3
	}
	for ; r < m; r++ {
		row := a[r*m : (r+1)*m]
		row = row[:len(x)]
		var s float64
		for c, v := range x {
			s += row[c] * v
		}
		dst[r] = s
	}
}

// newtonStep solves J·dv = −r by the block Thomas algorithm.
func (w *workspace) newtonStep() error {
	if err := w.factorize(); err != nil {
		return err
	}
	return w.solve()
}

// initial sets h and f from the inlets and x from one substitution.
func (w *workspace) initial() {
	N, C, n := w.N, w.C, w.n
	var acc float64
	for k := N - 1; k >= 0; k-- {
		acc += w.qH[k]
		h := w.hFromHT(acc/w.A[k], w.S[k])
		w.v[k*n+C] = math.Log(h)
		w.v[k*n+C+1] = math.Log(math.Max(w.T[k], 1e-300))
	}
}

// substitute does one successive-substitution sweep with damping omega and
// returns the largest change of ln h or ln f.
func (w *workspace) substitute(omega float64) float64 {
	N, C, n := w.N, w.C, w.n
	v := w.v
	w.distribution(v)
	w.solveComponents(v)
	// Acidity swept down the cascade, then the free extractant per stage.
	var change float64
	var htUp float64
	for k := N - 1; k >= 0; k-- {
		ht := w.qH[k]
		if k+1 < N {
			ht += w.A[k+1] * htUp
		}
		for i := 0; i < C; i++ {
			y := w.D[k*C+i] * v[k*n+i]
			t := w.O[k] * y
			if k > 0 {
				t -= w.O[k-1] * w.D[(k-1)*C+i] * v[(k-1)*n+i]
			}
			t -= w.qo[k*C+i]
			ht += w.z[i] * t
		}
		ht /= w.A[k]
		lnh := v[k*n+C]
		lnNew := math.Log(w.hFromHT(ht, w.S[k]))
		d := omega * (lnNew - lnh)
		v[k*n+C] = lnh + d
		change = max(change, math.Abs(d))
		// Recompute the acidity of this stage from the damped h so that the
		// sweep stays consistent.
		htUp, _ = w.htOf(math.Exp(v[k*n+C]), w.S[k])
		lnf := v[k*n+C+1]
		lnfNew := w.freeExtractant(k, math.Exp(v[k*n+C]), lnf)
		d = omega * (lnfNew - lnf)
		v[k*n+C+1] = lnf + d
		change = max(change, math.Abs(d))
	}
	return change
}

// solveComponents sets the concentrations of v from the distribution
// ratios in w.D: one tridiagonal system per component (Thomas algorithm).
func (w *workspace) solveComponents(v []float64) {
	N, C, n := w.N, w.C, w.n
	a, b, c := w.tri[0], w.tri[1], w.tri[2]
	for i := 0; i < C; i++ {
		// Forward sweep: a = sub-diagonal, b = diagonal, c = super-diagonal.
		// Row k: O[k-1]D[k-1] x[k-1] − (A[k]+O[k]D[k]) x[k] + A[k+1] x[k+1] = −q[k].
		for k := 0; k < N; k++ {
			var sub, sup float64
			if k > 0 {
				sub = w.O[k-1] * w.D[(k-1)*C+i]
			}
			if k+1 < N {
				sup = w.A[k+1]
			}
			diag := -(w.A[k] + w.O[k]*w.D[k*C+i])
			rhs := -(w.qa[k*C+i] + w.qo[k*C+i])
			if k > 0 {
				m := sub / b[k-1]
				diag -= m * c[k-1]
				rhs -= m * a[k-1]
			}
			b[k], c[k], a[k] = diag, sup, rhs // a holds the modified right-hand side
		}
		for k := N - 1; k >= 0; k-- {
			x := a[k]
			if k+1 < N {
				x -= c[k] * v[(k+1)*n+i]
			}
			x /= b[k]
			if x < 0 {
				x = 0
			}
			v[k*n+i] = x
		}
	}
}

// freeExtractant solves f + ν Σ z D(h,f) x = T for stage k with x fixed,
// by Newton's method in ln f safeguarded by bisection.
func (w *workspace) freeExtractant(k int, h, lnf0 float64) float64 {
	C, n := w.C, w.n
	T := w.T[k]
	if T <= 0 {
		return lnf0
	}
	d, dh, df := w.D[k*C:(k+1)*C], w.Dh[k*C:(k+1)*C], w.Df[k*C:(k+1)*C]
	lo, hi := math.Log(T)-700, math.Log(T)
	lnf := math.Min(lnf0, hi)
	for it := 0; it < 60; it++ {
		f := math.Exp(lnf)
		w.model.Distribution(w.comps, k+1, h, f, d, dh, df)
		g, dg := f-T, f
		for i := 0; i < C; i++ {
			x := w.v[k*n+i]
			g += w.nu * w.z[i] * d[i] * x
			dg += w.nu * w.z[i] * df[i] * x * f
		}
		if g > 0 {
			hi = lnf
		} else {
			lo = lnf
		}
		if math.Abs(g) <= 1e-14*T {
			break
		}
		next := lnf - g/dg
		if !(next > lo && next < hi) || dg <= 0 {
			next = 0.5 * (lo + hi)
		}
		if math.Abs(next-lnf) < 1e-15 {
			lnf = next
			break
		}
		lnf = next
	}
	return lnf
}

// run solves; it leaves the best iterate in w.v.
//
// After the substitution sweeps it takes Newton steps with a backtracking
// line search. When the line search fails or needs tiny steps, it switches
// to pseudo-transient continuation: linearly implicit Euler steps of the
// cascade's own dynamics (each phase holding one hour of its flow per stage)
// with a time step that grows as the residual falls (switched evolution
// relaxation), which tends to Newton's method as the step grows. The
// transient of a stable cascade goes to its steady state, so this converges
// where plain Newton stalls far from the solution.
func (w *workspace) run(ctx context.Context, set Settings) (Status, error) {
	st, err := w.substitutions(ctx, set)
	if err != nil {
		return Canceled, err
	}
	status := IterationLimit
	for it := 0; it < set.MaxIterations; it++ {
		if st.maxR <= set.Tolerance {
			status = Converged
			break
		}
		if err := ctx.Err(); err != nil {
			w.cancel(st.bestMax)
			return Canceled, err
		}
		w.stats.NewtonIterations++
		err := w.direction(&st)
		st.dAtV = false
		st.improving = false
		if err != nil {
			st.age = maxFactorAge
			if st.dt == 0 {
				st.dt = transientDt0
				continue
			}
			if st.dt < 1e-8 {
				status = Singular
				break
			}
			st.dt /= 4
			continue
		}
		var maxLn float64
		for k := 0; k < w.N; k++ {
			for j := w.C; j < w.n; j++ {
				maxLn = max(maxLn, math.Abs(w.dv[k*w.n+j]))
			}
		}
		if st.dt > 0 {
			if !w.transientStep(&st, maxLn) {
				st.dt /= 4
				if st.dt < 1e-10 {
					status = Stagnated
					break
				}
				continue
			}
		} else {
			w.lineSearch(&st, maxLn, set.Tolerance)
		}
		if st.phi < st.bestPhi {
			st.bestMax, st.bestPhi = st.maxR, st.phi
			copy(w.vb, w.v)
		}
	}
	maxR := st.maxR
	if status != Converged {
		copy(w.v, w.vb)
		maxR = st.bestMax
	}
	w.distribution(w.v)
	w.stats.Residual = maxR
	return status, nil
}

const (
	transientDt0 = 1.0 // h, the residence time of one phase in one stage
	maxFactorAge = 2   // steps on one factorisation along the transient
)

// iterState is the state of run's Newton and pseudo-transient iterations.
type iterState struct {
	maxR, phi        float64 // residual at w.v: largest element and merit
	bestMax, bestPhi float64 // the same at the best iterate, w.vb
	dt               float64 // pseudo time step, h; 0: plain Newton
	lastDt           float64 // the time step when the transient last handed over to Newton
	dAtV             bool    // w.D holds the distribution at w.v
	age              int     // steps taken on the current factorisation
	improving        bool    // the last transient step lowered the residual
}

// cancel restores the best iterate when the context is done.
func (w *workspace) cancel(bestMax float64) {
	copy(w.v, w.vb)
	w.distribution(w.v)
	w.stats.Residual = bestMax
}

// substitutions runs the substitution sweeps from the initial guess and
// leaves the best iterate in w.v, its distribution in w.D and its residual
// in w.r; the state it returns starts plain Newton from there.
func (w *workspace) substitutions(ctx context.Context, set Settings) (iterState, error) {
	w.initial()
	w.distribution(w.v)
	maxR, phi := w.residual(w.v, w.r)
	bestMax, bestPhi := maxR, phi
	copy(w.vb, w.v)
	for it := 0; it < set.MaxSubstitutions; it++ {
		if err := ctx.Err(); err != nil {
			w.cancel(bestMax)
			return iterState{}, err
		}
		w.stats.Substitutions++
		change := w.substitute(0.5)
		w.distribution(w.v)
		m, p := w.residual(w.v, w.r)
		if p < bestPhi {
			bestMax, bestPhi = m, p
			copy(w.vb, w.v)
		}
		if change < 1e-10 {
			break
		}
	}
	copy(w.v, w.vb)
	w.distribution(w.v)
	maxR, phi = w.residual(w.v, w.r)
	return iterState{maxR: maxR, phi: phi, bestMax: bestMax, bestPhi: bestPhi, dAtV: true, age: maxFactorAge}, nil
}

// direction computes the step w.dv: along the transient, with the last
// factors while the residual keeps falling (a step with frozen factors
// costs a few per cent of a factorisation); otherwise from a fresh Jacobian,
// with the holdup term when on the transient.
func (w *workspace) direction(st *iterState) error {
	if st.dt > 0 && st.age < maxFactorAge && st.improving {
		st.age++
		return w.solve()
	}
	if !st.dAtV {
		w.distribution(w.v) // a rejected trial point overwrote D
	}
	w.jacobian(w.v)
	if st.dt > 0 {
		w.addHoldup(w.v, 1/st.dt)
	}
	st.age = 0
	return w.newtonStep()
}

// transientStep takes a pseudo-transient step: the full step, or a shorter
// one along it (evaluations are cheap next to a factorisation). It reports
// false if none is acceptable; the caller then shortens the time step.
// maxLn is the largest change of a log variable in w.dv.
func (w *workspace) transientStep(st *iterState, maxLn float64) bool {
	alpha := 1.0
	if maxLn > 1 {
		alpha = 1 / maxLn
	}
	var mt, pt float64
	ok := false
	for try := 0; try < 4; try++ {
		if w.trial(alpha) {
			// A concentration would go well below zero.
			alpha *= 0.5
			continue
		}
		w.distribution(w.vt)
		mt, pt = w.residual(w.vt, w.rt)
		if math.IsNaN(pt) || pt > 10*st.phi {
			// The step raised the residual tenfold: too long.
			alpha *= 0.5
			continue
		}
		ok = true
		break
	}
	if !ok {
		return false
	}
	// Switched evolution relaxation on the 2-norm, growing at least
	// 1.5× while the residual does not rise.
	ratio := math.Sqrt(st.phi / pt)
	grow := math.Min(math.Max(ratio, 0.5), 10)
	st.dAtV = true
	st.improving = ratio > 1
	if ratio >= 0.99 {
		grow = math.Max(grow, 1.5)
	}
	if alpha < 1 {
		grow = math.Min(grow, 1)
	}
	copy(w.v, w.vt)
	copy(w.r, w.rt)
	st.maxR, st.phi = mt, pt
	st.dt *= grow
	if st.dt > 1e9 || (st.maxR < 1e-3 && ratio > 2) {
		// Close to the steady state and converging: plain Newton
		// (it falls back to the transient if it stalls).
		st.lastDt = st.dt
		st.dt = 0
	}
	return true
}

// lineSearch takes a Newton step with a backtracking line search. Far from
// the solution (no acceptable step, or only a short one) it turns to the
// transient, from a little before where it was left.
func (w *workspace) lineSearch(st *iterState, maxLn, tol float64) {
	alpha := math.Min(1, 3/maxLn)
	accepted := false
	for ls := 0; ls < 30; ls++ {
		w.trial(alpha)
		w.distribution(w.vt)
		mt, pt := w.residual(w.vt, w.rt)
		if pt <= st.phi*(1-2e-4*alpha) || mt <= tol {
			copy(w.v, w.vt)
			copy(w.r, w.rt)
			st.maxR, st.phi = mt, pt
			accepted = true
			st.dAtV = true
			break
		}
		alpha *= 0.5
	}
	if !accepted || alpha < 0.05 {
		st.dt = math.Max(transientDt0, st.lastDt/4)
	}
}

// trial sets vt = v + alpha·dv, keeping concentrations non-negative, and
// reports whether a concentration went below zero by more than 1e-6 of
// its component's mean feed concentration or rose more than tenfold.
func (w *workspace) trial(alpha float64) (overshoot bool) {
	C, n := w.C, w.n
	for i := range w.v {
		nv := w.v[i] + alpha*w.dv[i]
		if j := i % n; j < C {
			if nv < 0 {
				if nv < -1e-6*w.xs[j] {
					overshoot = true
				}
				nv = 0.1 * w.v[i]
			} else if nv > 10*(w.v[i]+0.1*w.xs[j]) {
				// More than a tenfold rise: the linearisation is not
				// to be trusted that far (as for ln h and ln f).
				overshoot = true
			}
		}
		w.vt[i] = nv
	}
	return overshoot
}

// addHoldup subtracts s·∂(holdup)/∂v from the diagonal blocks, turning
// the Newton matrix into that of a linearly implicit Euler step of size
// 1/s. Each stage holds one hour of each phase's flow. The holdups are
// those whose rates of change the residuals are: A·x_i + O·y_i for
// component i; A·HT − Σ z_i·O·y_i for acidity (protons released by
// extraction come from charge loaded on the organic); O·(f + ν Σ z y) for
// the extractant, which relaxes to its a-priori total T.
func (w *workspace) addHoldup(v []float64, s float64) {
	N, C, n := w.N, w.C, w.n
	for k := 0; k < N; k++ {
		jd := w.jd[k*n*n : (k+1)*n*n]
		h, f := math.Exp(v[k*n+C]), math.Exp(v[k*n+C+1])
		O := w.O[k]
		var eh, ef float64
		for i := 0; i < C; i++ {
			x := v[k*n+i]
			D := w.D[k*C+i]
			dyh := w.Dh[k*C+i] * x * h
			dyf := w.Df[k*C+i] * x * f
			jd[i*n+i] -= s * (w.A[k] + O*D)
			jd[i*n+C] -= s * O * dyh
			jd[i*n+C+1] -= s * O * dyf
			jd[C*n+i] += s * w.z[i] * O * D
			jd[(C+1)*n+i] -= s * O * w.nu * w.z[i] * D
			eh += w.z[i] * dyh
			ef += w.z[i] * dyf
		}
		jd[C*n+C] -= s * (w.A[k]*w.dHT[k]*h - O*eh)
		jd[C*n+C+1] += s * O * ef
		jd[(C+1)*n+C] -= s * O * w.nu * eh
		jd[(C+1)*n+C+1] -= s * O * (f + w.nu*ef)
	}
}

// result builds the Result from w.v.
func (w *workspace) result(status Status) *Result {
	N, C, n := w.N, w.C, w.n
	res := &Result{Status: status, Stats: w.stats, Components: append([]Component(nil), w.comps...)}
	mat := func() [][]float64 {
		m := make([][]float64, N)
		back := make([]float64, N*C)
		for k := range m {
			m[k] = back[k*C : (k+1)*C]
		}
		return m
	}
	res.Aqueous, res.Organic, res.D = mat(), mat(), mat()
	res.H, res.HSO4, res.SO4, res.Extractant = make([]float64, N), make([]float64, N), make([]float64, N), make([]float64, N)
	res.AqueousFlow = append([]float64(nil), w.A...)
	res.OrganicFlow = append([]float64(nil), w.O...)
	for k := 0; k < N; k++ {
		h := math.Exp(w.v[k*n+C])
		res.H[k] = h
		res.Extractant[k] = math.Exp(w.v[k*n+C+1])
		if w.sulf {
			res.HSO4[k] = w.S[k] * h / (h + w.ka)
			res.SO4[k] = w.S[k] - res.HSO4[k]
		}
		for i := 0; i < C; i++ {
			x := w.v[k*n+i]
			res.Aqueous[k][i] = x
			res.D[k][i] = w.D[k*C+i]
			res.Organic[k][i] = w.D[k*C+i] * x
		}
	}
	res.Raffinate = Stream{Phase: Aqueous, Stage: 1, Flow: w.A[0], Conc: append([]float64(nil), res.Aqueous[0]...),
		H: res.H[0], HSO4: res.HSO4[0], SO4: res.SO4[0]}
	res.Extract = Stream{Phase: Organic, Stage: N, Flow: w.O[N-1], Conc: append([]float64(nil), res.Organic[N-1]...),
		Extractant: res.Extractant[N-1]}
	res.In = append([]float64(nil), w.in...)
	res.Closure = make([]float64, C)
	for p := range res.Recovery {
		res.Recovery[p] = make([]float64, C)
		res.Purity[p] = make([]float64, C)
	}
	var tot [2]float64
	for i, c := range w.comps {
		out := [2]float64{w.A[0] * res.Aqueous[0][i], w.O[N-1] * res.Organic[N-1][i]}
		if w.in[i] > 0 {
			res.Closure[i] = math.Abs(w.in[i]-out[0]-out[1]) / w.in[i]
			for p := range out {
				res.Recovery[p][i] = out[p] / w.in[i]
			}
		}
		if c.CounterIon {
			res.Reagents.Base += w.qoTotal(i)
			continue
		}
		mm := c.MolarMass
		if mm == 0 {
			mm = 1
		}
		for p := range out {
			res.Purity[p][i] = out[p] * mm
			tot[p] += out[p] * mm
		}
	}
	for p := range tot {
		for i := range res.Purity[p] {
			if tot[p] > 0 {
				res.Purity[p][i] /= tot[p]
			}
		}
	}
	for k := 0; k < N; k++ {
		res.Reagents.AcidIn += w.qH[k]
	}
	ht, _ := w.htOf(res.H[0], w.S[0])
	res.Reagents.AcidOut = w.A[0] * ht
	res.Reagents.AcidConsumed = res.Reagents.AcidIn - res.Reagents.AcidOut
	res.Reagents.ExtractantIn = w.O[N-1] * w.T[N-1]
	res.Reagents.ExtractantOut = w.O[N-1] * w.T[N-1]
	return res
}

func (w *workspace) qoTotal(i int) float64 {
	var s float64
	for k := 0; k < w.N; k++ {
		s += w.qo[k*w.C+i]
	}
	return s
}
