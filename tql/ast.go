package tql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Pos is a position in the query text: Offset in bytes from 0, Line from 1
// and Col in bytes from 1.
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// String renders the position as "line L, col C".
func (p Pos) String() string { return fmt.Sprintf("line %d, col %d", p.Line, p.Col) }

// Node is implemented by every AST node; Position is where it starts.
type Node interface {
	Position() Pos
}

// Query is a parsed query. Check fills in the resolution fields of its
// expressions (Ref.Var, Ref.Path) and the variable table.
type Query struct {
	Pos     Pos
	Text    string // the query as given to Parse
	Select  *SelectClause
	From    *FromClause
	Joins   []*Join
	Matches []*Match
	Where   Expr // nil without WHERE
	GroupBy []Expr
	OrderBy []*OrderItem

	checked *analysis // set by Check
}

// SelectClause is SELECT [TOP(n)] (* | items).
type SelectClause struct {
	Pos   Pos
	Top   int // 0 without TOP
	Star  bool
	Items []*SelectItem
}

// SelectItem is one projection: an expression and an optional AS alias.
type SelectItem struct {
	Pos   Pos
	Expr  Expr
	Alias string // "" without AS
}

// Name is the key of the item in a result row: the alias, else the
// collection name for a bare collection, the last segment of a property path,
// or the upper-case function name.
func (s *SelectItem) Name() string {
	if s.Alias != "" {
		return s.Alias
	}
	switch e := s.Expr.(type) {
	case *Ref:
		return e.Parts[len(e.Parts)-1]
	case *Call:
		return e.Name
	case *IsOfModel:
		return "IS_OF_MODEL"
	}
	return ""
}

// Collection names the twin graph collection a query reads.
type Collection int

// The collections of FROM.
const (
	DigitalTwins Collection = iota
	Relationships
)

// String returns the collection's keyword.
func (c Collection) String() string {
	if c == Relationships {
		return "RELATIONSHIPS"
	}
	return "DIGITALTWINS"
}

// FromClause is FROM DIGITALTWINS|RELATIONSHIPS [alias] [AS OF 'time'].
type FromClause struct {
	Pos        Pos
	Collection Collection
	Alias      string // "" without alias
	AsOf       *AsOf
}

// AsOf is AS OF 'RFC 3339 time'.
type AsOf struct {
	Pos  Pos
	Time time.Time
}

// Join is JOIN Target RELATED Source.Rel [RelAlias]: the twins Target
// reached from Source by a relationship named Rel.
type Join struct {
	Pos      Pos
	Target   string
	Source   string
	Rel      string
	RelAlias string // "" without alias
}

// Match is [OPTIONAL] MATCH [path =] (node)-[rel]-(node)...
type Match struct {
	Pos      Pos
	Optional bool
	PathVar  string // "" unless the pattern is bound with p = ...
	Nodes    []*NodePattern
	Rels     []*RelPattern // len(Rels) == len(Nodes)-1; Rels[i] joins Nodes[i] and Nodes[i+1]
}

// NodePattern is (var) in a MATCH; Var is "" for an anonymous twin.
type NodePattern struct {
	Pos Pos
	Var string
}

// Direction is the direction of a relationship pattern, read left to right.
type Direction int

// Directions of a relationship pattern.
const (
	Right Direction = iota // (a)-[]->(b): a is the source
	Left                   // (a)<-[]-(b): b is the source
	Both                   // (a)-[]-(b): either
)

// RelPattern is the relationship condition between two nodes of a MATCH:
// -[var:name1|name2*hops]->.
type RelPattern struct {
	Pos   Pos
	Dir   Direction
	Var   string   // "" without a variable
	Names []string // empty: any name
	Hops  *Hops    // nil: one hop
}

// Hops is the hop count of a relationship pattern as written: *N (Exact),
// *L..U or *..U. Per the ADT reference the lower bound of a range is
// exclusive; Bounds gives the inclusive bounds.
type Hops struct {
	Pos      Pos
	Exact    bool
	Lower    int // as written; 0 when omitted
	HasLower bool
	Upper    int
}

// Bounds returns the inclusive minimum and maximum number of hops.
func (h *Hops) Bounds() (lo, hi int) {
	switch {
	case h == nil:
		return 1, 1
	case h.Exact:
		return h.Upper, h.Upper
	case h.HasLower:
		return h.Lower + 1, h.Upper
	}
	return 1, h.Upper
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Pos  Pos
	Expr Expr
	Desc bool
}

// Expr is an expression: *Literal, *ListLit, *Ref, *Unary, *Binary, *InExpr,
// *Call or *IsOfModel.
type Expr interface {
	Node
	String() string
	expr()
}

// Literal is a string, number (float64), boolean or null (nil).
type Literal struct {
	Pos   Pos
	Value any
}

// ListLit is ['a', 'b'] (the right side of IN and NIN).
type ListLit struct {
	Pos   Pos
	Elems []Expr
}

// Ref is a name or property path: T, T.name, T.$metadata.$model, or name
// (a property of the only collection). Check sets Var to the collection
// variable it starts from and Path to the property path within it.
type Ref struct {
	Pos   Pos
	Parts []string

	Var  string   // set by Check
	Path []string // set by Check; empty for the collection itself
	slot int      // set by Check: the variable's slot
}

// Unary is NOT X or -X.
type Unary struct {
	Pos Pos
	Op  string // "NOT" or "-"
	X   Expr
}

// Binary is X op Y with op one of AND, OR, =, !=, <, <=, >, >=.
type Binary struct {
	Pos   Pos // position of the operator
	Op    string
	X, Y  Expr
	quant *quantity // set by Check when Y (or X) is a quantity literal such as '500 kg'
	qLeft bool      // the quantity literal is X
}

// InExpr is X IN [...] or X NIN [...] (also X NOT IN [...]).
type InExpr struct {
	Pos  Pos
	X    Expr
	List *ListLit
	Not  bool
}

// Call is a function call; Name is upper case (CONTAINS, SUM, COUNT, ...).
type Call struct {
	Pos  Pos
	Name string
	Args []Expr
}

// IsOfModel is IS_OF_MODEL([var,] 'dtmi', [exact]). Var is "" when the
// collection is implied; Check sets it.
type IsOfModel struct {
	Pos   Pos
	Var   string
	Model string
	Exact bool
	slot  int // set by Check
}

// Position returns where the Query starts.
func (n *Query) Position() Pos { return n.Pos }

// Position returns where the SelectClause starts.
func (n *SelectClause) Position() Pos { return n.Pos }

// Position returns where the SelectItem starts.
func (n *SelectItem) Position() Pos { return n.Pos }

// Position returns where the FromClause starts.
func (n *FromClause) Position() Pos { return n.Pos }

// Position returns where the AsOf starts.
func (n *AsOf) Position() Pos { return n.Pos }

// Position returns where the Join starts.
func (n *Join) Position() Pos { return n.Pos }

// Position returns where the Match starts.
func (n *Match) Position() Pos { return n.Pos }

// Position returns where the NodePattern starts.
func (n *NodePattern) Position() Pos { return n.Pos }

// Position returns where the RelPattern starts.
func (n *RelPattern) Position() Pos { return n.Pos }

// Position returns where the Hops starts.
func (n *Hops) Position() Pos { return n.Pos }

// Position returns where the OrderItem starts.
func (n *OrderItem) Position() Pos { return n.Pos }

// Position returns where the Literal starts.
func (n *Literal) Position() Pos { return n.Pos }

// Position returns where the ListLit starts.
func (n *ListLit) Position() Pos { return n.Pos }

// Position returns where the Ref starts.
func (n *Ref) Position() Pos { return n.Pos }

// Position returns where the Unary starts.
func (n *Unary) Position() Pos { return n.Pos }

// Position returns where the Binary starts.
func (n *Binary) Position() Pos { return n.X.Position() }

// Position returns where the InExpr starts.
func (n *InExpr) Position() Pos { return n.X.Position() }

// Position returns where the Call starts.
func (n *Call) Position() Pos { return n.Pos }

// Position returns where the IsOfModel starts.
func (n *IsOfModel) Position() Pos { return n.Pos }

func (*Literal) expr()   {}
func (*ListLit) expr()   {}
func (*Ref) expr()       {}
func (*Unary) expr()     {}
func (*Binary) expr()    {}
func (*InExpr) expr()    {}
func (*Call) expr()      {}
func (*IsOfModel) expr() {}

// quoteString renders s as a single-quoted query string.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// quoteName renders a name, escaping reserved words and names that are not
// plain identifiers with [[ ]].
func quoteName(s string) string {
	if reserved[strings.ToUpper(s)] || s == "" || !plainIdent(s) {
		return "[[" + s + "]]"
	}
	return s
}

func plainIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if i == 0 && !isIdentStart(s[i]) || !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

// String renders the literal in query syntax.
func (n *Literal) String() string {
	switch v := n.Value.(type) {
	case nil:
		return "null"
	case bool:
		if v {
			return "true"
		}
		return "false"
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return quoteString(v)
	}
	return fmt.Sprint(n.Value)
}

// String renders the list in query syntax.
func (n *ListLit) String() string {
	s := make([]string, len(n.Elems))
	for i, e := range n.Elems {
		s[i] = e.String()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// String renders the path in query syntax.
func (n *Ref) String() string {
	s := make([]string, len(n.Parts))
	for i, p := range n.Parts {
		s[i] = quoteName(p)
	}
	return strings.Join(s, ".")
}

// String renders the expression in query syntax.
func (n *Unary) String() string {
	if n.Op == "-" {
		return "-" + operand(n.X)
	}
	return "NOT " + paren(n.X)
}

// String renders the expression in query syntax.
func (n *Binary) String() string {
	if n.Op == "AND" || n.Op == "OR" {
		return paren(n.X) + " " + n.Op + " " + paren(n.Y)
	}
	return operand(n.X) + " " + n.Op + " " + operand(n.Y)
}

// paren renders an operand of AND, OR or NOT, in parentheses when it is
// itself AND or OR.
func paren(e Expr) string {
	if b, ok := e.(*Binary); ok && (b.Op == "AND" || b.Op == "OR") {
		return "(" + e.String() + ")"
	}
	return e.String()
}

// operand renders an operand of a comparison, IN or unary minus, in
// parentheses unless it is a single value, name or call.
func operand(e Expr) string {
	switch e := e.(type) {
	case *Literal, *ListLit, *Ref, *Call, *IsOfModel:
		return e.String()
	case *Unary:
		if e.Op == "-" {
			return e.String()
		}
	}
	return "(" + e.String() + ")"
}

// String renders the expression in query syntax.
func (n *InExpr) String() string {
	op := " IN "
	if n.Not {
		op = " NIN "
	}
	return operand(n.X) + op + n.List.String()
}

// String renders the call in query syntax.
func (n *Call) String() string {
	s := make([]string, len(n.Args))
	for i, a := range n.Args {
		s[i] = a.String()
	}
	return n.Name + "(" + strings.Join(s, ", ") + ")"
}

// String renders the call in query syntax.
func (n *IsOfModel) String() string {
	var b strings.Builder
	b.WriteString("IS_OF_MODEL(")
	if n.Var != "" {
		b.WriteString(quoteName(n.Var) + ", ")
	}
	b.WriteString(quoteString(n.Model))
	if n.Exact {
		b.WriteString(", exact")
	}
	b.WriteString(")")
	return b.String()
}

// String renders the query in canonical form: keywords upper case, one
// space between tokens. Parse(q.String()) gives an equivalent query.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if q.Select.Top > 0 {
		fmt.Fprintf(&b, "TOP(%d) ", q.Select.Top)
	}
	if q.Select.Star {
		b.WriteString("*")
	}
	for i, it := range q.Select.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.Expr.String())
		if it.Alias != "" {
			b.WriteString(" AS " + quoteName(it.Alias))
		}
	}
	b.WriteString(" FROM " + q.From.Collection.String())
	if q.From.Alias != "" {
		b.WriteString(" " + quoteName(q.From.Alias))
	}
	if q.From.AsOf != nil {
		b.WriteString(" AS OF " + quoteString(q.From.AsOf.Time.Format(time.RFC3339Nano)))
	}
	for _, j := range q.Joins {
		fmt.Fprintf(&b, " JOIN %s RELATED %s.%s", quoteName(j.Target), quoteName(j.Source), quoteName(j.Rel))
		if j.RelAlias != "" {
			b.WriteString(" " + quoteName(j.RelAlias))
		}
	}
	for _, m := range q.Matches {
		b.WriteString(" ")
		b.WriteString(m.String())
	}
	if q.Where != nil {
		b.WriteString(" WHERE " + q.Where.String())
	}
	if len(q.GroupBy) > 0 {
		s := make([]string, len(q.GroupBy))
		for i, e := range q.GroupBy {
			s[i] = e.String()
		}
		b.WriteString(" GROUP BY " + strings.Join(s, ", "))
	}
	if len(q.OrderBy) > 0 {
		s := make([]string, len(q.OrderBy))
		for i, o := range q.OrderBy {
			s[i] = o.Expr.String()
			if o.Desc {
				s[i] += " DESC"
			}
		}
		b.WriteString(" ORDER BY " + strings.Join(s, ", "))
	}
	return b.String()
}

// String renders the MATCH clause in query syntax.
func (m *Match) String() string {
	var b strings.Builder
	if m.Optional {
		b.WriteString("OPTIONAL ")
	}
	b.WriteString("MATCH ")
	if m.PathVar != "" {
		b.WriteString(quoteName(m.PathVar) + " = ")
	}
	for i, n := range m.Nodes {
		if i > 0 {
			r := m.Rels[i-1]
			if r.Dir == Left {
				b.WriteString("<")
			}
			b.WriteString("-[")
			b.WriteString(r.body())
			b.WriteString("]-")
			if r.Dir == Right {
				b.WriteString(">")
			}
		}
		b.WriteString("(")
		if n.Var != "" {
			b.WriteString(quoteName(n.Var))
		}
		b.WriteString(")")
	}
	return b.String()
}

func (r *RelPattern) body() string {
	var b strings.Builder
	if r.Var != "" {
		b.WriteString(quoteName(r.Var))
	}
	if len(r.Names) > 0 {
		b.WriteString(":")
		for i, n := range r.Names {
			if i > 0 {
				b.WriteString("|")
			}
			b.WriteString(quoteName(n))
		}
	}
	if h := r.Hops; h != nil {
		b.WriteString("*")
		switch {
		case h.Exact:
			b.WriteString(strconv.Itoa(h.Upper))
		case h.HasLower:
			fmt.Fprintf(&b, "%d..%d", h.Lower, h.Upper)
		default:
			fmt.Fprintf(&b, "..%d", h.Upper)
		}
	}
	return b.String()
}
