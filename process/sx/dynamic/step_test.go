package dynamic_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// TestStepperJacobian compares ApplyJacobian with finite differences of
// one step: perturb the state (or θ) at the start, step, difference.
func TestStepperJacobian(t *testing.T) {
	tests := []struct {
		name    string
		cascade sx.Problem
		holdup  dynamic.Holdup
	}{
		{"constant D", ndpr(sx.Constant{D: []float64{1.5, 0.5}}), dynamic.Holdup{Mixer: 50}},
		{"mass action, settlers", ndpr(sx.MassAction{LogK: []float64{-1.604, -1.750}}), dynamic.Holdup{Mixer: 50, Settler: 100}},
		{"saponified", saponified(), dynamic.Holdup{Mixer: 30, OrganicFraction: 0.6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			p := dynamic.Problem{Cascade: tt.cascade, Holdup: tt.holdup, Start: dynamic.SteadyState}
			st, err := dynamic.NewStepper(ctx, p, &dynamic.StepperOptions{MaxStep: 0.5, Sensitivity: true})
			if err != nil {
				t.Fatal(err)
			}
			// Move away from the steady state a little: a feed change.
			if err := st.SetInlet(0, dynamic.Flow, 0, 12); err != nil {
				t.Fatal(err)
			}
			if err := st.Advance(ctx, 2, nil); err != nil {
				t.Fatal(err)
			}
			base := st.Snapshot()
			dim, C := st.Dim(), st.Components()
			if err := st.Advance(ctx, 2.5, nil); err != nil {
				t.Fatal(err)
			}
			u1 := st.State(nil)
			// Columns: every tracked state and every θ.
			cols := dim + C
			x := make([]float64, (dim+C)*cols)
			for j := 0; j < cols; j++ {
				x[j*cols+j] = 1
			}
			st.ApplyJacobian(x, cols)
			u0 := base.U
			for j := 0; j < cols; j++ {
				if j < dim && !st.Tracked(j) {
					continue
				}
				if err := st.Restore(base); err != nil {
					t.Fatal(err)
				}
				up := append([]float64(nil), u0...)
				th := make([]float64, C)
				var eps float64
				if j < dim {
					eps = 1e-6 * (math.Abs(up[j]) + 1e-3)
					up[j] += eps
				} else {
					eps = 1e-6
					th[j-dim] = eps
				}
				st.SetState(up, th)
				if err := st.Advance(ctx, 2.5, nil); err != nil {
					t.Fatal(err)
				}
				u2 := st.State(nil)
				for i := 0; i < dim; i++ {
					fd := (u2[i] - u1[i]) / eps
					got := x[i*cols+j]
					if math.Abs(fd-got) > 1e-4*(math.Abs(fd)+1)+1e-6 {
						t.Errorf("∂u[%d]/∂col %d = %g, finite difference %g", i, j, got, fd)
					}
				}
			}
		})
	}
}

// TestStepperSnapshot checks that a restored snapshot steps to the same
// bits as the original.
func TestStepperSnapshot(t *testing.T) {
	ctx := context.Background()
	p := dynamic.Problem{Cascade: saponified(), Holdup: dynamic.Holdup{Mixer: 30, Settler: 60}}
	st, err := dynamic.NewStepper(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Advance(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	sn := st.Snapshot()
	if err := st.Advance(ctx, 5, nil); err != nil {
		t.Fatal(err)
	}
	want := st.State(nil)
	if err := st.Restore(sn); err != nil {
		t.Fatal(err)
	}
	if err := st.Advance(ctx, 5, nil); err != nil {
		t.Fatal(err)
	}
	got := st.State(nil)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("u[%d] = %v after restore, want %v", i, got[i], want[i])
		}
	}
	bad := *sn
	bad.U = bad.U[:3]
	if err := st.Restore(&bad); err == nil {
		t.Error("Restore of a short snapshot: no error")
	}
}

// TestStepperCorrect moves a mixer's concentration: Correct shifts that
// stage's settler cells by the same amount, SetState leaves them.
func TestStepperCorrect(t *testing.T) {
	ctx := context.Background()
	p := dynamic.Problem{Cascade: ndpr(sx.Constant{D: []float64{1.5, 0.5}}), Holdup: dynamic.Holdup{Mixer: 50, Settler: 100, SettlerCells: 2}, Start: dynamic.SteadyState}
	st, err := dynamic.NewStepper(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := st.Snapshot()
	u := st.State(nil)
	j := st.Index(3, 0)
	u[j] += 0.01
	st.SetState(u, nil)
	if got := st.Snapshot().SettlerAq; !slices.Equal(got, before.SettlerAq) {
		t.Error("SetState changed the settler cells")
	}
	if err := st.Restore(before); err != nil {
		t.Fatal(err)
	}
	st.Correct(u, nil)
	got := st.Snapshot().SettlerAq
	C := st.Components()
	for cell := 0; cell < 2; cell++ {
		k := (2*2+cell)*(C+2) + 0 // stage 3 (index 2), component 0
		if d := got[k] - before.SettlerAq[k]; math.Abs(d-0.01) > 1e-12 {
			t.Errorf("settler cell %d of stage 3 moved by %v, want 0.01", cell, d)
		}
	}
}
