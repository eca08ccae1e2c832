package dynamic

import (
	"math"
	"testing"

	"lodestone/process/sx"
)

// TestJacobian compares the assembled Jacobian blocks with finite
// differences of the residual.
func TestJacobian(t *testing.T) {
	models := []sx.Equilibrium{
		sx.Constant{D: []float64{1.5, 0.5}},
		sx.MassAction{LogK: []float64{-1.6, -1.75}},
	}
	for _, media := range []sx.Media{sx.Chloride, sx.Sulfate} {
		for _, model := range models {
			c := sx.Problem{
				Stages:     4,
				Media:      media,
				Components: []sx.Component{{Name: "Nd", Charge: 3}, {Name: "Pr", Charge: 3}},
				Inlets: []sx.Inlet{
					{Phase: sx.Aqueous, Stage: 2, Flow: 10, Conc: []float64{0.1, 0.05}, H: 0.1},
					{Phase: sx.Aqueous, Stage: 4, Flow: 5, H: 1},
					{Phase: sx.Organic, Stage: 1, Flow: 20, Extractant: 1},
				},
				Model: model,
			}
			if media == sx.Sulfate {
				c.Inlets[0].HSO4, c.Inlets[0].SO4 = 0.2, 0.1
			}
			p := &Problem{Cascade: c, Holdup: Holdup{Mixer: 50, Settler: 200}, Duration: 1}
			w := newWorkspace(p, p.defaultsForTest())
			w.trackH, w.trackF = true, true
			w.setInlets(0.5)
			for k := 0; k < w.N; k++ {
				w.Va[k], w.Vo[k], w.Vsa[k], w.Vso[k] = 20, 30, 20, 30
				w.S[k] = 0.3
				for i := 0; i < w.C; i++ {
					w.u[k*w.n+i] = 0.01 * float64(1+k+i)
					w.Mold[k*w.C+i] = 0.3
				}
				w.u[k*w.n+w.C] = math.Log(0.2 + 0.01*float64(k))
				w.u[k*w.n+w.C+1] = math.Log(0.8 - 0.01*float64(k))
				w.Pold[k], w.VTold[k] = 3, 20
			}
			for j := range w.ca {
				w.ca[j] = 0.01 * float64(j%7+1)
			}
			for j := range w.co {
				w.co[j] = 0.02 * float64(j%5+1)
			}
			dt := 0.1
			w.settlerGains(dt)
			w.evalState()
			w.assemble(dt, true)
			n, nn := w.n, w.n*w.n
			diag := append([]float64(nil), w.bt.diag...)
			lower := append([]float64(nil), w.bt.lower...)
			upper := append([]float64(nil), w.bt.upper...)
			r0 := append([]float64(nil), w.r...)
			for k := 0; k < w.N; k++ {
				for j := 0; j < n; j++ {
					h := 1e-7 * math.Max(1e-3, math.Abs(w.u[k*n+j]))
					w.u[k*n+j] += h
					w.evalState()
					w.assemble(dt, true)
					w.u[k*n+j] -= h
					for kk := max(0, k-1); kk <= min(w.N-1, k+1); kk++ {
						for i := 0; i < n; i++ {
							fd := (w.r[kk*n+i] - r0[kk*n+i]) / h
							var an float64
							switch kk - k {
							case 0:
								an = diag[kk*nn+i*n+j]
							case 1:
								an = lower[kk*nn+i*n+j]
							case -1:
								an = upper[kk*nn+i*n+j]
							}
							if math.Abs(fd-an) > 1e-4*(1+math.Abs(an)) {
								t.Errorf("%v %T: dR[%d][%d]/du[%d][%d] = %g, finite difference %g", media, model, kk, i, k, j, an, fd)
							}
						}
					}
				}
			}
		}
	}
}

func (p *Problem) defaultsForTest() Settings { return (*Settings)(nil).defaults(p.Duration) }

// TestStepDoesNotAllocate guards the inner loop: a Newton solve of a time
// step allocates nothing.
func TestStepDoesNotAllocate(t *testing.T) {
	c := sx.Problem{
		Stages:     5,
		Components: []sx.Component{{Name: "Nd", Charge: 3}, {Name: "Pr", Charge: 3}},
		Inlets: []sx.Inlet{
			{Phase: sx.Aqueous, Stage: 3, Flow: 10, Conc: []float64{0.1, 0.05}, H: 0.1},
			{Phase: sx.Aqueous, Stage: 5, Flow: 5, H: 1},
			{Phase: sx.Organic, Stage: 1, Flow: 20, Extractant: 1},
		},
		Model: sx.MassAction{LogK: []float64{-1.6, -1.75}},
	}
	p := &Problem{Cascade: c, Holdup: Holdup{Mixer: 50, Settler: 100}, Duration: 1}
	w := newWorkspace(p, p.defaultsForTest())
	w.trackH, w.trackF = true, true
	w.setInlets(0.5)
	for k := 0; k < w.N; k++ {
		w.Va[k], w.Vo[k], w.Vsa[k], w.Vso[k] = 20, 30, 20, 30
		w.u[k*w.n+w.C], w.u[k*w.n+w.C+1] = math.Log(0.1), math.Log(1)
		w.Pold[k], w.VTold[k] = 2, 30
	}
	allocs := testing.AllocsPerRun(20, func() {
		w.setInlets(0.5)
		w.settlerGains(0.1)
		w.sulfate(0.1)
		if !w.newton(0.1) {
			t.Fatal("newton did not converge")
		}
		w.accept(0.1)
	})
	if allocs != 0 {
		t.Errorf("a step allocates %v times, want 0", allocs)
	}
}
