package tql

// Inspect traverses an expression depth-first: it calls f(e), and if f
// returns true, Inspect visits the children of e (operands, list elements,
// call arguments) in order.
func Inspect(e Expr, f func(Expr) bool) {
	if e == nil || !f(e) {
		return
	}
	switch e := e.(type) {
	case *ListLit:
		for _, x := range e.Elems {
			Inspect(x, f)
		}
	case *Unary:
		Inspect(e.X, f)
	case *Binary:
		Inspect(e.X, f)
		Inspect(e.Y, f)
	case *InExpr:
		Inspect(e.X, f)
		Inspect(e.List, f)
	case *Call:
		for _, x := range e.Args {
			Inspect(x, f)
		}
	}
}

// IsAggregate reports whether a function name (upper case, as in Call.Name)
// is an aggregate: COUNT, SUM, AVG, MIN or MAX.
func IsAggregate(name string) bool { return aggregates[name] }

// Quantity reports whether Check found this comparison to be between a twin
// property and a quantity literal such as '500 kg', and if so returns the
// literal's number and unit and whether the literal is the left operand. An
// engine converts value from unit into the unit the twin's model declares
// for the property (see UnitResolver) before comparing; without a declared
// unit the literal is compared as the string it is.
func (b *Binary) Quantity() (value float64, unit Unit, literalLeft, ok bool) {
	if b.quant == nil {
		return 0, Unit{}, false, false
	}
	return b.quant.value, b.quant.unit, b.qLeft, true
}

// VarKind is the kind of a variable of a checked query.
type VarKind int

// Kinds of variables.
const (
	TwinVar         VarKind = iota // a twin collection (FROM alias, JOIN target, MATCH node)
	RelationshipVar                // a relationship (FROM RELATIONSHIPS, JOIN alias, MATCH [r])
	PathVar                        // a path (MATCH p = ...)
)

// Variable is a name a checked query binds.
type Variable struct {
	Name string
	Kind VarKind
	// Optional is the OPTIONAL MATCH the variable belongs to, counting
	// from 1; 0 for the mandatory part of the query.
	Optional int
	// Anonymous variables stand for unnamed twins such as the () of
	// (a)-[]->()-[]->(b); their names start with "$".
	Anonymous bool
}

// Variables returns the variables of a checked query in declaration order
// (nil before Check). A query over one collection without an alias has one
// anonymous variable that bare property names refer to.
func (q *Query) Variables() []Variable {
	if q.checked == nil {
		return nil
	}
	var vs []Variable
	for _, v := range q.checked.vars {
		if v.kind == kWalk {
			continue
		}
		vs = append(vs, Variable{Name: v.name, Kind: VarKind(v.kind), Optional: v.group, Anonymous: v.anon})
	}
	return vs
}
