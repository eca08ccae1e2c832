package supply

import (
	"fmt"
	"maps"
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
	// arcMaterial is each arc's declared material (for the run's arcs).
	arcMaterial []string

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
	through   []float64 // per group: its node's steady throughput per day (a Controller's cover days → levelS)
	inStock0  []float64 // initial input stock per group, output-equivalent units
	transit0  []float64 // initial in-transit per arc, upstream units
	backlog0  []float64 // initial open orders per arc (at rest), upstream units; nil: none
	levelR    []float64 // reorder point per group; < 0 means base stock
	priority  bool
	zero      float64 // Tolerance × the largest quantity: smaller stocks, orders and flows are 0

	shocks     []cshock
	controls   []ccontrol
	nContent   int   // controls with content scope (taint tracked)
	contentCtl []int // control index of each content-tracking index
	qualArc    []int
	standby    []int // arcs on standby (carry nothing until activated)
	quals      []Qualification
	qualArcs   []int   // arc of each qualification
	quotaOf    [][]int // per arc, the quota controls whose scope holds it
	hasQuota   bool    // some arc has a quota control
	builds     []cbuild
	substs     []csubst
	capMax     []float64 // capacity including every build, for steady throughput
	qualDay0   []int
	random     []crandom
	money      *cmoney // nil: no prices or costs

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

// compiler holds what the sections of compile share: the scenario, its
// network and topology, the model being built and the look-ups the
// sections make of each other's results.
type compiler struct {
	s         *SimScenario
	net       *Network
	t         *topology
	m         *model
	arcByName map[string]int // arc by ID or default name
	maxLead   int            // longest arc lead time, days
	maxDelay  int            // sum of the port delays of the shocks, days
}

// compile checks a scenario and builds its model. Each section reports the
// first error it finds, in the order of the scenario's fields.
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
	c := &compiler{s: s, net: net, t: newTopology(net), m: m, arcByName: map[string]int{}}
	for _, section := range []func() error{
		c.nodesAndArcs,
		c.policies,
		c.builds,
		c.substitutions,
		c.initialState,
		c.levels,
		c.shocks,
		c.randomShocks,
		c.controls,
		c.qualifications,
		c.money,
	} {
		if err := section(); err != nil {
			return nil, err
		}
	}
	c.calendar()
	return m, nil
}

// day converts a date of the scenario to a day index from its start.
func (c *compiler) day(d Date, field string) (int, error) {
	t, err := d.parse(field)
	if err != nil {
		return 0, err
	}
	return int(t.Sub(c.m.start).Hours() / 24), nil
}

// optDay is day with def for an empty date.
func (c *compiler) optDay(d Date, field string, def int) (int, error) {
	if d == "" {
		return def, nil
	}
	return c.day(d, field)
}

// nodesAndArcs copies the nodes and arcs into the model, names the arcs and
// groups each node's input arcs by material.
func (c *compiler) nodesAndArcs() error {
	m, net, t := c.m, c.net, c.t
	m.n, m.na = len(net.Nodes), len(net.Arcs)
	for _, nd := range net.Nodes {
		m.ids = append(m.ids, nd.ID)
		m.capacity = append(m.capacity, nd.CapacityPerPeriod)
		m.inv0 = append(m.inv0, nd.Inventory)
		m.demand = append(m.demand, nd.DemandPerPeriod)
		m.stockpile = append(m.stockpile, nd.Stage == StageStockpile)
	}
	for i, a := range net.Arcs {
		m.from = append(m.from, t.idx[a.From])
		m.to = append(m.to, t.idx[a.To])
		m.ratio = append(m.ratio, a.Ratio)
		m.arcMaterial = append(m.arcMaterial, a.Material)
		m.invRatio = append(m.invRatio, 1/a.Ratio)
		m.lead = append(m.lead, a.LeadTimeDays)
		c.maxLead = max(c.maxLead, a.LeadTimeDays)
		for _, nm := range arcNames(a) {
			if j, dup := c.arcByName[nm]; dup && a.ID != "" && nm == a.ID {
				return fieldErr(fmt.Sprintf("network.arcs[%d].id", i), "duplicate arc id %q (also arcs[%d])", nm, j)
			}
			if _, dup := c.arcByName[nm]; !dup {
				c.arcByName[nm] = i
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
			q := net.Nodes[j].InputInventory[net.Arcs[g[0]].material()]
			m.inStock0 = append(m.inStock0, q*m.invRatio[g[0]])
		}
	}
	for i, a := range net.Arcs {
		m.transit0 = append(m.transit0, a.InTransit)
		if a.Standby {
			m.standby = append(m.standby, i)
		}
	}
	return nil
}

// policies checks the allocation rule and the nodes the policies name.
func (c *compiler) policies() error {
	pol := c.s.Policies
	switch pol.Allocation {
	case "", AllocProportional:
	case AllocPriority:
		c.m.priority = true
	default:
		return fieldErr("policies.allocation", "unknown rule %q (want proportional or priority)", pol.Allocation)
	}
	// Sorted, not map order: of several unknown nodes the same is reported
	// every time.
	for _, id := range slices.Sorted(maps.Keys(pol.Nodes)) {
		if _, ok := c.t.idx[id]; !ok {
			return fieldErr("policies.nodes."+string(id), "unknown node %q", id)
		}
	}
	return nil
}

// builds compiles the capacity builds; capMax includes every one.
func (c *compiler) builds() error {
	m := c.m
	m.capMax = slices.Clone(m.capacity)
	for i, b := range c.s.Builds {
		p := describe(i, "builds")
		j, ok := c.t.idx[b.Node]
		if !ok {
			return fieldErr(p+".node", "unknown node %q", b.Node)
		}
		if err := checkNum(p+".add_capacity_per_period", b.AddCapacityPerPeriod, false); err != nil {
			return err
		}
		if b.RampDays < 0 {
			return fieldErr(p+".ramp_days", "must be >= 0")
		}
		on, err := c.day(b.Online, p+".online")
		if err != nil {
			return err
		}
		m.builds = append(m.builds, cbuild{node: j, online: on, ramp: b.RampDays, add: b.AddCapacityPerPeriod})
		m.capMax[j] += b.AddCapacityPerPeriod
	}
	return nil
}

// substitutions compiles the demand substitutions.
func (c *compiler) substitutions() error {
	for i, sb := range c.s.Substitutions {
		p := describe(i, "substitutions")
		j, ok := c.t.idx[sb.Node]
		if !ok {
			return fieldErr(p+".node", "unknown node %q", sb.Node)
		}
		if err := checkNum(p+".rate_per_year", sb.RatePerYear, false); err != nil {
			return err
		}
		if !finite(sb.MaxShare) || sb.MaxShare < 0 || sb.MaxShare > 1 {
			return fieldErr(p+".max_share", "must be in [0, 1]")
		}
		from, err := c.day(sb.From, p+".from")
		if err != nil {
			return err
		}
		c.m.substs = append(c.m.substs, csubst{node: j, from: from, rate: sb.RatePerYear / 365, maxShare: sb.MaxShare})
	}
	return nil
}

// levels applies each node's inventory policy (its own or the default):
// the stockpile release rule and the order-up-to and reorder levels of each
// input group, sized on the node's steady throughput.
func (c *compiler) levels() error {
	m, pol := c.m, c.s.Policies
	through := m.throughput(c.net)
	m.zero = Tolerance * m.quantityScale()
	m.releaseDate = make([]bool, m.n)
	m.releaseFrom = make([]int, m.n)
	m.releasePerDay = make([]float64, m.n)
	for j, nd := range c.net.Nodes {
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
			return fieldErr(field+".cover_days", "must be a finite number >= 0")
		}
		if !finite(p.ReorderDays) || p.ReorderDays < 0 {
			return fieldErr(field+".reorder_days", "must be a finite number >= 0")
		}
		if !finite(p.ReleasePerDay) || p.ReleasePerDay < 0 {
			return fieldErr(field+".release_per_day", "must be a finite number >= 0")
		}
		switch p.Type {
		case "", "base_stock", "ss":
		default:
			return fieldErr(field+".type", "unknown policy %q (want base_stock or ss)", p.Type)
		}
		switch p.Release {
		case "", "shortfall":
		case "date":
			m.releaseDate[j] = true
			d, err := c.day(p.ReleaseFrom, field+".release_from")
			if err != nil {
				return err
			}
			m.releaseFrom[j] = d
		default:
			return fieldErr(field+".release", "unknown release rule %q (want shortfall or date)", p.Release)
		}
		m.releasePerDay[j] = p.ReleasePerDay
		for _, g := range m.nodeGrp[j] {
			lmax := 0
			for _, a := range m.groupArcs[g] {
				lmax = max(lmax, m.lead[a])
			}
			// The declared state is the target: the input stock the
			// node starts with plus what is on its way at rest (one lead
			// time's flow in transit and one day's on order: an order
			// placed today ships tomorrow), unless a policy gives days
			// of cover.
			level := m.inStock0[g] + float64(max(lmax, 1)+1)*through[j]
			cover := p.CoverDays
			if cover > 0 {
				level = cover * through[j]
			}
			m.levelS = append(m.levelS, level)
			m.through = append(m.through, through[j])
			r := -1.0
			if p.Type == "ss" {
				if p.ReorderDays > cover {
					return fieldErr(field+".reorder_days", "must not exceed cover_days")
				}
				r = p.ReorderDays * through[j]
			}
			m.levelR = append(m.levelR, r)
		}
	}
	return nil
}

// shocks compiles the scheduled shocks and sizes the arrival ring (longest
// lead time plus longest delay).
func (c *compiler) shocks() error {
	for i, sh := range c.s.Shocks {
		cs, err := c.shock(describe(i, "shocks"), sh)
		if err != nil {
			return err
		}
		c.m.shocks = append(c.m.shocks, cs)
	}
	c.m.ringLen = c.maxLead + c.maxDelay + 2
	return nil
}

// shock compiles one scheduled shock; p is its field path.
func (c *compiler) shock(p string, sh Shock) (cshock, error) {
	cs := cshock{node: -1, arc: -1, factor: sh.CapacityFactor, delay: sh.DelayDays}
	switch {
	case sh.Node != "" && sh.Arc != "":
		return cs, fieldErr(p+".arc", "give either node or arc, not both")
	case sh.Node != "":
		j, ok := c.t.idx[sh.Node]
		if !ok {
			return cs, fieldErr(p+".node", "unknown node %q", sh.Node)
		}
		cs.node = j
	case sh.Arc != "":
		a, ok := c.arcByName[sh.Arc]
		if !ok {
			return cs, fieldErr(p+".arc", "unknown arc %q", sh.Arc)
		}
		cs.arc = a
	default:
		return cs, fieldErr(p+".node", "required (or arc)")
	}
	kind := sh.Kind
	if kind == "" {
		kind = ShockOutage
		if cs.arc >= 0 {
			kind = ShockLaneClosure
		}
	}
	switch kind {
	case ShockOutage:
		cs.kind = 0
	case ShockLaneClosure:
		cs.kind = 1
	case ShockPortDelay:
		cs.kind = 2
	case ShockDemandSurge:
		cs.kind = 3
		cs.factor = sh.DemandFactor
	default:
		return cs, fieldErr(p+".kind", "unknown kind %q", kind)
	}
	if (cs.kind == 0 || cs.kind == 3) && cs.node < 0 {
		return cs, fieldErr(p+".node", "required for %s", kind)
	}
	if (cs.kind == 1 || cs.kind == 2) && cs.arc < 0 {
		return cs, fieldErr(p+".arc", "required for %s", kind)
	}
	if err := checkFactor(p+".capacity_factor", sh.CapacityFactor); err != nil {
		return cs, err
	}
	if err := checkFactor(p+".demand_factor", sh.DemandFactor); err != nil {
		return cs, err
	}
	if sh.DelayDays < 0 {
		return cs, fieldErr(p+".delay_days", "must be >= 0")
	}
	// Overlapping port delays on one arc add up, so the ring must hold
	// their sum (the property test found a ring sized by the largest one).
	c.maxDelay += sh.DelayDays
	var err error
	if cs.from, err = c.day(sh.From, p+".from"); err != nil {
		return cs, err
	}
	if cs.to, err = c.day(sh.To, p+".to"); err != nil {
		return cs, err
	}
	if cs.to < cs.from {
		return cs, fieldErr(p+".to", "date %s is before from %s", sh.To, sh.From)
	}
	return cs, nil
}

// checkFactor checks a shock's factor: finite, in [0, MaxFactor].
func checkFactor(field string, v float64) error {
	if !finite(v) || v < 0 || v > MaxFactor {
		return fieldErr(field, "must be in [0, %g] (MaxFactor; above 1 is a surge)", float64(MaxFactor))
	}
	return nil
}

// randomShocks compiles the random outage processes.
func (c *compiler) randomShocks() error {
	for i, r := range c.s.RandomShocks {
		p := describe(i, "random_shocks")
		cr := crandom{p: r.ProbPerDay, median: r.DurationDays, sig: r.DurationSigma, factor: r.CapacityFactor}
		if len(r.Nodes) == 0 {
			return fieldErr(p+".nodes", "must name at least one node")
		}
		for k, id := range r.Nodes {
			j, ok := c.t.idx[id]
			if !ok {
				return fieldErr(fmt.Sprintf("%s.nodes[%d]", p, k), "unknown node %q", id)
			}
			cr.nodes = append(cr.nodes, j)
		}
		if !finite(cr.p) || cr.p < 0 || cr.p > 1 {
			return fieldErr(p+".prob_per_day", "must be in [0, 1]")
		}
		if !finite(cr.median) || cr.median < 1 {
			return fieldErr(p+".duration_days", "must be >= 1")
		}
		if !finite(cr.sig) || cr.sig < 0 {
			return fieldErr(p+".duration_sigma", "must be >= 0")
		}
		if err := checkFactor(p+".capacity_factor", cr.factor); err != nil {
			return err
		}
		c.m.random = append(c.m.random, cr)
	}
	return nil
}

// controls compiles the export controls, numbers the content-tracking ones
// and indexes the quota controls by arc.
func (c *compiler) controls() error {
	m := c.m
	for i, raw := range c.s.Controls {
		p := describe(i, "controls")
		ctl, err := raw.resolve(p)
		if err != nil {
			return err
		}
		cc, err := c.control(p, ctl)
		if err != nil {
			return err
		}
		if cc.content {
			cc.contentIdx = m.nContent
			m.nContent++
			m.contentCtl = append(m.contentCtl, len(m.controls))
		}
		m.controls = append(m.controls, cc)
	}
	m.quotaOf = make([][]int, m.na)
	for ci, ctl := range m.controls {
		if ctl.mode == 2 {
			for _, a := range ctl.arcs {
				m.quotaOf[a] = append(m.quotaOf[a], ci)
				m.hasQuota = true
			}
		}
	}
	return nil
}

// control checks one resolved export control (field path p) and finds the
// arcs in its scope.
func (c *compiler) control(p string, ctl Control) (ccontrol, error) {
	cc := ccontrol{contentIdx: -1, name: ctl.Name, threshold: ctl.ContentThreshold,
		review: ctl.ReviewDays, approve: ctl.ApprovalProbability, valid: ctl.LicenceValidDays,
		quota: ctl.QuotaUnits, quotaPeriod: ctl.QuotaPeriodDays}
	if ctl.Country == "" {
		return cc, fieldErr(p+".country", "required")
	}
	switch ctl.Mode {
	case ControlLicence:
		cc.mode = 0
		if ctl.ApprovalProbability < 0 || ctl.ApprovalProbability > 1 || !finite(ctl.ApprovalProbability) {
			return cc, fieldErr(p+".approval_probability", "must be in [0, 1]")
		}
		if ctl.ReviewDays < 0 {
			return cc, fieldErr(p+".review_days", "must be >= 0")
		}
	case ControlBan:
		cc.mode = 1
	case ControlQuota:
		cc.mode = 2
		if !finite(ctl.QuotaUnits) || ctl.QuotaUnits < 0 {
			return cc, fieldErr(p+".quota_units", "must be a finite number >= 0")
		}
		if cc.quotaPeriod == 0 {
			cc.quotaPeriod = 365
		}
	case "":
		return cc, fieldErr(p+".mode", "required")
	default:
		return cc, fieldErr(p+".mode", "unknown mode %q (want licence, ban or quota)", ctl.Mode)
	}
	if ctl.LicenceValidDays < 0 {
		return cc, fieldErr(p+".licence_valid_days", "must be >= 0")
	}
	if cc.quotaPeriod < 0 {
		return cc, fieldErr(p+".quota_period_days", "must be >= 0")
	}
	switch ctl.Scope {
	case "", ScopeOrigin:
		cc.origin = true
	case ScopeContent:
		cc.content = true
	case ScopeBoth:
		cc.origin, cc.content = true, true
	default:
		return cc, fieldErr(p+".scope", "unknown scope %q (want origin, content or both)", ctl.Scope)
	}
	if !finite(ctl.ContentThreshold) || ctl.ContentThreshold < 0 || ctl.ContentThreshold > 1 {
		return cc, fieldErr(p+".content_threshold", "must be in [0, 1]")
	}
	if err := c.controlDates(p, ctl, &cc); err != nil {
		return cc, err
	}
	c.controlScope(ctl, &cc)
	return cc, nil
}

// controlDates sets the announcement, effective, suspension and resumption
// days of a control.
func (c *compiler) controlDates(p string, ctl Control, cc *ccontrol) error {
	if ctl.Effective == "" {
		return fieldErr(p+".effective", "required")
	}
	var err error
	if cc.effective, err = c.day(ctl.Effective, p+".effective"); err != nil {
		return err
	}
	if cc.announced, err = c.optDay(ctl.Announced, p+".announced", cc.effective); err != nil {
		return err
	}
	if cc.announced > cc.effective {
		return fieldErr(p+".effective", "date %s is before announced %s", ctl.Effective, ctl.Announced)
	}
	if cc.suspended, err = c.optDay(ctl.Suspended, p+".suspended", never); err != nil {
		return err
	}
	if cc.resumes, err = c.optDay(ctl.Resumes, p+".resumes", never); err != nil {
		return err
	}
	if ctl.Resumes != "" && ctl.Suspended == "" {
		return fieldErr(p+".suspended", "required when resumes is set")
	}
	if cc.resumes < cc.suspended {
		return fieldErr(p+".resumes", "date %s is before suspended %s", ctl.Resumes, ctl.Suspended)
	}
	return nil
}

// controlScope finds the arcs a control covers (material in its elements,
// destination outside the issuing country and among its destinations,
// shipper of its origin or carrying its content as its scope says) and the
// nodes whose output counts as the issuing country's origin.
func (c *compiler) controlScope(ctl Control, cc *ccontrol) {
	m, net := c.m, c.net
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
	cc.originNode = make([]bool, m.n)
	for a, arc := range net.Arcs {
		f, to := m.from[a], m.to[a]
		if !inScope(arc.Material) {
			continue
		}
		if net.Nodes[f].Country == ctl.Country {
			cc.originNode[f] = true
		}
		dest := net.Nodes[to].Country
		if dest == ctl.Country || (len(ctl.Destinations) > 0 && !slices.Contains(ctl.Destinations, dest)) {
			continue
		}
		origin := net.Nodes[f].Country == ctl.Country
		if origin && !cc.origin || !origin && !cc.content {
			continue
		}
		cc.arcs = append(cc.arcs, a)
		cc.byOrigin = append(cc.byOrigin, origin)
	}
}

// qualifications compiles the supplier qualifications, at most one per arc.
func (c *compiler) qualifications() error {
	m := c.m
	m.qualArc = make([]int, m.na)
	for a := range m.qualArc {
		m.qualArc[a] = -1
	}
	for i, q := range c.s.Qualifications {
		p := describe(i, "qualifications")
		a, ok := c.arcByName[q.Arc]
		if !ok {
			return fieldErr(p+".arc", "unknown arc %q", q.Arc)
		}
		if m.qualArc[a] >= 0 {
			return fieldErr(p+".arc", "arc %q already has a qualification", q.Arc)
		}
		for _, f := range []struct {
			n string
			v int
		}{{"screening_days", q.ScreeningDays}, {"samples_days", q.SamplesDays}, {"audit_days", q.AuditDays}, {"ramp_days", q.RampDays}} {
			if f.v < 0 {
				return fieldErr(p+"."+f.n, "must be >= 0")
			}
		}
		d0, err := c.day(q.Start, p+".start")
		if err != nil {
			return err
		}
		m.qualArc[a] = len(m.quals)
		m.qualArcs = append(m.qualArcs, a)
		m.quals = append(m.quals, q)
		m.qualDay0 = append(m.qualDay0, d0)
	}
	return nil
}

// calendar labels each day with its month.
func (c *compiler) calendar() {
	m := c.m
	m.month = make([]int, m.days)
	for d := range m.days {
		dt := m.start.AddDate(0, 0, d)
		lbl := dt.Format("2006-01")
		if len(m.monthLabel) == 0 || m.monthLabel[len(m.monthLabel)-1] != lbl {
			m.monthLabel = append(m.monthLabel, lbl)
		}
		m.month[d] = len(m.monthLabel) - 1
	}
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

// Tolerance is the share of the network's largest quantity (capacity,
// stock, demand, input stock or in-transit) below which the simulation
// treats a stock, an order, a shipment or a split weight as zero: such
// amounts are left over from rounding (a stock of 3.56e-307 once made an
// order split divide by a denormal sum and turned KPIs into NaN).
const Tolerance = 1e-12

// quantityScale is the largest quantity of the model (1 if all are 0).
func (m *model) quantityScale() float64 {
	s := 0.0
	for _, v := range [][]float64{m.capMax, m.inv0, m.demand, m.inStock0, m.transit0} {
		for _, x := range v {
			s = max(s, x)
		}
	}
	if s == 0 {
		return 1
	}
	return s
}

func asFieldError(err error, fe **FieldError) bool {
	e, ok := err.(*FieldError)
	if ok {
		*fe = e
	}
	return ok
}

// DefaultCoverDays is the input stock, in days of throughput, that
// initial_state "at_rest" gives every input without a declared stock when
// initial_cover_days is absent: 14 days, the
// safety part of the engine's former default order-up-to level (lead time
// + 14 days). A modelling choice, not a sourced figure: the research note
// gives OEM magnet inventories of 4–6 weeks (c.8, Crisil [S63]).
const DefaultCoverDays = 14

// Initial states of a simulation.
const (
	// InitialDeclared starts from exactly the declared stocks (the default).
	InitialDeclared = "declared"
	// InitialAtRest starts a network in steady state: every input without
	// a declared input_inventory holds initial_cover_days (default
	// DefaultCoverDays) of the node's steady throughput, every arc
	// without a declared in_transit carries one lead time's steady flow,
	// and every supplier holds yesterday's order (one day's flow) open.
	InitialAtRest = "at_rest"
)

// initialState fills in the undeclared input stocks and pipelines of a
// scenario that starts at rest: an input holds cover days of its node's
// steady throughput; an arc carries max(1, lead) days of what its customer
// draws from it at rest, shared among alternative sources by capacity
// (stockpiles ship nothing at rest).
func (c *compiler) initialState() error {
	m, s := c.m, c.s
	switch s.InitialState {
	case "", InitialDeclared:
		if s.InitialCoverDays != nil {
			return fieldErr("initial_cover_days", "applies to initial_state %q only", InitialAtRest)
		}
		return nil
	case InitialAtRest:
	default:
		return fieldErr("initial_state", "unknown state %q (want declared or at_rest)", s.InitialState)
	}
	cover := float64(DefaultCoverDays)
	if s.InitialCoverDays != nil {
		cover = *s.InitialCoverDays
	}
	if !finite(cover) || cover < 0 || cover > maxQuantity {
		return fieldErr("initial_cover_days", "must be a finite number >= 0")
	}
	through := m.throughput(c.net)
	for g, j := range m.groupNode {
		a0 := m.groupArcs[g][0]
		if _, ok := c.net.Nodes[j].InputInventory[c.net.Arcs[a0].material()]; !ok {
			m.inStock0[g] = cover * through[j]
		}
	}
	m.backlog0 = make([]float64, m.na)
	for a, arc := range c.net.Arcs {
		if m.stockpile[m.from[a]] {
			continue
		}
		tot := 0.0
		for _, b := range m.groupArcs[m.arcGroup[a]] {
			if !m.stockpile[m.from[b]] {
				tot += m.capMax[m.from[b]]
			}
		}
		if tot == 0 {
			continue
		}
		// At rest, yesterday's order (one day's flow) is open at the
		// supplier, to be shipped today.
		flow := through[m.to[a]] * m.capMax[m.from[a]] / tot * arc.Ratio
		m.backlog0[a] = flow
		if arc.InTransit == 0 {
			m.transit0[a] = float64(max(1, arc.LeadTimeDays)) * flow
		}
	}
	return nil
}
