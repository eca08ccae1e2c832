package sx

import (
	"context"
	"fmt"
	"math"
)

// Circuit is a set of sections (cascades: extraction, scrub, strip) joined
// by streams, such as loaded organic from extraction to strip and stripped
// organic recycled to extraction. Every section has the same components.
type Circuit struct {
	Sections []Section
	Links    []Link
}

// Section is one cascade of a circuit. Its Problem holds the section's
// fresh inlets; the links add the others.
type Section struct {
	Name    string
	Problem Problem
}

// Link sends a fraction of an outlet of one section to a stage of another.
// The outlet is the raffinate (Phase Aqueous, leaving stage 1) or the
// extract (Phase Organic, leaving stage N); what is not linked leaves the
// circuit (a bleed or purge).
type Link struct {
	From     int     // index of the source section
	Phase    Phase   // which outlet of From
	To       int     // index of the receiving section
	Stage    int     // inlet stage in To
	Fraction float64 // of the outlet flow; 0 means 1
}

// CircuitSettings are the knobs of SolveCircuit; nil means the defaults.
type CircuitSettings struct {
	MaxIterations int       // tear-stream iterations; 0 means 500
	Tolerance     float64   // largest relative change of a tear stream; 0 means 1e-12
	Section       *Settings // settings of each section solve
}

// CircuitResult is the steady state of a circuit.
type CircuitResult struct {
	Status     Status
	Iterations int       // tear-stream iterations
	TearChange float64   // last largest relative change of a tear stream
	Sections   []*Result // per section, in Circuit order
	In         []float64 // mol/h of each component fed to the circuit
	Out        []float64 // mol/h leaving the circuit (unlinked outlet fractions)
	Closure    []float64 // |in − out|/in per component
	// MakeUp is the extractant fed on fresh organic inlets and Purge the
	// extractant leaving in unlinked organic outlets, mol/h of HA.
	MakeUp, Purge float64
}

// SolveCircuit computes the steady state of a circuit. Flows are solved
// first, exactly, as a linear system (each outlet carries the sum of its
// section's inlets of that phase). Compositions are then found by
// successive substitution on the linked (tear) streams: the sections are
// solved in order with the current link compositions until no link stream
// changes by more than the tolerance. A circuit that does not settle
// returns its last state and a *ConvergenceError.
func SolveCircuit(ctx context.Context, c Circuit, s *CircuitSettings) (*CircuitResult, error) {
	set := CircuitSettings{MaxIterations: 500, Tolerance: 1e-12}
	if s != nil {
		if s.MaxIterations > 0 {
			set.MaxIterations = s.MaxIterations
		}
		if s.Tolerance > 0 {
			set.Tolerance = s.Tolerance
		}
		set.Section = s.Section
	}
	S := len(c.Sections)
	if S == 0 {
		return nil, fmt.Errorf("sx: circuit: no sections")
	}
	outFrac, err := c.check()
	if err != nil {
		return nil, err
	}
	flow, err := c.flows()
	if err != nil {
		return nil, err
	}
	comps := c.Sections[0].Problem.Components
	linkIn := c.linkInlets(flow)
	res := &CircuitResult{Sections: make([]*Result, S)}
	probs := make([]Problem, S)
	for si, sec := range c.Sections {
		probs[si] = sec.Problem
		probs[si].Inlets = append([]Inlet(nil), sec.Problem.Inlets...)
		for i, l := range c.Links {
			if l.To == si {
				probs[si].Inlets = append(probs[si].Inlets, linkIn[i])
			}
		}
	}
	feed := make([]float64, len(comps))
	for _, sec := range c.Sections {
		for _, in := range sec.Problem.Inlets {
			for j, x := range in.Conc {
				feed[j] += in.Flow * x
			}
		}
	}
	status := IterationLimit
	for it := 0; it < set.MaxIterations; it++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for si := range c.Sections {
			// Refresh the linked inlets of this section.
			k := len(c.Sections[si].Problem.Inlets)
			for i, l := range c.Links {
				if l.To == si {
					probs[si].Inlets[k] = linkIn[i]
					k++
				}
			}
			r, err := Solve(ctx, probs[si], set.Section)
			if err != nil {
				res.Sections[si] = r
				return res, fmt.Errorf("sx: circuit: section %d (%s): %w", si, c.Sections[si].Name, err)
			}
			res.Sections[si] = r
			// Update the links leaving this section (Gauss–Seidel).
			c.updateLinks(si, r, linkIn, feed, res)
		}
		res.Iterations = it + 1
		if res.TearChange <= set.Tolerance && it > 0 {
			status = Converged
			break
		}
		res.TearChange = 0
	}
	res.Status = status
	res.balance(c, outFrac)
	if status != Converged {
		return res, &ConvergenceError{Status: status, Iter: res.Iterations, Residual: res.TearChange, Reason: "tear streams did not settle"}
	}
	return res, nil
}

// check checks that the sections share their components and that the links
// are in range, and returns the linked fraction of each outlet, per section
// [aqueous, organic].
func (c Circuit) check() ([][2]float64, error) {
	S := len(c.Sections)
	comps := c.Sections[0].Problem.Components
	for i, sec := range c.Sections {
		if len(sec.Problem.Components) != len(comps) {
			return nil, fmt.Errorf("sx: circuit: sections[%d].components: %d components, section 0 has %d", i, len(sec.Problem.Components), len(comps))
		}
		for j, cp := range sec.Problem.Components {
			if cp.Name != comps[j].Name {
				return nil, fmt.Errorf("sx: circuit: sections[%d].components[%d]: %q, section 0 has %q", i, j, cp.Name, comps[j].Name)
			}
		}
	}
	outFrac := make([][2]float64, S) // linked fraction of each outlet
	for i, l := range c.Links {
		f := fmt.Sprintf("links[%d]", i)
		if l.From < 0 || l.From >= S {
			return nil, fmt.Errorf("sx: circuit: %s.from: %d is out of range 0..%d", f, l.From, S-1)
		}
		if l.To < 0 || l.To >= S {
			return nil, fmt.Errorf("sx: circuit: %s.to: %d is out of range 0..%d", f, l.To, S-1)
		}
		if l.Phase != Aqueous && l.Phase != Organic {
			return nil, fmt.Errorf("sx: circuit: %s.phase: %v", f, l.Phase)
		}
		if st := c.Sections[l.To].Problem.Stages; l.Stage < 1 || l.Stage > st {
			return nil, fmt.Errorf("sx: circuit: %s.stage: %d is out of range 1..%d", f, l.Stage, st)
		}
		fr := l.frac()
		if !(fr > 0 && fr <= 1) {
			return nil, fmt.Errorf("sx: circuit: %s.fraction: %v is out of range (0, 1]", f, l.Fraction)
		}
		outFrac[l.From][l.Phase-1] += fr
		if outFrac[l.From][l.Phase-1] > 1+1e-12 {
			return nil, fmt.Errorf("sx: circuit: %s: the %v outlet of section %d is linked more than once in full", f, l.Phase, l.From)
		}
	}
	return outFrac, nil
}

// flows solves the flows of the circuit, 2·section + phase − 1:
// F[s][p] = fixed[s][p] + Σ links into (s,p) frac·F[from][p].
func (c Circuit) flows() ([]float64, error) {
	S := len(c.Sections)
	n := 2 * S
	m := make([]float64, n*n)
	rhs := make([]float64, n)
	for si, sec := range c.Sections {
		for _, in := range sec.Problem.Inlets {
			if in.Phase == Aqueous || in.Phase == Organic {
				rhs[2*si+int(in.Phase)-1] += in.Flow
			}
		}
	}
	for i := 0; i < n; i++ {
		m[i*n+i] = 1
	}
	for _, l := range c.Links {
		m[(2*l.To+int(l.Phase)-1)*n+2*l.From+int(l.Phase)-1] -= l.frac()
	}
	piv := make([]int, n)
	if err := invert(m, piv, n); err != nil {
		return nil, fmt.Errorf("sx: circuit: the flows have no solution (a closed loop with no purge?)")
	}
	flow := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			flow[i] += m[i*n+j] * rhs[j]
		}
	}
	return flow, nil
}

// linkInlets returns the link streams as inlets of their receiving
// sections, with the flows of the circuit and no metal.
func (c Circuit) linkInlets(flow []float64) []Inlet {
	comps := c.Sections[0].Problem.Components
	linkIn := make([]Inlet, len(c.Links))
	for i, l := range c.Links {
		linkIn[i] = Inlet{Name: fmt.Sprintf("link %d", i), Phase: l.Phase, Stage: l.Stage,
			Flow: l.frac() * flow[2*l.From+int(l.Phase)-1], Conc: make([]float64, len(comps))}
		if l.Phase == Organic {
			// Until the source is solved, assume fresh extractant of the
			// receiving section's organic inlets.
			linkIn[i].Extractant = meanExtractant(c.Sections[l.To].Problem)
		}
	}
	return linkIn
}

// updateLinks copies the outlets of section si, just solved in r, into the
// link streams leaving it, and raises res.TearChange to the largest change.
func (c Circuit) updateLinks(si int, r *Result, linkIn []Inlet, feed []float64, res *CircuitResult) {
	comps := c.Sections[0].Problem.Components
	for i, l := range c.Links {
		if l.From != si {
			continue
		}
		src := r.Raffinate
		if l.Phase == Organic {
			src = r.Extract
		}
		for j := range comps {
			// Change in mol/h relative to the circuit's feed of the
			// component: what the closure of the circuit sees.
			d := math.Abs(src.Conc[j]-linkIn[i].Conc[j]) * linkIn[i].Flow / math.Max(feed[j], 1e-300)
			res.TearChange = math.Max(res.TearChange, d)
			linkIn[i].Conc[j] = src.Conc[j]
		}
		for _, pair := range [][2]*float64{{&linkIn[i].H, &src.H}, {&linkIn[i].HSO4, &src.HSO4}, {&linkIn[i].SO4, &src.SO4}, {&linkIn[i].Extractant, &src.Extractant}} {
			res.TearChange = math.Max(res.TearChange, relChange(*pair[0], *pair[1]))
			*pair[0] = *pair[1]
		}
	}
}

// balance sets the balances of the whole circuit: metal in and out, and the
// extractant made up and purged.
func (res *CircuitResult) balance(c Circuit, outFrac [][2]float64) {
	comps := c.Sections[0].Problem.Components
	C := len(comps)
	res.In, res.Out, res.Closure = make([]float64, C), make([]float64, C), make([]float64, C)
	for si, sec := range c.Sections {
		for _, in := range sec.Problem.Inlets {
			for j, x := range in.Conc {
				res.In[j] += in.Flow * x
			}
			if in.Phase == Organic {
				res.MakeUp += in.Flow * in.Extractant
				for j, x := range in.Conc {
					res.MakeUp += sec.Problem.Model.SitesPerCharge() * float64(comps[j].Charge) * in.Flow * x
				}
			}
		}
		r := res.Sections[si]
		for p, st := range []Stream{r.Raffinate, r.Extract} {
			keep := 1 - outFrac[si][p]
			for j, x := range st.Conc {
				res.Out[j] += keep * st.Flow * x
			}
			if p == 1 {
				res.Purge += keep * st.Flow * st.Extractant
				for j, x := range st.Conc {
					res.Purge += keep * sec.Problem.Model.SitesPerCharge() * float64(comps[j].Charge) * st.Flow * x
				}
			}
		}
	}
	for j := range comps {
		if res.In[j] > 0 {
			res.Closure[j] = math.Abs(res.In[j]-res.Out[j]) / res.In[j]
		}
	}
}

func (l Link) frac() float64 {
	if l.Fraction == 0 {
		return 1
	}
	return l.Fraction
}

func relChange(old, new float64) float64 {
	d := math.Abs(new - old)
	if d == 0 {
		return 0
	}
	return d / math.Max(math.Abs(new), 1e-300)
}

func meanExtractant(p Problem) float64 {
	var f, e float64
	for _, in := range p.Inlets {
		if in.Phase == Organic {
			f += in.Flow
			e += in.Flow * in.Extractant
		}
	}
	if f == 0 {
		return 0
	}
	return e / f
}
