package sx

import (
	"math"
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

// invertSequential is the one-pivot-at-a-time invert this package used
// before; invert must match it bit for bit. It replaces the n×n matrix a by its inverse (Gauss–Jordan with
// partial pivoting; n³ flops, against 8n³/3 for LU plus n solves). piv
// records the row swaps, undone on the columns at the end.
func invertSequential(a []float64, piv []int, n int) error {
	var rowsArr [32]int
	rowsBuf := rowsArr[:]
	if n > len(rowsBuf) {
		rowsBuf = make([]int, n)
	}
	for c := 0; c < n; c++ {
		p := c
		m := math.Abs(a[c*n+c])
		for r := c + 1; r < n; r++ {
			if v := math.Abs(a[r*n+c]); v > m {
				p, m = r, v
			}
		}
		piv[c] = p
		if m == 0 || math.IsNaN(m) {
			return errSingular
		}
		rc := a[c*n : (c+1)*n]
		if p != c {
			rp := a[p*n : (p+1)*n]
			for j := range rc {
				rc[j], rp[j] = rp[j], rc[j]
			}
		}
		inv := 1 / rc[c]
		rc[c] = 1
		for j := range rc {
			rc[j] *= inv
		}
		// Rows other than c with a non-zero in column c, four at a time:
		// each element of rc is loaded once for the four rows (the
		// arithmetic per element is unchanged).
		rows := rowsBuf[:0]
		for r := 0; r < n; r++ {
			if r != c && a[r*n+c] != 0 {
				rows = append(rows, r)
			}
		}
		k := 0
		for ; k+4 <= len(rows); k += 4 {
			r0 := a[rows[k]*n : rows[k]*n+len(rc)]
			r1 := a[rows[k+1]*n : rows[k+1]*n+len(rc)]
			r2 := a[rows[k+2]*n : rows[k+2]*n+len(rc)]
			r3 := a[rows[k+3]*n : rows[k+3]*n+len(rc)]
			// Equal lengths let the compiler drop the bounds checks below.
			r0, r1, r2, r3 = r0[:len(rc)], r1[:len(rc)], r2[:len(rc)], r3[:len(rc)]
			l0, l1, l2, l3 := r0[c], r1[c], r2[c], r3[c]
			r0[c], r1[c], r2[c], r3[c] = 0, 0, 0, 0
			for j, v := range rc {
				r0[j] -= l0 * v
				r1[j] -= l1 * v
				r2[j] -= l2 * v
				r3[j] -= l3 * v
			}
		}
		for ; k < len(rows); k++ {
			rr := a[rows[k]*n : rows[k]*n+len(rc)]
			l := rr[c]
			rr[c] = 0
			for j := range rr {
				rr[j] -= l * rc[j]
			}
		}
	}
	for c := n - 1; c >= 0; c-- {
		if p := piv[c]; p != c {
			for r := 0; r < n; r++ {
				row := a[r*n : (r+1)*n]
				row[c], row[p] = row[p], row[c]
			}
		}
	}
	return nil
}

// TestInvertMatchesSequential checks that invert, two pivots per pass,
// gives the same bits as one pivot at a time, on random matrices with
// zeros (the skipped rows) and singular ones.
func TestInvertMatchesSequential(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 500; it++ {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 9, 18, 19} {
			a := make([]float64, n*n)
			for i := range a {
				a[i] = r.Float64() - 0.5
				if r.IntN(3) == 0 {
					a[i] = 0
				}
			}
			x := append([]float64(nil), a...)
			y := append([]float64(nil), a...)
			px, py := make([]int, n), make([]int, n)
			ex := invertSequential(x, px, n)
			ey := invert(y, py, n)
			if (ex == nil) != (ey == nil) {
				t.Fatalf("n %d: errors %v and %v", n, ex, ey)
			}
			for i := range x {
				if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
					t.Fatalf("n %d: element %d is %v, one pivot at a time %v", n, i, y[i], x[i])
				}
			}
		}
	}
}
