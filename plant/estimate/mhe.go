package estimate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"lodestone/process/sx/dynamic"
)

// MHEOptions are the settings of Filter.MHE. Zero fields take the
// defaults in brackets.
type MHEOptions struct {
	// Window is the length of the horizon, h [1]; at most the filter's
	// re-filtering horizon (Options.Horizon), whose checkpoints it uses.
	Window float64
	// Iterations bounds the Gauss–Newton iterations [10].
	Iterations int
}

// MHEResult is a moving-horizon estimate: the state at the filter's time
// simulated from the optimal state at the window's start.
type MHEResult struct {
	Estimate
	// Start is the window's start (h); Measurements the readings in it.
	Start        float64
	Measurements int
	// Cost is the objective at the optimum, Prior its value at the EKF's
	// filtered state at the window's start (where the search begins);
	// Iterations the Gauss–Newton steps taken; Bound the concentrations
	// held at zero.
	Cost, Prior float64
	Iterations  int
	Bound       int
}

// ErrNoWindow reports an MHE asked for before the filter has a
// checkpoint old enough. Checked with errors.Is.
var ErrNoWindow = errors.New("estimate: no checkpoint at the window's start")

// mheRun is the state of one Filter.MHE call.
type mheRun struct {
	f     *Filter
	sim   *dynamic.Stepper
	cp    checkpoint
	meas  []Measurement
	na    int
	free  []int     // decision variables: the tracked states and θ
	lower []bool    // per free variable: a concentration, bounded below by 0
	prior []float64 // x̄ over free
	pinv  *mat.SymDense
	m     []float64 // sensitivity of the state to the window's start, (dim+C)×na
}

// MHE re-estimates the state from the last Window hours of measurements
// by a fixed-lag moving-horizon estimator with non-negative
// concentrations: the decision is the state s₀ (u, θ) at the newest
// checkpoint at or before the window's start; the cost is
//
//	(s₀ − s̄₀)ᵀ P̄₀⁻¹ (s₀ − s̄₀) + Σ_m (z_m − h_m(Φ(s₀; t_m)))² / sd_m²
//
// with the EKF's filtered state and covariance there as the arrival cost
// (s̄₀, P̄₀), Φ the model from the window's start (no process noise inside
// the window: single shooting), subject to every concentration of s₀ ≥ 0.
// It is minimised by projected Gauss–Newton (the model's step Jacobians
// give ∂Φ/∂s₀; variables at their bound whose gradient points below it
// are held there) with a backtracking line search on the cost. Isolated
// sensors' readings are left out, as in the filter. With settlers the
// Jacobian leaves out the settlers' memory (as the filter's does); the
// line search keeps each step a descent of the true cost.
//
// The filter is not changed: MHE is a second estimate beside it, for a
// window whose nonlinearity (a large correction, concentrations near zero)
// the one-pass EKF handles less well.
func (f *Filter) MHE(ctx context.Context, o *MHEOptions) (*MHEResult, error) {
	opt := MHEOptions{Window: 1, Iterations: 10}
	if o != nil {
		if o.Window > 0 {
			opt.Window = o.Window
		}
		if o.Iterations > 0 {
			opt.Iterations = o.Iterations
		}
	}
	if opt.Window > f.opt.Horizon {
		return nil, fmt.Errorf("estimate: mhe window %g h is longer than the filter's horizon %g h", opt.Window, f.opt.Horizon)
	}
	r, err := f.mheSetup(ctx, f.st.Time()-opt.Window)
	if err != nil {
		return nil, err
	}
	x := append([]float64(nil), r.prior...)
	cost, jt, res, err := r.eval(ctx, x, true)
	if err != nil {
		return nil, err
	}
	out := &MHEResult{Start: r.cp.t, Measurements: len(r.meas), Prior: cost}
	for it := 0; it < opt.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		step, ok := r.step(x, jt, res)
		if !ok {
			break
		}
		next, nextCost, accepted := r.search(ctx, x, step, cost)
		if !accepted {
			break
		}
		out.Iterations++
		done := cost-nextCost <= 1e-9*max(1, cost)
		x, cost = next, nextCost
		if done {
			break
		}
		if cost, jt, res, err = r.eval(ctx, x, true); err != nil {
			return nil, err
		}
	}
	out.Cost = cost
	for j, lo := range r.lower {
		if lo && x[j] == 0 {
			out.Bound++
		}
	}
	// The state at the filter's time, from the optimum.
	if err := r.start(x); err != nil {
		return nil, err
	}
	if err := r.sim.Advance(ctx, f.st.Time(), nil); err != nil {
		return nil, err
	}
	sm := r.sim.Sample()
	out.Estimate = Estimate{T: r.sim.Time(), Aqueous: sm.Aqueous, Organic: sm.Organic, Theta: r.sim.Theta(nil), Certified: f.certified}
	return out, nil
}

// mheSetup picks the checkpoint and the window's measurements and builds
// the arrival cost.
func (f *Filter) mheSetup(ctx context.Context, from float64) (*mheRun, error) {
	i := sort.Search(len(f.cps), func(i int) bool { return f.cps[i].t > from }) - 1
	if i < 0 {
		return nil, fmt.Errorf("%w: window from %g h, oldest checkpoint %g h", ErrNoWindow, from, f.cps[0].t)
	}
	r := &mheRun{f: f, cp: f.cps[i], na: f.na}
	for _, m := range f.hist {
		if m.T > r.cp.t && !f.isolated[m.Sensor] {
			r.meas = append(r.meas, m)
		}
	}
	if f.mheSim == nil {
		var err error
		if f.mheSim, err = dynamic.NewStepper(ctx, f.prob, &dynamic.StepperOptions{MaxStep: f.opt.MaxStep, Sensitivity: true}); err != nil {
			return nil, err
		}
	}
	r.sim = f.mheSim
	if err := r.sim.Restore(r.cp.snap); err != nil {
		return nil, err
	}
	C := r.sim.Components()
	all := append(append([]float64(nil), r.cp.snap.U...), r.cp.snap.Theta...)
	for j := 0; j < f.na; j++ {
		if r.cp.p[j*f.na+j] > 0 {
			r.free = append(r.free, j)
			r.lower = append(r.lower, j < f.dim && j%(C+2) < C)
			r.prior = append(r.prior, all[j])
		}
	}
	n := len(r.free)
	p := mat.NewSymDense(n, nil)
	for a, ja := range r.free {
		for b, jb := range r.free {
			p.SetSym(a, b, r.cp.p[ja*f.na+jb])
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(p) {
		return nil, errors.New("estimate: mhe: the arrival covariance is not positive definite")
	}
	r.pinv = mat.NewSymDense(n, nil)
	if err := ch.InverseTo(r.pinv); err != nil {
		return nil, fmt.Errorf("estimate: mhe: arrival covariance: %w", err)
	}
	r.m = make([]float64, (f.dim+C)*f.na)
	return r, nil
}

// start sets the simulator to the checkpoint with the free variables x.
func (r *mheRun) start(x []float64) error {
	if err := r.sim.Restore(r.cp.snap); err != nil {
		return err
	}
	u := append([]float64(nil), r.cp.snap.U...)
	th := append([]float64(nil), r.cp.snap.Theta...)
	dim := len(u)
	for a, j := range r.free {
		if j < dim {
			u[j] = x[a]
		} else {
			th[j-dim] = x[a]
		}
	}
	r.sim.Correct(u, th)
	return nil
}

// eval simulates the window from x and returns the cost and, with jac,
// the whitened residuals and their Jacobian with respect to the free
// variables (one row per measurement).
func (r *mheRun) eval(ctx context.Context, x []float64, jac bool) (cost float64, jt *mat.Dense, res []float64, err error) {
	n := len(r.free)
	d := make([]float64, n)
	for a := range x {
		d[a] = x[a] - r.prior[a]
	}
	dv := mat.NewVecDense(n, d)
	cost = mat.Inner(dv, r.pinv, dv)
	if err := r.start(x); err != nil {
		return 0, nil, nil, err
	}
	var each func()
	if jac {
		clear(r.m)
		for j := 0; j < r.na; j++ {
			r.m[j*r.na+j] = 1
		}
		each = func() { r.sim.ApplyJacobian(r.m, r.na) }
		jt = mat.NewDense(max(len(r.meas), 1), n, nil)
	}
	f := r.f
	C := r.sim.Components()
	for k, m := range r.meas {
		if err := r.sim.Advance(ctx, m.T, each); err != nil {
			return 0, nil, nil, err
		}
		sen := f.sensors[m.Sensor]
		idx := [4]int{r.sim.Index(sen.Stage, sen.Comp)}
		hv := [4]float64{1}
		nz := 1
		pred := r.sim.State(nil)[idx[0]]
		if sen.Organic {
			y, dx, dh, df := r.sim.Organic(sen.Stage, sen.Comp)
			base := (sen.Stage - 1) * (C + 2)
			pred, nz = y, 4
			idx, hv = [4]int{idx[0], base + C, base + C + 1, f.dim + sen.Comp}, [4]float64{dx, dh, df, y}
		}
		e := (m.Value - pred) / sen.SD
		cost += e * e
		if !jac {
			continue
		}
		res = append(res, e)
		for a, j := range r.free {
			v := 0.0
			for q := 0; q < nz; q++ {
				v += hv[q] * r.m[idx[q]*r.na+j]
			}
			jt.Set(k, a, v/sen.SD)
		}
	}
	return cost, jt, res, nil
}

// step solves the Gauss–Newton system on the variables not held at their
// bound and returns the step, or false when there is nothing to move.
func (r *mheRun) step(x []float64, jt *mat.Dense, res []float64) ([]float64, bool) {
	n := len(r.free)
	// Gradient of the cost / 2: P̄⁻¹(x − x̄) − Jᵀr; Hessian: P̄⁻¹ + JᵀJ.
	d := make([]float64, n)
	for a := range x {
		d[a] = x[a] - r.prior[a]
	}
	g := mat.NewVecDense(n, nil)
	g.MulVec(r.pinv, mat.NewVecDense(n, d))
	h := mat.NewSymDense(n, nil)
	h.CopySym(r.pinv)
	if len(res) > 0 {
		rv := mat.NewVecDense(len(res), res)
		var jr mat.VecDense
		jr.MulVec(jt.T(), rv)
		g.SubVec(g, &jr)
		var jtj mat.SymDense
		jtj.SymOuterK(1, jt.T())
		h.AddSym(h, &jtj)
	}
	// Active set: a concentration at 0 whose gradient pushes it below.
	var act []int
	for a := 0; a < n; a++ {
		if !(r.lower[a] && x[a] <= 0 && g.AtVec(a) > 0) {
			act = append(act, a)
		}
	}
	if len(act) == 0 {
		return nil, false
	}
	hs := mat.NewSymDense(len(act), nil)
	gs := mat.NewVecDense(len(act), nil)
	for i, a := range act {
		gs.SetVec(i, -g.AtVec(a))
		for j, b := range act {
			hs.SetSym(i, j, h.At(a, b))
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(hs) {
		return nil, false
	}
	var ds mat.VecDense
	if err := ch.SolveVecTo(&ds, gs); err != nil {
		return nil, false
	}
	step := make([]float64, n)
	for i, a := range act {
		step[a] = ds.AtVec(i)
	}
	return step, true
}

// search tries x + α·step, projected onto the bounds, for α = 1, ½, …,
// and takes the first that lowers the cost.
func (r *mheRun) search(ctx context.Context, x, step []float64, cost float64) ([]float64, float64, bool) {
	trial := make([]float64, len(x))
	for alpha := 1.0; alpha >= 1.0/64; alpha /= 2 {
		for a := range x {
			trial[a] = x[a] + alpha*step[a]
			if r.lower[a] && trial[a] < 0 {
				trial[a] = 0
			}
		}
		c, _, _, err := r.eval(ctx, trial, false)
		if err == nil && !math.IsNaN(c) && c < cost {
			return trial, c, true
		}
	}
	return nil, cost, false
}
