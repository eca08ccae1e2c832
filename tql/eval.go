package tql

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Result is one page of a query result, shaped as ADT's query response.
// Rows of SELECT * over one collection are the documents themselves (shared
// with the graph: do not modify them); other rows are keyed by collection
// name, alias or property name, and omit values that are undefined.
type Result struct {
	Rows              []map[string]any `json:"value"`
	ContinuationToken string           `json:"continuationToken,omitempty"`
	Cost              Cost             `json:"cost"`
}

// Cost is what a page of a query cost.
type Cost struct {
	RowsScanned int `json:"rowsScanned"` // twins and relationships read, lookups included
}

// Run parses, checks and evaluates a query: the first page when token is "",
// else the page the token names.
func Run(ctx context.Context, g Graph, query string, opts *Options, token string) (*Result, error) {
	q, err := Parse(query)
	if err != nil {
		return nil, err
	}
	if err := Check(q, opts); err != nil {
		return nil, err
	}
	return Eval(ctx, g, q, opts, token)
}

// pageToken is the decoded continuation token.
type pageToken struct {
	Hash   string `json:"h"`
	Key    string `json:"k,omitempty"` // anchor candidate to resume at
	Skip   int    `json:"s,omitempty"` // rows of that candidate already returned
	Total  int    `json:"n,omitempty"` // rows returned so far (for TOP)
	Offset int    `json:"o,omitempty"` // offset into a sorted or grouped result
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s, hash string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &t) != nil || t.Hash != hash || t.Skip < 0 || t.Total < 0 || t.Offset < 0 {
		return t, ErrBadToken
	}
	return t, nil
}

// Eval evaluates a query against g and returns one page. It calls Check
// (with opts) if q has not been checked. Eval does not modify a checked q,
// so one checked query may be evaluated by several goroutines at once.
func Eval(ctx context.Context, g Graph, q *Query, opts *Options, token string) (*Result, error) {
	if q.checked == nil {
		if err := Check(q, opts); err != nil {
			return nil, err
		}
	}
	a := q.checked
	o := opts.withDefaults()
	var tok pageToken
	if token != "" {
		var err error
		if tok, err = decodeToken(token, a.hash); err != nil {
			return nil, err
		}
	}
	if q.From.AsOf != nil {
		h, ok := g.(HistoryGraph)
		if !ok {
			return nil, ErrNoHistory
		}
		hg, err := h.AsOf(q.From.AsOf.Time)
		if err != nil {
			return nil, fmt.Errorf("tql: as of %s: %w", q.From.AsOf.Time.Format("2006-01-02T15:04:05Z07:00"), err)
		}
		g = hg
	}
	ev := &evaluator{ctx: ctx, g: g, q: q, a: a, opts: o, tok: tok, row: make([]any, len(a.vars))}
	ev.units = o.Units
	if ev.units == nil {
		ev.units, _ = g.(UnitResolver)
	}
	ev.streaming = !a.aggMode && len(a.order) == 0
	ev.limit = o.MaxScan
	ev.skip = tok.Skip
	ev.total = tok.Total
	res, err := ev.run()
	if err == nil {
		if eg, ok := g.(ErrGraph); ok {
			err = eg.Err()
		}
	}
	return res, err
}

type evaluator struct {
	ctx  context.Context
	g    Graph
	q    *Query
	a    *analysis
	opts Options
	tok  pageToken

	units     UnitResolver
	row       []any
	streaming bool

	scanned int
	limit   int
	costHit bool
	stop    bool
	err     error

	plans [][]step // per group
	pre   []*conjunct

	// streaming state
	curKey     string
	curEmitted int
	skip       int
	total      int
	out        []map[string]any
	next       *pageToken

	// materialized state
	recs   []record
	groups map[string]*group
	gorder []*group
}

type step struct {
	e       *edge
	from    int
	to      int
	reverse bool
	conj    []*conjunct
}

type record struct {
	out  map[string]any
	keys []any
}

// walk is the twins and relationships one edge traversed, in written order.
type walk struct {
	twins []string
	rels  []Doc
}

func (ev *evaluator) tick() bool {
	ev.scanned++
	if ev.limit > 0 && ev.scanned > ev.limit {
		ev.costHit, ev.stop = true, true
		return true
	}
	if ev.scanned&1023 == 0 {
		if err := ev.ctx.Err(); err != nil {
			ev.err, ev.stop = err, true
			return true
		}
	}
	return ev.stop
}

func (ev *evaluator) fail(pos Pos, format string, args ...any) {
	if ev.err == nil {
		ev.err = &SemanticError{Pos: pos, Query: ev.q.Text, Msg: fmt.Sprintf(format, args...)}
	}
	ev.stop = true
}

// candidates chooses how the query starts: from $dtId (or $sourceId)
// values in WHERE, from the twins of a model, or from a scan.
type candidates struct {
	slot  int
	ids   []string // lookups; nil for a scan
	model *IsOfModel
}

func (ev *evaluator) chooseStart() candidates {
	a := ev.a
	best := candidates{slot: a.anchor}
	bestN := -1
	for _, cj := range a.conj {
		if cj.group != 0 {
			continue
		}
		name, ids := idAnchor(cj.e)
		if ids == nil {
			continue
		}
		v := a.byName[name]
		ref := anchorRef(cj.e)
		if v.kind == kTwin && ref != "$dtId" || v.kind == kRel && (ref != "$sourceId" || !a.rels) || v.group != 0 {
			continue
		}
		if bestN < 0 || len(ids) < bestN {
			slices.Sort(ids)
			best = candidates{slot: v.slot, ids: slices.Compact(ids)}
			bestN = len(ids)
		}
	}
	if bestN >= 0 {
		return best
	}
	if _, ok := ev.g.(ModelScanner); ok {
		for _, cj := range a.conj {
			if m, ok := cj.e.(*IsOfModel); ok && cj.group == 0 {
				return candidates{slot: a.byName[m.Var].slot, model: m}
			}
		}
	}
	return best
}

func anchorRef(e Expr) string {
	switch e := e.(type) {
	case *Binary:
		if r, ok := e.X.(*Ref); ok && len(r.Path) == 1 {
			return r.Path[0]
		}
		if r, ok := e.Y.(*Ref); ok && len(r.Path) == 1 {
			return r.Path[0]
		}
	case *InExpr:
		if r, ok := e.X.(*Ref); ok && len(r.Path) == 1 {
			return r.Path[0]
		}
	}
	return ""
}

// plan orders the edges of every group so that each step starts from a
// bound twin, and attaches each WHERE conjunct to the first step after
// which all its variables are bound.
func (ev *evaluator) plan(start int) {
	a := ev.a
	bound := make([]bool, len(a.vars))
	bound[start] = true
	placed := make([]bool, len(a.conj))
	ready := func(g int) []*conjunct {
		var r []*conjunct
		for i, cj := range a.conj {
			if placed[i] || cj.group > g {
				continue
			}
			ok := true
			for _, s := range cj.vars {
				ok = ok && bound[s]
			}
			if ok {
				placed[i] = true
				r = append(r, cj)
			}
		}
		return r
	}
	ev.pre = ready(0)
	ev.plans = make([][]step, a.groups+1)
	for g := 0; g <= a.groups; g++ {
		if g > 0 {
			for _, v := range a.vars {
				if v.group < g && v.kind == kTwin {
					bound[v.slot] = true
				}
			}
		}
		done := make([]bool, len(a.edges))
		for {
			progress := false
			for i, e := range a.edges {
				if done[i] || e.group != g {
					continue
				}
				st := step{e: e}
				switch {
				case bound[e.left]:
					st.from, st.to = e.left, e.right
				case bound[e.right]:
					st.from, st.to, st.reverse = e.right, e.left, true
				default:
					continue
				}
				done[i], progress = true, true
				bound[st.to] = true
				if e.rel >= 0 {
					bound[e.rel] = true
				}
				if e.walk >= 0 {
					bound[e.walk] = true
				}
				st.conj = ready(g)
				ev.plans[g] = append(ev.plans[g], st)
			}
			if !progress {
				break
			}
		}
	}
}

func (ev *evaluator) run() (*Result, error) {
	a := ev.a
	c := ev.chooseStart()
	ev.plan(c.slot)
	if !ev.streaming {
		ev.groups = map[string]*group{}
	}
	start := ev.tok.Key
	after := ev.afterMandatory // one func value for every candidate
	visit := func(key string, doc Doc) bool {
		if key < start {
			return true
		}
		if key != start {
			ev.skip = 0
		}
		ev.curKey, ev.curEmitted = key, 0
		ev.row[c.slot] = doc
		if ev.conjOK(ev.pre) {
			ev.steps(0, 0, after)
		}
		ev.row[c.slot] = nil
		return !ev.stop
	}
	isRel := a.vars[c.slot].kind == kRel
	switch {
	case c.ids != nil && isRel:
	outer:
		for _, src := range c.ids {
			for r := range ev.g.Outgoing(src, nil) {
				if ev.tick() || !visit(RelKey(r), r) {
					break outer
				}
			}
		}
	case c.ids != nil:
		for _, id := range c.ids {
			if id < start {
				continue
			}
			if ev.tick() {
				break
			}
			if d, ok := ev.g.Twin(id); ok && !visit(id, d) {
				break
			}
		}
	case isRel:
		for r := range ev.g.Relationships(start) {
			if ev.tick() || !visit(RelKey(r), r) {
				break
			}
		}
	case c.model != nil:
		for d := range ev.g.(ModelScanner).TwinsOfModel(c.model.Model, c.model.Exact, start) {
			if ev.tick() || !visit(str(d["$dtId"]), d) {
				break
			}
		}
	default:
		for d := range ev.g.Twins(start) {
			if ev.tick() || !visit(str(d["$dtId"]), d) {
				break
			}
		}
	}
	if ev.err != nil {
		return nil, ev.err
	}
	res := &Result{Cost: Cost{RowsScanned: ev.scanned}}
	if ev.costHit {
		ev.scanned = ev.limit
		if !ev.streaming || ev.opts.OnLimit != Page {
			return nil, &CostError{Limit: ev.limit, Scanned: ev.scanned}
		}
		t := pageToken{Hash: a.hash, Key: ev.curKey, Skip: ev.curEmitted, Total: ev.total}
		if len(ev.out) == 0 && t.Key == ev.tok.Key && t.Skip == ev.tok.Skip {
			return nil, &CostError{Limit: ev.limit, Scanned: ev.scanned}
		}
		ev.next = &t
	}
	if ev.streaming {
		res.Rows = ev.out
		if ev.next != nil {
			res.ContinuationToken = encodeToken(*ev.next)
		}
		if res.Rows == nil {
			res.Rows = []map[string]any{}
		}
		return res, nil
	}
	rows := ev.finish()
	if a.top > 0 && len(rows) > a.top {
		rows = rows[:a.top]
	}
	off := min(ev.tok.Offset, len(rows))
	end := min(off+ev.opts.PageSize, len(rows))
	res.Rows = rows[off:end]
	if end < len(rows) {
		res.ContinuationToken = encodeToken(pageToken{Hash: a.hash, Offset: end})
	}
	return res, nil
}

// steps runs the plan of group g from step i; done is called for every
// complete binding.
func (ev *evaluator) steps(g, i int, done func()) {
	if ev.stop {
		return
	}
	plan := ev.plans[g]
	if i == len(plan) {
		done()
		return
	}
	st := &plan[i]
	ev.expand(st, func() {
		if ev.conjOK(st.conj) {
			ev.steps(g, i+1, done)
		}
	})
}

func (ev *evaluator) afterMandatory() { ev.optional(1) }

func (ev *evaluator) optional(g int) {
	if g > ev.a.groups {
		ev.emit()
		return
	}
	matched := false
	ev.steps(g, 0, func() {
		matched = true
		ev.optional(g + 1)
	})
	if !matched && !ev.stop {
		ev.optional(g + 1) // the group's variables stay nil
	}
}

func (ev *evaluator) conjOK(cs []*conjunct) bool {
	for _, c := range cs {
		v := ev.eval(c.e)
		if ev.stop {
			return false
		}
		if b, ok := v.(bool); !ok || !b {
			return false
		}
	}
	return true
}

// adjacent yields the relationships to follow from twin id along e, with
// the twin at their other end.
func (ev *evaluator) adjacent(e *edge, reverse bool, id string, f func(r Doc, other string) bool) {
	out, in := true, true
	switch {
	case e.dir == Right && !reverse, e.dir == Left && reverse:
		in = false
	case e.dir == Left && !reverse, e.dir == Right && reverse:
		out = false
	}
	if out {
		for r := range ev.g.Outgoing(id, e.names) {
			if ev.tick() || !f(r, str(r["$targetId"])) {
				return
			}
		}
	}
	if in {
		for r := range ev.g.Incoming(id, e.names) {
			if ev.tick() || !f(r, str(r["$sourceId"])) {
				return
			}
		}
	}
}

// bindTwin binds slot to the twin id (checking it when already bound) and
// calls next.
func (ev *evaluator) bindTwin(slot int, preBound bool, id string, next func()) {
	if preBound {
		if str(ev.row[slot].(Doc)["$dtId"]) == id {
			next()
		}
		return
	}
	if ev.tick() {
		return
	}
	d, ok := ev.g.Twin(id)
	if !ok {
		return
	}
	ev.row[slot] = d
	next()
	ev.row[slot] = nil
}

func (ev *evaluator) expand(st *step, next func()) {
	e := st.e
	fromDoc, _ := ev.row[st.from].(Doc)
	if fromDoc == nil {
		return // an optional twin that did not match
	}
	fromID := str(fromDoc["$dtId"])
	preBound := ev.row[st.to] != nil
	if e.perRel {
		ev.adjacent(e, st.reverse, fromID, func(r Doc, other string) bool {
			if e.rel >= 0 {
				ev.row[e.rel] = r
			}
			if e.walk >= 0 {
				ev.row[e.walk] = &walk{twins: []string{fromID, other}, rels: []Doc{r}}
			}
			ev.bindTwin(st.to, preBound, other, next)
			if e.rel >= 0 {
				ev.row[e.rel] = nil
			}
			if e.walk >= 0 {
				ev.row[e.walk] = nil
			}
			return !ev.stop
		})
		return
	}
	// A walk of lo..hi hops in which no relationship repeats. Without a path
	// variable every twin reached is returned once; with one, every walk.
	var reached map[string]bool
	if e.walk < 0 {
		reached = map[string]bool{}
	}
	used := map[string]bool{}
	twins := []string{fromID}
	var rels []Doc
	var dfs func(id string, depth int)
	dfs = func(id string, depth int) {
		ev.adjacent(e, st.reverse, id, func(r Doc, other string) bool {
			k := RelKey(r)
			if used[k] {
				return true
			}
			used[k] = true
			twins = append(twins, other)
			rels = append(rels, r)
			d := depth + 1
			if d >= e.lo && (reached == nil || !reached[other]) {
				if reached != nil {
					reached[other] = true
				}
				if e.walk >= 0 {
					w := &walk{twins: slices.Clone(twins), rels: slices.Clone(rels)}
					if st.reverse {
						slices.Reverse(w.twins)
						slices.Reverse(w.rels)
					}
					ev.row[e.walk] = w
				}
				ev.bindTwin(st.to, preBound, other, next)
				if e.walk >= 0 {
					ev.row[e.walk] = nil
				}
			}
			if d < e.hi && !ev.stop {
				dfs(other, d)
			}
			twins = twins[:len(twins)-1]
			rels = rels[:len(rels)-1]
			delete(used, k)
			return !ev.stop
		})
	}
	dfs(fromID, 0)
}

// emit handles one complete row.
func (ev *evaluator) emit() {
	a := ev.a
	if !ev.streaming {
		if a.aggMode {
			ev.accumulate()
			return
		}
		r := record{out: ev.project(), keys: make([]any, len(a.order))}
		for i, k := range a.order {
			if k.item >= 0 {
				r.keys[i] = ev.eval(a.items[k.item].Expr)
			} else {
				r.keys[i] = ev.eval(k.expr)
			}
		}
		ev.recs = append(ev.recs, r)
		return
	}
	if ev.skip > 0 {
		ev.skip--
		ev.curEmitted++
		return
	}
	if len(ev.out) == ev.opts.PageSize {
		ev.next = &pageToken{Hash: a.hash, Key: ev.curKey, Skip: ev.curEmitted, Total: ev.total}
		ev.stop = true
		return
	}
	ev.out = append(ev.out, ev.project())
	ev.total++
	ev.curEmitted++
	if a.top > 0 && ev.total >= a.top {
		ev.stop = true
	}
}

// project builds the result row of the current binding.
func (ev *evaluator) project() map[string]any {
	a := ev.a
	if a.star {
		if a.def >= 0 && len(a.paths) == 0 {
			d, _ := ev.row[a.def].(Doc)
			return d
		}
		m := make(map[string]any, len(a.vars))
		for _, v := range a.vars {
			if v.anon || v.kind == kWalk {
				continue
			}
			m[v.name] = ev.varValue(v)
		}
		return m
	}
	m := make(map[string]any, len(a.items))
	for _, it := range a.items {
		if v := ev.eval(it.Expr); v != undefined {
			m[it.Name()] = v
		}
	}
	return m
}

// varValue is the value of a variable: a document, a path or nil.
func (ev *evaluator) varValue(v *variable) any {
	if v.kind != kPath {
		if ev.row[v.slot] == nil {
			return nil
		}
		return ev.row[v.slot]
	}
	for _, p := range ev.a.paths {
		if p.slot != v.slot {
			continue
		}
		var twins []any
		rels := []any{}
		for i, ei := range p.edges {
			w, _ := ev.row[ev.a.edges[ei].walk].(*walk)
			if w == nil {
				return nil
			}
			for j, t := range w.twins {
				if i == 0 || j > 0 {
					twins = append(twins, t)
				}
			}
			for _, r := range w.rels {
				rels = append(rels, r)
			}
		}
		if len(p.edges) == 0 {
			d, _ := ev.row[p.first].(Doc)
			if d == nil {
				return nil
			}
			twins = []any{str(d["$dtId"])}
		}
		return map[string]any{"twins": twins, "relationships": rels}
	}
	return nil
}

// eval evaluates an expression on the current binding.
func (ev *evaluator) eval(e Expr) any {
	switch e := e.(type) {
	case *Literal:
		return e.Value
	case *ListLit:
		l := make([]any, len(e.Elems))
		for i, x := range e.Elems {
			l[i] = ev.eval(x)
		}
		return l
	case *Ref:
		val := ev.varValue(ev.a.vars[e.slot])
		if len(e.Path) == 0 {
			return val
		}
		for _, p := range e.Path {
			m, ok := val.(map[string]any)
			if !ok {
				return undefined
			}
			if val, ok = m[p]; !ok {
				return undefined
			}
		}
		return val
	case *Unary:
		x := ev.eval(e.X)
		if e.Op == "NOT" {
			return not3(x)
		}
		if n, ok := toNum(x); ok {
			return -n
		}
		return undefined
	case *Binary:
		switch e.Op {
		case "AND":
			x := ev.eval(e.X)
			if b, ok := x.(bool); ok && !b {
				return false
			}
			return and3(x, ev.eval(e.Y))
		case "OR":
			x := ev.eval(e.X)
			if b, ok := x.(bool); ok && b {
				return true
			}
			return or3(x, ev.eval(e.Y))
		}
		return ev.comparison(e)
	case *InExpr:
		x := ev.eval(e.X)
		if x == undefined {
			return undefined
		}
		found := false
		for _, el := range e.List.Elems {
			if equalValues(x, ev.eval(el)) {
				found = true
				break
			}
		}
		return found != e.Not
	case *IsOfModel:
		d, _ := ev.row[e.slot].(Doc)
		if d == nil {
			return undefined
		}
		return ev.g.IsOfModel(TwinModel(d), e.Model, e.Exact)
	case *Call:
		return ev.call(e)
	}
	return undefined
}

func (ev *evaluator) comparison(b *Binary) any {
	x, y := ev.eval(b.X), ev.eval(b.Y)
	if x == undefined || y == undefined {
		return undefined
	}
	if b.quant != nil {
		x, y = ev.convert(b, x, y)
		if ev.stop {
			return undefined
		}
	}
	switch b.Op {
	case "=":
		return equalValues(x, y)
	case "!=":
		return !equalValues(x, y)
	}
	c, ok := compareValues(x, y)
	if !ok {
		return undefined
	}
	switch b.Op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// convert replaces a quantity literal by its value in the unit the twin's
// model declares for the property it is compared with.
func (ev *evaluator) convert(b *Binary, x, y any) (any, any) {
	refExpr := b.X
	if b.qLeft {
		refExpr = b.Y
	}
	ref := refExpr.(*Ref)
	if ev.units == nil {
		return x, y
	}
	d, _ := ev.row[ref.slot].(Doc)
	if d == nil {
		return x, y
	}
	prop := strings.Join(ref.Path, ".")
	decl := ev.units.PropertyUnit(TwinModel(d), prop)
	if decl == "" {
		return x, y
	}
	du, ok := LookupUnit(decl)
	if !ok {
		return x, y
	}
	q := b.quant
	if du.Dimension != q.unit.Dimension {
		lit := b.Y
		if b.qLeft {
			lit = b.X
		}
		ev.fail(lit.Position(), "cannot compare %s (%s) with %s, declared in %s (%s)", lit.String(), q.unit.Dimension, ref.String(), decl, du.Dimension)
		return x, y
	}
	v := du.FromSI(q.unit.ToSI(q.value))
	if b.qLeft {
		return v, y
	}
	return x, v
}

func (ev *evaluator) call(c *Call) any {
	if aggregates[c.Name] {
		// In a grouped query aggregates are computed by accumulate; here
		// (ORDER BY keys of plain rows) they have no value.
		return undefined
	}
	x := ev.eval(c.Args[0])
	switch c.Name {
	case "IS_DEFINED":
		return x != undefined
	case "IS_NULL":
		return x == nil
	case "IS_BOOL":
		_, ok := x.(bool)
		return ok
	case "IS_NUMBER":
		_, ok := toNum(x)
		return ok
	case "IS_STRING":
		_, ok := x.(string)
		return ok
	case "IS_PRIMITIVE":
		r := rank(x)
		return r >= 1 && r <= 4
	case "IS_OBJECT":
		_, ok := x.(map[string]any)
		return ok
	case "ARRAY_CONTAINS":
		l, ok := x.([]any)
		if !ok {
			return undefined
		}
		y := ev.eval(c.Args[1])
		for _, el := range l {
			if equalValues(el, y) {
				return true
			}
		}
		return false
	}
	s, ok1 := x.(string)
	t, ok2 := ev.eval(c.Args[1]).(string)
	if !ok1 || !ok2 {
		return undefined
	}
	switch c.Name {
	case "STARTSWITH":
		return strings.HasPrefix(s, t)
	case "ENDSWITH":
		return strings.HasSuffix(s, t)
	case "CONTAINS":
		return strings.Contains(s, t)
	}
	return undefined
}

// group accumulates the rows of one GROUP BY key.
type group struct {
	first map[string]any // non-aggregate items, from the first row
	acc   []accumulator
}

type accumulator struct {
	n        int
	sum      float64
	nums     int
	min, max any
}

func (ev *evaluator) accumulate() {
	a := ev.a
	var key string
	if len(ev.q.GroupBy) == 1 {
		key = canonical(ev.eval(ev.q.GroupBy[0]))
	} else {
		var b strings.Builder
		for _, g := range ev.q.GroupBy {
			b.WriteString(canonical(ev.eval(g)))
			b.WriteByte(0)
		}
		key = b.String()
	}
	gr := ev.groups[key]
	if gr == nil {
		gr = &group{first: map[string]any{}, acc: make([]accumulator, len(a.items))}
		for _, it := range a.items {
			if !hasAggregate(it.Expr) {
				if v := ev.eval(it.Expr); v != undefined {
					gr.first[it.Name()] = v
				}
			}
		}
		ev.groups[key] = gr
		ev.gorder = append(ev.gorder, gr)
	}
	for i, it := range a.items {
		c, ok := it.Expr.(*Call)
		if !ok || !aggregates[c.Name] {
			continue
		}
		acc := &gr.acc[i]
		if len(c.Args) == 0 {
			acc.n++
			continue
		}
		v := ev.eval(c.Args[0])
		if v == undefined {
			continue
		}
		acc.n++
		if f, ok := toNum(v); ok {
			acc.sum += f
			acc.nums++
		}
		if acc.min == nil || orderValues(v, acc.min) < 0 {
			acc.min = v
		}
		if acc.max == nil || orderValues(v, acc.max) > 0 {
			acc.max = v
		}
	}
}

// finish builds the rows of a materialized (sorted or grouped) result.
func (ev *evaluator) finish() []map[string]any {
	a := ev.a
	if a.aggMode {
		if len(ev.gorder) == 0 && len(ev.q.GroupBy) == 0 {
			ev.gorder = []*group{{first: map[string]any{}, acc: make([]accumulator, len(a.items))}}
		}
		rows := make([]map[string]any, 0, len(ev.gorder))
		for _, gr := range ev.gorder {
			m := make(map[string]any, len(a.items))
			for k, v := range gr.first {
				m[k] = v
			}
			for i, it := range a.items {
				c, ok := it.Expr.(*Call)
				if !ok || !aggregates[c.Name] {
					continue
				}
				acc := gr.acc[i]
				switch c.Name {
				case "COUNT":
					m[it.Name()] = float64(acc.n)
				case "SUM":
					if acc.nums > 0 {
						m[it.Name()] = acc.sum
					}
				case "AVG":
					if acc.nums > 0 {
						m[it.Name()] = acc.sum / float64(acc.nums)
					}
				case "MIN":
					if acc.min != nil {
						m[it.Name()] = acc.min
					}
				case "MAX":
					if acc.max != nil {
						m[it.Name()] = acc.max
					}
				}
			}
			rows = append(rows, m)
		}
		if len(a.order) > 0 {
			sort.SliceStable(rows, func(i, j int) bool {
				for _, k := range a.order {
					name := a.items[k.item].Name()
					x, ok := rows[i][name]
					if !ok {
						x = undefined
					}
					y, ok := rows[j][name]
					if !ok {
						y = undefined
					}
					if c := orderValues(x, y); c != 0 {
						return c < 0 != k.desc
					}
				}
				return false
			})
		}
		return rows
	}
	sort.SliceStable(ev.recs, func(i, j int) bool {
		for n, k := range a.order {
			if c := orderValues(ev.recs[i].keys[n], ev.recs[j].keys[n]); c != 0 {
				return c < 0 != k.desc
			}
		}
		return false
	})
	rows := make([]map[string]any, len(ev.recs))
	for i, r := range ev.recs {
		rows[i] = r.out
	}
	return rows
}
