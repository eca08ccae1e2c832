package precip

import (
	"fmt"
	"math"

	"lodestone/process/chem"
)

// gasConstant is the molar gas constant, J/(mol·K) (CODATA 2018, exact).
const gasConstant = 8.314462618

// kspMetal is a metal in the Ksp solve: total concentration (mol/L), the
// natural log of its Ksp at the operating temperature and its formula unit
// counts.
type kspMetal struct {
	m      *metal
	total  float64
	lnKsp  float64
	nMetal float64
	nOx    float64
}

// dissolved returns the saturated metal concentration at free oxalate
// exp(lx), capped at the total.
func (k *kspMetal) dissolved(lx float64) float64 {
	c := math.Exp((k.lnKsp - k.nOx*lx) / k.nMetal)
	return math.Min(c, k.total)
}

// solveKsp sets the conversion of every metal from the solubility products
// and returns the outlet pH. See the package documentation for the model.
func solveKsp(s *Spec, metals []*metal, oxIn, hIn float64, w weights) (float64, error) {
	F := s.FlowLPerH
	pKa1, pKa2 := s.Ksp.PKa1, s.Ksp.PKa2
	if pKa1 == 0 {
		pKa1 = DefaultPKa1
	}
	if pKa2 == 0 {
		pKa2 = DefaultPKa2
	}
	k1, k2 := math.Pow(10, -pKa1), math.Pow(10, -pKa2)
	kHSO4 := math.Pow(10, -pKaHSO4)

	ks := make([]kspMetal, 0, len(metals))
	for _, m := range metals {
		p, ok := s.Ksp.Elements[m.sym]
		if !ok {
			return 0, specErr("ksp.elements."+m.sym, "no solubility product for %s; give log10_Ksp and its source", m.sym)
		}
		tRef := p.TRef
		if tRef == 0 {
			tRef = 298.15
		}
		// van 't Hoff: ln K(T) = ln K(Tref) − ΔH/R·(1/T − 1/Tref).
		lnK := p.Log10Ksp*math.Ln10 - p.DeltaH/gasConstant*(1/s.Temperature-1/tRef)
		ks = append(ks, kspMetal{m: m, lnKsp: lnK, nMetal: float64(m.ox.Metal), nOx: float64(m.ox.Oxalate)})
	}
	if F == 0 {
		return 0, nil
	}
	for i := range ks {
		ks[i].total = ks[i].m.nIn / F
	}
	hso4MW, err := w.formula(chem.Formula{"H": 1, "S": 1, "O": 4})
	if err != nil {
		return 0, fmt.Errorf("precip: %w", err)
	}
	so4MW, err := w.formula(chem.Formula{"S": 1, "O": 4})
	if err != nil {
		return 0, fmt.Errorf("precip: %w", err)
	}
	hso4 := s.MgPerL["HSO4"] / 1000 / hso4MW
	sTot := hso4 + s.MgPerL["SO4"]/1000/so4MW
	oxT := oxIn / F
	hT := hIn/F + hso4 + 2*oxT

	// freeOx solves the total oxalate balance at free H⁺ h and returns the
	// log of the free C2O4²⁻ concentration (−Inf when there is none).
	freeOx := func(h float64) float64 {
		if oxT <= 0 {
			return math.Inf(-1)
		}
		alpha := 1 + h/k2 + h*h/(k1*k2)
		f := func(lx float64) float64 {
			sum := alpha * math.Exp(lx)
			for i := range ks {
				k := &ks[i]
				sum += k.nOx / k.nMetal * (k.total - k.dissolved(lx))
			}
			return sum - oxT
		}
		hi := math.Log(oxT / alpha)
		return bisect(f, hi-120, hi)
	}
	if hT <= 0 {
		return 0, nil
	}
	g := func(lh float64) float64 {
		h := math.Exp(lh)
		bound := 0.0
		if lx := freeOx(h); !math.IsInf(lx, -1) {
			bound = math.Exp(lx) * (h/k2 + 2*h*h/(k1*k2))
		}
		return h + sTot*h/(h+kHSO4) + bound - hT
	}
	lh := bisect(g, math.Log(hT)-120, math.Log(hT))
	h := math.Exp(lh)
	lx := freeOx(h)
	for i := range ks {
		k := &ks[i]
		if k.total == 0 || math.IsInf(lx, -1) {
			k.m.conv = 0
			continue
		}
		k.m.conv = (k.total - k.dissolved(lx)) / k.total
	}
	return -math.Log10(h), nil
}

// bisect finds a root of the increasing function f in [lo, hi]; if f does
// not change sign it returns the end nearer the root. It runs the Illinois
// variant of regula falsi, which keeps the bracket (so it cannot diverge)
// and converges superlinearly; a plain bisection step is taken whenever the
// bracket fails to shrink by half, which bounds the work by that of
// bisection.
func bisect(f func(float64) float64, lo, hi float64) float64 {
	flo, fhi := f(lo), f(hi)
	if flo >= 0 {
		return lo
	}
	if fhi <= 0 {
		return hi
	}
	side := 0
	for range 200 {
		width := hi - lo
		if width <= 1e-14*math.Max(1, math.Abs(lo)+math.Abs(hi)) {
			break
		}
		x := (lo*fhi - hi*flo) / (fhi - flo)
		if !(x > lo && x < hi) {
			x = 0.5 * (lo + hi)
		}
		fx := f(x)
		switch {
		case fx == 0:
			return x
		case fx < 0:
			lo, flo = x, fx
			if side == -1 {
				fhi /= 2
			}
			side = -1
		default:
			hi, fhi = x, fx
			if side == 1 {
				flo /= 2
			}
			side = 1
		}
		if hi-lo > 0.5*width {
			// Slow progress: bisect once.
			mid := 0.5 * (lo + hi)
			fm := f(mid)
			if fm < 0 {
				lo, flo = mid, fm
			} else {
				hi, fhi = mid, fm
			}
			side = 0
		}
	}
	return 0.5 * (lo + hi)
}
