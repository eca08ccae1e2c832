package tql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Limits of the parser. They bound the work any input can cause.
const (
	// MaxQueryBytes is the longest query text Parse accepts. ADT's default
	// is 8,000 characters and adjustable (reference-service-limits); ours
	// leaves room for long IN lists.
	MaxQueryBytes = 64 << 10
	// maxDepth bounds the nesting of expressions (parentheses, NOT, unary -).
	maxDepth = 200
	// maxHopLiteral is the largest hop count the parser accepts; Check
	// applies the tighter Options.MaxHops.
	maxHopLiteral = 1000
)

// reserved are the words that cannot name a collection or property unless
// escaped as [[word]]: ADT's reserved keywords (reference-query-reserved.md)
// plus the keywords this language adds.
var reserved = map[string]bool{
	"ALL": true, "AND": true, "AS": true, "ASC": true, "AVG": true, "BY": true, "COUNT": true,
	"DESC": true, "DEVICES_JOBS": true, "DEVICES_MODULES": true, "DEVICES": true, "ENDS_WITH": true,
	"FALSE": true, "FROM": true, "GROUP": true, "IN": true, "IS_BOOL": true, "IS_DEFINED": true,
	"IS_NULL": true, "IS_NUMBER": true, "IS_OBJECT": true, "IS_PRIMITIVE": true, "IS_STRING": true,
	"MAX": true, "MIN": true, "NOT": true, "NOT_IN": true, "NULL": true, "OR": true, "ORDER": true,
	"SELECT": true, "STARTS_WITH": true, "SUM": true, "TOP": true, "TRUE": true, "WHERE": true,
	"IS_OF_MODEL": true,
	// Added by tql.
	"JOIN": true, "RELATED": true, "MATCH": true, "NIN": true, "OPTIONAL": true,
	"DIGITALTWINS": true, "RELATIONSHIPS": true,
}

// Parse parses a query. It checks syntax only; Check (called by Eval and
// Run) resolves names. Errors are *ParseError.
func Parse(query string) (*Query, error) {
	if len(query) > MaxQueryBytes {
		return nil, &ParseError{Pos: Pos{Line: 1, Col: 1}, Query: query,
			Msg: fmt.Sprintf("query is %d bytes, longer than the limit of %d", len(query), MaxQueryBytes)}
	}
	p := &parser{lex: lexer{src: query, line: 1, col: 1}, src: query}
	p.advance()
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	q.Text = query
	return q, nil
}

type parser struct {
	lex   lexer
	src   string
	tok   token
	depth int
}

// bail is panicked with a *ParseError and recovered in query; it keeps the
// recursive descent free of error plumbing.
type bail struct{ err *ParseError }

func (p *parser) advance() { p.tok = p.lex.next() }

func (p *parser) failAt(pos Pos, format string, args ...any) {
	panic(bail{&ParseError{Pos: pos, Query: p.src, Msg: fmt.Sprintf(format, args...)}})
}

// fail reports what was expected where the current token stands.
func (p *parser) fail(expected string) {
	if p.tok.kind == tUnclosed {
		what := "string"
		if p.tok.text == "[[" {
			what = "escaped name [[...]]"
		}
		p.failAt(p.tok.pos, "unterminated %s", what)
	}
	p.failAt(p.tok.pos, "expected %s, found %s", expected, p.tok.describe())
}

// isKw reports whether the current token is the (unescaped) keyword kw.
func (p *parser) isKw(kw string) bool {
	return p.tok.kind == tIdent && !p.tok.escaped && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.advance()
		return true
	}
	return false
}

func (p *parser) expectKw(kw, context string) Pos {
	pos := p.tok.pos
	if !p.acceptKw(kw) {
		p.fail(kw + context)
	}
	return pos
}

func (p *parser) accept(k tokKind) bool {
	if p.tok.kind == k {
		p.advance()
		return true
	}
	return false
}

func (p *parser) expect(k tokKind, context string) Pos {
	pos := p.tok.pos
	if !p.accept(k) {
		p.fail(k.String() + context)
	}
	return pos
}

// isName reports whether the current token can be a name: an identifier
// that is not reserved, or any escaped identifier.
func (p *parser) isName() bool {
	return p.tok.kind == tIdent && (p.tok.escaped || !reserved[strings.ToUpper(p.tok.text)])
}

func (p *parser) name(what string) (string, Pos) {
	pos := p.tok.pos
	if !p.isName() {
		if p.tok.kind == tIdent && !p.tok.escaped {
			p.failAt(pos, "expected %s, found reserved word %s (escape it as [[%s]])", what, strings.ToUpper(p.tok.text), p.tok.text)
		}
		p.fail(what)
	}
	s := p.tok.text
	p.advance()
	return s, pos
}

func (p *parser) query() (q *Query, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			q, err = nil, b.err
		}
	}()
	q = &Query{Pos: p.tok.pos}
	q.Select = p.selectClause()
	q.From = p.fromClause()
	for p.isKw("JOIN") {
		q.Joins = append(q.Joins, p.join())
	}
	for p.isKw("MATCH") || p.isKw("OPTIONAL") {
		q.Matches = append(q.Matches, p.match())
	}
	if p.isKw("JOIN") {
		p.failAt(p.tok.pos, "JOIN must come before MATCH")
	}
	if p.acceptKw("WHERE") {
		q.Where = p.expr()
	}
	if p.acceptKw("GROUP") {
		p.expectKw("BY", " after GROUP")
		for {
			q.GroupBy = append(q.GroupBy, p.expr())
			if !p.accept(tComma) {
				break
			}
		}
	}
	if p.acceptKw("ORDER") {
		p.expectKw("BY", " after ORDER")
		for {
			o := &OrderItem{Pos: p.tok.pos, Expr: p.expr()}
			if p.acceptKw("DESC") {
				o.Desc = true
			} else {
				p.acceptKw("ASC")
			}
			q.OrderBy = append(q.OrderBy, o)
			if !p.accept(tComma) {
				break
			}
		}
	}
	p.accept(tSemi)
	if p.tok.kind != tEOF {
		switch {
		case p.isKw("WHERE") || p.isKw("GROUP") || p.isKw("ORDER"):
			p.failAt(p.tok.pos, "%s is out of place: clauses go SELECT, FROM, JOIN, MATCH, WHERE, GROUP BY, ORDER BY", strings.ToUpper(p.tok.text))
		case len(q.Matches) > 0 || len(q.Joins) > 0 || q.Where != nil:
			p.fail("WHERE, GROUP BY, ORDER BY or end of query")
		default:
			p.fail("JOIN, MATCH, WHERE, GROUP BY, ORDER BY or end of query")
		}
	}
	return q, nil
}

func (p *parser) selectClause() *SelectClause {
	s := &SelectClause{Pos: p.expectKw("SELECT", " at the start of the query")}
	if p.acceptKw("TOP") {
		p.expect(tLParen, " after TOP")
		pos := p.tok.pos
		if p.tok.kind != tNumber {
			p.fail("a number in TOP(...)")
		}
		n, err := strconv.Atoi(p.tok.text)
		if err != nil || n <= 0 {
			p.failAt(pos, "TOP needs a positive whole number, found %s", p.tok.text)
		}
		s.Top = n
		p.advance()
		p.expect(tRParen, " after the TOP count")
	}
	if p.accept(tStar) {
		s.Star = true
		return s
	}
	if s.Top > 0 && p.isKw("FROM") {
		s.Star = true // SELECT TOP(5) FROM ... returns whole documents (ADT)
		return s
	}
	for {
		it := &SelectItem{Pos: p.tok.pos}
		if p.isKw("FROM") {
			p.fail("*, a collection, a property or a function after SELECT")
		}
		it.Expr = p.expr()
		if p.acceptKw("AS") {
			it.Alias, _ = p.name("an alias after AS")
		}
		s.Items = append(s.Items, it)
		if !p.accept(tComma) {
			break
		}
	}
	return s
}

func (p *parser) fromClause() *FromClause {
	f := &FromClause{Pos: p.expectKw("FROM", " after the SELECT list")}
	switch {
	case p.acceptKw("DIGITALTWINS"):
		f.Collection = DigitalTwins
	case p.acceptKw("RELATIONSHIPS"):
		f.Collection = Relationships
	default:
		p.fail("DIGITALTWINS or RELATIONSHIPS after FROM")
	}
	if p.isName() {
		f.Alias, _ = p.name("")
	}
	if p.isKw("AS") {
		asPos := p.tok.pos
		p.advance()
		if !p.acceptKw("OF") {
			p.failAt(asPos, "expected AS OF 'time' after the collection (aliases go without AS: FROM DIGITALTWINS T)")
		}
		pos := p.tok.pos
		if p.tok.kind != tString {
			p.fail("an RFC 3339 time string after AS OF")
		}
		t, err := time.Parse(time.RFC3339Nano, p.tok.text)
		if err != nil {
			p.failAt(pos, "AS OF needs an RFC 3339 time such as '2025-04-01T00:00:00Z', found %q", p.tok.text)
		}
		p.advance()
		f.AsOf = &AsOf{Pos: asPos, Time: t}
	}
	return f
}

func (p *parser) join() *Join {
	j := &Join{Pos: p.tok.pos}
	p.advance()
	j.Target, _ = p.name("a collection name after JOIN")
	p.expectKw("RELATED", " after JOIN alias")
	j.Source, _ = p.name("a collection name after RELATED")
	p.expect(tDot, " and a relationship name after the RELATED collection")
	j.Rel, _ = p.name("a relationship name")
	if p.isName() {
		j.RelAlias, _ = p.name("")
	}
	return j
}

func (p *parser) match() *Match {
	m := &Match{Pos: p.tok.pos}
	if p.acceptKw("OPTIONAL") {
		m.Optional = true
		p.expectKw("MATCH", " after OPTIONAL")
	} else {
		p.advance()
	}
	// A path variable: MATCH p = (a)-...
	if p.isName() {
		save, saveTok := p.lex, p.tok
		v, _ := p.name("")
		if p.accept(tEq) {
			m.PathVar = v
		} else {
			p.lex, p.tok = save, saveTok
		}
	}
	m.Nodes = append(m.Nodes, p.node())
	for p.tok.kind == tMinus || p.tok.kind == tLt {
		m.Rels = append(m.Rels, p.rel())
		m.Nodes = append(m.Nodes, p.node())
	}
	return m
}

func (p *parser) node() *NodePattern {
	n := &NodePattern{Pos: p.tok.pos}
	if p.accept(tLParen) {
		if p.isName() {
			n.Var, _ = p.name("")
		}
		p.expect(tRParen, " to close the twin pattern")
		return n
	}
	if p.isName() {
		n.Var, _ = p.name("")
		return n
	}
	p.fail("a twin pattern such as (t)")
	return nil
}

func (p *parser) rel() *RelPattern {
	r := &RelPattern{Pos: p.tok.pos, Dir: Both}
	if p.accept(tLt) {
		r.Dir = Left
	}
	p.expect(tMinus, " in the relationship pattern -[...]-")
	p.expect(tLBrack, " after - in the relationship pattern")
	p.relBody(r)
	p.expect(tRBrack, " to close the relationship pattern")
	p.expect(tMinus, " after ] in the relationship pattern")
	if p.accept(tGt) {
		if r.Dir == Left {
			p.failAt(r.Pos, "a relationship pattern has one direction: use <-[]- or -[]->, and chain patterns for both")
		}
		r.Dir = Right
	}
	return r
}

// relBody parses the inside of -[ ]-: [var][:name|name...][*hops], or a
// bare list of names name|name (as in ADT's examples).
func (p *parser) relBody(r *RelPattern) {
	if p.isName() {
		first, _ := p.name("")
		if p.tok.kind == tPipe {
			r.Names = append(r.Names, first)
			for p.accept(tPipe) {
				n, _ := p.name("a relationship name after |")
				r.Names = append(r.Names, n)
			}
		} else {
			r.Var = first
		}
	}
	if len(r.Names) == 0 && p.accept(tColon) {
		for {
			n, _ := p.name("a relationship name")
			r.Names = append(r.Names, n)
			if !p.accept(tPipe) {
				break
			}
		}
	}
	if p.tok.kind == tStar {
		r.Hops = p.hops()
	}
}

func (p *parser) hopNumber() int {
	pos := p.tok.pos
	if p.tok.kind != tNumber {
		p.fail("a hop count")
	}
	n, err := strconv.Atoi(p.tok.text)
	if err != nil || n < 0 || n > maxHopLiteral {
		p.failAt(pos, "hop count %s is not a whole number from 0 to %d", p.tok.text, maxHopLiteral)
	}
	p.advance()
	return n
}

func (p *parser) hops() *Hops {
	h := &Hops{Pos: p.tok.pos}
	p.advance() // *
	switch p.tok.kind {
	case tNumber:
		h.Lower = p.hopNumber()
		if p.accept(tDotDot) {
			h.HasLower = true
			h.Upper = p.hopNumber()
		} else {
			h.Exact, h.Upper, h.Lower = true, h.Lower, 0
		}
	case tDotDot:
		p.advance()
		h.Upper = p.hopNumber()
	default:
		p.fail("a hop count after * (*3, *1..3 or *..3)")
	}
	return h
}

// Expressions, by precedence: OR < AND < NOT < comparison < primary.

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.failAt(p.tok.pos, "expression nested deeper than %d levels", maxDepth)
	}
}

func (p *parser) expr() Expr {
	p.enter()
	defer func() { p.depth-- }()
	x := p.and()
	for p.isKw("OR") {
		b := &Binary{Pos: p.tok.pos, Op: "OR", X: x}
		p.advance()
		b.Y = p.and()
		x = b
	}
	return x
}

func (p *parser) and() Expr {
	x := p.not()
	for p.isKw("AND") {
		b := &Binary{Pos: p.tok.pos, Op: "AND", X: x}
		p.advance()
		b.Y = p.not()
		x = b
	}
	return x
}

func (p *parser) not() Expr {
	if p.isKw("NOT") {
		u := &Unary{Pos: p.tok.pos, Op: "NOT"}
		p.advance()
		p.enter()
		u.X = p.not()
		p.depth--
		return u
	}
	return p.comparison()
}

var cmpOps = map[tokKind]string{tEq: "=", tNe: "!=", tLt: "<", tLe: "<=", tGt: ">", tGe: ">="}

func (p *parser) comparison() Expr {
	x := p.primary()
	if op, ok := cmpOps[p.tok.kind]; ok {
		b := &Binary{Pos: p.tok.pos, Op: op, X: x}
		p.advance()
		b.Y = p.primary()
		return b
	}
	switch {
	case p.isKw("IN"):
		p.advance()
		return &InExpr{Pos: x.Position(), X: x, List: p.list()}
	case p.isKw("NIN"):
		p.advance()
		return &InExpr{Pos: x.Position(), X: x, List: p.list(), Not: true}
	case p.isKw("NOT"):
		p.advance()
		p.expectKw("IN", " after NOT (NOT IN [...])")
		return &InExpr{Pos: x.Position(), X: x, List: p.list(), Not: true}
	}
	return x
}

func (p *parser) list() *ListLit {
	l := &ListLit{Pos: p.expect(tLBrack, " to start the list")}
	if p.accept(tRBrack) {
		return l
	}
	for {
		e := p.primary()
		if _, ok := e.(*Literal); !ok {
			p.failAt(e.Position(), "IN lists hold literal values, found %s", e.String())
		}
		l.Elems = append(l.Elems, e)
		if !p.accept(tComma) {
			break
		}
	}
	p.expect(tRBrack, " to close the list")
	return l
}

func (p *parser) primary() Expr {
	t := p.tok
	switch t.kind {
	case tString:
		p.advance()
		return &Literal{Pos: t.pos, Value: t.text}
	case tNumber:
		p.advance()
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(v, 0) {
			p.failAt(t.pos, "number %s is out of range", t.text)
		}
		return &Literal{Pos: t.pos, Value: v}
	case tMinus:
		p.advance()
		p.enter()
		x := p.primary()
		p.depth--
		if l, ok := x.(*Literal); ok {
			if f, ok := l.Value.(float64); ok {
				return &Literal{Pos: t.pos, Value: -f}
			}
		}
		return &Unary{Pos: t.pos, Op: "-", X: x}
	case tLParen:
		p.advance()
		x := p.expr()
		p.expect(tRParen, " to close (")
		return x
	case tLBrack:
		return p.list()
	case tIdent:
		if !t.escaped {
			switch strings.ToUpper(t.text) {
			case "TRUE":
				p.advance()
				return &Literal{Pos: t.pos, Value: true}
			case "FALSE":
				p.advance()
				return &Literal{Pos: t.pos, Value: false}
			case "NULL":
				p.advance()
				return &Literal{Pos: t.pos, Value: nil}
			}
			// A function call: a name directly followed by (.
			save := p.lex
			p.advance()
			if p.tok.kind == tLParen {
				return p.call(t)
			}
			p.lex, p.tok = save, t
		}
		return p.ref()
	}
	p.fail("a value, property or function")
	return nil
}

// functions maps each function to its argument count (-1: checked by hand).
var functions = map[string]int{
	"IS_DEFINED": 1, "IS_NULL": 1, "IS_BOOL": 1, "IS_NUMBER": 1, "IS_STRING": 1,
	"IS_PRIMITIVE": 1, "IS_OBJECT": 1, "STARTSWITH": 2, "ENDSWITH": 2, "CONTAINS": 2,
	"ARRAY_CONTAINS": 2, "STARTS_WITH": 2, "ENDS_WITH": 2,
	"COUNT": -1, "SUM": 1, "AVG": 1, "MIN": 1, "MAX": 1,
}

// aggregates are the functions computed over a group of rows.
var aggregates = map[string]bool{"COUNT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true}

func (p *parser) call(name token) Expr {
	fn := strings.ToUpper(name.text)
	p.advance() // (
	if fn == "IS_OF_MODEL" {
		return p.isOfModel(name.pos)
	}
	want, ok := functions[fn]
	if !ok {
		p.failAt(name.pos, "unknown function %s", name.text)
	}
	switch fn { // ADT's reserved spellings of the string functions
	case "STARTS_WITH":
		fn = "STARTSWITH"
	case "ENDS_WITH":
		fn = "ENDSWITH"
	}
	c := &Call{Pos: name.pos, Name: fn}
	if !p.accept(tRParen) {
		for {
			p.enter()
			c.Args = append(c.Args, p.expr())
			p.depth--
			if !p.accept(tComma) {
				break
			}
		}
		p.expect(tRParen, " to close "+fn+"(")
	}
	if fn == "COUNT" {
		if len(c.Args) > 1 {
			p.failAt(name.pos, "COUNT takes no argument or one, found %d", len(c.Args))
		}
	} else if len(c.Args) != want {
		p.failAt(name.pos, "%s takes %d argument%s, found %d", fn, want, plural(want), len(c.Args))
	}
	return c
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// isOfModel parses the arguments of IS_OF_MODEL([var,] 'model' [, exact]).
func (p *parser) isOfModel(pos Pos) Expr {
	m := &IsOfModel{Pos: pos}
	if p.isName() {
		m.Var, _ = p.name("")
		p.expect(tComma, " after the collection in IS_OF_MODEL")
	}
	if p.tok.kind != tString {
		p.fail("a model ID string in IS_OF_MODEL")
	}
	m.Model = p.tok.text
	p.advance()
	if p.accept(tComma) {
		if !p.isKw("exact") {
			p.fail("exact")
		}
		p.advance()
		m.Exact = true
	}
	p.expect(tRParen, " to close IS_OF_MODEL(")
	return m
}

func (p *parser) ref() Expr {
	r := &Ref{Pos: p.tok.pos}
	n, _ := p.name("a collection or property name")
	r.Parts = append(r.Parts, n)
	for p.accept(tDot) {
		n, _ := p.name("a property name after .")
		r.Parts = append(r.Parts, n)
	}
	return r
}
