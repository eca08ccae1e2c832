package sx_test

import (
	"context"
	"fmt"
	"testing"

	"lodestone/process/sx"
)

// TestSweepConverges solves the SYNTHETIC loaded cascade over a grid of
// sizes and loadings, plain and saponified, and requires convergence and
// closure everywhere.
func TestSweepConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("long sweep")
	}
	var fails, facts int
	defer func() { t.Logf("%d failures, %d factorizations", fails, facts) }()
	for _, n := range []int{20, 100} {
		for _, c := range []int{2, 17} {
			for _, load := range []float64{0.3, 0.95} {
				for _, sap := range []bool{false, true} {
					p := loadedProblem(n, c, load)
					if sap {
						// Saponify 30 % of the extractant with Na⁺ (SYNTHETIC log K −3.5).
						p.Components = append(append([]sx.Component(nil), p.Components...), sx.Component{Name: "Na", Charge: 1, CounterIon: true})
						m := p.Model.(sx.MassAction)
						p.Model = sx.MassAction{LogK: append(append([]float64(nil), m.LogK...), -3.5)}
						for i := range p.Inlets {
							in := &p.Inlets[i]
							if in.Conc != nil {
								in.Conc = append(append([]float64(nil), in.Conc...), 0)
							}
							if in.Phase == sx.Organic {
								in.Conc = make([]float64, c+1)
								in.Conc[c] = 0.15
								in.Extractant = 1 - 2*0.15
							}
						}
					}
					name := fmt.Sprintf("N=%d/C=%d/load=%v/sap=%v", n, c, load, sap)
					res, err := sx.Solve(context.Background(), p, sweepSettings)
					if res != nil {
						facts += res.Stats.Factorizations
					}
					if err != nil {
						fails++
						t.Errorf("%s: %v", name, err)
						continue
					}
					if res.Stats.NewtonIterations > 150 {
						t.Logf("%s: %d iterations, %d factorizations", name, res.Stats.NewtonIterations, res.Stats.Factorizations)
					}
					if cl := res.MaxClosure(); cl > 1e-9 {
						t.Errorf("%s: closure %g", name, cl)
					}
				}
			}
		}
	}
}

var sweepSettings *sx.Settings // the defaults
