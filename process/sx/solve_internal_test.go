package sx

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func TestJacobianFD(t *testing.T) {
	cs := []Component{{Name: "A", Charge: 3}, {Name: "B", Charge: 2}}
	p := Problem{Stages: 4, Components: cs, Media: Sulfate,
		Inlets: []Inlet{
			{Phase: Aqueous, Stage: 2, Flow: 10, Conc: []float64{0.05, 0.03}, H: 0.01, HSO4: 0.1, SO4: 0.05},
			{Phase: Aqueous, Stage: 4, Flow: 2, H: 1.5},
			{Phase: Organic, Stage: 1, Flow: 20, Conc: []float64{0.001, 0.002}, Extractant: 1},
		}, Model: MassAction{LogK: []float64{-1, -2}}}
	w := newWorkspace(&p)
	settle(t, w)
	N, n := w.N, w.n
	w.distribution(w.v)
	w.residual(w.v, w.r)
	w.jacobian(w.v)
	r0 := append([]float64(nil), w.r...)
	full := func(row, col int) float64 {
		kr, kc := row/n, col/n
		ir, ic := row%n, col%n
		switch kc - kr {
		case 0:
			return w.jd[kr*n*n+ir*n+ic]
		case -1:
			return w.jl[kr*n*n+ir*n+ic]
		case 1:
			if ir == ic {
				return w.ju[kr*n+ir]
			}
		}
		return 0
	}
	jd := append([]float64(nil), w.jd...)
	jl := append([]float64(nil), w.jl...)
	ju := append([]float64(nil), w.ju...)
	_, _, _ = jd, jl, ju
	for col := 0; col < N*n; col++ {
		v := append([]float64(nil), w.v...)
		hstep := 1e-7 * math.Max(math.Abs(v[col]), 1e-6)
		v[col] += hstep
		w.distribution(v)
		r := make([]float64, N*n)
		w.residual(v, r)
		for row := 0; row < N*n; row++ {
			fd := (r[row] - r0[row]) / hstep
			an := full(row, col)
			if math.Abs(fd-an) > 1e-3*(math.Abs(fd)+math.Abs(an))+1e-6 {
				t.Errorf("J[%d,%d] (stage %d row %d, stage %d col %d) = %g, fd %g", row, col, row/n, row%n, col/n, col%n, an, fd)
			}
		}
	}
}

func TestBlockThomas(t *testing.T) {
	cs := []Component{{Name: "A", Charge: 3}, {Name: "B", Charge: 2}}
	p := Problem{Stages: 5, Components: cs, Media: Sulfate,
		Inlets: []Inlet{
			{Phase: Aqueous, Stage: 2, Flow: 10, Conc: []float64{0.05, 0.03}, H: 0.01, HSO4: 0.1, SO4: 0.05},
			{Phase: Aqueous, Stage: 5, Flow: 2, H: 1.5},
			{Phase: Organic, Stage: 1, Flow: 20, Conc: []float64{0.001, 0.002}, Extractant: 1},
		}, Model: MassAction{LogK: []float64{-1, -2}}}
	w := newWorkspace(&p)
	settle(t, w)
	N, n := w.N, w.n
	w.distribution(w.v)
	w.residual(w.v, w.r)
	w.jacobian(w.v)
	jd := append([]float64(nil), w.jd...)
	jl := append([]float64(nil), w.jl...)
	ju := append([]float64(nil), w.ju...)
	if err := w.newtonStep(); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < N; k++ {
		for i := 0; i < n; i++ {
			s := w.r[k*n+i]
			for j := 0; j < n; j++ {
				s += jd[k*n*n+i*n+j] * w.dv[k*n+j]
				if k > 0 {
					s += jl[k*n*n+i*n+j] * w.dv[(k-1)*n+j]
				}
			}
			if k+1 < N {
				s += ju[k*n+i] * w.dv[(k+1)*n+i]
			}
			if math.Abs(s) > 1e-9*math.Max(1e-6, math.Abs(w.r[k*n+i])) {
				t.Errorf("stage %d row %d: J·dv + r = %g", k, i, s)
			}
		}
	}
}

// settle solves the problem, then moves the state off the solution by a
// few per cent, so that the residual is non-zero but the state physical.
func settle(t *testing.T, w *workspace) {
	t.Helper()
	if st, err := w.run(context.Background(), Settings{MaxSubstitutions: 1, MaxIterations: 200, Tolerance: 1e-12}); st != Converged || err != nil {
		t.Fatalf("run: %v %v", st, err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range w.v {
		if i%w.n < w.C {
			w.v[i] *= 1 + 0.05*(r.Float64()-0.5)
		} else {
			w.v[i] += 0.05 * (r.Float64() - 0.5)
		}
	}
}
