package estimate_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"lodestone/plant/estimate"
	"lodestone/process/sx/dynamic"
)

// mheRun runs the EKF on synthetic truth from the dynamic model (the
// truth starts off the filter's start by rel, relative, on every
// concentration, and then follows the model with the filter's process
// noise) for steps samples of 0.1 h and returns the filter and the truth.
func mheRun(t *testing.T, seed uint64, steps int, rel float64) (*estimate.Filter, *dynamic.Stepper) {
	t.Helper()
	ctx := context.Background()
	const dt = 0.1
	sen := sensors()
	f, err := estimate.New(ctx, cascade(0), sen, &estimate.Options{MaxStep: dt, Horizon: 2, InitialRel: math.Max(0.05, rel)})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := dynamic.NewStepper(ctx, cascade(0), &dynamic.StepperOptions{MaxStep: dt})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 5))
	u := truth.State(nil)
	C := truth.Components()
	for j := range u {
		if truth.Tracked(j) && j%(C+2) < C {
			u[j] *= 1 + rel*rng.NormFloat64()
		}
	}
	truth.SetState(u, nil)
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
		truth.SetState(u, nil)
		u = truth.State(u)
		for j, s := range sen {
			if s.Delay > 0 {
				continue // online analysers only: every reading in its place
			}
			v := u[truth.Index(s.Stage, s.Comp)]
			if s.Organic {
				v, _, _, _ = truth.Organic(s.Stage, s.Comp)
			}
			if _, err := f.Add(ctx, estimate.Measurement{T: tk, Sensor: j, Value: v + s.SD*rng.NormFloat64()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f, truth
}

// mixErr is the RMS relative error of the aqueous mixer concentrations of
// an estimate against the truth.
func mixErr(e estimate.Estimate, truth *dynamic.Stepper) float64 {
	s := 0.0
	n := 0
	for k := range e.Aqueous {
		for i, v := range e.Aqueous[k] {
			x := truth.State(nil)[truth.Index(k+1, i)]
			d := (v - x) / (math.Abs(x) + 1e-3)
			s += d * d
			n++
		}
	}
	return math.Sqrt(s / float64(n))
}

// TestMHE: the fixed-lag MHE lowers its cost from the EKF's state at the
// window's start, keeps every concentration ≥ 0, and on synthetic truth
// with a large initial error ends no less accurate than the EKF (over
// several seeds).
func TestMHE(t *testing.T) {
	ctx := context.Background()
	var ekf, mhe float64
	const seeds = 4
	for seed := uint64(1); seed <= seeds; seed++ {
		f, truth := mheRun(t, seed, 20, 0.3)
		res, err := f.MHE(ctx, &estimate.MHEOptions{Window: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Measurements == 0 || res.Cost > res.Prior || res.Iterations == 0 {
			t.Errorf("seed %d: %d measurements, cost %g from %g in %d iterations", seed, res.Measurements, res.Cost, res.Prior, res.Iterations)
		}
		if math.Abs(res.T-f.Time()) > 1e-9 {
			t.Errorf("seed %d: MHE estimate at %v h, filter at %v h", seed, res.T, f.Time())
		}
		for k := range res.Aqueous {
			for i := range res.Aqueous[k] {
				if res.Aqueous[k][i] < 0 || res.Organic[k][i] < 0 {
					t.Errorf("seed %d: stage %d component %d: negative estimate %g / %g", seed, k+1, i, res.Aqueous[k][i], res.Organic[k][i])
				}
			}
		}
		est := f.Estimates()
		e1, e2 := mixErr(est[len(est)-1], truth), mixErr(res.Estimate, truth)
		t.Logf("seed %d: cost %.1f → %.1f in %d iterations, %d bound; RMS relative error EKF %.4f, MHE %.4f", seed, res.Prior, res.Cost, res.Iterations, res.Bound, e1, e2)
		ekf += e1 / seeds
		mhe += e2 / seeds
	}
	if mhe > 1.1*ekf {
		t.Errorf("mean RMS relative error: MHE %.4f, EKF %.4f", mhe, ekf)
	}
}

// TestMHEErrors: no window before the first checkpoint old enough; a
// window longer than the re-filtering horizon.
func TestMHEErrors(t *testing.T) {
	ctx := context.Background()
	f, err := estimate.New(ctx, cascade(0), sensors(), &estimate.Options{MaxStep: 0.1, Horizon: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.MHE(ctx, &estimate.MHEOptions{Window: 1}); !errors.Is(err, estimate.ErrNoWindow) {
		t.Errorf("at 0 h: %v, want ErrNoWindow", err)
	}
	if _, err := f.MHE(ctx, &estimate.MHEOptions{Window: 3}); err == nil {
		t.Error("a 3 h window on a 2 h horizon")
	}
}
