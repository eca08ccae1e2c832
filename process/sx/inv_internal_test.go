package sx

import (
	"math/rand/v2"
	"testing"
)

func TestInvert(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 5, 19} {
		a := make([]float64, n*n)
		for i := range a {
			a[i] = r.Float64() - 0.5
		}
		for i := 0; i < n; i++ {
			a[i*n+i] += 0.1 // keep it away from singular but pivoting still needed
		}
		inv := append([]float64(nil), a...)
		if err := invert(inv, make([]int, n), n); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for k := 0; k < n; k++ {
					s += a[i*n+k] * inv[k*n+j]
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if d := s - want; d > 1e-9 || d < -1e-9 {
					t.Fatalf("n=%d: (A·A⁻¹)[%d,%d] = %g", n, i, j, s)
				}
			}
		}
	}
}

func BenchmarkInvert19(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 19
	a := make([]float64, n*n)
	for i := range a {
		a[i] = r.Float64()
	}
	w := make([]float64, n*n)
	piv := make([]int, n)
	b.ReportAllocs()
	for b.Loop() {
		copy(w, a)
		_ = invert(w, piv, n)
	}
}
