package estimate_test

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"lodestone/plant/estimate"
	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// cascade is an 8-stage Nd/Pr cascade with mass-action equilibrium (the
// log K of the process/sx fit on the Lyon (2016) rows, Nd −1.604, Pr
// −1.750), feed at stage 4, scrub acid at stage 8, started at its steady
// state. dlogK shifts the Nd constant (a model/plant mismatch).
func cascade(dlogK float64) dynamic.Problem {
	return dynamic.Problem{
		Cascade: sx.Problem{
			Stages:     8,
			Components: []sx.Component{{Name: "Nd", Charge: 3, MolarMass: 144.242}, {Name: "Pr", Charge: 3, MolarMass: 140.908}},
			Inlets: []sx.Inlet{
				{Name: "feed", Phase: sx.Aqueous, Stage: 4, Flow: 10, Conc: []float64{0.1, 0.05}, H: 0.1},
				{Name: "scrub", Phase: sx.Aqueous, Stage: 8, Flow: 5, H: 1},
				{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: 20, Extractant: 1},
			},
			Model: sx.MassAction{LogK: []float64{-1.604 + dlogK, -1.750}},
		},
		Holdup: dynamic.Holdup{Mixer: 50},
		Start:  dynamic.SteadyState,
	}
}

// sensors: aqueous analysers on the raffinate stage and the feed stage, an
// organic analyser on the loaded-organic stage, and a delayed lab assay.
func sensors() []estimate.Sensor {
	return []estimate.Sensor{
		{ID: "xrf-raff-Nd", Stage: 1, Comp: 0, SD: 5e-4},
		{ID: "xrf-raff-Pr", Stage: 1, Comp: 1, SD: 5e-4},
		{ID: "xrf-feed-Nd", Stage: 4, Comp: 0, SD: 1e-3},
		{ID: "xrf-org-Pr", Stage: 8, Comp: 1, Organic: true, SD: 1e-3},
		{ID: "lab-org-Nd", Stage: 8, Comp: 0, Organic: true, SD: 5e-4, Delay: 1},
	}
}

// run is a synthetic-truth run: the truth is the dynamic model with the
// filter's process noise (and mismatch dlogK), the measurements the truth
// plus the sensors' noise (plus bias on sensor biasSensor from sample
// biasFrom on); lab assays arrive their delay late.
type run struct {
	f                  *estimate.Filter
	nees               []float64 // per sample time after burn-in
	neesDim            int
	samples            int // measurements processed
	biasFrom           int // sample index
	biasSensor         int
	biasSeen           int // samples of the biased sensor since biasFrom
	driftAt            int // biasSeen when sensor_drift on it was raised; −1 none
	alarmedMeasurement int // measurements after which at least one new alarm was raised
}

var cusumH = 0.0

func simulate(t *testing.T, seed uint64, steps int, dlogK float64, biasSensor, biasFrom int) *run {
	t.Helper()
	return simulateWith(t, seed, steps, dlogK, biasSensor, biasFrom, 0)
}

func simulateWith(t *testing.T, seed uint64, steps int, dlogK float64, biasSensor, biasFrom int, settler float64) *run {
	t.Helper()
	ctx := context.Background()
	const dt = 0.1
	sen := sensors()
	pf, pt := cascade(0), cascade(dlogK)
	pf.Holdup.Settler, pt.Holdup.Settler = settler, settler
	f, err := estimate.New(ctx, pf, sen, &estimate.Options{MaxStep: dt, CusumH: cusumH})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := dynamic.NewStepper(ctx, pt, &dynamic.StepperOptions{MaxStep: dt})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	dim := truth.Dim()
	C := truth.Components()
	// Initial error drawn from the filter's initial covariance.
	u := truth.State(nil)
	th := make([]float64, C)
	P := f.Covariance()
	for j := range u {
		u[j] += math.Sqrt(P.At(j, j)) * rng.NormFloat64()
	}
	for i := range th {
		th[i] += math.Sqrt(P.At(dim+i, dim+i)) * rng.NormFloat64()
	}
	truth.SetState(u, th)
	r := &run{f: f, biasFrom: biasFrom, biasSensor: biasSensor, driftAt: -1}
	type pending struct {
		at float64
		m  estimate.Measurement
	}
	var queue []pending
	var sd []float64
	for k := 1; k <= steps; k++ {
		tk := float64(k) * dt
		if err := truth.Advance(ctx, tk, nil); err != nil {
			t.Fatal(err)
		}
		u = truth.State(u)
		sd = f.ProcessSD(u, dt, sd)
		for j := range u {
			u[j] += sd[j] * rng.NormFloat64()
		}
		th = truth.Theta(th)
		for i := range th {
			th[i] += 0.001 * math.Sqrt(dt) * rng.NormFloat64()
		}
		truth.SetState(u, th)
		u = truth.State(u)
		for j, s := range sen {
			if s.Delay > 0 && k%10 != 0 {
				continue // lab assays every hour
			}
			v := u[truth.Index(s.Stage, s.Comp)]
			if s.Organic {
				v, _, _, _ = truth.Organic(s.Stage, s.Comp)
			}
			v += s.SD * rng.NormFloat64()
			if j == biasSensor && k >= biasFrom {
				v += 5 * s.SD
			}
			queue = append(queue, pending{at: tk + s.Delay, m: estimate.Measurement{T: tk, Sensor: j, Value: v}})
		}
		// Deliver what has arrived by tk.
		rest := queue[:0]
		for _, q := range queue {
			if q.at > tk+1e-9 {
				rest = append(rest, q)
				continue
			}
			al, err := f.Add(ctx, q.m)
			if err != nil {
				t.Fatal(err)
			}
			r.samples++
			if len(al) > 0 {
				r.alarmedMeasurement++
			}
			if q.m.Sensor == biasSensor && k >= biasFrom {
				r.biasSeen++
			}
			for _, a := range al {
				if biasSensor >= 0 && a.Kind == estimate.SensorDrift && a.Sensor == sen[biasSensor].ID && q.m.T >= float64(biasFrom)*dt-1e-9 && r.driftAt < 0 {
					r.driftAt = r.biasSeen
				}
			}
		}
		queue = rest
		if k > 50 && k%5 == 0 { // every 0.5 h after 5 h
			r.nees = append(r.nees, nees(t, f, truth))
		}
	}
	r.neesDim = 0
	for j := 0; j < dim; j++ {
		if truth.Tracked(j) {
			r.neesDim++
		}
	}
	r.neesDim += C
	return r
}

// nees is eᵀ·P⁻¹·e over the tracked states and θ.
func nees(t *testing.T, f *estimate.Filter, truth *dynamic.Stepper) float64 {
	t.Helper()
	ut, ue := truth.State(nil), f.Stepper().State(nil)
	tt, te := truth.Theta(nil), f.Stepper().Theta(nil)
	var idx []int
	var e []float64
	for j := range ut {
		if truth.Tracked(j) {
			idx = append(idx, j)
			e = append(e, ut[j]-ue[j])
		}
	}
	for i := range tt {
		idx = append(idx, len(ut)+i)
		e = append(e, tt[i]-te[i])
	}
	P := f.Covariance()
	sub := mat.NewSymDense(len(idx), nil)
	for a, i := range idx {
		for b, j := range idx {
			sub.SetSym(a, b, P.At(i, j))
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sub) {
		t.Fatal("covariance not positive definite")
	}
	ev := mat.NewVecDense(len(e), e)
	x := mat.NewVecDense(len(e), nil)
	if err := ch.SolveVecTo(x, ev); err != nil {
		t.Fatal(err)
	}
	return mat.Dot(ev, x)
}

// TestConsistency runs the filter on synthetic truth from the dynamic
// model, Monte Carlo style (Bar-Shalom et al. 2001, §5.4): independent
// runs of 50 h each. The NIS of every innovation must average inside its
// two-sided 99 % χ²(1) bound. The NEES is sampled every 0.5 h after a
// 5 h burn-in; samples within a run are correlated (the error of a weakly
// observable θ persists for the whole run), so the test on E[NEES] = n
// uses the spread of the runs' means: |mean − n| within the 99 % Student
// t interval of the run means. Fewer than 1 % of the measurements may
// raise an alarm.
func TestConsistency(t *testing.T) {
	runs, steps := 8, 500
	if testing.Short() {
		runs = 3
	}
	var runMeans, nis []float64
	n, alarmed, samples := 0, 0, 0
	for seed := range uint64(runs) {
		r := simulate(t, 100+seed, steps, 0, -1, 0)
		runMeans = append(runMeans, stat.Mean(r.nees, nil))
		for _, v := range r.f.Innovations() {
			nis = append(nis, v.Nu*v.Nu/v.S)
		}
		n, alarmed, samples = r.neesDim, alarmed+r.alarmedMeasurement, samples+r.samples
	}
	m, sd := stat.MeanStdDev(runMeans, nil)
	half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(runs - 1)}.Quantile(0.995) * sd / math.Sqrt(float64(runs))
	if math.Abs(m-float64(n)) > half {
		t.Errorf("mean NEES %.3f ± %.3f (99 %%, %d runs), want %d inside", m, half, runs, n)
	} else {
		t.Logf("mean NEES %.3f ± %.3f (99 %%, %d runs), n = %d", m, half, runs, n)
	}
	K := float64(len(nis))
	d := distuv.ChiSquared{K: K}
	lo, hi := d.Quantile(0.005)/K, d.Quantile(0.995)/K
	if avg := stat.Mean(nis, nil); avg < lo || avg > hi {
		t.Errorf("mean NIS %.3f over %v innovations, want in [%.3f, %.3f]", avg, K, lo, hi)
	} else {
		t.Logf("mean NIS %.3f over %v innovations in [%.3f, %.3f]", avg, K, lo, hi)
	}
	if rate := float64(alarmed) / float64(samples); rate >= 0.01 {
		t.Errorf("%d of %d measurements raised an alarm, want < 1 %%", alarmed, samples)
	} else {
		t.Logf("%d of %d measurements raised an alarm", alarmed, samples)
	}
}

// TestSensorDrift biases one sensor by 5 σ: sensor_drift must name it
// within 10 of its samples, and the estimates must turn uncertified.
func TestSensorDrift(t *testing.T) {
	for _, j := range []int{0, 3} {
		r := simulate(t, 2, 400, 0, j, 200)
		if r.driftAt < 0 || r.driftAt > 10 {
			t.Errorf("sensor %s biased by 5σ: drift alarm after %d samples (alarms %v), want ≤ 10", sensors()[j].ID, r.driftAt, r.f.Alarms())
		}
		est := r.f.Estimates()
		if est[len(est)-1].Certified {
			t.Errorf("sensor %s: last estimate certified after a drift alarm", sensors()[j].ID)
		}
	}
}

// TestModelMismatch runs the filter on a plant whose Nd equilibrium
// constant is twice the model's: out_of_sync must be raised.
func TestModelMismatch(t *testing.T) {
	r := simulate(t, 3, 600, math.Log10(2), -1, 0)
	for _, a := range r.f.Alarms() {
		if a.Kind == estimate.OutOfSync {
			t.Logf("out_of_sync at %g h", a.T)
			return
		}
	}
	t.Errorf("no out_of_sync alarm with K_Nd ×2 (alarms %v)", r.f.Alarms())
}

// TestOutOfSequence feeds the same measurements twice: once in sample-time
// order, once with the lab assays arriving an hour late. Re-filtering from
// the stored past state must give the same final estimate as filtering in
// order.
func TestOutOfSequence(t *testing.T) {
	ctx := context.Background()
	sen := sensors()
	truth, err := dynamic.NewStepper(ctx, cascade(0.1), &dynamic.StepperOptions{MaxStep: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	var ms []estimate.Measurement
	for k := 1; k <= 60; k++ {
		tk := float64(k) * 0.1
		if err := truth.Advance(ctx, tk, nil); err != nil {
			t.Fatal(err)
		}
		u := truth.State(nil)
		for j, s := range sen {
			v := u[truth.Index(s.Stage, s.Comp)]
			if s.Organic {
				v, _, _, _ = truth.Organic(s.Stage, s.Comp)
			}
			ms = append(ms, estimate.Measurement{T: tk, Sensor: j, Value: v + s.SD*rng.NormFloat64()})
		}
	}
	final := func(order []estimate.Measurement) estimate.Estimate {
		f, err := estimate.New(ctx, cascade(0), sen, &estimate.Options{MaxStep: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range order {
			if _, err := f.Add(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		e := f.Estimates()
		return e[len(e)-1]
	}
	inOrder := final(ms)
	// Arrival order: lab assays (sensor 4) one hour after sampling.
	late := slices.Clone(ms)
	arrival := func(m estimate.Measurement) float64 { return m.T + sen[m.Sensor].Delay }
	slices.SortStableFunc(late, func(a, b estimate.Measurement) int { return cmp.Compare(arrival(a), arrival(b)) })
	got := final(late)
	if got.T != inOrder.T {
		t.Fatalf("last estimate at %g h, want %g h", got.T, inOrder.T)
	}
	for k := range got.Aqueous {
		for i := range got.Aqueous[k] {
			if a, b := got.Aqueous[k][i], inOrder.Aqueous[k][i]; math.Abs(a-b) > 1e-12*math.Abs(b) {
				t.Errorf("stage %d component %d: %v after late arrivals, %v in order", k+1, i, a, b)
			}
		}
	}
}

// TestForget drops what a live filter has published.
func TestForget(t *testing.T) {
	ctx := context.Background()
	f, err := estimate.New(ctx, cascade(0), sensors(), nil)
	if err != nil {
		t.Fatal(err)
	}
	u := f.Stepper().State(nil)
	for k := 1; k <= 5; k++ {
		if _, err := f.Add(ctx, estimate.Measurement{T: 0.1 * float64(k), Sensor: 0, Value: u[0]}); err != nil {
			t.Fatal(err)
		}
	}
	f.Forget(0.35)
	if e := f.Estimates(); len(e) != 2 || e[0].T < 0.35 {
		t.Errorf("estimates after Forget(0.35): %d from %g h, want 2 from 0.4 h", len(e), e[0].T)
	}
	if n := len(f.Innovations()); n != 2 {
		t.Errorf("%d innovations after Forget, want 2", n)
	}
}

// TestConsistencySettlers repeats the Monte Carlo runs on the cascade with
// settlers holding twice the mixer volume (4 cells per phase), where the
// covariance is propagated on the surrogate without settlers. The filter
// must not be overconfident: mean NIS inside its 99 % χ² bound, mean NEES
// not above n beyond the t interval (it is below n: conservative), and
// fewer than 1 % of the measurements raising an alarm.
func TestConsistencySettlers(t *testing.T) {
	runs := 5
	if testing.Short() {
		runs = 2
	}
	var runMeans, nis []float64
	n, alarmed, samples := 0, 0, 0
	for seed := range uint64(runs) {
		r := simulateWith(t, 200+seed, 500, 0, -1, 0, 100)
		runMeans = append(runMeans, stat.Mean(r.nees, nil))
		for _, v := range r.f.Innovations() {
			nis = append(nis, v.Nu*v.Nu/v.S)
		}
		n, alarmed, samples = r.neesDim, alarmed+r.alarmedMeasurement, samples+r.samples
	}
	m, sd := stat.MeanStdDev(runMeans, nil)
	half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(runs - 1)}.Quantile(0.995) * sd / math.Sqrt(float64(runs))
	if m-half > float64(n) {
		t.Errorf("mean NEES %.3f ± %.3f (99 %%, %d runs) above n = %d: overconfident", m, half, runs, n)
	} else {
		t.Logf("mean NEES %.3f ± %.3f (99 %%, %d runs), n = %d", m, half, runs, n)
	}
	K := float64(len(nis))
	d := distuv.ChiSquared{K: K}
	lo, hi := d.Quantile(0.005)/K, d.Quantile(0.995)/K
	if avg := stat.Mean(nis, nil); avg < lo || avg > hi {
		t.Errorf("mean NIS %.3f over %v innovations, want in [%.3f, %.3f]", avg, K, lo, hi)
	} else {
		t.Logf("mean NIS %.3f over %v innovations in [%.3f, %.3f]", avg, K, lo, hi)
	}
	if rate := float64(alarmed) / float64(samples); rate >= 0.01 {
		t.Errorf("%d of %d measurements raised an alarm, want < 1 %%", alarmed, samples)
	}
}
