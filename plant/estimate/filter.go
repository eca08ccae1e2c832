package estimate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"

	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// ErrTooLate reports a measurement whose sample time is older than the
// oldest checkpoint the filter keeps. Checked with errors.Is.
var ErrTooLate = errors.New("estimate: measurement older than the re-filtering horizon")

// Sensor is one measured quantity: an element in one phase of one
// stage's mixer.
type Sensor struct {
	ID      string
	Stage   int     // 1-based
	Comp    int     // component index of the cascade
	Organic bool    // the organic phase (else the aqueous)
	SD      float64 // standard deviation of a reading, mol/L; > 0
	Delay   float64 // h from sampling to arrival (0 for an online analyser)
}

// Measurement is one reading of sensor Sensor (an index into the filter's
// sensors) sampled at time T (h), in mol/L.
type Measurement struct {
	T      float64
	Sensor int
	Value  float64
}

// Kind is the kind of an alarm.
type Kind string

// The alarms of the filter.
const (
	SensorDrift Kind = "sensor_drift"
	OutOfSync   Kind = "out_of_sync"
)

// Alarm is raised by a detector at the sample time T of the measurement
// that tripped it. Sensor is the sensor's ID for SensorDrift, "" otherwise.
type Alarm struct {
	T      float64
	Kind   Kind
	Sensor string
}

// Innovation is the innovation of a measurement when it was first
// processed: ν = z − ẑ and its variance S, mol/L and (mol/L)².
type Innovation struct {
	T      float64
	Sensor string
	Nu, S  float64
}

// Estimate is the filter's state after the measurements of one sample
// time. Concentrations are mol/L, [stage−1][component].
type Estimate struct {
	T                float64
	Aqueous, Organic [][]float64
	// Theta is the estimated log-factor of each component's D.
	Theta []float64
	// Certified is false while an alarm is unacknowledged.
	Certified bool
}

// Options are the noise and detector settings. Zero fields take the
// defaults in brackets.
type Options struct {
	MaxStep float64 // h, longest integration step [0.1]
	// Process noise per hour (standard deviations): concentrations
	// relative [0.01], ln h and ln f [0.01], θ [0.001].
	StateNoise, LogNoise, ParamNoise float64
	// Initial standard deviations: concentrations relative [0.05], ln h
	// and ln f [0.05], θ [0.05].
	InitialRel, InitialLog, InitialParam float64
	NISWindow                            int     // samples [50]
	NISAlpha                             float64 // false-alarm probability of the window test [1e-4]
	CusumK, CusumH                       float64 // CUSUM allowance and threshold, in σ [0.5, 8]
	// Horizon is how far back (h) a late measurement may go; 0 means twice
	// the largest sensor delay.
	Horizon float64
}

func (o *Options) defaults(sensors []Sensor) Options {
	var d Options
	if o != nil {
		d = *o
	}
	def := func(v *float64, x float64) {
		if *v <= 0 {
			*v = x
		}
	}
	def(&d.MaxStep, 0.1)
	def(&d.StateNoise, 0.002)
	def(&d.LogNoise, 0.01)
	def(&d.ParamNoise, 0.001)
	def(&d.InitialRel, 0.05)
	def(&d.InitialLog, 0.05)
	def(&d.InitialParam, 0.05)
	def(&d.NISAlpha, 1e-4)
	def(&d.CusumK, 0.5)
	def(&d.CusumH, 8)
	if d.NISWindow <= 0 {
		d.NISWindow = 50
	}
	if d.Horizon <= 0 {
		for _, s := range sensors {
			d.Horizon = max(d.Horizon, 2*s.Delay)
		}
	}
	return d
}

// checkpoint is the filter's state after the measurements of time t.
type checkpoint struct {
	t    float64
	snap *dynamic.Snapshot
	p    []float64
}

// nisEntry is one NIS value of the window test.
type nisEntry struct {
	sensor int
	nis    float64
}

// Filter is the extended Kalman filter. Feed it measurements in arrival
// order with Add; read Estimates, Innovations and Alarms. It is not safe
// for concurrent use.
type Filter struct {
	st      *dynamic.Stepper
	jac     *dynamic.Stepper // surrogate for the covariance when the cascade has settlers; nil: st
	prob    dynamic.Problem
	mheSim  *dynamic.Stepper // the MHE's simulator, made on its first use
	sensors []Sensor
	opt     Options
	dim, na int
	floor   []float64 // per component, mol/L

	p, tmp *mat.Dense // covariance and scratch, na×na
	u, th  []float64
	pht    *mat.VecDense

	hist   []Measurement // processed, sorted by sample time, within the horizon
	cps    []checkpoint
	spare  [][]float64 // covariance buffers of dropped checkpoints
	cpTime float64     // time of the newest checkpoint

	est    []Estimate
	innov  []Innovation
	alarms []Alarm

	window      []nisEntry
	nisBound    map[int]float64
	syncRaised  bool
	multiRaised bool // out_of_sync raised for several isolated sensors
	gPlus, gNeg []float64
	isolated    []bool
	certified   bool
}

// New starts a filter on the cascade p from its start state (p.Start).
func New(ctx context.Context, p dynamic.Problem, sensors []Sensor, o *Options) (*Filter, error) {
	C, N := len(p.Cascade.Components), p.Cascade.Stages
	for j, s := range sensors {
		switch {
		case s.Stage < 1 || s.Stage > N:
			return nil, fmt.Errorf("estimate: sensors[%d].stage: %d is outside 1..%d", j, s.Stage, N)
		case s.Comp < 0 || s.Comp >= C:
			return nil, fmt.Errorf("estimate: sensors[%d].element: component %d is out of range", j, s.Comp)
		case !(s.SD > 0) || math.IsInf(s.SD, 0):
			return nil, fmt.Errorf("estimate: sensors[%d].sd: %v, want a finite value > 0", j, s.SD)
		case !(s.Delay >= 0) || math.IsInf(s.Delay, 0):
			return nil, fmt.Errorf("estimate: sensors[%d].delay: %v, want a finite time ≥ 0", j, s.Delay)
		}
	}
	opt := o.defaults(sensors)
	// With settler holdup the covariance is propagated on a surrogate
	// without settlers whose mixers hold the stage's whole volume (see
	// doc.go); the model itself keeps its settlers.
	var jac *dynamic.Stepper
	if p.Holdup.Settler > 0 {
		q := p
		q.Holdup.Mixer, q.Holdup.Settler, q.Holdup.SettlerCells = p.Holdup.Mixer+p.Holdup.Settler, 0, 0
		q.Start = dynamic.Empty
		var err error
		if jac, err = dynamic.NewStepper(ctx, q, &dynamic.StepperOptions{MaxStep: opt.MaxStep, Sensitivity: true}); err != nil {
			return nil, err
		}
	}
	st, err := dynamic.NewStepper(ctx, p, &dynamic.StepperOptions{MaxStep: opt.MaxStep, Sensitivity: jac == nil})
	if err != nil {
		return nil, err
	}
	f := &Filter{st: st, jac: jac, prob: p, sensors: slices.Clone(sensors), opt: opt, dim: st.Dim(), certified: true,
		nisBound: map[int]float64{}, gPlus: make([]float64, len(sensors)), gNeg: make([]float64, len(sensors)),
		isolated: make([]bool, len(sensors))}
	f.na = f.dim + C
	f.floor = make([]float64, C)
	for _, in := range p.Cascade.Inlets {
		for i, v := range in.Conc {
			f.floor[i] = max(f.floor[i], 1e-2*v)
		}
	}
	f.p, f.tmp = mat.NewDense(f.na, f.na, nil), mat.NewDense(f.na, f.na, nil)
	f.pht = mat.NewVecDense(f.na, nil)
	f.u, f.th = st.State(nil), st.Theta(nil)
	for j := 0; j < f.na; j++ {
		sd := f.sd(j, opt.InitialRel, opt.InitialLog, opt.InitialParam)
		f.p.Set(j, j, sd*sd)
	}
	f.checkpoint()
	return f, nil
}

// sd is the standard deviation of state j for the relative, log and
// parameter values given.
func (f *Filter) sd(j int, rel, lg, par float64) float64 {
	if j >= f.dim {
		return par
	}
	if !f.st.Tracked(j) {
		return 0
	}
	C := f.st.Components()
	if c := j % (C + 2); c < C {
		return rel * (math.Abs(f.u[j]) + f.floor[c])
	}
	return lg
}

// ProcessSD writes into dst the standard deviations of the process noise
// of a step of dt hours from the state u (the model's noise, for drawing
// a synthetic truth with the filter's own assumptions).
func (f *Filter) ProcessSD(u []float64, dt float64, dst []float64) []float64 {
	dst = dst[:0]
	saved := f.u
	f.u = u
	for j := 0; j < f.dim; j++ {
		dst = append(dst, f.sd(j, f.opt.StateNoise, f.opt.LogNoise, 0)*math.Sqrt(dt))
	}
	f.u = saved
	return dst
}

// Stepper returns the model the filter runs (its state is the estimate);
// callers may read it but must not step or change it.
func (f *Filter) Stepper() *dynamic.Stepper { return f.st }

// Covariance returns the state covariance (u then θ); the caller must not
// change it.
func (f *Filter) Covariance() mat.Matrix { return f.p }

// Time returns the time the filter has reached, h.
func (f *Filter) Time() float64 { return f.st.Time() }

// Estimates returns the estimate at every sample time so far (re-filtered
// after late measurements).
func (f *Filter) Estimates() []Estimate { return f.est }

// Innovations returns the innovations in the order measurements were
// first processed.
func (f *Filter) Innovations() []Innovation { return f.innov }

// Alarms returns the alarms raised so far.
func (f *Filter) Alarms() []Alarm { return f.alarms }

// Forget drops the estimates, innovations and alarms recorded before t
// (h): a live filter calls it after it has published them, so that its
// memory stays bounded. It does not touch the checkpoints.
func (f *Filter) Forget(t float64) {
	f.est = slices.DeleteFunc(f.est, func(e Estimate) bool { return e.T < t })
	f.innov = slices.DeleteFunc(f.innov, func(i Innovation) bool { return i.T < t })
	f.alarms = slices.DeleteFunc(f.alarms, func(a Alarm) bool { return a.T < t })
}

// Detectors is the state of the alarm detectors: the NIS window test and
// each sensor's CUSUM.
type Detectors struct {
	// NISCount is how many NIS values the window holds (at most Window),
	// NISSum their sum and NISBound the χ²(Window) quantile it is tested
	// against (0 until the window is full).
	NISCount, Window int
	NISSum, NISBound float64
	// CusumPlus, CusumMinus and Isolated are per sensor, in the filter's
	// sensor order.
	CusumPlus, CusumMinus []float64
	Isolated              []bool
}

// Detectors returns a copy of the detectors' state.
func (f *Filter) Detectors() Detectors {
	d := Detectors{NISCount: len(f.window), Window: f.opt.NISWindow, NISBound: f.nisBound[f.opt.NISWindow],
		CusumPlus: slices.Clone(f.gPlus), CusumMinus: slices.Clone(f.gNeg), Isolated: slices.Clone(f.isolated)}
	for _, e := range f.window {
		d.NISSum += e.nis
	}
	return d
}

// Sensors returns the filter's sensors; the caller must not change them.
func (f *Filter) Sensors() []Sensor { return f.sensors }

// Certified reports whether no alarm is unacknowledged.
func (f *Filter) Certified() bool { return f.certified }

// Acknowledge clears the alarms' hold on certification and returns
// isolated sensors to service with fresh CUSUMs.
func (f *Filter) Acknowledge() {
	f.certified, f.multiRaised = true, false
	for j := range f.isolated {
		f.isolated[j], f.gPlus[j], f.gNeg[j] = false, 0, 0
	}
}

// Add processes one measurement in arrival order: a measurement sampled
// at or after the filter's time advances the filter and updates it; an
// older one re-filters from the last checkpoint before it. It returns the
// alarms it raised.
func (f *Filter) Add(ctx context.Context, m Measurement) ([]Alarm, error) {
	if m.Sensor < 0 || m.Sensor >= len(f.sensors) {
		return nil, fmt.Errorf("estimate: measurement sensor %d is out of range", m.Sensor)
	}
	if !(m.T >= 0) || math.IsInf(m.T, 0) || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
		return nil, fmt.Errorf("estimate: measurement at %v h: time and value must be finite, time ≥ 0", m.T)
	}
	n0 := len(f.alarms)
	if m.T >= f.st.Time() {
		if err := f.process(ctx, m, true); err != nil {
			return nil, err
		}
		_ = f.insert(m)
		return f.alarms[n0:], nil
	}
	// Late: back to the last checkpoint at or before m.T.
	i := sort.Search(len(f.cps), func(i int) bool { return f.cps[i].t > m.T }) - 1
	if i < 0 {
		return nil, fmt.Errorf("%w: sample time %g h, oldest checkpoint %g h", ErrTooLate, m.T, f.cps[0].t)
	}
	cp := f.cps[i]
	if err := f.st.Restore(cp.snap); err != nil {
		return nil, err
	}
	copy(f.p.RawMatrix().Data, cp.p)
	f.u, f.th = f.st.State(f.u), f.st.Theta(f.th)
	for _, c := range f.cps[i+1:] {
		f.spare = append(f.spare, c.p)
	}
	f.cps = f.cps[:i+1]
	f.cpTime = cp.t
	// Estimates after the checkpoint are recomputed.
	k := sort.Search(len(f.est), func(k int) bool { return f.est[k].T > cp.t })
	f.est = f.est[:k]
	at := f.insert(m)
	for j, h := range f.hist {
		if h.T <= cp.t && j != at {
			continue
		}
		if err := f.process(ctx, h, j == at); err != nil {
			return nil, err
		}
	}
	return f.alarms[n0:], nil
}

// insert adds m to the history in sample-time order (after equal times),
// drops what the oldest checkpoint already holds and returns m's index.
func (f *Filter) insert(m Measurement) int {
	i := sort.Search(len(f.hist), func(i int) bool { return f.hist[i].T > m.T })
	f.hist = slices.Insert(f.hist, i, m)
	if len(f.cps) > 0 {
		j := sort.Search(len(f.hist), func(j int) bool { return f.hist[j].T > f.cps[0].t })
		j = min(j, i)
		f.hist = f.hist[j:]
		i -= j
	}
	return i
}

// process advances to m.T and updates with m; fresh measurements feed the
// innovation record and the detectors.
func (f *Filter) process(ctx context.Context, m Measurement, fresh bool) error {
	if m.T > f.st.Time() {
		// The checkpoint of the time being left holds every measurement of
		// that time.
		if f.cpTime < f.st.Time() {
			f.checkpoint()
		} else {
			cp := &f.cps[len(f.cps)-1]
			cp.snap = f.st.Snapshot()
			copy(cp.p, f.p.RawMatrix().Data)
		}
		if err := f.predict(ctx, m.T); err != nil {
			return err
		}
	}
	if f.isolated[m.Sensor] {
		return nil
	}
	nu, s := f.update(m)
	if fresh {
		f.innov = append(f.innov, Innovation{T: m.T, Sensor: f.sensors[m.Sensor].ID, Nu: nu, S: s})
		f.detect(m, nu, s)
	}
	f.record()
	return nil
}

// predict advances the model to t and propagates the covariance through
// every step: P ← S·P·Sᵀ + Q·dt, with S the step's Jacobian (of the
// surrogate when the cascade has settlers).
func (f *Filter) predict(ctx context.Context, t float64) error {
	js := f.st
	if f.jac != nil {
		js = f.jac
		js.SetTime(f.st.Time())
		js.SetState(f.u, f.th)
	}
	prev := js.Time()
	pd, td := f.p.RawMatrix().Data, f.tmp.RawMatrix().Data
	na := f.na
	var ju []float64
	err := js.Advance(ctx, t, func() {
		dt := js.Time() - prev
		prev = js.Time()
		js.ApplyJacobian(pd, na) // S·P
		for i := 0; i < na; i++ {
			for j := 0; j < na; j++ {
				td[j*na+i] = pd[i*na+j]
			}
		}
		js.ApplyJacobian(td, na) // S·(S·P)ᵀ = S·P·Sᵀ
		ju = js.State(ju)
		saved := f.u
		f.u = ju
		for i := 0; i < na; i++ {
			for j := i; j < na; j++ {
				v := 0.5 * (td[i*na+j] + td[j*na+i])
				pd[i*na+j], pd[j*na+i] = v, v
			}
			q := f.sd(i, f.opt.StateNoise, f.opt.LogNoise, f.opt.ParamNoise)
			pd[i*na+i] += q * q * dt
		}
		f.u = saved
	})
	if err == nil && f.jac != nil {
		err = f.st.Advance(ctx, t, nil)
	}
	f.u = f.st.State(f.u)
	return err
}

// update applies one scalar measurement and returns its innovation and
// variance.
func (f *Filter) update(m Measurement) (nu, s float64) {
	sen := f.sensors[m.Sensor]
	C := f.st.Components()
	var idx [4]int
	var hv [4]float64
	nz := 1
	idx[0] = f.st.Index(sen.Stage, sen.Comp)
	pred := f.u[idx[0]]
	hv[0] = 1
	if sen.Organic {
		y, dx, dh, df := f.st.Organic(sen.Stage, sen.Comp)
		pred = y
		base := (sen.Stage - 1) * (C + 2)
		idx, hv, nz = [4]int{idx[0], base + C, base + C + 1, f.dim + sen.Comp}, [4]float64{dx, dh, df, y}, 4
	}
	nu = m.Value - pred
	pd := f.p.RawMatrix().Data
	na := f.na
	for i := 0; i < na; i++ {
		v := 0.0
		for q := 0; q < nz; q++ {
			v += pd[i*na+idx[q]] * hv[q]
		}
		f.pht.SetVec(i, v)
	}
	s = sen.SD * sen.SD
	for q := 0; q < nz; q++ {
		s += hv[q] * f.pht.AtVec(idx[q])
	}
	// P ← P − (P·Hᵀ)(P·Hᵀ)ᵀ/S; s ← s + (P·Hᵀ)·ν/S.
	f.p.RankOne(f.p, -1/s, f.pht, f.pht)
	for i := 0; i < f.dim; i++ {
		f.u[i] += f.pht.AtVec(i) * nu / s
	}
	for i := 0; i < C; i++ {
		f.th[i] += f.pht.AtVec(f.dim+i) * nu / s
	}
	f.st.Correct(f.u, f.th)
	f.u = f.st.State(f.u)
	return nu, s
}

// detect runs the window test, then the CUSUM of the measurement's
// sensor. The window test goes first: a wrong model shows in every sensor,
// and the CUSUM of the first to trip would otherwise isolate it and take
// its innovations out of the window.
func (f *Filter) detect(m Measurement, nu, s float64) {
	j := m.Sensor
	z := nu / math.Sqrt(s)
	f.window = append(f.window, nisEntry{sensor: j, nis: z * z})
	if W := f.opt.NISWindow; len(f.window) > W {
		f.window = f.window[len(f.window)-W:]
	}
	if W := f.opt.NISWindow; len(f.window) == W {
		sum := 0.0
		for _, e := range f.window {
			sum += e.nis
		}
		bound, ok := f.nisBound[W]
		if !ok {
			bound = distuv.ChiSquared{K: float64(W)}.Quantile(1 - f.opt.NISAlpha)
			f.nisBound[W] = bound
		}
		switch {
		case sum > bound && !f.syncRaised:
			f.raise(Alarm{T: m.T, Kind: OutOfSync})
			f.syncRaised = true
		case sum <= bound:
			f.syncRaised = false
		}
	}
	k, h := f.opt.CusumK, f.opt.CusumH
	f.gPlus[j] = max(0, f.gPlus[j]+z-k)
	f.gNeg[j] = max(0, f.gNeg[j]-z-k)
	if f.gPlus[j] > h || f.gNeg[j] > h {
		f.raise(Alarm{T: m.T, Kind: SensorDrift, Sensor: f.sensors[j].ID})
		f.isolated[j], f.gPlus[j], f.gNeg[j] = true, 0, 0
		f.window = slices.DeleteFunc(f.window, func(e nisEntry) bool { return e.sensor == j })
		// Two sensors drifting at once are more likely one model out of
		// sync with the plant than two independent faults.
		n := 0
		for _, iso := range f.isolated {
			if iso {
				n++
			}
		}
		if n >= 2 && !f.multiRaised {
			f.raise(Alarm{T: m.T, Kind: OutOfSync})
			f.multiRaised = true
		}
	}
}

func (f *Filter) raise(a Alarm) {
	f.alarms = append(f.alarms, a)
	f.certified = false
}

// record stores (or replaces) the estimate at the filter's time.
func (f *Filter) record() {
	sm := f.st.Sample()
	e := Estimate{T: f.st.Time(), Aqueous: sm.Aqueous, Organic: sm.Organic, Theta: slices.Clone(f.th), Certified: f.certified}
	if n := len(f.est); n > 0 && f.est[n-1].T == e.T {
		f.est[n-1] = e
		return
	}
	f.est = append(f.est, e)
}

// checkpoint stores the state at the filter's time and drops checkpoints
// older than the horizon (keeping the newest of those).
func (f *Filter) checkpoint() {
	var buf []float64
	if n := len(f.spare); n > 0 {
		buf, f.spare = f.spare[n-1], f.spare[:n-1]
	} else {
		buf = make([]float64, f.na*f.na)
	}
	copy(buf, f.p.RawMatrix().Data)
	t := f.st.Time()
	f.cps = append(f.cps, checkpoint{t: t, snap: f.st.Snapshot(), p: buf})
	f.cpTime = t
	i := 0
	for i+1 < len(f.cps) && f.cps[i+1].t <= t-f.opt.Horizon {
		i++
	}
	for _, c := range f.cps[:i] {
		f.spare = append(f.spare, c.p)
	}
	f.cps = slices.Delete(f.cps, 0, i)
}

// componentIndex returns the index of the named component.
func componentIndex(comps []sx.Component, name string) int {
	for i, c := range comps {
		if c.Name == name {
			return i
		}
	}
	return -1
}
