package supply

// The actions of a Controller beyond activating standby arcs (hook.go):
// change a node's cover days or the allocation rule, start a demand
// substitution (another grade), apply for export licences ahead of need,
// start a capacity build.
// Each changes only the run under way: reset puts the scenario's values
// back, so a Sim runs the next replication as compiled.

// actState is what a Controller changed in one run.
type actState struct {
	levelS   []float64 // order-up-to per group: the model's until a change (then own)
	own      []float64 // the workspace's copy of levelS once changed
	priority bool      // allocation: priority (else proportional)
	substs   []csubst  // the scenario's substitutions, then those a Controller started
	refused  []int     // per control: licence applications refused so far
	builds   []cbuild  // builds a Controller started (added to the scenario's)
}

func (s *actState) reset(m *model) {
	s.levelS = m.levelS
	s.priority = m.priority
	s.substs = append(s.substs[:0], m.substs...)
	s.builds = s.builds[:0]
	if s.refused == nil {
		s.refused = make([]int, len(m.controls))
	}
	clear(s.refused)
}

// SetCoverDays sets the order-up-to level of node i's inputs to days of
// its steady throughput from today on (as a policy's cover_days; an (s,S)
// policy keeps its reorder point). It returns false for a bad node or a
// negative or non-finite days.
func (d Day) SetCoverDays(i int, days float64) bool {
	m := d.w.m
	if i < 0 || i >= m.n || days < 0 || !finite(days) {
		return false
	}
	s := &d.w.act
	if len(s.levelS) > 0 && len(m.levelS) > 0 && &s.levelS[0] == &m.levelS[0] {
		s.own = append(s.own[:0], m.levelS...)
		s.levelS = s.own
	}
	for _, g := range m.nodeGrp[i] {
		s.levelS[g] = days * m.through[g]
	}
	return true
}

// SetAllocation sets the allocation rule from today on: priority (external
// demand first, then arcs in file order) or proportional.
func (d Day) SetAllocation(priority bool) { d.w.act.priority = priority }

// Substitute starts a demand substitution at node i from today on, as a
// scenario's substitutions do: the substituted share grows by ratePerYear
// per year up to maxShare. It returns false for a bad node or shares
// outside [0, 1].
func (d Day) Substitute(i int, ratePerYear, maxShare float64) bool {
	if i < 0 || i >= d.w.m.n || !(ratePerYear >= 0 && ratePerYear <= 1) || !(maxShare >= 0 && maxShare <= 1) {
		return false
	}
	d.w.act.substs = append(d.w.act.substs, csubst{node: i, from: d.d, rate: ratePerYear / 365, maxShare: maxShare})
	return true
}

// ApplyLicences applies today for a licence on every lane of export
// control c (in file order) that has none and no application pending,
// whether or not the control is in force yet: the review runs from today.
// It returns the number of applications, or −1 when c is not a licence
// control.
func (d Day) ApplyLicences(c int) int {
	m := d.w.m
	if c < 0 || c >= len(m.controls) || m.controls[c].mode != 0 {
		return -1
	}
	ctl := &m.controls[c]
	n := 0
	for _, a := range ctl.arcs {
		li := c*m.na + a
		if d.w.licState[li] == 0 {
			d.w.licState[li] = 1
			d.w.licDay[li] = d.d + ctl.review
			n++
		}
	}
	return n
}

// LicencesRefused is the number of licence applications under control c
// refused so far in this run.
func (d Day) LicencesRefused(c int) int {
	if c < 0 || c >= len(d.w.act.refused) {
		return 0
	}
	return d.w.act.refused[c]
}

// IsLicenceControl reports whether control c (in file order) is a licence
// control (mode licence).
func (s *Sim) IsLicenceControl(c int) bool {
	return c >= 0 && c < len(s.m.controls) && s.m.controls[c].mode == 0
}

// StartBuild starts a capacity build at node i during the run: from day
// online (an index, today or later) the node's capacity grows by
// addPerPeriod, linearly over rampDays (at once when 0), exactly as a
// scenario's Build with that online date. Unlike a scenario's build it
// does not raise the node's steady throughput that the inventory levels
// are sized on (those were set before the decision). It returns false for
// a bad node, a day before today, a negative ramp or a capacity that is
// not a finite number > 0.
func (d Day) StartBuild(i, online int, addPerPeriod float64, rampDays int) bool {
	if i < 0 || i >= d.w.m.n || online < d.d || rampDays < 0 || !(addPerPeriod > 0) || !finite(addPerPeriod) {
		return false
	}
	d.w.act.builds = append(d.w.act.builds, cbuild{node: i, online: online, ramp: rampDays, add: addPerPeriod})
	return true
}

// addBuilds adds to capE, today's capacities before the shocks' factors,
// what the builds a Controller started add on day d (the ramp of
// updateCapacity).
func (s *actState) addBuilds(d int, capE []float64) {
	for k := range s.builds {
		b := &s.builds[k]
		if d >= b.online {
			f := 1.0
			if b.ramp > 0 {
				f = min(1, float64(d-b.online+1)/float64(b.ramp))
			}
			capE[b.node] += b.add * f
		}
	}
}

// Onset is the day of the last run's first disruption: the earliest
// start of a scenario shock, a sampled random shock or an export control
// taking effect (−1: none). With FirstStockout it gives the empirical time
// to survive of MCResult's tts_days: FirstStockout(i) − Onset().
func (s *Sim) Onset() int {
	if s.w.firstOnset == never {
		return -1
	}
	return s.w.firstOnset
}

// FirstStockout is node i's first stockout day in the last run (−1: none,
// or a bad node).
func (s *Sim) FirstStockout(i int) int {
	if i < 0 || i >= len(s.w.firstSO) {
		return -1
	}
	return s.w.firstSO[i]
}
