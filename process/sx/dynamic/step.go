package dynamic

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"

	"lodestone/process/sx"
)

// Stepper advances a cascade step by step under the caller's control: the
// hook of the plant twin's estimator, control loops and training sessions,
// which need to stop at every sample, read and overwrite the state, change
// inlets between steps and propagate a covariance.
//
// The state is the vector u of the mixers' unknowns, stage by stage: the
// aqueous concentrations x_i of the C components (mol/L), ln h and ln f
// (free H⁺ and free extractant; 0 and not tracked when the cascade feeds
// no acid or no extractant). The settler cells are carried along but are
// not part of u: a caller that overwrites u (SetState) leaves them as they
// were. The parameters θ_i scale the distribution ratio of component i by
// exp(θ_i) in every stage (0 means the model as given): the slowly
// drifting parameters an estimator augments its state with.
//
// Steps are backward Euler of at most MaxStep without error control (an
// estimator or a controller samples at a fixed interval, and the step's
// error is part of its process noise); a step whose Newton iteration fails
// is quartered. A Stepper is not safe for concurrent use.
type Stepper struct {
	p       Problem
	w       *workspace
	t       float64
	maxStep float64
	theta   []float64
	sens    bool

	// Sensitivity of the last step: u_new = Φ(u_old, θ) with
	// dΦ = J⁻¹·(a·B·du_old + Σ_i rθ_i·dθ_i); J's factors stay in w.bt.
	sensOK bool
	bOld   []float64 // N·n·n: a·∂Inv/∂u at the start of the step
	rTh    []float64 // C·N·n: a·∂Inv/∂θ_i (old state) − ∂R/∂θ_i (new state)
	scr    []float64 // n·cols scratch of ApplyJacobian
}

// StepperOptions are the knobs of NewStepper. A nil *StepperOptions means
// the defaults.
type StepperOptions struct {
	MaxStep float64 // h; 0 means 0.1
	// Sensitivity keeps the Jacobian of every step for ApplyJacobian (one
	// more factorisation of the Newton matrix per step).
	Sensitivity bool
}

// NewStepper starts the cascade p at time zero from p.Start. p.Duration is
// not used (0 is allowed); the disturbances of p apply at their times.
func NewStepper(ctx context.Context, p Problem, o *StepperOptions) (*Stepper, error) {
	if p.Duration == 0 {
		p.Duration = 1
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// Own copies of the inlets, which SetInlet changes.
	p.Cascade.Inlets = slices.Clone(p.Cascade.Inlets)
	for j := range p.Cascade.Inlets {
		conc := make([]float64, len(p.Cascade.Components))
		copy(conc, p.Cascade.Inlets[j].Conc)
		p.Cascade.Inlets[j].Conc = conc
	}
	p.Disturbances = slices.Clone(p.Disturbances)
	s := &Stepper{p: p, maxStep: 0.1}
	if o != nil {
		if o.MaxStep > 0 {
			s.maxStep = o.MaxStep
		}
		s.sens = o.Sensitivity
	}
	w := newWorkspace(&s.p, (*Settings)(nil).defaults(p.Duration))
	s.w = w
	if err := w.volumes(); err != nil {
		return nil, err
	}
	switch p.Start {
	case Empty:
		w.startEmpty()
		w.evalState()
	case SteadyState:
		if err := w.startSteady(ctx); err != nil {
			return nil, err
		}
	}
	N, C, n := w.N, w.C, w.n
	s.theta = make([]float64, C)
	w.scale = make([]float64, C)
	for i := range w.scale {
		w.scale[i] = 1
	}
	s.bOld, s.rTh = make([]float64, N*n*n), make([]float64, C*N*n)
	return s, nil
}

// Time returns the time reached, h.
func (s *Stepper) Time() float64 { return s.t }

// SetTime sets the time reached (h, finite and ≥ 0), for a Stepper that
// shadows another one (a surrogate model stepped alongside).
func (s *Stepper) SetTime(t float64) {
	if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
		panic(fmt.Sprintf("dynamic: SetTime(%v)", t))
	}
	s.t = t
	s.sensOK = false
}

// Dim returns the length of the state u: Stages·(Components+2).
func (s *Stepper) Dim() int { return s.w.N * s.w.n }

// Stages returns the number of stages.
func (s *Stepper) Stages() int { return s.w.N }

// Components returns the number of components.
func (s *Stepper) Components() int { return s.w.C }

// Index returns the position in u of the aqueous concentration of
// component comp (0-based) in stage (1-based).
func (s *Stepper) Index(stage, comp int) int { return (stage-1)*s.w.n + comp }

// Tracked reports whether u[j] is a state of the model (ln h and ln f are
// not when no acid or no extractant is fed; they stay 0).
func (s *Stepper) Tracked(j int) bool {
	switch j % s.w.n {
	case s.w.C:
		return s.w.trackH
	case s.w.C + 1:
		return s.w.trackF
	}
	return true
}

// State copies u into dst (grown if short) and returns it.
func (s *Stepper) State(dst []float64) []float64 {
	return append(dst[:0], s.w.u...)
}

// Theta copies θ into dst and returns it.
func (s *Stepper) Theta(dst []float64) []float64 {
	return append(dst[:0], s.theta...)
}

// SetState overwrites u and θ (nil keeps θ) and recomputes the mixers'
// inventories from them. Negative concentrations are set to 0 and the
// untracked ln h and ln f to 0; the settler cells are kept.
func (s *Stepper) SetState(u, theta []float64) {
	w := s.w
	if len(u) != len(w.u) {
		panic(fmt.Sprintf("dynamic: SetState: len(u) = %d, want %d", len(u), len(w.u)))
	}
	copy(w.u, u)
	for j := range w.u {
		switch {
		case !s.Tracked(j):
			w.u[j] = 0
		case j%w.n < w.C && !(w.u[j] > 0):
			w.u[j] = 0
		}
	}
	if theta != nil {
		copy(s.theta, theta)
		for i, th := range s.theta {
			w.scale[i] = math.Exp(th)
		}
	}
	w.evalState()
	w.inventories()
	s.sensOK = false
}

// Correct overwrites u and θ like SetState and moves the settler cells of
// every stage by the change of the mixer's outlet concentrations (aqueous
// x and total acidity, organic y and total extractant), kept ≥ 0: an
// estimator's correction of a mixer applies as well to the settler that
// holds the mixer's outflow of the last residence time, which the state u
// does not include.
func (s *Stepper) Correct(u, theta []float64) {
	w := s.w
	N, C, m := w.N, w.C, w.m
	oldX, oldY := slices.Clone(w.u), slices.Clone(w.y)
	oldHT, oldT := slices.Clone(w.HT), slices.Clone(w.T)
	s.SetState(u, theta)
	for k := 0; k < N; k++ {
		for j := 0; j < m; j++ {
			ca := w.ca[(k*m+j)*(C+2) : (k*m+j+1)*(C+2)]
			co := w.co[(k*m+j)*(C+1) : (k*m+j+1)*(C+1)]
			for i := 0; i < C; i++ {
				ca[i] = max(0, ca[i]+w.u[k*w.n+i]-oldX[k*w.n+i])
				co[i] = max(0, co[i]+w.y[k*C+i]-oldY[k*C+i])
			}
			ca[C] = max(0, ca[C]+w.HT[k]-oldHT[k])
			co[C] = max(0, co[C]+w.T[k]-oldT[k])
		}
	}
}

// inventories sets the mixers' inventories from the evaluated state.
func (w *workspace) inventories() {
	C := w.C
	for k := 0; k < w.N; k++ {
		sumZy := 0.0
		for i := 0; i < C; i++ {
			yi := w.y[k*C+i]
			w.Mold[k*C+i] = w.Va[k]*w.u[k*w.n+i] + w.Vo[k]*yi
			sumZy += w.z[i] * yi
		}
		w.Pold[k] = w.Va[k]*w.HT[k] - w.Vo[k]*sumZy
		w.VTold[k] = w.Vo[k] * w.T[k]
	}
}

// Organic returns the organic concentration y of component comp in the
// mixer of stage (1-based), mol/L, and its derivatives with respect to the
// state: ∂y/∂x, ∂y/∂ln h, ∂y/∂ln f (∂y/∂θ_comp is y).
func (s *Stepper) Organic(stage, comp int) (y, dx, dlnh, dlnf float64) {
	w := s.w
	k, C := stage-1, w.C
	x := w.u[k*w.n+comp]
	j := k*C + comp
	y, dx = w.y[j], w.D[j]
	if w.trackH {
		dlnh = w.hv[k] * w.Dh[j] * x
	}
	if w.trackF {
		dlnf = w.fv[k] * w.Df[j] * x
	}
	return y, dx, dlnh, dlnf
}

// Sample returns the state of the cascade now.
func (s *Stepper) Sample() Sample { return s.w.sample(s.t) }

// Inlets returns the inlets now: the base values set by SetInlet with the
// problem's disturbances applied.
func (s *Stepper) Inlets() []sx.Inlet { return s.p.InletsAt(s.t) }

// SetInlet sets the base value of a field of inlet j (comp is the
// component for Conc): flows in L/h, concentrations in mol/L. The
// problem's disturbances still apply on top of it. Values are not checked
// beyond being finite and ≥ 0.
func (s *Stepper) SetInlet(j int, f Field, comp int, v float64) error {
	if j < 0 || j >= len(s.p.Cascade.Inlets) {
		return fmt.Errorf("dynamic: inlet %d is out of range 0..%d", j, len(s.p.Cascade.Inlets)-1)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("dynamic: inlet %d: value %v, want a finite value ≥ 0", j, v)
	}
	in := &s.p.Cascade.Inlets[j]
	switch f {
	case Flow:
		in.Flow = v
	case Conc:
		if comp < 0 || comp >= len(in.Conc) {
			return fmt.Errorf("dynamic: inlet %d: component %d is out of range", j, comp)
		}
		in.Conc[comp] = v
	case H:
		in.H = v
	case HSO4:
		in.HSO4 = v
	case SO4:
		in.SO4 = v
	case Extractant:
		in.Extractant = v
	default:
		return fmt.Errorf("dynamic: inlet %d: field %d is unknown", j, f)
	}
	return nil
}

// Advance integrates to t1 (h). After every accepted step it calls each
// (if not nil), when ApplyJacobian maps a perturbation of the step's start
// to its end. It fails with an error wrapping ErrStep when a step fails at
// the smallest size; the state is then that of the last accepted step.
func (s *Stepper) Advance(ctx context.Context, t1 float64, each func()) error {
	for s.t < t1 {
		if err := ctx.Err(); err != nil {
			return err
		}
		rem := t1 - s.t
		if rem <= 1e-12*max(1, t1) {
			s.t = t1 // roundoff of earlier steps, not a step
			break
		}
		// Equal steps of at most maxStep, the last ending exactly on t1.
		steps := math.Ceil(rem/s.maxStep - 1e-9)
		dt, tNew := rem/steps, s.t+rem/steps
		if steps == 1 {
			tNew = t1
		}
		for !s.try(dt, tNew) {
			dt /= 4
			tNew = s.t + dt
			if dt < 1e-9 {
				return fmt.Errorf("%w at t = %g h", ErrStep, s.t)
			}
		}
		if s.sens && !s.sensOK {
			return fmt.Errorf("%w at t = %g h: singular Jacobian", ErrStep, s.t)
		}
		if each != nil {
			each()
		}
	}
	return nil
}

// try takes one backward-Euler step of dt to tNew and reports whether
// Newton's method converged; on failure the state is restored.
func (s *Stepper) try(dt, tNew float64) bool {
	w := s.w
	if s.sens {
		s.oldBlocks(dt)
	}
	copy(w.u0, w.u)
	w.setInlets(tNew)
	w.settlerGains(dt)
	w.sulfate(dt)
	if !w.newton(dt) {
		w.stats.Rejected++
		copy(w.u, w.u0)
		copy(w.S, w.Sold)
		w.evalState()
		return false
	}
	w.stats.Steps++
	w.accept(dt)
	s.t = tNew
	s.sensOK = false
	if s.sens {
		s.newBlocks(dt)
		w.assemble(dt, true)
		s.sensOK = w.bt.solve(w.r)
	}
	return true
}

// oldBlocks sets bOld = a·∂Inv/∂u and the a·∂Inv/∂θ part of rTh at the
// state at the start of a step (the inventories of the step's residual).
func (s *Stepper) oldBlocks(dt float64) {
	w := s.w
	N, C, n := w.N, w.C, w.n
	a := 1 / dt
	clear(s.bOld)
	for k := 0; k < N; k++ {
		b := s.bOld[k*n*n : (k+1)*n*n]
		va, vo := a*w.Va[k], a*w.Vo[k]
		h, f := w.hv[k], w.fv[k]
		for i := 0; i < C; i++ {
			j := k*C + i
			x, Di := w.u[k*n+i], w.D[j]
			dh, df := 0.0, 0.0
			if w.trackH {
				dh = h * w.Dh[j] * x
			}
			if w.trackF {
				df = f * w.Df[j] * x
			}
			b[i*n+i] = va + vo*Di
			b[i*n+C] = vo * dh
			b[i*n+C+1] = vo * df
			if w.trackH {
				b[C*n+i] = -vo * w.z[i] * Di
				b[C*n+C] -= vo * w.z[i] * dh
				b[C*n+C+1] -= vo * w.z[i] * df
			}
			if w.trackF {
				b[(C+1)*n+i] = vo * w.nu * w.z[i] * Di
				b[(C+1)*n+C] += vo * w.nu * w.z[i] * dh
				b[(C+1)*n+C+1] += vo * w.nu * w.z[i] * df
			}
			r := s.rTh[i*N*n : (i+1)*N*n]
			yi := w.y[j]
			r[k*n+i] = vo * yi
			r[k*n+C], r[k*n+C+1] = 0, 0
			if w.trackH {
				r[k*n+C] = -vo * w.z[i] * yi
			}
			if w.trackF {
				r[k*n+C+1] = vo * w.nu * w.z[i] * yi
			}
		}
		if w.trackH {
			b[C*n+C] += va * w.dHT[k]
		}
		if w.trackF {
			b[(C+1)*n+C+1] += vo * f
		}
	}
	// Other components' rows of rθ_i are zero.
	for i := 0; i < C; i++ {
		r := s.rTh[i*N*n : (i+1)*N*n]
		for k := 0; k < N; k++ {
			for q := 0; q < C; q++ {
				if q != i {
					r[k*n+q] = 0
				}
			}
		}
	}
}

// newBlocks subtracts ∂R/∂θ at the end of the step from rTh: y_i = e^θ_i·D·x
// enters the stage's own balances (accumulation and organic outflow) and,
// through the organic settler, the next stage's.
func (s *Stepper) newBlocks(dt float64) {
	w := s.w
	N, C, n := w.N, w.C, w.n
	a := 1 / dt
	for i := 0; i < C; i++ {
		r := s.rTh[i*N*n : (i+1)*N*n]
		for k := 0; k < N; k++ {
			yi := w.y[k*C+i]
			co := a*w.Vo[k] + w.O[k]
			r[k*n+i] -= co * yi
			if w.trackH {
				r[k*n+C] += co * w.z[i] * yi
			}
			if w.trackF {
				r[k*n+C+1] -= co * w.nu * w.z[i] * yi
			}
			if k+1 < N {
				g := w.O[k] * w.ko[k] * yi
				r[(k+1)*n+i] += g
				if w.trackH {
					r[(k+1)*n+C] -= w.z[i] * g
				}
				if w.trackF {
					r[(k+1)*n+C+1] += w.nu * w.z[i] * g
				}
			}
		}
	}
}

// ApplyJacobian overwrites x, a row-major matrix of Dim()+Components() rows
// (u, then θ) and cols columns, with S·x, where S is the Jacobian of the
// last step with respect to its start: [∂u_new/∂u_old ∂u_new/∂θ; 0 I].
// It panics when the Stepper was made without Sensitivity or no step has
// been taken since the last SetState or Restore. It allocates only a scratch row block the first time (or when cols grows).
func (s *Stepper) ApplyJacobian(x []float64, cols int) {
	if !s.sensOK {
		panic("dynamic: ApplyJacobian without the sensitivity of a last step")
	}
	w := s.w
	N, C, n := w.N, w.C, w.n
	dim := N * n
	if len(x) != (dim+C)*cols {
		panic(fmt.Sprintf("dynamic: ApplyJacobian: len(x) = %d, want %d", len(x), (dim+C)*cols))
	}
	// V_k = B_k·X_k + Σ_i rθ_i,k ⊗ X_θi, stage by stage in place (B is
	// block diagonal), then J⁻¹·V for all columns at once.
	if len(s.scr) < n*cols {
		s.scr = make([]float64, n*cols)
	}
	scr := s.scr[:n*cols]
	for k := 0; k < N; k++ {
		clear(scr)
		b := s.bOld[k*n*n : (k+1)*n*n]
		xk := x[k*n*cols : (k+1)*n*cols]
		for i := 0; i < n; i++ {
			si := scr[i*cols : (i+1)*cols]
			for j := 0; j < n; j++ {
				if v := b[i*n+j]; v != 0 {
					floats.AddScaled(si, v, xk[j*cols:(j+1)*cols])
				}
			}
		}
		for i := 0; i < C; i++ {
			r := s.rTh[i*dim+k*n : i*dim+(k+1)*n]
			th := x[(dim+i)*cols : (dim+i+1)*cols]
			for q := 0; q < n; q++ {
				if v := r[q]; v != 0 {
					floats.AddScaled(scr[q*cols:(q+1)*cols], v, th)
				}
			}
		}
		copy(xk, scr)
	}
	w.bt.resolveMany(x[:dim*cols], cols)
}

// Snapshot is the whole state of a Stepper: time, mixers, settler cells,
// parameters and the base inlets, for backtracking and for starting a
// session from a stored state. Units as in the engine (mol/L, h).
type Snapshot struct {
	T          float64    `json:"t_h"`
	U          []float64  `json:"u"`
	Sulfate    []float64  `json:"sulfate"`
	SettlerAq  []float64  `json:"settler_aqueous"`
	SettlerOrg []float64  `json:"settler_organic"`
	Theta      []float64  `json:"theta"`
	Inlets     []sx.Inlet `json:"inlets"`
}

// Snapshot returns a deep copy of the state.
func (s *Stepper) Snapshot() *Snapshot {
	w := s.w
	in := slices.Clone(s.p.Cascade.Inlets)
	for j := range in {
		in[j].Conc = slices.Clone(in[j].Conc)
	}
	return &Snapshot{T: s.t, U: slices.Clone(w.u), Sulfate: slices.Clone(w.S), SettlerAq: slices.Clone(w.ca),
		SettlerOrg: slices.Clone(w.co), Theta: slices.Clone(s.theta), Inlets: in}
}

// Restore sets the state to a snapshot of a Stepper of the same cascade; it
// fails, naming the field, when a length does not match or a value is not
// finite.
func (s *Stepper) Restore(sn *Snapshot) error {
	w := s.w
	for _, f := range []struct {
		name string
		v    []float64
		n    int
	}{{"u", sn.U, len(w.u)}, {"sulfate", sn.Sulfate, len(w.S)}, {"settler_aqueous", sn.SettlerAq, len(w.ca)},
		{"settler_organic", sn.SettlerOrg, len(w.co)}, {"theta", sn.Theta, len(s.theta)}} {
		if len(f.v) != f.n {
			return fmt.Errorf("dynamic: snapshot: %s: %d values, want %d", f.name, len(f.v), f.n)
		}
		for _, v := range f.v {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("dynamic: snapshot: %s: %v is not finite", f.name, v)
			}
		}
	}
	if math.IsNaN(sn.T) || math.IsInf(sn.T, 0) || sn.T < 0 {
		return fmt.Errorf("dynamic: snapshot: t_h: %v, want a finite time ≥ 0", sn.T)
	}
	if len(sn.Inlets) != len(s.p.Cascade.Inlets) {
		return fmt.Errorf("dynamic: snapshot: inlets: %d, want %d", len(sn.Inlets), len(s.p.Cascade.Inlets))
	}
	for j, in := range sn.Inlets {
		if len(in.Conc) != w.C {
			return fmt.Errorf("dynamic: snapshot: inlets[%d].Conc: %d values, want %d", j, len(in.Conc), w.C)
		}
		for _, v := range append([]float64{in.Flow, in.H, in.HSO4, in.SO4, in.Extractant}, in.Conc...) {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("dynamic: snapshot: inlets[%d]: %v, want a finite value ≥ 0", j, v)
			}
		}
		// The values, not the structure (name, phase, stage) of an inlet.
		dst := &s.p.Cascade.Inlets[j]
		dst.Flow, dst.H, dst.HSO4, dst.SO4, dst.Extractant = in.Flow, in.H, in.HSO4, in.SO4, in.Extractant
		copy(dst.Conc, in.Conc)
	}
	s.t = sn.T
	copy(w.S, sn.Sulfate)
	copy(w.Sold, sn.Sulfate)
	copy(w.ca, sn.SettlerAq)
	copy(w.co, sn.SettlerOrg)
	w.setInlets(s.t)
	s.SetState(sn.U, sn.Theta)
	return nil
}
