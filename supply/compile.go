package supply

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// model is a compiled, immutable scenario shared by all runs.
type model struct {
	start time.Time
	days  int
	n     int // nodes
	na    int // arcs
	ids   []NodeID

	capacity, inv0, demand []float64
	stockpile              []bool // stage "stockpile": a last-resort source
	releaseDate            []bool // stockpile released by date (else on shortfall)
	releaseFrom            []int
	releasePerDay          []float64
	hasInputs              []bool

	from, to  []int
	ratio     []float64
	invRatio  []float64
	lead      []int
	arcGroup  []int
	outArcs   [][]int
	ringLen   int
	groupNode []int
	groupArcs [][]int
	nodeGrp   [][]int
	levelS    []float64 // order-up-to per group, output-equivalent units
	levelR    []float64 // reorder point per group; < 0 means base stock
	priority  bool

	shocks     []cshock
	controls   []ccontrol
	nContent   int   // controls with content scope (taint tracked)
	contentCtl []int // control index of each content-tracking index
	qualArc    []int
	quals      []Qualification
	qualArcs   []int   // arc of each qualification
	quotaOf    [][]int // per arc, the quota controls whose scope holds it
	hasQuota   bool    // some arc has a quota control
	builds     []cbuild
	substs     []csubst
	capMax     []float64 // capacity including every build, for steady throughput
	qualDay0   []int
	random     []crandom

	month      []int // month index per day
	monthLabel []string
}

type cshock struct {
	kind     int8 // 0 outage, 1 lane, 2 port, 3 surge
	node     int
	arc      int
	from, to int
	factor   float64
	delay    int
}

type cbuild struct {
	node, online, ramp int
	add                float64
}

type csubst struct {
	node, from     int
	rate, maxShare float64 // per day, share
}

type crandom struct {
	nodes          []int
	p, median, sig float64
	factor         float64
}

type ccontrol struct {
	mode               int8 // 0 licence, 1 ban, 2 quota
	origin, content    bool
	threshold          float64
	effective          int
	suspended, resumes int
	review             int
	approve            float64
	valid              int
	quota              float64
	quotaPeriod        int
	arcs               []int  // arcs in scope by material and destination
	byOrigin           []bool // per arcs[k]: shipper is in the issuing country
	originNode         []bool // per node: makes controlled content of the issuing country's origin
	contentIdx         int    // index among content controls, or −1
	announced          int
	name               string
}

const never = math.MaxInt32

func compile(s *SimScenario) (*model, error) {
	m := &model{}
	start, err := s.Start.parse("start")
	if err != nil {
		return nil, err
	}
	m.start = start
	if s.Days <= 0 {
		return nil, fieldErr("days", "must be > 0")
	}
	if s.Days > 366*200 {
		return nil, fieldErr("days", "must be at most %d", 366*200)
	}
	m.days = s.Days
	net := &s.Network
	if err := net.Validate(); err != nil {
		var fe *FieldError
		if ok := asFieldError(err, &fe); ok {
			return nil, &FieldError{Field: join("network", fe.Field), Msg: fe.Msg}
		}
		return nil, err
	}
	day := func(d Date, field string) (int, error) {
		t, err := d.parse(field)
		if err != nil {
			return 0, err
		}
		return int(t.Sub(start).Hours() / 24), nil
	}
	optDay := func(d Date, field string, def int) (int, error) {
		if d == "" {
			return def, nil
		}
		return day(d, field)
	}
	t := newTopology(net)
	m.n, m.na = len(net.Nodes), len(net.Arcs)
	for _, nd := range net.Nodes {
		m.ids = append(m.ids, nd.ID)
		m.capacity = append(m.capacity, nd.CapacityPerPeriod)
		m.inv0 = append(m.inv0, nd.Inventory)
		m.demand = append(m.demand, nd.DemandPerPeriod)
		m.stockpile = append(m.stockpile, nd.Stage == StageStockpile)
	}
	maxLead := 0
	arcByName := map[string]int{}
	for i, a := range net.Arcs {
		m.from = append(m.from, t.idx[a.From])
		m.to = append(m.to, t.idx[a.To])
		m.ratio = append(m.ratio, a.Ratio)
		m.invRatio = append(m.invRatio, 1/a.Ratio)
		m.lead = append(m.lead, a.LeadTimeDays)
		maxLead = max(maxLead, a.LeadTimeDays)
		for _, nm := range arcNames(a) {
			if j, dup := arcByName[nm]; dup && a.ID != "" && nm == a.ID {
				return nil, fieldErr(fmt.Sprintf("network.arcs[%d].id", i), "duplicate arc id %q (also arcs[%d])", nm, j)
			}
			if _, dup := arcByName[nm]; !dup {
				arcByName[nm] = i
			}
		}
	}
	m.outArcs = t.out
	m.arcGroup = make([]int, m.na)
	m.nodeGrp = make([][]int, m.n)
	m.hasInputs = make([]bool, m.n)
	for j := range m.n {
		for _, g := range t.groups[j] {
			gi := len(m.groupNode)
			m.groupNode = append(m.groupNode, j)
			m.groupArcs = append(m.groupArcs, g)
			m.nodeGrp[j] = append(m.nodeGrp[j], gi)
			for _, a := range g {
				m.arcGroup[a] = gi
			}
			m.hasInputs[j] = true
		}
	}
	// Policies.
	pol := s.Policies
	switch pol.Allocation {
	case "", AllocProportional:
	case AllocPriority:
		m.priority = true
	default:
		return nil, fieldErr("policies.allocation", "unknown rule %q (want proportional or priority)", pol.Allocation)
	}
	for id := range pol.Nodes {
		if _, ok := t.idx[id]; !ok {
			return nil, fieldErr("policies.nodes."+string(id), "unknown node %q", id)
		}
	}
	m.capMax = slices.Clone(m.capacity)
	for i, b := range s.Builds {
		p := describe(i, "builds")
		j, ok := t.idx[b.Node]
		if !ok {
			return nil, fieldErr(p+".node", "unknown node %q", b.Node)
		}
		if err := checkNum(p+".add_capacity_per_period", b.AddCapacityPerPeriod, false); err != nil {
			return nil, err
		}
		if b.RampDays < 0 {
			return nil, fieldErr(p+".ramp_days", "must be >= 0")
		}
		on, err := day(b.Online, p+".online")
		if err != nil {
			return nil, err
		}
		m.builds = append(m.builds, cbuild{node: j, online: on, ramp: b.RampDays, add: b.AddCapacityPerPeriod})
		m.capMax[j] += b.AddCapacityPerPeriod
	}
	for i, sb := range s.Substitutions {
		p := describe(i, "substitutions")
		j, ok := t.idx[sb.Node]
		if !ok {
			return nil, fieldErr(p+".node", "unknown node %q", sb.Node)
		}
		if err := checkNum(p+".rate_per_year", sb.RatePerYear, false); err != nil {
			return nil, err
		}
		if !finite(sb.MaxShare) || sb.MaxShare < 0 || sb.MaxShare > 1 {
			return nil, fieldErr(p+".max_share", "must be in [0, 1]")
		}
		from, err := day(sb.From, p+".from")
		if err != nil {
			return nil, err
		}
		m.substs = append(m.substs, csubst{node: j, from: from, rate: sb.RatePerYear / 365, maxShare: sb.MaxShare})
	}
	through := m.throughput(net)
	m.releaseDate = make([]bool, m.n)
	m.releaseFrom = make([]int, m.n)
	m.releasePerDay = make([]float64, m.n)
	for j, nd := range net.Nodes {
		p := Policy{}
		field := "policies.default"
		if pol.Default != nil {
			p = *pol.Default
		}
		if np, ok := pol.Nodes[nd.ID]; ok {
			p = np
			field = "policies.nodes." + string(nd.ID)
		}
		if !finite(p.CoverDays) || p.CoverDays < 0 {
			return nil, fieldErr(field+".cover_days", "must be a finite number >= 0")
		}
		if !finite(p.ReorderDays) || p.ReorderDays < 0 {
			return nil, fieldErr(field+".reorder_days", "must be a finite number >= 0")
		}
		if !finite(p.ReleasePerDay) || p.ReleasePerDay < 0 {
			return nil, fieldErr(field+".release_per_day", "must be a finite number >= 0")
		}
		switch p.Type {
		case "", "base_stock", "ss":
		default:
			return nil, fieldErr(field+".type", "unknown policy %q (want base_stock or ss)", p.Type)
		}
		switch p.Release {
		case "", "shortfall":
		case "date":
			m.releaseDate[j] = true
			d, err := day(p.ReleaseFrom, field+".release_from")
			if err != nil {
				return nil, err
			}
			m.releaseFrom[j] = d
		default:
			return nil, fieldErr(field+".release", "unknown release rule %q (want shortfall or date)", p.Release)
		}
		m.releasePerDay[j] = p.ReleasePerDay
		for _, g := range m.nodeGrp[j] {
			lmax := 0
			for _, a := range m.groupArcs[g] {
				lmax = max(lmax, m.lead[a])
			}
			cover := p.CoverDays
			if cover == 0 {
				cover = float64(max(lmax, 1)) + 14
			}
			m.levelS = append(m.levelS, cover*through[j])
			r := -1.0
			if p.Type == "ss" {
				if p.ReorderDays > cover {
					return nil, fieldErr(field+".reorder_days", "must not exceed cover_days")
				}
				r = p.ReorderDays * through[j]
			}
			m.levelR = append(m.levelR, r)
		}
	}
	// Shocks.
	maxDelay := 0
	for i, sh := range s.Shocks {
		p := describe(i, "shocks")
		c := cshock{node: -1, arc: -1, factor: sh.CapacityFactor, delay: sh.DelayDays}
		switch {
		case sh.Node != "" && sh.Arc != "":
			return nil, fieldErr(p+".arc", "give either node or arc, not both")
		case sh.Node != "":
			j, ok := t.idx[sh.Node]
			if !ok {
				return nil, fieldErr(p+".node", "unknown node %q", sh.Node)
			}
			c.node = j
		case sh.Arc != "":
			a, ok := arcByName[sh.Arc]
			if !ok {
				return nil, fieldErr(p+".arc", "unknown arc %q", sh.Arc)
			}
			c.arc = a
		default:
			return nil, fieldErr(p+".node", "required (or arc)")
		}
		kind := sh.Kind
		if kind == "" {
			kind = ShockOutage
			if c.arc >= 0 {
				kind = ShockLaneClosure
			}
		}
		switch kind {
		case ShockOutage:
			c.kind = 0
		case ShockLaneClosure:
			c.kind = 1
		case ShockPortDelay:
			c.kind = 2
		case ShockDemandSurge:
			c.kind = 3
			c.factor = sh.DemandFactor
		default:
			return nil, fieldErr(p+".kind", "unknown kind %q", kind)
		}
		if (c.kind == 0 || c.kind == 3) && c.node < 0 {
			return nil, fieldErr(p+".node", "required for %s", kind)
		}
		if (c.kind == 1 || c.kind == 2) && c.arc < 0 {
			return nil, fieldErr(p+".arc", "required for %s", kind)
		}
		if !finite(sh.CapacityFactor) || sh.CapacityFactor < 0 || sh.CapacityFactor > 1 {
			return nil, fieldErr(p+".capacity_factor", "must be in [0, 1]")
		}
		if !finite(sh.DemandFactor) || sh.DemandFactor < 0 {
			return nil, fieldErr(p+".demand_factor", "must be a finite number >= 0")
		}
		if sh.DelayDays < 0 {
			return nil, fieldErr(p+".delay_days", "must be >= 0")
		}
		maxDelay = max(maxDelay, sh.DelayDays)
		if c.from, err = day(sh.From, p+".from"); err != nil {
			return nil, err
		}
		if c.to, err = day(sh.To, p+".to"); err != nil {
			return nil, err
		}
		if c.to < c.from {
			return nil, fieldErr(p+".to", "date %s is before from %s", sh.To, sh.From)
		}
		m.shocks = append(m.shocks, c)
	}
	m.ringLen = maxLead + maxDelay + 2
	for i, r := range s.RandomShocks {
		p := describe(i, "random_shocks")
		c := crandom{p: r.ProbPerDay, median: r.DurationDays, sig: r.DurationSigma, factor: r.CapacityFactor}
		if len(r.Nodes) == 0 {
			return nil, fieldErr(p+".nodes", "must name at least one node")
		}
		for k, id := range r.Nodes {
			j, ok := t.idx[id]
			if !ok {
				return nil, fieldErr(fmt.Sprintf("%s.nodes[%d]", p, k), "unknown node %q", id)
			}
			c.nodes = append(c.nodes, j)
		}
		if !finite(c.p) || c.p < 0 || c.p > 1 {
			return nil, fieldErr(p+".prob_per_day", "must be in [0, 1]")
		}
		if !finite(c.median) || c.median < 1 {
			return nil, fieldErr(p+".duration_days", "must be >= 1")
		}
		if !finite(c.sig) || c.sig < 0 {
			return nil, fieldErr(p+".duration_sigma", "must be >= 0")
		}
		if !finite(c.factor) || c.factor < 0 || c.factor > 1 {
			return nil, fieldErr(p+".capacity_factor", "must be in [0, 1]")
		}
		m.random = append(m.random, c)
	}
	// Controls.
	for i, raw := range s.Controls {
		p := describe(i, "controls")
		ctl, err := raw.resolve(p)
		if err != nil {
			return nil, err
		}
		c := ccontrol{contentIdx: -1, name: ctl.Name, threshold: ctl.ContentThreshold,
			review: ctl.ReviewDays, approve: ctl.ApprovalProbability, valid: ctl.LicenceValidDays,
			quota: ctl.QuotaUnits, quotaPeriod: ctl.QuotaPeriodDays}
		if ctl.Country == "" {
			return nil, fieldErr(p+".country", "required")
		}
		switch ctl.Mode {
		case ControlLicence:
			c.mode = 0
			if ctl.ApprovalProbability < 0 || ctl.ApprovalProbability > 1 || !finite(ctl.ApprovalProbability) {
				return nil, fieldErr(p+".approval_probability", "must be in [0, 1]")
			}
			if ctl.ReviewDays < 0 {
				return nil, fieldErr(p+".review_days", "must be >= 0")
			}
		case ControlBan:
			c.mode = 1
		case ControlQuota:
			c.mode = 2
			if !finite(ctl.QuotaUnits) || ctl.QuotaUnits < 0 {
				return nil, fieldErr(p+".quota_units", "must be a finite number >= 0")
			}
			if c.quotaPeriod == 0 {
				c.quotaPeriod = 365
			}
		case "":
			return nil, fieldErr(p+".mode", "required")
		default:
			return nil, fieldErr(p+".mode", "unknown mode %q (want licence, ban or quota)", ctl.Mode)
		}
		if ctl.LicenceValidDays < 0 {
			return nil, fieldErr(p+".licence_valid_days", "must be >= 0")
		}
		if c.quotaPeriod < 0 {
			return nil, fieldErr(p+".quota_period_days", "must be >= 0")
		}
		switch ctl.Scope {
		case "", ScopeOrigin:
			c.origin = true
		case ScopeContent:
			c.content = true
		case ScopeBoth:
			c.origin, c.content = true, true
		default:
			return nil, fieldErr(p+".scope", "unknown scope %q (want origin, content or both)", ctl.Scope)
		}
		if !finite(ctl.ContentThreshold) || ctl.ContentThreshold < 0 || ctl.ContentThreshold > 1 {
			return nil, fieldErr(p+".content_threshold", "must be in [0, 1]")
		}
		if ctl.Effective == "" {
			return nil, fieldErr(p+".effective", "required")
		}
		if c.effective, err = day(ctl.Effective, p+".effective"); err != nil {
			return nil, err
		}
		if c.announced, err = optDay(ctl.Announced, p+".announced", c.effective); err != nil {
			return nil, err
		}
		if c.announced > c.effective {
			return nil, fieldErr(p+".effective", "date %s is before announced %s", ctl.Effective, ctl.Announced)
		}
		if c.suspended, err = optDay(ctl.Suspended, p+".suspended", never); err != nil {
			return nil, err
		}
		if c.resumes, err = optDay(ctl.Resumes, p+".resumes", never); err != nil {
			return nil, err
		}
		if ctl.Resumes != "" && ctl.Suspended == "" {
			return nil, fieldErr(p+".suspended", "required when resumes is set")
		}
		if c.resumes < c.suspended {
			return nil, fieldErr(p+".resumes", "date %s is before suspended %s", ctl.Resumes, ctl.Suspended)
		}
		inScope := func(mat string) bool {
			if len(ctl.Elements) == 0 {
				return true
			}
			toks := materialTokens(mat)
			for _, e := range ctl.Elements {
				if slices.Contains(toks, strings.ToLower(e)) {
					return true
				}
			}
			return false
		}
		c.originNode = make([]bool, m.n)
		for a, arc := range net.Arcs {
			f, to := m.from[a], m.to[a]
			if !inScope(arc.Material) {
				continue
			}
			if net.Nodes[f].Country == ctl.Country {
				c.originNode[f] = true
			}
			dest := net.Nodes[to].Country
			if dest == ctl.Country || (len(ctl.Destinations) > 0 && !slices.Contains(ctl.Destinations, dest)) {
				continue
			}
			origin := net.Nodes[f].Country == ctl.Country
			if origin && !c.origin || !origin && !c.content {
				continue
			}
			c.arcs = append(c.arcs, a)
			c.byOrigin = append(c.byOrigin, origin)
		}
		if c.content {
			c.contentIdx = m.nContent
			m.nContent++
			m.contentCtl = append(m.contentCtl, len(m.controls))
		}
		m.controls = append(m.controls, c)
	}
	m.quotaOf = make([][]int, m.na)
	for c, ctl := range m.controls {
		if ctl.mode == 2 {
			for _, a := range ctl.arcs {
				m.quotaOf[a] = append(m.quotaOf[a], c)
				m.hasQuota = true
			}
		}
	}
	// Qualifications.
	m.qualArc = make([]int, m.na)
	for a := range m.qualArc {
		m.qualArc[a] = -1
	}
	for i, q := range s.Qualifications {
		p := describe(i, "qualifications")
		a, ok := arcByName[q.Arc]
		if !ok {
			return nil, fieldErr(p+".arc", "unknown arc %q", q.Arc)
		}
		if m.qualArc[a] >= 0 {
			return nil, fieldErr(p+".arc", "arc %q already has a qualification", q.Arc)
		}
		for _, f := range []struct {
			n string
			v int
		}{{"screening_days", q.ScreeningDays}, {"samples_days", q.SamplesDays}, {"audit_days", q.AuditDays}, {"ramp_days", q.RampDays}} {
			if f.v < 0 {
				return nil, fieldErr(p+"."+f.n, "must be >= 0")
			}
		}
		d0, err := day(q.Start, p+".start")
		if err != nil {
			return nil, err
		}
		m.qualArc[a] = len(m.quals)
		m.qualArcs = append(m.qualArcs, a)
		m.quals = append(m.quals, q)
		m.qualDay0 = append(m.qualDay0, d0)
	}
	// Calendar.
	m.month = make([]int, m.days)
	for d := range m.days {
		dt := start.AddDate(0, 0, d)
		lbl := dt.Format("2006-01")
		if len(m.monthLabel) == 0 || m.monthLabel[len(m.monthLabel)-1] != lbl {
			m.monthLabel = append(m.monthLabel, lbl)
		}
		m.month[d] = len(m.monthLabel) - 1
	}
	return m, nil
}

// throughput estimates each node's steady output per day: its own demand
// plus what its customers draw at their throughput, shared among alternative
// sources by capacity, capped by its capacity (a few sweeps suffice for an
// acyclic network; cycles converge or stop after n sweeps).
func (m *model) throughput(net *Network) []float64 {
	need := make([]float64, m.n)
	for sweep := 0; sweep <= m.n; sweep++ {
		changed := false
		for j := range m.n {
			v := m.demand[j]
			for _, a := range m.outArcs[j] {
				if m.stockpile[j] {
					continue
				}
				k := m.to[a]
				g := m.groupArcs[m.arcGroup[a]]
				tot := 0.0
				for _, b := range g {
					if !m.stockpile[m.from[b]] {
						tot += m.capMax[m.from[b]]
					}
				}
				share := 0.0
				if tot > 0 {
					share = m.capMax[j] / tot
				}
				v += need[k] * m.ratio[a] * share
			}
			if m.hasInputs[j] || m.capMax[j] > 0 {
				v = min(v, m.capMax[j])
			}
			if math.Abs(v-need[j]) > 1e-12*max(1, v) {
				changed = true
			}
			need[j] = v
		}
		if !changed {
			break
		}
	}
	_ = net
	return need
}

func asFieldError(err error, fe **FieldError) bool {
	e, ok := err.(*FieldError)
	if ok {
		*fe = e
	}
	return ok
}
