package dynamic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"lodestone/process/sx"
)

// ErrStep reports a time step that Newton's method could not complete even
// at the smallest step (acid exhausted or extractant saturated, usually).
// Checked with errors.Is.
var ErrStep = errors.New("dynamic: time step failed")

// workspace holds every buffer of a run, so that steps do not allocate.
type workspace struct {
	p          *Problem
	set        Settings
	N, C, n    int // stages, components, block size C+2
	m          int // settler cells per phase
	z          []float64
	nu, ka     float64
	sulf       bool
	trackH     bool // solve the proton balance (acid is fed)
	trackF     bool // solve the extractant balance (extractant is fed)
	cur        []sx.Inlet
	Va, Vo     []float64 // mixer phase volumes, L
	Vsa, Vso   []float64 // settler cell volumes, L
	A, O       []float64 // flows leaving each stage at the end of the step
	qa, qo     []float64 // inlet mol/h per stage and component
	qH, qS, qT []float64
	xs         []float64 // error weight floor per component, mol/L

	// State at the start of the step: unknowns, inventories, settler cells.
	u, u0, uPrev []float64 // x (C), ln h, ln f per stage
	Mold         []float64 // Va·x + Vo·y per stage and component, mol
	Pold         []float64 // Va·HT − Vo·Σ z·y, mol
	VTold        []float64 // Vo·T, mol HA
	Sold, S      []float64 // sulfate, mol/L
	ca, co       []float64 // settler cells: aqueous (C metals, HT, S), organic (C metals, T)
	ka_, ko      []float64 // settler gain per stage
	ga, gos      []float64 // settler outlet offsets

	// Per-evaluation values.
	D, Dh, Df, y []float64
	HT, dHT, T   []float64
	hv, fv       []float64 // h and f of every stage (exp of the unknowns)
	r            []float64
	bt           *blockTri
	sd, sl, su   []float64 // scratch Jacobian blocks of the chord iterations

	// scale multiplies the distribution ratio of each component (nil
	// means 1): the drifting-parameter hook of Stepper.
	scale []float64

	stats Stats
}

func newWorkspace(p *Problem, set Settings) *workspace {
	c := &p.Cascade
	N, C := c.Stages, len(c.Components)
	w := &workspace{p: p, set: set, N: N, C: C, n: C + 2, sulf: c.Media == sx.Sulfate, nu: c.Model.SitesPerCharge()}
	w.m = p.Holdup.SettlerCells
	if w.m == 0 {
		w.m = 4
	}
	if p.Holdup.Settler == 0 {
		w.m = 0
	}
	w.ka = c.Ka2
	if w.ka == 0 {
		w.ka = sx.DefaultKa2
	}
	w.z = make([]float64, C)
	for i, comp := range c.Components {
		w.z[i] = float64(comp.Charge)
	}
	w.cur = make([]sx.Inlet, len(c.Inlets))
	for j, in := range c.Inlets {
		w.cur[j] = in
		w.cur[j].Conc = make([]float64, C)
	}
	f := func(k int) []float64 { return make([]float64, k) }
	w.Va, w.Vo, w.Vsa, w.Vso, w.A, w.O = f(N), f(N), f(N), f(N), f(N), f(N)
	w.qa, w.qo, w.qH, w.qS, w.qT = f(N*C), f(N*C), f(N), f(N), f(N)
	w.xs = f(C)
	w.u, w.u0, w.uPrev = f(N*w.n), f(N*w.n), f(N*w.n)
	w.Mold, w.Pold, w.VTold, w.Sold, w.S = f(N*C), f(N), f(N), f(N), f(N)
	w.ca, w.co = f(N*w.m*(C+2)), f(N*w.m*(C+1))
	w.ka_, w.ko, w.ga, w.gos = f(N), f(N), f(N*(C+2)), f(N*(C+1))
	w.D, w.Dh, w.Df, w.y = f(N*C), f(N*C), f(N*C), f(N*C)
	w.HT, w.dHT, w.T = f(N), f(N), f(N)
	w.hv, w.fv = f(N), f(N)
	w.r = f(N * w.n)
	w.bt = newBlockTri(N, w.n)
	w.sd, w.sl, w.su = f(N*w.n*w.n), f(N*w.n*w.n), f(N*w.n*w.n)
	return w
}

// setInlets evaluates the inlets at time t (the left limit at a step
// change) and the flows and feeds of every stage.
func (w *workspace) setInlets(t float64) {
	c := &w.p.Cascade
	for j, in := range c.Inlets {
		cur := &w.cur[j]
		cur.Flow, cur.H, cur.HSO4, cur.SO4, cur.Extractant = in.Flow, in.H, in.HSO4, in.SO4, in.Extractant
		clear(cur.Conc)
		copy(cur.Conc, in.Conc)
	}
	applyDisturbances(w.p.Disturbances, w.cur, t)
	N, C := w.N, w.C
	clear(w.A)
	clear(w.O)
	clear(w.qa)
	clear(w.qo)
	clear(w.qH)
	clear(w.qS)
	clear(w.qT)
	for _, in := range w.cur {
		k := in.Stage - 1
		if in.Phase == sx.Aqueous {
			for s := 0; s <= k; s++ {
				w.A[s] += in.Flow
			}
			for i := 0; i < C; i++ {
				w.qa[k*C+i] += in.Flow * in.Conc[i]
			}
			w.qH[k] += in.Flow * (in.H + in.HSO4)
			w.qS[k] += in.Flow * (in.HSO4 + in.SO4)
		} else {
			for s := k; s < N; s++ {
				w.O[s] += in.Flow
			}
			tot := in.Extractant
			for i := 0; i < C; i++ {
				w.qo[k*C+i] += in.Flow * in.Conc[i]
				tot += w.nu * w.z[i] * in.Conc[i]
			}
			w.qT[k] += in.Flow * tot
		}
	}
}

// applyDisturbances changes the inlets cur (which hold the base values)
// to their values at time t.
func applyDisturbances(ds []Disturbance, cur []sx.Inlet, t float64) {
	for _, d := range ds {
		var wt float64
		switch d.Kind {
		case Step:
			if t > d.Start && (d.End <= d.Start || t <= d.End) {
				wt = 1
			}
		case Ramp:
			wt = min(1, max(0, (t-d.Start)/(d.End-d.Start)))
		}
		if wt == 0 {
			continue
		}
		in := &cur[d.Inlet]
		var v *float64
		switch d.Field {
		case Flow:
			v = &in.Flow
		case Conc:
			v = &in.Conc[d.Component]
		case H:
			v = &in.H
		case HSO4:
			v = &in.HSO4
		case SO4:
			v = &in.SO4
		case Extractant:
			v = &in.Extractant
		}
		*v += (d.Value - *v) * wt
	}
}

// InletsAt returns the inlets of the cascade at time t (h), with the
// disturbances applied. A step counts from just after its start to its end
// inclusive, the value backward Euler uses for a step ending at t.
func (p *Problem) InletsAt(t float64) []sx.Inlet {
	cur := make([]sx.Inlet, len(p.Cascade.Inlets))
	for j, in := range p.Cascade.Inlets {
		cur[j] = in
		cur[j].Conc = make([]float64, len(p.Cascade.Components))
		copy(cur[j].Conc, in.Conc)
	}
	applyDisturbances(p.Disturbances, cur, t)
	return cur
}

// acidity returns the total acidity HT = h + S·h/(h+Ka2) and its
// derivative with respect to ln h.
func (w *workspace) acidity(h, S float64) (ht, dht float64) {
	if !w.sulf {
		return h, h
	}
	return h + S*h/(h+w.ka), h * (1 + S*w.ka/((h+w.ka)*(h+w.ka)))
}

// settlerGains sets, for a step of dt, the gain κ and offsets g of every
// settler: outlet = g + κ·(mixer outlet), from backward Euler on the cells
// c_j = (c_j_old + r·c_{j−1})/(1+r), r = dt·Q/V_cell.
func (w *workspace) settlerGains(dt float64) {
	C, m := w.C, w.m
	for k := 0; k < w.N; k++ {
		if m == 0 {
			w.ka_[k], w.ko[k] = 1, 1
			clear(w.ga[k*(C+2) : (k+1)*(C+2)])
			clear(w.gos[k*(C+1) : (k+1)*(C+1)])
			continue
		}
		for ph := 0; ph < 2; ph++ {
			var q, v float64
			var ns int
			var cells, g []float64
			if ph == 0 {
				q, v, ns = w.A[k], w.Vsa[k], C+2
				cells, g = w.ca[k*m*ns:(k+1)*m*ns], w.ga[k*ns:(k+1)*ns]
			} else {
				q, v, ns = w.O[k], w.Vso[k], C+1
				cells, g = w.co[k*m*ns:(k+1)*m*ns], w.gos[k*ns:(k+1)*ns]
			}
			r := dt * q / v
			a, b := 1/(1+r), r/(1+r)
			clear(g)
			for j := 0; j < m; j++ {
				cj := cells[j*ns : (j+1)*ns]
				for s := range g {
					g[s] = a*cj[s] + b*g[s]
				}
			}
			kap := math.Pow(b, float64(m))
			if ph == 0 {
				w.ka_[k] = kap
			} else {
				w.ko[k] = kap
			}
		}
	}
}

// advanceSettlers moves the settler cells to the end of an accepted step
// with the mixers' new outlets.
func (w *workspace) advanceSettlers(dt float64) {
	C, m := w.C, w.m
	if m == 0 {
		return
	}
	for k := 0; k < w.N; k++ {
		// Aqueous: species x, HT, S.
		ns := C + 2
		r := dt * w.A[k] / w.Vsa[k]
		a, b := 1/(1+r), r/(1+r)
		cells := w.ca[k*m*ns : (k+1)*m*ns]
		for j := 0; j < m; j++ {
			cj := cells[j*ns : (j+1)*ns]
			for s := 0; s < ns; s++ {
				var in float64
				if j == 0 {
					switch {
					case s < C:
						in = w.u[k*w.n+s]
					case s == C:
						in = w.HT[k]
					default:
						in = w.S[k]
					}
				} else {
					in = cells[(j-1)*ns+s]
				}
				cj[s] = a*cj[s] + b*in
			}
		}
		// Organic: species y, T.
		ns = C + 1
		r = dt * w.O[k] / w.Vso[k]
		a, b = 1/(1+r), r/(1+r)
		cells = w.co[k*m*ns : (k+1)*m*ns]
		for j := 0; j < m; j++ {
			cj := cells[j*ns : (j+1)*ns]
			for s := 0; s < ns; s++ {
				var in float64
				if j == 0 {
					if s < C {
						in = w.y[k*C+s]
					} else {
						in = w.T[k]
					}
				} else {
					in = cells[(j-1)*ns+s]
				}
				cj[s] = a*cj[s] + b*in
			}
		}
	}
}

// evalState computes D, y, HT and T of every stage from u.
func (w *workspace) evalState() {
	C, n := w.C, w.n
	model, comps := w.p.Cascade.Model, w.p.Cascade.Components
	for k := 0; k < w.N; k++ {
		uk := w.u[k*n : (k+1)*n]
		h, f := math.Exp(uk[C]), math.Exp(uk[C+1])
		w.hv[k], w.fv[k] = h, f
		d, dh, df := w.D[k*C:(k+1)*C], w.Dh[k*C:(k+1)*C], w.Df[k*C:(k+1)*C]
		model.Distribution(comps, k+1, h, f, d, dh, df)
		if w.scale != nil {
			for i, s := range w.scale {
				d[i], dh[i], df[i] = s*d[i], s*dh[i], s*df[i]
			}
		}
		T := f
		for i := 0; i < C; i++ {
			w.y[k*C+i] = d[i] * uk[i]
			T += w.nu * w.z[i] * w.y[k*C+i]
		}
		w.T[k] = T
		w.HT[k], w.dHT[k] = w.acidity(h, w.S[k])
	}
}

// assemble fills the residual r and the Jacobian blocks for a step of dt.
// Rows per stage: C metal balances, the proton balance, the extractant
// balance, all in mol/h.
//
// With jac false the Jacobian goes to scratch blocks and the factors of
// the last full assembly are kept (the chord iterations of newton).
func (w *workspace) assemble(dt float64, jac bool) {
	C, n, N := w.C, w.n, w.N
	a := 1 / dt
	nn := n * n
	bd, bl, bu := w.bt.diag, w.bt.lower, w.bt.upper
	if !jac {
		bd, bl, bu = w.sd, w.sl, w.su
	}
	clear(bd)
	clear(bl)
	clear(bu)
	for k := 0; k < N; k++ {
		uk := w.u[k*n : (k+1)*n]
		h, f := w.hv[k], w.fv[k]
		rk := w.r[k*n : (k+1)*n]
		dg := bd[k*nn : (k+1)*nn]
		lo := bl[k*nn : (k+1)*nn]
		up := bu[k*nn : (k+1)*nn]
		va, vo := w.Va[k], w.Vo[k]
		Ak, Ok := w.A[k], w.O[k]
		ca, co := a*va+Ak, a*vo+Ok
		var Ain, kA, Oin, kO float64
		if k+1 < N {
			Ain, kA = w.A[k+1], w.ka_[k+1]
		}
		if k > 0 {
			Oin, kO = w.O[k-1], w.ko[k-1]
		}
		rH := 0.0 // proton residual accumulator
		sumZy := 0.0
		for i := 0; i < C; i++ {
			x := uk[i]
			yi := w.y[k*C+i]
			Di := w.D[k*C+i]
			sumZy += w.z[i] * yi
			var inA, inO float64
			if Ain > 0 {
				inA = Ain * (w.ga[(k+1)*(C+2)+i] + kA*w.u[(k+1)*n+i])
			}
			if Oin > 0 {
				inO = Oin * (w.gos[(k-1)*(C+1)+i] + kO*w.y[(k-1)*C+i])
			}
			rk[i] = a*(va*x+vo*yi-w.Mold[k*C+i]) - inA - inO - w.qa[k*C+i] - w.qo[k*C+i] + Ak*x + Ok*yi
			rH += w.z[i] * (inO + w.qo[k*C+i])
			// Diagonal block, metal row i.
			dg[i*n+i] = ca + co*Di
			dg[i*n+C] = co * h * w.Dh[k*C+i] * x
			dg[i*n+C+1] = co * f * w.Df[k*C+i] * x
			// Proton row: −(a·Vo + O)·Σ z·y.
			dg[C*n+i] = -co * w.z[i] * Di
			dg[C*n+C] -= co * w.z[i] * h * w.Dh[k*C+i] * x
			dg[C*n+C+1] -= co * w.z[i] * f * w.Df[k*C+i] * x
			// Extractant row: (a·Vo + O)·T, T = f + ν·Σ z·y.
			dg[(C+1)*n+i] = co * w.nu * w.z[i] * Di
			dg[(C+1)*n+C] += co * w.nu * w.z[i] * h * w.Dh[k*C+i] * x
			dg[(C+1)*n+C+1] += co * w.nu * w.z[i] * f * w.Df[k*C+i] * x
			// Upper block: aqueous inflow from stage k+1.
			if Ain > 0 {
				up[i*n+i] = -Ain * kA
			}
			// Lower block: organic inflow from stage k−1, y = D·x.
			if Oin > 0 {
				pu := w.u[(k-1)*n : k*n]
				hp, fp := w.hv[k-1], w.fv[k-1]
				dy := [3]float64{w.D[(k-1)*C+i], hp * w.Dh[(k-1)*C+i] * pu[i], fp * w.Df[(k-1)*C+i] * pu[i]}
				cols := [3]int{i, C, C + 1}
				for q := 0; q < 3; q++ {
					g := Oin * kO * dy[q]
					lo[i*n+cols[q]] -= g
					lo[C*n+cols[q]] += w.z[i] * g
					lo[(C+1)*n+cols[q]] -= w.nu * w.z[i] * g
				}
			}
		}
		// Proton balance.
		if w.trackH {
			var inAH float64
			if Ain > 0 {
				inAH = Ain * (w.ga[(k+1)*(C+2)+C] + kA*w.HT[k+1])
				up[C*n+C] = -Ain * kA * w.dHT[k+1]
			}
			rk[C] = a*(va*w.HT[k]-vo*sumZy-w.Pold[k]) - inAH - w.qH[k] + rH + Ak*w.HT[k] - Ok*sumZy
			dg[C*n+C] += ca * w.dHT[k]
		} else {
			rk[C] = 0
			for j := 0; j < n; j++ {
				dg[C*n+j], lo[C*n+j], up[C*n+j] = 0, 0, 0
			}
			dg[C*n+C] = 1
		}
		// Extractant balance; the f column of the extractant row is f·(a·Vo+O).
		if w.trackF {
			var inOT float64
			if Oin > 0 {
				inOT = Oin * (w.gos[(k-1)*(C+1)+C] + kO*w.T[k-1])
				// ∂T_{k−1}/∂ln f_{k−1} includes f itself.
				lo[(C+1)*n+C+1] -= Oin * kO * w.fv[k-1]
			}
			rk[C+1] = a*(vo*w.T[k]-w.VTold[k]) - inOT - w.qT[k] + Ok*w.T[k]
			dg[(C+1)*n+C+1] += co * f
		} else {
			rk[C+1] = 0
			for j := 0; j < n; j++ {
				dg[(C+1)*n+j], lo[(C+1)*n+j], up[(C+1)*n+j] = 0, 0, 0
			}
			dg[(C+1)*n+C+1] = 1
		}
	}
}

// newton solves the step's equations from the current u. It reports
// whether it converged.
func (w *workspace) newton(dt float64) bool {
	C, n := w.C, w.n
	// Chord iterations: the Jacobian is factored at the first iteration
	// and refreshed when the iteration stalls; the other iterations reuse
	// the factors (a block solve is then O(n²) per stage, not O(n³)).
	// Far from the solution (clipped or large moves, as when a fresh
	// phase first meets the mixer) every iteration refreshes the factors.
	fresh, chord, last, wasClipped := false, 0, math.Inf(1), false
	for it := 0; it < 60; it++ {
		w.stats.NewtonIterations++
		w.evalState()
		refresh := it == 0 || chord >= 6 || wasClipped || last > 1e-2
		w.assemble(dt, refresh)
		for j := range w.r {
			w.r[j] = -w.r[j]
		}
		if refresh {
			if !w.bt.solve(w.r) {
				return false
			}
			fresh, chord = true, 0
		} else {
			w.bt.resolve(w.r)
			chord++
		}
		// Keep x ≥ 0 (a component may fall at most to a tenth of its value
		// in one iteration) and cap the moves of ln h and ln f.
		change, clipped := 0.0, false
		for k := 0; k < w.N; k++ {
			for j := 0; j < n; j++ {
				d := w.r[k*n+j]
				if math.IsNaN(d) || math.IsInf(d, 0) {
					return false
				}
				v := &w.u[k*n+j]
				if j < C {
					if lo := 0.1 * *v; *v+d < lo {
						// Clipping a roundoff-sized move does not count.
						clipped = clipped || lo-*v-d > 1e-10*(*v+w.xs[j])
						d = lo - *v
					}
					change = max(change, math.Abs(d)/(*v+w.xs[j]))
				} else {
					if math.Abs(d) > 2 {
						d, clipped = math.Copysign(2, d), true
					}
					change = max(change, math.Abs(d))
				}
				*v += d
			}
		}
		if !clipped && change < 1e-10 {
			w.evalState()
			return true
		}
		// A chord step that does not shrink the change well calls for a
		// fresh Jacobian.
		if !fresh && change > 0.5*last {
			chord = 6
		}
		fresh, last, wasClipped = false, change, clipped
	}
	return false
}

// accept stores the end of an accepted step as the start of the next.
func (w *workspace) accept(dt float64) {
	C := w.C
	w.advanceSettlers(dt)
	for k := 0; k < w.N; k++ {
		sumZy := 0.0
		for i := 0; i < C; i++ {
			yi := w.y[k*C+i]
			w.Mold[k*C+i] = w.Va[k]*w.u[k*w.n+i] + w.Vo[k]*yi
			sumZy += w.z[i] * yi
		}
		w.Pold[k] = w.Va[k]*w.HT[k] - w.Vo[k]*sumZy
		w.VTold[k] = w.Vo[k] * w.T[k]
		w.Sold[k] = w.S[k]
	}
}

// sulfate advances the total sulfate of every stage, a linear balance
// swept down the cascade with the aqueous flow.
func (w *workspace) sulfate(dt float64) {
	if !w.sulf {
		return
	}
	C := w.C
	a := 1 / dt
	for k := w.N - 1; k >= 0; k-- {
		in := w.qS[k] + a*w.Va[k]*w.Sold[k]
		if k+1 < w.N {
			in += w.A[k+1] * (w.ga[(k+1)*(C+2)+C+1] + w.ka_[k+1]*w.S[k+1])
		}
		w.S[k] = in / (a*w.Va[k] + w.A[k])
	}
}

// outlets returns the raffinate and extract concentration of component i.
func (w *workspace) outlets(i int) (raff, ext float64) {
	C, m, N := w.C, w.m, w.N
	if m == 0 {
		return w.u[i], w.y[(N-1)*C+i]
	}
	return w.ca[(m-1)*(C+2)+i], w.co[((N-1)*m+m-1)*(C+1)+i]
}

// inventory returns the moles of component i in mixers and settlers.
func (w *workspace) inventory(i int) float64 {
	C, m := w.C, w.m
	s := 0.0
	for k := 0; k < w.N; k++ {
		s += w.Mold[k*C+i]
		for j := 0; j < m; j++ {
			s += w.Vsa[k]*w.ca[(k*m+j)*(C+2)+i] + w.Vso[k]*w.co[(k*m+j)*(C+1)+i]
		}
	}
	return s
}

func (w *workspace) sample(t float64) Sample {
	N, C := w.N, w.C
	s := Sample{T: t, Aqueous: make([][]float64, N), Organic: make([][]float64, N), H: make([]float64, N),
		Extractant: make([]float64, N), Raffinate: make([]float64, C), Extract: make([]float64, C),
		RaffinateFlow: w.A[0], ExtractFlow: w.O[N-1]}
	for k := 0; k < N; k++ {
		s.Aqueous[k] = slices.Clone(w.u[k*w.n : k*w.n+C])
		s.Organic[k] = slices.Clone(w.y[k*C : (k+1)*C])
		if w.trackH {
			s.H[k] = math.Exp(w.u[k*w.n+C])
		}
		if w.trackF {
			s.Extractant[k] = math.Exp(w.u[k*w.n+C+1])
		}
	}
	for i := 0; i < C; i++ {
		s.Raffinate[i], s.Extract[i] = w.outlets(i)
	}
	return s
}

// deviation measures the distance of the mixers from the steady state ss.
func (w *workspace) deviation(ss *sx.Result, scA, scO []float64) float64 {
	dev := 0.0
	C := w.C
	for k := 0; k < w.N; k++ {
		for i := 0; i < C; i++ {
			if scA[i] > 0 {
				dev = max(dev, math.Abs(w.u[k*w.n+i]-ss.Aqueous[k][i])/scA[i])
			}
			if scO[i] > 0 {
				dev = max(dev, math.Abs(w.y[k*C+i]-ss.Organic[k][i])/scO[i])
			}
		}
	}
	return dev
}

// Simulate runs the transient cascade p from time zero to p.Duration. It
// returns the samples, the time to steady state against the steady state
// of process/sx at the final inlets, and the mass balance of the run. A
// canceled ctx stops the run with the samples so far and ctx.Err(); a step
// that fails at the smallest step size returns them with an error
// wrapping ErrStep.
func Simulate(ctx context.Context, p Problem, s *Settings) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	set := s.defaults(p.Duration)
	w := newWorkspace(&p, set)
	c := &p.Cascade
	C := w.C
	if err := w.volumes(); err != nil {
		return nil, err
	}
	// Initial state.
	switch p.Start {
	case Empty:
		w.startEmpty()
	case SteadyState:
		if err := w.startSteady(ctx); err != nil {
			return nil, err
		}
	}
	if p.Start == Empty {
		// Settlers and mixers hold the fresh phases; nothing to advance.
		w.evalState()
	}

	res := &Result{Components: slices.Clone(c.Components), TimeToSteady: math.NaN(),
		In: make([]float64, C), Out: make([]float64, C), Initial: make([]float64, C), Final: make([]float64, C), Closure: make([]float64, C)}
	for i := 0; i < C; i++ {
		res.Initial[i] = w.inventory(i)
	}
	scA, scO, err := w.reference(ctx, res)
	if err != nil {
		return nil, err
	}
	res.Samples = append(res.Samples, w.sample(0))
	pending := true
	if res.Steady != nil {
		if w.deviation(res.Steady, scA, scO) < set.SteadyTolerance {
			res.TimeToSteady, pending = 0, false
		}
	}
	st := &stepper{w: w, p: &p, set: set, res: res, scA: scA, scO: scO, brk: breakpoints(&p),
		dt: set.InitialStep, nextOut: set.OutputEvery, pending: pending}
	return st.run(ctx)
}

// volumes sets the phase volumes of the mixers and settlers from the flows
// of time zero, which phases are tracked (acid and extractant fed) and the
// error weight floors.
func (w *workspace) volumes() error {
	p, c := w.p, &w.p.Cascade
	N := w.N
	w.setInlets(0)
	var acid, extr float64
	for _, in := range c.Inlets {
		if in.Phase == sx.Aqueous {
			acid += in.Flow * (in.H + in.HSO4)
		} else {
			extr += in.Flow * in.Extractant
		}
		for i, v := range in.Conc {
			w.xs[i] = max(w.xs[i], v)
		}
	}
	w.trackH, w.trackF = acid > 0, extr > 0
	if !w.trackH {
		if _, ok := c.Model.(sx.Constant); !ok {
			return fmt.Errorf("dynamic: cascade.inlets: no acid in any aqueous inlet, so the pH (and D of the %T model) is undefined", c.Model)
		}
	}
	if !w.trackF {
		if _, ok := c.Model.(sx.Constant); !ok {
			return fmt.Errorf("dynamic: cascade.inlets: no extractant in any organic inlet")
		}
	}
	for i := range w.xs {
		w.xs[i] = 1e-3*w.xs[i] + 1e-300
	}
	for k := 0; k < N; k++ {
		phi := p.Holdup.OrganicFraction
		if phi == 0 {
			phi = w.O[k] / (w.A[k] + w.O[k])
		}
		w.Va[k], w.Vo[k] = (1-phi)*p.Holdup.Mixer, phi*p.Holdup.Mixer
		if w.m > 0 {
			w.Vsa[k], w.Vso[k] = (1-phi)*p.Holdup.Settler/float64(w.m), phi*p.Holdup.Settler/float64(w.m)
		}
		if w.Va[k] <= 0 || w.Vo[k] <= 0 {
			return fmt.Errorf("dynamic: holdup.organic_fraction: stage %d has no volume of one phase", k+1)
		}
	}
	return nil
}

// startEmpty fills the mixers and settlers with the fresh phases: the mean
// aqueous acidity and sulfate and the mean organic of the inlets.
func (w *workspace) startEmpty() {
	c := &w.p.Cascade
	N, C, n := w.N, w.C, w.n
	var fa, fo, ht, sul, tot float64
	y0 := make([]float64, C)
	for _, in := range w.cur {
		if in.Phase == sx.Aqueous {
			fa += in.Flow
			ht += in.Flow * (in.H + in.HSO4)
			sul += in.Flow * (in.HSO4 + in.SO4)
		} else {
			fo += in.Flow
			tot += in.Flow * in.Extractant
			for i, comp := range c.Components {
				v := in.Flow * in.Conc[i]
				tot += v * w.nu * w.z[i]
				if comp.CounterIon {
					y0[i] += v
				}
			}
		}
	}
	ht, sul, tot = ht/fa, sul/fa, tot/fo
	for i := range y0 {
		y0[i] /= fo
	}
	sumZy := 0.0
	for i := range y0 {
		sumZy += w.z[i] * y0[i]
	}
	h := 1.0
	if w.trackH {
		h = hFromHT(ht, sul, w.ka, w.sulf)
	}
	f := 1.0
	if w.trackF {
		f = max(tot-w.nu*sumZy, 1e-9*tot)
	}
	for k := 0; k < N; k++ {
		w.S[k], w.Sold[k] = sul, sul
		for i := 0; i < C; i++ {
			w.Mold[k*C+i] = w.Vo[k] * y0[i]
			w.u[k*n+i] = 0
		}
		w.u[k*n+C], w.u[k*n+C+1] = math.Log(h), math.Log(f)
		w.Pold[k] = w.Va[k]*ht - w.Vo[k]*sumZy
		w.VTold[k] = w.Vo[k] * tot
		for j := 0; j < w.m; j++ {
			ca := w.ca[(k*w.m+j)*(C+2) : (k*w.m+j+1)*(C+2)]
			ca[C], ca[C+1] = ht, sul
			co := w.co[(k*w.m+j)*(C+1) : (k*w.m+j+1)*(C+1)]
			copy(co, y0)
			co[C] = tot
		}
	}
	// First guess: the inventory shared between the phases.
	w.evalState()
	for k := 0; k < N; k++ {
		for i := 0; i < C; i++ {
			w.u[k*n+i] = w.Mold[k*C+i] / (w.Va[k] + w.Vo[k]*w.D[k*C+i])
		}
	}
}

// startSteady starts from the steady state of process/sx at the inlets of
// time zero.
func (w *workspace) startSteady(ctx context.Context) error {
	c := &w.p.Cascade
	N, C, n := w.N, w.C, w.n
	ss, err := sx.Solve(ctx, *c, nil)
	if err != nil {
		return fmt.Errorf("dynamic: steady start: %w", err)
	}
	for k := 0; k < N; k++ {
		copy(w.u[k*n:k*n+C], ss.Aqueous[k])
		w.u[k*n+C], w.u[k*n+C+1] = 0, 0
		if w.trackH {
			w.u[k*n+C] = math.Log(ss.H[k])
		}
		if w.trackF {
			w.u[k*n+C+1] = math.Log(ss.Extractant[k])
		}
		if w.sulf {
			w.S[k] = ss.HSO4[k] + ss.SO4[k]
		}
	}
	w.evalState()
	for k := 0; k < N; k++ {
		for j := 0; j < w.m; j++ {
			ca := w.ca[(k*w.m+j)*(C+2) : (k*w.m+j+1)*(C+2)]
			copy(ca, w.u[k*n:k*n+C])
			ca[C], ca[C+1] = w.HT[k], w.S[k]
			co := w.co[(k*w.m+j)*(C+1) : (k*w.m+j+1)*(C+1)]
			copy(co, w.y[k*C:(k+1)*C])
			co[C] = w.T[k]
		}
	}
	w.accept(0)
	return nil
}

// reference solves the steady state at the final inlets into res.Steady
// (or res.SteadyErr) and returns the scales of the deviation from it.
func (w *workspace) reference(ctx context.Context, res *Result) (scA, scO []float64, err error) {
	p, c := w.p, &w.p.Cascade
	N, C := w.N, w.C
	final := *c
	final.Inlets = p.InletsAt(p.Duration)
	if ss, err := sx.Solve(ctx, final, nil); err == nil {
		res.Steady = ss
		sc := make([]float64, C)
		for k := 0; k < N; k++ {
			for i := 0; i < C; i++ {
				sc[i] = max(sc[i], ss.Aqueous[k][i], ss.Organic[k][i])
			}
		}
		scA, scO = sc, sc
	} else if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	} else {
		res.SteadyErr = err
	}

	return scA, scO, nil
}

// breakpoints returns the times a step must end on: disturbance edges and
// the end of the run, sorted.
func breakpoints(p *Problem) []float64 {
	var brk []float64
	for _, d := range p.Disturbances {
		if d.Start > 0 && d.Start < p.Duration {
			brk = append(brk, d.Start)
		}
		if d.End > d.Start && d.End < p.Duration {
			brk = append(brk, d.End)
		}
	}
	brk = append(brk, p.Duration)
	slices.Sort(brk)
	brk = slices.Compact(brk)

	return brk
}

// stepper is the state of Simulate's time loop: backward Euler steps with
// a linear predictor, the step size controlled by the difference between
// the two, restarted small at each breakpoint.
type stepper struct {
	w        *workspace
	p        *Problem
	set      Settings
	res      *Result
	scA, scO []float64 // scales of the deviation from res.Steady
	brk      []float64 // breakpoints
	bi       int       // index of the next breakpoint
	t        float64   // time reached, h
	dt       float64   // next step, h
	dtPrev   float64   // last accepted step, h; 0 at the start and after a breakpoint
	nextOut  float64   // next output time, h
	pending  bool      // the run is away from the steady state
}

// run marches to the end of the run.
func (st *stepper) run(ctx context.Context) (*Result, error) {
	w, set, res := st.w, st.set, st.res
	for st.t < st.p.Duration {
		if w.stats.Steps+w.stats.Rejected >= set.MaxSteps {
			return res, fmt.Errorf("%w: step limit %d reached at t = %g h", ErrStep, set.MaxSteps, st.t)
		}
		if (w.stats.Steps+w.stats.Rejected)%64 == 0 && ctx.Err() != nil {
			return res, ctx.Err()
		}
		for st.bi < len(st.brk)-1 && st.brk[st.bi] <= st.t {
			st.bi++
		}
		target := st.brk[st.bi]
		if st.nextOut < target {
			target = st.nextOut
		}
		st.dt = min(st.dt, set.MaxStep)
		hitBreak := false
		tNew := st.t + st.dt
		if tNew >= target-1e-12*max(1, target) {
			tNew = target
			st.dt = tNew - st.t
			hitBreak = target == st.brk[st.bi]
		}
		errEst, ok, err := st.try(tNew)
		if err != nil {
			return res, err
		}
		if ok {
			st.accept(tNew, errEst, hitBreak)
		}
	}
	st.finish()
	return res, nil
}

// try takes a step of st.dt to tNew. If Newton's method fails or the local
// error is too large it restores the state, shortens st.dt and reports
// false; it fails with ErrStep when the step is already tiny.
func (st *stepper) try(tNew float64) (errEst float64, ok bool, err error) {
	w, set, dt, dtPrev := st.w, st.set, st.dt, st.dtPrev
	C, n := w.C, w.n
	copy(w.u0, w.u)
	// Predictor: linear extrapolation of the last two states.
	if dtPrev > 0 {
		for j := range w.u {
			w.u[j] = w.u0[j] + dt/dtPrev*(w.u0[j]-w.uPrev[j])
			if j%n < C && w.u[j] < 0 {
				w.u[j] = 0
			}
		}
	}
	w.setInlets(tNew)
	w.settlerGains(dt)
	w.sulfate(dt)
	if !w.newton(dt) {
		w.stats.Rejected++
		copy(w.u, w.u0)
		if dt < 1e-9 {
			w.evalState()
			return 0, false, fmt.Errorf("%w at t = %g h (step %g h)", ErrStep, st.t, dt)
		}
		st.dt /= 4
		return 0, false, nil
	}
	// Local error of backward Euler against the predictor.
	if dtPrev > 0 {
		for j := range w.u {
			pred := w.u0[j] + dt/dtPrev*(w.u0[j]-w.uPrev[j])
			wt := 1.0
			if j%n < C {
				wt = math.Abs(w.u0[j]) + w.xs[j%n]
			}
			errEst = max(errEst, math.Abs(w.u[j]-pred)/wt)
		}
		errEst *= dt / (dt + dtPrev)
		if errEst > set.Tolerance {
			w.stats.Rejected++
			copy(w.u, w.u0)
			st.dt *= max(0.2, 0.9*math.Sqrt(set.Tolerance/errEst))
			return 0, false, nil
		}
	}
	return errEst, true, nil
}

// accept accepts the step just taken to tNew: it adds the step's flows to
// the balance, tracks the approach to the steady state, samples on output
// times and sizes the next step.
func (st *stepper) accept(tNew, errEst float64, hitBreak bool) {
	w, set, res, dt := st.w, st.set, st.res, st.dt
	N, C := w.N, w.C
	w.stats.Steps++
	w.accept(dt)
	for i := 0; i < C; i++ {
		raff, ext := w.outlets(i)
		for k := 0; k < N; k++ {
			res.In[i] += dt * (w.qa[k*C+i] + w.qo[k*C+i])
		}
		res.Out[i] += dt * (w.A[0]*raff + w.O[N-1]*ext)
	}
	copy(w.uPrev, w.u0)
	st.t = tNew
	t := st.t
	if res.Steady != nil {
		if w.deviation(res.Steady, st.scA, st.scO) >= set.SteadyTolerance {
			st.pending = true
		} else if st.pending {
			res.TimeToSteady, st.pending = t, false
		}
	}
	if t >= st.nextOut-1e-12*max(1, st.nextOut) {
		if t < st.p.Duration {
			res.Samples = append(res.Samples, w.sample(t))
		}
		for st.nextOut <= t+1e-12*max(1, t) {
			st.nextOut += set.OutputEvery
		}
	}
	switch {
	case hitBreak:
		st.dtPrev, st.dt = 0, set.InitialStep
	case errEst > 0:
		st.dtPrev = dt
		st.dt *= min(2, 0.9*math.Sqrt(set.Tolerance/errEst))
	default:
		st.dtPrev = dt
		st.dt *= 2
	}
}

// finish samples the end of the run and closes the balances.
func (st *stepper) finish() {
	w, res := st.w, st.res
	C := w.C
	res.Samples = append(res.Samples, w.sample(st.t))
	for i := 0; i < C; i++ {
		res.Final[i] = w.inventory(i)
		scale := max(res.In[i], res.Initial[i], res.Final[i])
		if scale > 0 {
			res.Closure[i] = math.Abs(res.Final[i]-res.Initial[i]-(res.In[i]-res.Out[i])) / scale
		}
	}
	if res.Steady != nil {
		res.Deviation = w.deviation(res.Steady, st.scA, st.scO)
		res.Reached = res.Deviation < st.set.SteadyTolerance
		if !res.Reached {
			res.TimeToSteady = math.NaN()
		}
	}
	res.Stats = w.stats
}

// hFromHT returns the free H⁺ of an aqueous phase with total acidity ht and
// total sulfate s: the positive root of h² + (s − ht + Ka2)·h − Ka2·ht = 0.
func hFromHT(ht, s, ka float64, sulf bool) float64 {
	if !sulf {
		return ht
	}
	b := s - ht + ka
	disc := b*b + 4*ka*ht
	if b > 0 {
		return 2 * ka * ht / (b + math.Sqrt(disc))
	}
	return (-b + math.Sqrt(disc)) / 2
}
