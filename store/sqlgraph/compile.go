package sqlgraph

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"lodestone/tql"
)

// A compiled condition is a SQL expression with the three-valued meaning of
// the tql expression it comes from: TRUE where tql gives true, FALSE where
// it gives false and NULL where it gives undefined. SQL's AND, OR and NOT
// are Kleene's, as tql's are, so conditions compose. Literals are inlined
// as SQL literals (strings quoted), so a condition carries no arguments and
// can be added to any statement of either dialect.

// compiler turns tql expressions over one collection variable into SQL
// conditions on the alias t (twins) or r (relationships).
type compiler struct {
	dialect string
	rels    bool   // the collection is RELATIONSHIPS
	bases   string // model_bases relation
	v       string // when set, the one variable conditions may name
}

// operand is a compiled property reference: its JSON type test and value.
type operand struct {
	col  string // a plain text column ($dtId, $metadata.$model...), or ""
	doc  string // the JSON column when col is ""
	path []string
}

func (c *compiler) ref(e tql.Expr) (operand, bool) {
	r, ok := e.(*tql.Ref)
	if !ok || len(r.Path) == 0 || c.v != "" && r.Var != c.v {
		return operand{}, false
	}
	p := r.Path
	if c.rels {
		if len(p) == 1 {
			switch p[0] {
			case "$sourceId":
				return operand{col: "r.source_id"}, true
			case "$targetId":
				return operand{col: "r.target_id"}, true
			case "$relationshipId":
				return operand{col: "r.rel_id"}, true
			case "$relationshipName":
				return operand{col: "r.name"}, true
			case "$etag":
				return operand{col: "r.etag"}, true
			}
		}
	} else {
		switch {
		case len(p) == 1 && p[0] == "$dtId":
			return operand{col: "t.id"}, true
		case len(p) == 1 && p[0] == "$etag":
			return operand{col: "t.etag"}, true
		case len(p) == 2 && p[0] == "$metadata" && p[1] == "$model":
			return operand{col: "t.model"}, true
		}
	}
	for _, s := range p {
		if !plainName(s) {
			return operand{}, false
		}
	}
	doc := "t.props"
	if c.rels {
		doc = "r.props"
	}
	return operand{doc: doc, path: p}, true
}

// plainName reports whether a property name can go into a JSON path
// unquoted; names that start with $ are system properties not stored in
// props.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// jtype is the SQL expression of the operand's JSON type in SQLite's
// json_type vocabulary ('null', 'true', 'false', 'integer', 'real',
// 'text', 'array', 'object'), NULL when undefined.
func (c *compiler) jtype(o operand) string {
	if o.col != "" {
		return "'text'"
	}
	if c.dialect == "postgres" {
		x := o.doc + " #> '{" + strings.Join(o.path, ",") + "}'"
		return "(CASE jsonb_typeof(" + x + ") WHEN 'string' THEN 'text' WHEN 'number' THEN 'real' WHEN 'boolean' THEN (CASE WHEN (" + x + ") = 'true'::jsonb THEN 'true' ELSE 'false' END) ELSE jsonb_typeof(" + x + ") END)"
	}
	return "json_type(" + o.doc + ", '$." + strings.Join(o.path, ".") + "')"
}

// value is the SQL value of the operand when its type is kind
// ("num", "text" or "bool"; booleans are 1 and 0).
func (c *compiler) value(o operand, kind string) string {
	if o.col != "" {
		return o.col
	}
	if c.dialect == "postgres" {
		x := o.doc + " #>> '{" + strings.Join(o.path, ",") + "}'"
		switch kind {
		case "num":
			return "(" + x + ")::float8"
		case "bool":
			return "(CASE WHEN (" + x + ") = 'true' THEN 1 ELSE 0 END)"
		}
		return "(" + x + `) COLLATE "C"` // byte order, as tql compares strings
	}
	return "json_extract(" + o.doc + ", '$." + strings.Join(o.path, ".") + "')"
}

// literal returns the SQL literal of a tql literal and the JSON type
// test its same-typed operands pass.
func literal(e tql.Expr) (sqlLit, kind string, ok bool) {
	if u, isU := e.(*tql.Unary); isU && u.Op == "-" {
		if l, isL := u.X.(*tql.Literal); isL {
			if f, isF := l.Value.(float64); isF {
				return strconv.FormatFloat(-f, 'g', -1, 64), "num", true
			}
		}
		return "", "", false
	}
	l, isL := e.(*tql.Literal)
	if !isL {
		return "", "", false
	}
	switch v := l.Value.(type) {
	case nil:
		return "NULL", "null", true
	case bool:
		if v {
			return "1", "bool", true
		}
		return "0", "bool", true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), "num", true
	case string:
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return "", "", false
		}
		return quote(v), "text", true
	}
	return "", "", false
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// whenType lists the json_type names of kind as WHEN arms of a simple
// CASE, so that the type is computed once.
func whenType(kind string, then string) string {
	switch kind {
	case "num":
		return " WHEN 'integer' THEN " + then + " WHEN 'real' THEN " + then
	case "bool":
		return " WHEN 'true' THEN " + then + " WHEN 'false' THEN " + then
	case "text":
		return " WHEN 'text' THEN " + then
	}
	return " WHEN 'null' THEN " + then
}

// equal is the compiled tql = between an operand and a literal: NULL when
// the operand is undefined, false across types.
func (c *compiler) equal(o operand, lit, kind string) string {
	if o.col != "" {
		if kind != "text" {
			return "(1 = 0)"
		}
		return "(" + o.col + " = " + lit + ")"
	}
	then := c.value(o, kind) + " = " + lit
	if kind == "null" {
		then = "1 = 1"
	}
	return "(CASE COALESCE(" + c.jtype(o) + ", 'u') WHEN 'u' THEN NULL" + whenType(kind, then) + " ELSE 1 = 0 END)"
}

var flipped = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}

// expr compiles e exactly, or reports false.
func (c *compiler) expr(e tql.Expr) (string, bool) {
	switch e := e.(type) {
	case *tql.Binary:
		switch e.Op {
		case "AND", "OR":
			x, ok1 := c.expr(e.X)
			y, ok2 := c.expr(e.Y)
			if !ok1 || !ok2 {
				return "", false
			}
			return "(" + x + " " + e.Op + " " + y + ")", true
		}
		if _, _, _, q := e.Quantity(); q {
			return "", false
		}
		op := e.Op
		o, ok := c.ref(e.X)
		lit, kind, ok2 := literal(e.Y)
		if !ok || !ok2 {
			o, ok = c.ref(e.Y)
			lit, kind, ok2 = literal(e.X)
			op = flipped[op]
		}
		if !ok || !ok2 || op == "" {
			return "", false
		}
		switch op {
		case "=":
			return c.equal(o, lit, kind), true
		case "!=":
			return "(NOT " + c.equal(o, lit, kind) + ")", true
		}
		if kind == "null" {
			return "NULL", true
		}
		if o.col != "" {
			if kind != "text" {
				return "NULL", true
			}
			return "(" + o.col + " " + op + " " + lit + ")", true
		}
		return "(CASE " + c.jtype(o) + whenType(kind, c.value(o, kind)+" "+op+" "+lit) + " END)", true
	case *tql.Unary:
		if e.Op != "NOT" {
			return "", false
		}
		x, ok := c.expr(e.X)
		if !ok {
			return "", false
		}
		return "(NOT " + x + ")", true
	case *tql.InExpr:
		o, ok := c.ref(e.X)
		if !ok {
			return "", false
		}
		var alts []string
		for _, el := range e.List.Elems {
			lit, kind, ok := literal(el)
			if !ok {
				return "", false
			}
			alts = append(alts, c.equal(o, lit, kind))
		}
		found := "1 = 0"
		if len(alts) > 0 {
			found = strings.Join(alts, " OR ")
		}
		if e.Not {
			found = "NOT (" + found + ")"
		}
		return "(CASE WHEN " + c.jtype(o) + " IS NULL THEN NULL ELSE " + found + " END)", true
	case *tql.IsOfModel:
		if c.rels || c.v != "" && e.Var != c.v {
			return "", false
		}
		if e.Exact {
			return "(t.model = " + quote(e.Model) + ")", true
		}
		return "(t.model IN (SELECT mb.model FROM " + c.bases + " AS mb WHERE mb.base = " + quote(e.Model) + "))", true
	case *tql.Call:
		return c.call(e)
	}
	return "", false
}

func (c *compiler) call(e *tql.Call) (string, bool) {
	if len(e.Args) == 0 {
		return "", false
	}
	o, ok := c.ref(e.Args[0])
	if !ok {
		return "", false
	}
	typ := "COALESCE(" + c.jtype(o) + ", '')"
	switch e.Name {
	case "IS_DEFINED":
		return "(" + c.jtype(o) + " IS NOT NULL)", true
	case "IS_NULL":
		return "(" + typ + " = 'null')", true
	case "IS_BOOL":
		return "(" + typ + " IN ('true', 'false'))", true
	case "IS_NUMBER":
		return "(" + typ + " IN ('integer', 'real'))", true
	case "IS_STRING":
		return "(" + typ + " = 'text')", true
	case "IS_PRIMITIVE":
		return "(" + typ + " IN ('null', 'true', 'false', 'integer', 'real', 'text'))", true
	case "IS_OBJECT":
		return "(" + typ + " = 'object')", true
	case "STARTSWITH", "ENDSWITH", "CONTAINS":
	default:
		return "", false
	}
	if len(e.Args) != 2 {
		return "", false
	}
	lit, kind, ok := literal(e.Args[1])
	if !ok {
		return "", false
	}
	if kind != "text" {
		return "NULL", true
	}
	s := e.Args[1].(*tql.Literal).Value.(string)
	v := c.value(o, "text")
	var test string
	switch {
	case s == "":
		test = "1 = 1"
	case c.dialect == "postgres" && e.Name == "STARTSWITH":
		test = "left(" + v + ", " + strconv.Itoa(utf8.RuneCountInString(s)) + ") = " + lit
	case c.dialect == "postgres" && e.Name == "ENDSWITH":
		test = "right(" + v + ", " + strconv.Itoa(utf8.RuneCountInString(s)) + ") = " + lit
	case c.dialect == "postgres":
		test = "strpos(" + v + ", " + lit + ") > 0"
	case e.Name == "STARTSWITH":
		test = "substr(" + v + ", 1, " + strconv.Itoa(utf8.RuneCountInString(s)) + ") = " + lit
	case e.Name == "ENDSWITH":
		test = "substr(" + v + ", -" + strconv.Itoa(utf8.RuneCountInString(s)) + ") = " + lit
	default:
		test = "instr(" + v + ", " + lit + ") > 0"
	}
	if o.col != "" {
		return "(" + test + ")", true
	}
	return "(CASE " + c.jtype(o) + whenType("text", test) + " END)", true
}

// conjuncts splits e at its top-level ANDs.
func conjuncts(e tql.Expr) []tql.Expr {
	if b, ok := e.(*tql.Binary); ok && b.Op == "AND" {
		return append(conjuncts(b.X), conjuncts(b.Y)...)
	}
	if e == nil {
		return nil
	}
	return []tql.Expr{e}
}

// where compiles the conjuncts of e that compile exactly and reports
// whether all of them did. The result passes every row for which e is
// true (and, when all compiled, only those).
func (c *compiler) where(e tql.Expr) (string, bool) {
	var parts []string
	all := true
	for _, cj := range conjuncts(e) {
		s, ok := c.expr(cj)
		if !ok {
			all = false
			continue
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " AND "), all
}
