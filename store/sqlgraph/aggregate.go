package sqlgraph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"lodestone/tql"
)

// aggregate computes a grouped or aggregate query over the twins in one
// SQL statement. It reports false, to fall back to the evaluator, when the
// query has another shape or the data holds values whose aggregate SQL
// cannot reproduce exactly: arrays or objects as group keys or MIN/MAX
// arguments, nulls in MIN/MAX (the evaluator's result then depends on row
// order), non-integral numbers in SUM/AVG (SQL sums in another order and
// with compensation, so the last bits could differ), and more groups than
// fit a page.
func aggregate(ctx context.Context, g *Graph, c *compiler, q *tql.Query, filter string, opts *tql.Options) (*tql.Result, bool, error) {
	if c.rels || anchored(q) || q.Select.Star || (len(q.GroupBy) == 0 && !hasAggregates(q)) {
		return nil, false, nil
	}
	if q.From.AsOf != nil {
		h, err := New(ctx, g.s, q.From.AsOf.Time)
		if err != nil {
			return nil, false, err
		}
		g = h
	}
	cols, groupBy, items, ok := aggregatePlan(c, q)
	if !ok {
		return nil, false, nil
	}
	where := ""
	if filter != "" {
		where = " WHERE " + filter
	}
	stmt := "SELECT " + strings.Join(cols, ", ") + ", MIN(t.id) FROM " + g.twins + " AS t" + where
	if len(q.GroupBy) > 0 {
		stmt += " GROUP BY " + strings.Join(groupBy, ", ") + " ORDER BY MIN(t.id)"
	}
	// The rows the reference evaluator reads: the twins of the model it
	// scans (the first IS_OF_MODEL conjunct), else all.
	domain := ""
	for _, cj := range conjuncts(q.Where) {
		if m, ok := cj.(*tql.IsOfModel); ok {
			domain, _ = c.expr(m)
			break
		}
	}
	scanned, err := g.count(domain)
	if err != nil {
		return nil, false, err
	}
	if limit := maxScan(opts); limit > 0 && scanned > limit {
		return nil, false, nil
	}
	rows, err := g.db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, false, fmt.Errorf("sqlgraph: aggregate: %w", err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, fmt.Errorf("sqlgraph: aggregate: %w", err)
		}
		row, ok := aggregateRow(vals, items)
		if !ok {
			return nil, false, nil
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlgraph: aggregate: %w", err)
	}
	if !orderRows(q, out) {
		return nil, false, nil
	}
	if top := q.Select.Top; top > 0 && len(out) > top {
		out = out[:top]
	}
	pageSize := tql.DefaultPageSize
	if opts != nil && opts.PageSize > 0 {
		pageSize = opts.PageSize
	}
	if len(out) > pageSize {
		return nil, false, nil
	}
	if out == nil {
		out = []map[string]any{}
	}
	return &tql.Result{Rows: out, Cost: tql.Cost{RowsScanned: scanned}}, true, nil
}

// aggItem is one selected item of an aggregate query.
type aggItem struct {
	name string
	agg  string // "" for a group key
	key  int    // the group key of a non-aggregate
	col  int    // first result column
}

// aggregatePlan returns the result columns of the statement (two per group
// key, class and text value, then those of each aggregate), the GROUP BY
// column numbers and the selected items. It reports false for a query
// aggregate cannot compute.
func aggregatePlan(c *compiler, q *tql.Query) (cols, groupBy []string, items []aggItem, ok bool) {
	// Group keys.
	for _, e := range q.GroupBy {
		o, ok := c.ref(e)
		if !ok {
			return nil, nil, nil, false
		}
		cols = append(cols, c.class(o), c.value(o, "text"))
	}
	groupBy = make([]string, 0, len(cols))
	for i := range cols {
		groupBy = append(groupBy, fmt.Sprint(i+1))
	}
	// Items: aggregates, or a group key.
	items = make([]aggItem, len(q.Select.Items))
	for i, it := range q.Select.Items {
		items[i] = aggItem{name: it.Name(), key: -1}
		call, isCall := it.Expr.(*tql.Call)
		if !isCall || !tql.IsAggregate(call.Name) {
			for k, ge := range q.GroupBy {
				if ge.String() == it.Expr.String() {
					items[i].key = k
				}
			}
			if items[i].key < 0 {
				return nil, nil, nil, false
			}
			continue
		}
		items[i].agg, items[i].col = call.Name, len(cols)
		if len(call.Args) == 0 {
			if call.Name != "COUNT" {
				return nil, nil, nil, false
			}
			cols = append(cols, "COUNT(*)")
			continue
		}
		o, ok := c.ref(call.Args[0])
		if len(call.Args) != 1 || !ok {
			return nil, nil, nil, false
		}
		cols = append(cols, aggColumns(c, call.Name, o)...)
	}
	return cols, groupBy, items, true
}

// aggColumns returns the result columns of one aggregate of operand o.
func aggColumns(c *compiler, name string, o operand) []string {
	typ := c.jtype(o)
	var cols []string
	switch name {
	case "COUNT":
		cols = append(cols, "COUNT("+typ+")")
	case "SUM", "AVG":
		// total of the integral numbers, count of numbers, count of
		// non-integral numbers
		cols = append(cols,
			"TOTAL(CASE "+typ+" WHEN 'integer' THEN "+c.value(o, "num")+" END)",
			"COUNT(CASE "+typ+whenType("num", "1")+" END)",
			"COUNT(CASE "+typ+" WHEN 'real' THEN 1 END)")
		if c.dialect == "postgres" {
			// jsonb has one number type: tell integral values by
			// their fraction.
			x := "NULL::numeric"
			if o.col == "" {
				x = "(" + o.doc + " #>> '{" + strings.Join(o.path, ",") + "}')::numeric"
			}
			cols[len(cols)-3] = "COALESCE(SUM(CASE WHEN " + typ + " = 'real' THEN (CASE WHEN " + x + " = trunc(" + x + ") THEN " + x + " END) END), 0)::float8"
			cols[len(cols)-1] = "COUNT(CASE WHEN " + typ + " = 'real' THEN (CASE WHEN " + x + " <> trunc(" + x + ") THEN 1 END) END)"
		}
	case "MIN", "MAX":
		// nulls, arrays and objects, then the extreme of each
		// scalar type in the order bool < number < string
		cols = append(cols,
			"COUNT(CASE "+typ+" WHEN 'null' THEN 1 WHEN 'array' THEN 1 WHEN 'object' THEN 1 END)",
			name+"(CASE "+typ+whenType("bool", c.value(o, "bool"))+" END)",
			name+"(CASE "+typ+whenType("num", c.value(o, "num"))+" END)",
			name+"(CASE "+typ+whenType("text", c.value(o, "text"))+" END)")
	}
	return cols
}

// aggregateRow builds a result row from the scanned values of one group. It
// reports false where SQL cannot give the evaluator's exact result.
func aggregateRow(vals []any, items []aggItem) (map[string]any, bool) {
	row := map[string]any{}
	for _, it := range items {
		if it.agg == "" {
			v, ok := keyValue(vals[2*it.key], vals[2*it.key+1])
			if !ok {
				return nil, false
			}
			if v != undef {
				row[it.name] = v
			}
			continue
		}
		v := vals[it.col:]
		switch it.agg {
		case "COUNT":
			row[it.name] = num(v[0])
		case "SUM", "AVG":
			if num(v[2]) > 0 {
				return nil, false
			}
			if n := num(v[1]); n > 0 {
				s := num(v[0])
				if it.agg == "AVG" {
					s /= n
				}
				row[it.name] = s
			}
		case "MIN", "MAX":
			if num(v[0]) > 0 {
				return nil, false
			}
			order := []any{v[1], v[2], v[3]}
			if it.agg == "MAX" {
				slices.Reverse(order)
			}
			for j, x := range order {
				if x == nil {
					continue
				}
				if it.agg == "MIN" && j == 0 || it.agg == "MAX" && j == 2 {
					row[it.name] = num(x) != 0
				} else if s, ok := x.(string); ok {
					row[it.name] = s
				} else if b, ok := x.([]byte); ok {
					row[it.name] = string(b)
				} else {
					row[it.name] = num(x)
				}
				break
			}
		}
	}
	return row, true
}

// count counts the twins meeting cond (all twins when cond is "").
func (g *Graph) count(cond string) (int, error) {
	stmt := "SELECT COUNT(*) FROM " + g.twins + " AS t"
	if cond != "" {
		stmt += " WHERE " + cond
	}
	var n int
	if err := g.db.QueryRowContext(g.ctx, stmt).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlgraph: count scanned rows: %w", err)
	}
	return n, nil
}

// class is the SQL expression of an operand's type class for grouping:
// 'u' (undefined), 'null', 'bool', 'num', 'text', 'array' or 'object'.
func (c *compiler) class(o operand) string {
	return "(CASE " + c.jtype(o) + " WHEN 'integer' THEN 'num' WHEN 'real' THEN 'num' WHEN 'true' THEN 'bool' WHEN 'false' THEN 'bool' WHEN 'text' THEN 'text' WHEN 'null' THEN 'null' WHEN 'array' THEN 'array' WHEN 'object' THEN 'object' ELSE 'u' END)"
}

type undefT struct{}

var undef any = undefT{}

// keyValue decodes a group key from its class and SQL value; false for
// arrays and objects.
func keyValue(class, v any) (any, bool) {
	switch str(class) {
	case "u":
		return undef, true
	case "null":
		return nil, true
	case "bool":
		if s, ok := v.(string); ok { // PostgreSQL: 'true' or 'false'
			return s == "true", true
		}
		return num(v) != 0, true
	case "num":
		return num(v), true
	case "text":
		return str(v), true
	}
	return nil, false
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func num(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case []byte:
		var f float64
		fmt.Sscan(string(x), &f)
		return f
	case string:
		var f float64
		fmt.Sscan(x, &f)
		return f
	}
	return 0
}

// orderRows sorts grouped rows by ORDER BY as the evaluator does (a
// stable sort by result columns, undefined < null < bool < number <
// string); false when a key does not name a result column.
func orderRows(q *tql.Query, rows []map[string]any) bool {
	if len(q.OrderBy) == 0 {
		return true
	}
	type key struct {
		name string
		desc bool
	}
	var ks []key
	for _, o := range q.OrderBy {
		k := -1
		switch e := o.Expr.(type) {
		case *tql.Literal:
			f, _ := e.Value.(float64)
			k = int(f) - 1
		case *tql.Ref:
			if len(e.Parts) == 1 {
				for i, it := range q.Select.Items {
					if it.Alias == e.Parts[0] {
						k = i
					}
				}
			}
		}
		if k < 0 {
			for i, it := range q.Select.Items {
				if it.Expr.String() == o.Expr.String() {
					k = i
				}
			}
		}
		if k < 0 || k >= len(q.Select.Items) {
			return false
		}
		ks = append(ks, key{q.Select.Items[k].Name(), o.Desc})
	}
	rank := func(v any, ok bool) int {
		switch v.(type) {
		case nil:
			if !ok {
				return 0
			}
			return 1
		case bool:
			return 2
		case float64:
			return 3
		}
		return 4
	}
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		for _, k := range ks {
			x, okx := a[k.name]
			y, oky := b[k.name]
			c := cmp.Compare(rank(x, okx), rank(y, oky))
			if c == 0 {
				switch xv := x.(type) {
				case bool:
					c = cmp.Compare(boolInt(xv), boolInt(y.(bool)))
				case float64:
					c = cmp.Compare(xv, y.(float64))
				case string:
					c = strings.Compare(xv, y.(string))
				}
			}
			if c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	return true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
