package dynamic

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// blockTri solves a block-tridiagonal system J·u = r with dense n×n
// blocks: diag[k] on the diagonal, lower[k] = ∂R_k/∂u_{k−1} and upper[k] =
// ∂R_k/∂u_{k+1}, by block Gaussian elimination (the block Thomas
// algorithm) with a partial-pivoting LU of each reduced diagonal block.
// The blocks are small and dense and the off-diagonal blocks dense too
// (y = D(h,f)·x couples every unknown of a neighbour), so a hand-written
// solver in preallocated buffers is simplest and does not allocate.
type blockTri struct {
	N, n               int
	diag, lower, upper []float64 // N·n·n, row-major blocks
	x                  []float64 // N·n·n: reduced diag⁻¹·upper
	v                  []float64 // N·n
	piv                []int     // N·n
	col                []float64 // n scratch
}

func newBlockTri(N, n int) *blockTri {
	return &blockTri{N: N, n: n,
		diag: make([]float64, N*n*n), lower: make([]float64, N*n*n), upper: make([]float64, N*n*n),
		x: make([]float64, N*n*n), v: make([]float64, N*n), piv: make([]int, N*n), col: make([]float64, n)}
}

// solve overwrites r with the solution and reports false when a reduced
// diagonal block is singular. It destroys diag.
func (b *blockTri) solve(r []float64) bool {
	n, nn := b.n, b.n*b.n
	for k := 0; k < b.N; k++ {
		d := b.diag[k*nn : (k+1)*nn]
		rk := r[k*n : (k+1)*n]
		if k > 0 {
			// d −= lower_k·x_{k−1};  r_k −= lower_k·v_{k−1}.
			l := b.lower[k*nn : (k+1)*nn]
			xp := b.x[(k-1)*nn : k*nn]
			vp := b.v[(k-1)*n : k*n]
			for i := 0; i < n; i++ {
				li := l[i*n : (i+1)*n]
				for j := 0; j < n; j++ {
					s := 0.0
					for m := 0; m < n; m++ {
						s += li[m] * xp[m*n+j]
					}
					d[i*n+j] -= s
				}
				s := 0.0
				for m := 0; m < n; m++ {
					s += li[m] * vp[m]
				}
				rk[i] -= s
			}
		}
		piv := b.piv[k*n : (k+1)*n]
		if !luFactor(d, piv, n) {
			return false
		}
		vk := b.v[k*n : (k+1)*n]
		copy(vk, rk)
		luSolve(d, piv, n, vk)
		if k < b.N-1 {
			// x_k = d⁻¹·upper_k, column by column.
			u := b.upper[k*nn : (k+1)*nn]
			xk := b.x[k*nn : (k+1)*nn]
			for j := 0; j < n; j++ {
				for i := 0; i < n; i++ {
					b.col[i] = u[i*n+j]
				}
				luSolve(d, piv, n, b.col)
				for i := 0; i < n; i++ {
					xk[i*n+j] = b.col[i]
				}
			}
		}
	}
	// Back substitution: u_k = v_k − x_k·u_{k+1}.
	copy(r[(b.N-1)*n:], b.v[(b.N-1)*n:])
	for k := b.N - 2; k >= 0; k-- {
		xk := b.x[k*nn : (k+1)*nn]
		un := r[(k+1)*n : (k+2)*n]
		for i := 0; i < n; i++ {
			s := b.v[k*n+i]
			for j := 0; j < n; j++ {
				s -= xk[i*n+j] * un[j]
			}
			r[k*n+i] = s
		}
	}
	return true
}

// resolve solves J·u = r in place with the factors left by the last solve
// (the lower blocks are kept, the reduced diagonal blocks hold their LU
// factors and x the reduced upper blocks).
func (b *blockTri) resolve(r []float64) {
	n, nn := b.n, b.n*b.n
	for k := 0; k < b.N; k++ {
		rk := r[k*n : (k+1)*n]
		if k > 0 {
			l := b.lower[k*nn : (k+1)*nn]
			vp := b.v[(k-1)*n : k*n]
			for i := 0; i < n; i++ {
				s := 0.0
				for m := 0; m < n; m++ {
					s += l[i*n+m] * vp[m]
				}
				rk[i] -= s
			}
		}
		vk := b.v[k*n : (k+1)*n]
		copy(vk, rk)
		luSolve(b.diag[k*nn:(k+1)*nn], b.piv[k*n:(k+1)*n], n, vk)
	}
	copy(r[(b.N-1)*n:], b.v[(b.N-1)*n:])
	for k := b.N - 2; k >= 0; k-- {
		xk := b.x[k*nn : (k+1)*nn]
		un := r[(k+1)*n : (k+2)*n]
		for i := 0; i < n; i++ {
			s := b.v[k*n+i]
			for j := 0; j < n; j++ {
				s -= xk[i*n+j] * un[j]
			}
			r[k*n+i] = s
		}
	}
}

// luFactor factors the n×n matrix a in place with partial pivoting.
func luFactor(a []float64, piv []int, n int) bool {
	for c := 0; c < n; c++ {
		p, best := c, math.Abs(a[c*n+c])
		for i := c + 1; i < n; i++ {
			if v := math.Abs(a[i*n+c]); v > best {
				p, best = i, v
			}
		}
		if best == 0 || math.IsNaN(best) {
			return false
		}
		piv[c] = p
		if p != c {
			for j := 0; j < n; j++ {
				a[c*n+j], a[p*n+j] = a[p*n+j], a[c*n+j]
			}
		}
		inv := 1 / a[c*n+c]
		for i := c + 1; i < n; i++ {
			f := a[i*n+c] * inv
			a[i*n+c] = f
			if f == 0 {
				continue
			}
			for j := c + 1; j < n; j++ {
				a[i*n+j] -= f * a[c*n+j]
			}
		}
	}
	return true
}

// luSolve solves a·x = b in place with the factors of luFactor.
func luSolve(a []float64, piv []int, n int, b []float64) {
	for c := 0; c < n; c++ {
		if p := piv[c]; p != c {
			b[c], b[p] = b[p], b[c]
		}
	}
	for i := 1; i < n; i++ {
		s := b[i]
		for j := 0; j < i; j++ {
			s -= a[i*n+j] * b[j]
		}
		b[i] = s
	}
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for j := i + 1; j < n; j++ {
			s -= a[i*n+j] * b[j]
		}
		b[i] = s / a[i*n+i]
	}
}

// resolveMany solves J·U = R in place for cols right-hand sides at once,
// with the factors left by the last solve: r is (N·n)×cols row-major.
// Every operation is a row update over the cols columns (floats.AddScaled),
// which is what makes a covariance propagation of a few hundred columns
// fast; the forward results overwrite r as they are found.
func (b *blockTri) resolveMany(r []float64, cols int) {
	n, nn := b.n, b.n*b.n
	row := func(k, i int) []float64 { return r[(k*n+i)*cols : (k*n+i+1)*cols] }
	for k := 0; k < b.N; k++ {
		if k > 0 {
			l := b.lower[k*nn : (k+1)*nn]
			for i := 0; i < n; i++ {
				ri := row(k, i)
				for m := 0; m < n; m++ {
					if a := l[i*n+m]; a != 0 {
						floats.AddScaled(ri, -a, row(k-1, m))
					}
				}
			}
		}
		a, piv := b.diag[k*nn:(k+1)*nn], b.piv[k*n:(k+1)*n]
		for c := 0; c < n; c++ {
			if p := piv[c]; p != c {
				rc, rp := row(k, c), row(k, p)
				for j := range rc {
					rc[j], rp[j] = rp[j], rc[j]
				}
			}
		}
		for i := 1; i < n; i++ {
			ri := row(k, i)
			for j := 0; j < i; j++ {
				if v := a[i*n+j]; v != 0 {
					floats.AddScaled(ri, -v, row(k, j))
				}
			}
		}
		for i := n - 1; i >= 0; i-- {
			ri := row(k, i)
			for j := i + 1; j < n; j++ {
				if v := a[i*n+j]; v != 0 {
					floats.AddScaled(ri, -v, row(k, j))
				}
			}
			floats.Scale(1/a[i*n+i], ri)
		}
	}
	for k := b.N - 2; k >= 0; k-- {
		xk := b.x[k*nn : (k+1)*nn]
		for i := 0; i < n; i++ {
			ri := row(k, i)
			for j := 0; j < n; j++ {
				if v := xk[i*n+j]; v != 0 {
					floats.AddScaled(ri, -v, row(k+1, j))
				}
			}
		}
	}
}
