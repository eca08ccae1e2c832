package tql

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// LimitAction says what Eval does when a query reaches Options.MaxScan.
type LimitAction int

// The actions at the scan limit.
const (
	// Refuse stops the query with a *CostError.
	Refuse LimitAction = iota
	// Page ends the page early with a continuation token; the next page
	// gets a fresh budget. Queries with ORDER BY, GROUP BY or aggregates
	// cannot be paged this way and are refused.
	Page
)

// Defaults of Options.
const (
	DefaultPageSize = 1000      // ADT's query page size (reference-service-limits, "Query items per page")
	DefaultMaxScan  = 1_000_000 // rows read per page before the cost guard acts
	DefaultMaxHops  = 10        // ADT's maximum hops per MATCH query (reference-query-clause-match)
)

// Options tune checking and evaluation. The zero value (or nil) means the
// defaults.
type Options struct {
	PageSize      int         // rows per page; 0 means DefaultPageSize
	MaxScan       int         // rows read per page; 0 means DefaultMaxScan, negative means no limit
	OnLimit       LimitAction // what to do at MaxScan
	MaxHops       int         // most hops in one relationship pattern; 0 means DefaultMaxHops
	RequireAnchor bool        // ADT's rule: MATCH and JOIN queries need a $dtId condition
	Units         UnitResolver
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.PageSize <= 0 {
		r.PageSize = DefaultPageSize
	}
	if r.MaxScan == 0 {
		r.MaxScan = DefaultMaxScan
	}
	if r.MaxHops <= 0 {
		r.MaxHops = DefaultMaxHops
	}
	return r
}

type varKind int

const (
	kTwin varKind = iota
	kRel
	kPath
	kWalk // the walk of one edge, kept for a path variable
)

type variable struct {
	name  string
	kind  varKind
	slot  int
	group int // 0: mandatory; i > 0: the i-th OPTIONAL MATCH
	anon  bool
	pos   Pos
}

// edge is one relationship pattern (a JOIN or a MATCH arrow) between two
// twin variables.
type edge struct {
	left, right int // twin slots as written
	dir         Direction
	names       []string
	lo, hi      int
	rel         int  // relationship slot, or -1
	perRel      bool // one row per relationship (JOIN, or a relationship variable)
	walk        int  // walk slot for a path variable, or -1
	group       int
	pos         Pos
}

type pathDef struct {
	slot  int
	edges []int // in written order
	first int   // slot of the first node
}

type conjunct struct {
	e     Expr
	vars  []int
	group int
}

type orderKey struct {
	expr Expr
	item int // index into items, or -1
	desc bool
}

// analysis is the result of Check: variables, the pattern and the plan
// inputs of the evaluator.
type analysis struct {
	vars    []*variable
	byName  map[string]*variable
	def     int // slot bare names refer to, or -1
	edges   []*edge
	paths   []*pathDef
	groups  int
	conj    []*conjunct
	rels    bool // FROM RELATIONSHIPS
	star    bool
	items   []*SelectItem
	aggMode bool
	order   []orderKey
	top     int
	anchor  int // preferred scan variable (slot)
	hash    string
	opts    Options
}

type checker struct {
	q *Query
	a *analysis
}

func (c *checker) fail(pos Pos, format string, args ...any) {
	panic(bail2{&SemanticError{Pos: pos, Query: c.q.Text, Msg: fmt.Sprintf(format, args...)}})
}

type bail2 struct{ err *SemanticError }

// Check resolves the names of a parsed query and enforces the rules that the
// grammar does not: every name is declared once, bare property names are
// unambiguous, hop counts are within Options.MaxHops, aggregates appear only
// in SELECT and ORDER BY, and so on. It records its findings in q (and sets
// Ref.Var, Ref.Path and IsOfModel.Var); Eval calls it when needed. Errors are
// *SemanticError.
func Check(q *Query, opts *Options) (err error) {
	c := &checker{q: q, a: &analysis{byName: map[string]*variable{}, def: -1, anchor: -1, opts: opts.withDefaults()}}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail2)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	c.check()
	q.checked = c.a
	return nil
}

func (c *checker) declare(name string, kind varKind, group int, pos Pos) *variable {
	anon := name == ""
	if anon {
		name = "$" + strconv.Itoa(len(c.a.vars))
	} else if v := c.a.byName[name]; v != nil {
		if v.kind == kind && kind == kTwin {
			return v // the same twin named again in a pattern
		}
		c.fail(pos, "%q is declared twice", name)
	}
	v := &variable{name: name, kind: kind, slot: len(c.a.vars), group: group, anon: anon, pos: pos}
	c.a.vars = append(c.a.vars, v)
	c.a.byName[name] = v
	return v
}

func (c *checker) check() {
	q, a := c.q, c.a
	a.rels = q.From.Collection == Relationships
	if a.rels && (len(q.Joins) > 0 || len(q.Matches) > 0) {
		c.fail(q.From.Pos, "JOIN and MATCH need FROM DIGITALTWINS")
	}
	kind := kTwin
	if a.rels {
		kind = kRel
	}
	if q.From.Alias != "" || len(q.Matches) == 0 {
		c.declare(q.From.Alias, kind, 0, q.From.Pos)
	}
	for _, j := range q.Joins {
		src := a.byName[j.Source]
		if src == nil || src.kind != kTwin {
			c.fail(j.Pos, "JOIN source %q is not a twin collection declared before it%s", j.Source, c.hint(j.Source))
		}
		if a.byName[j.Target] != nil {
			c.fail(j.Pos, "%q is declared twice", j.Target)
		}
		t := c.declare(j.Target, kTwin, 0, j.Pos)
		e := &edge{left: src.slot, right: t.slot, dir: Right, names: []string{j.Rel}, lo: 1, hi: 1, rel: -1, perRel: true, walk: -1, pos: j.Pos}
		if j.RelAlias != "" {
			e.rel = c.declare(j.RelAlias, kRel, 0, j.Pos).slot
		}
		a.edges = append(a.edges, e)
	}
	for mi, m := range q.Matches {
		group := 0
		if m.Optional {
			a.groups++
			group = a.groups
		} else if a.groups > 0 {
			c.fail(m.Pos, "MATCH after OPTIONAL MATCH: put the mandatory patterns first")
		}
		_ = mi
		var pd *pathDef
		if m.PathVar != "" {
			pd = &pathDef{slot: c.declare(m.PathVar, kPath, group, m.Pos).slot}
			a.paths = append(a.paths, pd)
		}
		prev := c.node(m.Nodes[0], group)
		if pd != nil {
			pd.first = prev
		}
		for i, r := range m.Rels {
			next := c.node(m.Nodes[i+1], group)
			lo, hi := r.Hops.Bounds()
			if hi > a.opts.MaxHops {
				c.fail(r.Hops.Pos, "at most %d hops per relationship pattern, found %d", a.opts.MaxHops, hi)
			}
			if lo > hi || hi < 1 {
				c.fail(r.Hops.Pos, "empty hop range: the lower bound of *a..b is excluded (ADT), so *%d..%d matches nothing", r.Hops.Lower, r.Hops.Upper)
			}
			e := &edge{left: prev, right: next, dir: r.Dir, names: r.Names, lo: lo, hi: hi, rel: -1, walk: -1, group: group, pos: r.Pos}
			if r.Var != "" {
				if hi != 1 || lo != 1 {
					c.fail(r.Pos, "relationship variable %q needs a single hop (ADT); bind the path instead: MATCH p = ...", r.Var)
				}
				e.rel = c.declare(r.Var, kRel, group, r.Pos).slot
				e.perRel = true
			}
			if pd != nil {
				e.walk = c.declare("", kWalk, group, r.Pos).slot
				pd.edges = append(pd.edges, len(a.edges))
			}
			a.edges = append(a.edges, e)
			prev = next
		}
	}
	// The single collection is what bare property names refer to.
	named := 0
	for _, v := range a.vars {
		if v.kind == kTwin || v.kind == kRel {
			named++
			a.def = v.slot
		}
	}
	if named != 1 {
		a.def = -1
	}
	c.connected()

	if q.Where != nil {
		c.expr(q.Where, false)
		c.splitConjuncts(q.Where)
	}
	c.selectList()
	c.orderBy()
	a.top = q.Select.Top
	c.pickAnchor()
	h := fnv.New64a()
	h.Write([]byte(q.String()))
	a.hash = strconv.FormatUint(h.Sum64(), 36)
}

func (c *checker) node(n *NodePattern, group int) int {
	if n.Var != "" {
		if v := c.a.byName[n.Var]; v != nil {
			if v.kind != kTwin {
				c.fail(n.Pos, "%q is a relationship, not a twin", n.Var)
			}
			return v.slot
		}
	}
	return c.declare(n.Var, kTwin, group, n.Pos).slot
}

// connected rejects patterns whose mandatory part falls into several pieces
// (a cross product) and optional patterns that share no twin with what came
// before them.
func (c *checker) connected() {
	a := c.a
	comp := make([]int, len(a.vars))
	for i := range comp {
		comp[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for comp[i] != i {
			i = comp[i]
		}
		return i
	}
	for _, e := range a.edges {
		if e.group == 0 {
			comp[find(e.left)] = find(e.right)
		}
	}
	root := -1
	for _, v := range a.vars {
		if v.kind != kTwin || v.group != 0 {
			continue
		}
		if root < 0 {
			root = find(v.slot)
		} else if find(v.slot) != root {
			c.fail(v.pos, "%s is not connected to the rest of the pattern; cross products are not supported", c.varLabel(v))
		}
	}
	for g := 1; g <= a.groups; g++ {
		ok := false
		for _, e := range a.edges {
			if e.group == g && (a.vars[e.left].group < g || a.vars[e.right].group < g) {
				ok = true
			}
		}
		if !ok {
			for _, e := range a.edges {
				if e.group == g {
					c.fail(e.pos, "OPTIONAL MATCH must share a twin with the patterns before it")
				}
			}
			c.fail(c.q.Pos, "OPTIONAL MATCH must share a twin with the patterns before it")
		}
	}
}

func (c *checker) varLabel(v *variable) string {
	if v.anon {
		return "an unnamed twin"
	}
	return strconv.Quote(v.name)
}

// hint suggests a declared name that differs only in case.
func (c *checker) hint(name string) string {
	for n := range c.a.byName {
		if strings.EqualFold(n, name) && n != name && !strings.HasPrefix(n, "$") {
			return fmt.Sprintf(" (did you mean %q? names are case-sensitive)", n)
		}
	}
	return ""
}

// expr resolves names in e. agg says whether aggregates are allowed.
func (c *checker) expr(e Expr, agg bool) {
	switch e := e.(type) {
	case *Literal:
	case *ListLit:
		for _, x := range e.Elems {
			c.expr(x, agg)
		}
	case *Ref:
		c.ref(e)
	case *Unary:
		c.expr(e.X, agg)
	case *Binary:
		c.expr(e.X, agg)
		c.expr(e.Y, agg)
		c.quantity(e)
	case *InExpr:
		c.expr(e.X, agg)
		c.expr(e.List, agg)
	case *Call:
		if aggregates[e.Name] {
			if !agg {
				c.fail(e.Pos, "%s is an aggregate: use it in SELECT or ORDER BY, not here", e.Name)
			}
			for _, x := range e.Args {
				c.expr(x, false)
			}
			return
		}
		for _, x := range e.Args {
			c.expr(x, agg)
		}
	case *IsOfModel:
		if e.Var == "" {
			if c.a.def < 0 {
				c.fail(e.Pos, "IS_OF_MODEL needs a collection name when the query has several: IS_OF_MODEL(T, '%s')", e.Model)
			}
			e.Var = c.a.vars[c.a.def].name
		}
		v := c.a.byName[e.Var]
		if v == nil {
			c.fail(e.Pos, "unknown collection %q in IS_OF_MODEL%s", e.Var, c.hint(e.Var))
		}
		if v.kind != kTwin {
			c.fail(e.Pos, "IS_OF_MODEL needs a twin collection; %q is not one", e.Var)
		}
		e.slot = v.slot
	}
}

func (c *checker) ref(r *Ref) {
	a := c.a
	if v := a.byName[r.Parts[0]]; v != nil && !v.anon {
		r.Var, r.Path, r.slot = v.name, r.Parts[1:], v.slot
		if v.kind == kPath && len(r.Path) > 0 {
			c.fail(r.Pos, "path %q has no properties", v.name)
		}
		return
	}
	if a.def < 0 {
		c.fail(r.Pos, "unknown collection %q%s", r.Parts[0], c.hint(r.Parts[0]))
	}
	r.Var, r.Path, r.slot = a.vars[a.def].name, r.Parts, a.def
}

// quantity marks a comparison between a twin property and a string that
// reads as a quantity ('500 kg'), to be converted into the declared unit.
func (c *checker) quantity(b *Binary) {
	switch b.Op {
	case "=", "!=", "<", "<=", ">", ">=":
	default:
		return
	}
	try := func(x, y Expr, left bool) {
		r, ok := x.(*Ref)
		l, ok2 := y.(*Literal)
		if !ok || !ok2 || len(r.Path) == 0 || strings.HasPrefix(r.Path[0], "$") {
			return
		}
		s, ok := l.Value.(string)
		if !ok || c.a.byName[r.Var].kind != kTwin {
			return
		}
		if qt, ok := parseQuantity(s); ok {
			b.quant, b.qLeft = &qt, left
		}
	}
	try(b.X, b.Y, false)
	try(b.Y, b.X, true)
}

func (c *checker) splitConjuncts(e Expr) {
	if b, ok := e.(*Binary); ok && b.Op == "AND" {
		c.splitConjuncts(b.X)
		c.splitConjuncts(b.Y)
		return
	}
	cj := &conjunct{e: e}
	seen := map[int]bool{}
	walkRefs(e, func(name string) {
		v := c.a.byName[name]
		if v.kind == kPath {
			c.fail(e.Position(), "path %q can be returned but not tested in WHERE", name)
		}
		if !seen[v.slot] {
			seen[v.slot] = true
			cj.vars = append(cj.vars, v.slot)
			cj.group = max(cj.group, v.group)
		}
	})
	c.a.conj = append(c.a.conj, cj)
}

// walkRefs calls f with the variable of every resolved reference in e.
func walkRefs(e Expr, f func(string)) {
	switch e := e.(type) {
	case *ListLit:
		for _, x := range e.Elems {
			walkRefs(x, f)
		}
	case *Ref:
		f(e.Var)
	case *Unary:
		walkRefs(e.X, f)
	case *Binary:
		walkRefs(e.X, f)
		walkRefs(e.Y, f)
	case *InExpr:
		walkRefs(e.X, f)
	case *Call:
		for _, x := range e.Args {
			walkRefs(x, f)
		}
	case *IsOfModel:
		f(e.Var)
	}
}

func hasAggregate(e Expr) bool {
	found := false
	var walk func(Expr)
	walk = func(e Expr) {
		switch e := e.(type) {
		case *Unary:
			walk(e.X)
		case *Binary:
			walk(e.X)
			walk(e.Y)
		case *InExpr:
			walk(e.X)
		case *Call:
			if aggregates[e.Name] {
				found = true
			}
			for _, x := range e.Args {
				walk(x)
			}
		}
	}
	walk(e)
	return found
}

func (c *checker) selectList() {
	q, a := c.q, c.a
	a.star = q.Select.Star
	a.items = q.Select.Items
	a.aggMode = len(q.GroupBy) > 0
	for _, it := range a.items {
		c.expr(it.Expr, true)
		if hasAggregate(it.Expr) {
			a.aggMode = true
		}
	}
	for _, g := range q.GroupBy {
		c.expr(g, false)
	}
	if a.star && a.aggMode {
		c.fail(q.Select.Pos, "SELECT * cannot be grouped; name the grouped values and aggregates")
	}
	names := map[string]bool{}
	for i, it := range a.items {
		n := it.Name()
		if n == "" {
			n = "$" + strconv.Itoa(i+1)
			it.Alias = n
		}
		if names[n] {
			c.fail(it.Pos, "two results are named %q; rename one with AS", n)
		}
		names[n] = true
		if r, ok := it.Expr.(*Ref); ok && len(r.Path) == 0 && a.vars[a.byName[r.Var].slot].kind == kWalk {
			c.fail(it.Pos, "unknown collection %q", r.Var)
		}
		if call, ok := it.Expr.(*Call); hasAggregate(it.Expr) && (!ok || !aggregates[call.Name]) {
			c.fail(it.Pos, "an aggregate must be a whole result column, as in SUM(T.x) AS total")
		}
		if a.aggMode && !hasAggregate(it.Expr) && !c.grouped(it.Expr) {
			c.fail(it.Pos, "%s is neither aggregated nor in GROUP BY", it.Expr.String())
		}
	}
}

func (c *checker) grouped(e Expr) bool {
	for _, g := range c.q.GroupBy {
		if g.String() == e.String() {
			return true
		}
	}
	return false
}

func (c *checker) orderBy() {
	q, a := c.q, c.a
	for _, o := range q.OrderBy {
		k := orderKey{item: -1, desc: o.Desc}
		switch e := o.Expr.(type) {
		case *Literal:
			f, ok := e.Value.(float64)
			if !ok || f != float64(int(f)) || int(f) < 1 || int(f) > len(a.items) {
				c.fail(o.Pos, "ORDER BY %s: a number names a result column from 1 to %d", e.String(), len(a.items))
			}
			k.item = int(f) - 1
		case *Ref:
			if len(e.Parts) == 1 {
				for i, it := range a.items {
					if it.Alias == e.Parts[0] {
						k.item = i
					}
				}
			}
		}
		if k.item < 0 {
			for i, it := range a.items {
				if it.Expr.String() == o.Expr.String() {
					k.item = i
				}
			}
		}
		if k.item < 0 {
			if a.aggMode {
				c.fail(o.Pos, "ORDER BY %s in a grouped query must name a result column", o.Expr.String())
			}
			c.expr(o.Expr, false)
			k.expr = o.Expr
		}
		a.order = append(a.order, k)
	}
}

// pickAnchor chooses the variable a scan starts from when no $dtId anchors
// the query: one constrained by IS_OF_MODEL, else the FROM collection, else
// the first twin of the first MATCH.
func (c *checker) pickAnchor() {
	a := c.a
	if c.a.opts.RequireAnchor && (len(c.q.Joins) > 0 || len(c.q.Matches) > 0) {
		found := false
		for _, cj := range a.conj {
			if _, ids := idAnchor(cj.e); ids != nil && cj.group == 0 {
				found = true
			}
		}
		if !found {
			c.fail(c.q.Pos, "the query must declare the twins where it begins: add a $dtId condition in WHERE (Options.RequireAnchor)")
		}
	}
	for _, v := range a.vars {
		if (v.kind == kTwin || v.kind == kRel) && v.group == 0 {
			a.anchor = v.slot
			return
		}
	}
}

// idAnchor recognizes V.$dtId = 'x' and V.$dtId IN [...] (for relationships,
// V.$sourceId) and returns the variable and the IDs.
func idAnchor(e Expr) (string, []string) {
	var ref *Ref
	var vals []Expr
	switch e := e.(type) {
	case *Binary:
		if e.Op != "=" {
			return "", nil
		}
		r, ok := e.X.(*Ref)
		y := e.Y
		if !ok {
			r, ok = e.Y.(*Ref)
			y = e.X
		}
		if !ok {
			return "", nil
		}
		ref, vals = r, []Expr{y}
	case *InExpr:
		r, ok := e.X.(*Ref)
		if !ok || e.Not {
			return "", nil
		}
		ref, vals = r, e.List.Elems
	default:
		return "", nil
	}
	if len(ref.Path) != 1 || ref.Path[0] != "$dtId" && ref.Path[0] != "$sourceId" {
		return "", nil
	}
	ids := make([]string, 0, len(vals))
	for _, v := range vals {
		l, ok := v.(*Literal)
		if !ok {
			return "", nil
		}
		s, ok := l.Value.(string)
		if !ok {
			continue // a non-string never equals an ID
		}
		ids = append(ids, s)
	}
	return ref.Var, ids
}
