package sqlgraph

import (
	"context"
	"fmt"
	"strings"

	"lodestone/tql"
)

// sorted runs the first page of a sorted query over the twins: SQL sorts
// the rows that pass the filter and returns the IDs of the first page (and
// one more, to know whether there is a next page), and the evaluator runs
// the query over just those twins, so rows, order and continuation token
// are its own. It reports false when the query has another shape or a
// sort key holds arrays or objects (which the evaluator orders by their
// canonical JSON, not SQL).
func sorted(ctx context.Context, g *Graph, c *compiler, q *tql.Query, filter string, opts *tql.Options) (*tql.Result, bool, error) {
	if c.rels || anchored(q) || len(q.OrderBy) == 0 || len(q.GroupBy) > 0 || hasAggregates(q) || q.Select.Star {
		return nil, false, nil
	}
	pageSize := tql.DefaultPageSize
	if opts != nil && opts.PageSize > 0 {
		pageSize = opts.PageSize
	}
	n := pageSize + 1
	if top := q.Select.Top; top > 0 && top < n {
		n = top
	}
	var cols, order []string
	var ranks []int // the columns holding a key's rank
	for _, o := range q.OrderBy {
		e := orderExpr(q, o)
		op, ok := c.ref(e)
		if !ok {
			return nil, false, nil
		}
		dir := ""
		if o.Desc {
			dir = " DESC"
		}
		ranks = append(ranks, len(cols))
		cols = append(cols, c.rank(op))
		order = append(order, fmt.Sprintf("%d%s", len(cols), dir))
		if c.dialect == "postgres" {
			// Text would sort numbers as strings: sort numbers by value.
			cols = append(cols, "(CASE "+c.jtype(op)+" WHEN 'real' THEN "+c.value(op, "num")+" END)")
			order = append(order, fmt.Sprintf("%d%s", len(cols), dir))
		}
		cols = append(cols, c.value(op, "text"))
		order = append(order, fmt.Sprintf("%d%s", len(cols), dir))
	}
	h := g
	if q.From.AsOf != nil {
		var err error
		if h, err = New(ctx, g.s, q.From.AsOf.Time); err != nil {
			return nil, false, err
		}
	}
	domain := ""
	for _, cj := range conjuncts(q.Where) {
		if m, ok := cj.(*tql.IsOfModel); ok {
			domain, _ = c.expr(m)
			break
		}
	}
	scanned, err := h.count(domain)
	if err != nil {
		return nil, false, err
	}
	if limit := maxScan(opts); limit > 0 && scanned > limit {
		return nil, false, nil
	}
	where := ""
	if filter != "" {
		where = " WHERE " + filter
	}
	stmt := "SELECT " + strings.Join(cols, ", ") + ", t.id FROM " + h.twins + " AS t" + where +
		" ORDER BY " + strings.Join(order, ", ") + ", t.id LIMIT " + fmt.Sprint(n)
	rows, err := h.db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, false, fmt.Errorf("sqlgraph: sort: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		vals := make([]any, len(cols)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, fmt.Errorf("sqlgraph: sort: %w", err)
		}
		for _, i := range ranks {
			if num(vals[i]) >= 5 {
				return nil, false, nil
			}
		}
		id := str(vals[len(cols)])
		if strings.ContainsRune(id, 0) {
			return nil, false, nil
		}
		ids = append(ids, quote(id))
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlgraph: sort: %w", err)
	}
	rows.Close()
	fg := *g
	fg.filter = "1 = 0"
	if len(ids) > 0 {
		fg.filter = "t.id IN (" + strings.Join(ids, ", ") + ")"
	}
	res, err := tql.Eval(ctx, &fg, q, opts, "")
	if err != nil {
		return nil, false, err
	}
	res.Cost.RowsScanned = scanned
	return res, true, nil
}

// orderExpr is the expression an ORDER BY key sorts by, resolved as the
// checker does: an ordinal or alias names a result column, as does an
// expression written as one.
func orderExpr(q *tql.Query, o *tql.OrderItem) tql.Expr {
	k := -1
	switch e := o.Expr.(type) {
	case *tql.Literal:
		if f, ok := e.Value.(float64); ok {
			k = int(f) - 1
		}
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
	if k >= 0 && k < len(q.Select.Items) {
		return q.Select.Items[k].Expr
	}
	return o.Expr
}

// rank is the SQL expression of the evaluator's ORDER BY rank of an
// operand: undefined 0, null 1, bool 2, number 3, string 4, array 5,
// object 6.
func (c *compiler) rank(o operand) string {
	return "(CASE COALESCE(" + c.jtype(o) + ", 'u') WHEN 'u' THEN 0 WHEN 'null' THEN 1 WHEN 'true' THEN 2 WHEN 'false' THEN 2 WHEN 'integer' THEN 3 WHEN 'real' THEN 3 WHEN 'text' THEN 4 WHEN 'array' THEN 5 ELSE 6 END)"
}
