package sqlgraph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"lodestone/store"
	"lodestone/tql"
)

// Run evaluates one page of a query against the SQL store s, pushing work
// down to SQL where it pays, and otherwise with the reference evaluator
// (tql.Eval) over a Graph of s. It gives the rows and continuation tokens
// tql.Eval gives over New(ctx, s, time.Time{}); see the package comment
// for what is pushed down and how the cost is counted. Run calls tql.Check
// if q has not been checked.
func Run(ctx context.Context, s store.SQLer, q *tql.Query, opts *tql.Options, token string) (*tql.Result, error) {
	if q.Variables() == nil {
		if err := tql.Check(q, opts); err != nil {
			return nil, err
		}
	}
	g, err := New(ctx, s, time.Time{})
	if err != nil {
		return nil, err
	}
	if q.Where == nil && q.GroupBy == nil && q.OrderBy == nil && !hasAggregates(q) || anchored(q) {
		return tql.Eval(ctx, g, q, opts, token)
	}
	c := &compiler{dialect: s.Dialect(), rels: q.From.Collection == tql.Relationships, bases: s.ModelBasesRelation()}
	var filter string
	if len(q.Joins) > 0 || len(q.Matches) > 0 {
		// The evaluator scans the twins of the first IS_OF_MODEL
		// conjunct's variable; conditions on that variable alone filter
		// the scan.
		if c.v = scanVar(q); c.v == "" {
			return tql.Eval(ctx, g, q, opts, token)
		}
		c.rels = false
		filter, _ = c.where(q.Where)
	} else {
		var all bool
		filter, all = c.where(q.Where)
		if all && token == "" {
			res, ok, err := aggregate(ctx, g, c, q, filter, opts)
			if err != nil || ok {
				return res, err
			}
			if res, ok, err = sorted(ctx, g, c, q, filter, opts); err != nil || ok {
				return res, err
			}
		}
	}
	if filter == "" {
		return tql.Eval(ctx, g, q, opts, token)
	}
	fg := *g
	fg.filter, fg.track = filter, &scanTrack{}
	res, err := tql.Eval(ctx, &fg, q, opts, token)
	if err != nil && !errors.Is(err, tql.ErrCostLimit) {
		return nil, err
	}
	tr := fg.track
	limit := maxScan(opts)
	if err == nil && tr.called {
		n, cerr := g.examined(tr)
		if cerr != nil {
			return nil, cerr
		}
		// The rows SQL examined instead of those it returned; the rows
		// read by lookups (walks from the scanned twins) stay.
		cost := res.Cost.RowsScanned - tr.yielded + n
		if limit <= 0 || cost <= limit {
			res.Cost.RowsScanned = cost
			return res, nil
		}
	}
	// The SQL path would have read more than the cost guard allows: the
	// reference evaluator decides what to return (an error or a shorter
	// page), exactly as without pushdown.
	return tql.Eval(ctx, g, q, opts, token)
}

func maxScan(opts *tql.Options) int {
	if opts == nil || opts.MaxScan == 0 {
		return tql.DefaultMaxScan
	}
	return opts.MaxScan
}

func hasAggregates(q *tql.Query) bool {
	for _, it := range q.Select.Items {
		found := false
		tql.Inspect(it.Expr, func(e tql.Expr) bool {
			if c, ok := e.(*tql.Call); ok && tql.IsAggregate(c.Name) {
				found = true
			}
			return !found
		})
		if found {
			return true
		}
	}
	return false
}

// scanVar returns the variable the evaluator scans in a JOIN or MATCH
// query: that of the first top-level IS_OF_MODEL conjunct, when no OPTIONAL
// MATCH makes its group uncertain; "" otherwise.
func scanVar(q *tql.Query) string {
	for _, m := range q.Matches {
		if m.Optional {
			return ""
		}
	}
	for _, cj := range conjuncts(q.Where) {
		if m, ok := cj.(*tql.IsOfModel); ok {
			return m.Var
		}
	}
	return ""
}

// anchored reports whether the evaluator starts from lookups instead of a
// scan: a top-level conjunct names $dtId (or $sourceId) values.
func anchored(q *tql.Query) bool {
	for _, cj := range conjuncts(q.Where) {
		var x, y tql.Expr
		switch e := cj.(type) {
		case *tql.Binary:
			if e.Op != "=" {
				continue
			}
			x, y = e.X, e.Y
		case *tql.InExpr:
			if e.Not {
				continue
			}
			x = e.X
		default:
			continue
		}
		for _, side := range []tql.Expr{x, y} {
			if r, ok := side.(*tql.Ref); ok && len(r.Path) == 1 && (r.Path[0] == "$dtId" || r.Path[0] == "$sourceId") {
				return true
			}
		}
	}
	return false
}

// examined counts the rows of the scanned range: from where the scan
// started to the last row it yielded (to the end when it ran out), in the
// twins of the scanned models or in all rows. These are the rows SQL read
// to find the rows it returned, the same rows the reference evaluator
// reads without pushdown.
func (g *Graph) examined(tr *scanTrack) (int, error) {
	var where []string
	var args []any
	n := 0
	ph := func(v any) string {
		n++
		args = append(args, v)
		return g.ph(n)
	}
	from := tr.from + " AS t"
	if tr.rels {
		from = tr.from + " AS r"
		src, id, _ := strings.Cut(tr.start, "\x00")
		where = append(where, "(r.source_id > "+ph(src)+" OR (r.source_id = "+ph(src)+" AND r.rel_id >= "+ph(id)+"))")
		if !tr.exhausted {
			if tr.last == "" {
				return 0, nil
			}
			src, id, _ := strings.Cut(tr.last, "\x00")
			where = append(where, "(r.source_id < "+ph(src)+" OR (r.source_id = "+ph(src)+" AND r.rel_id <= "+ph(id)+"))")
		}
	} else {
		where = append(where, "t.id >= "+ph(tr.start))
		if !tr.exhausted {
			if tr.last == "" {
				return 0, nil
			}
			where = append(where, "t.id <= "+ph(tr.last))
		}
		if tr.models != nil {
			phs := make([]string, len(tr.models))
			for i, m := range tr.models {
				phs[i] = ph(m)
			}
			where = append(where, "t.model IN ("+strings.Join(phs, ", ")+")")
		}
	}
	var count int
	if err := g.db.QueryRowContext(g.ctx, "SELECT COUNT(*) FROM "+from+" WHERE "+strings.Join(where, " AND "), args...).Scan(&count); err != nil {
		return 0, fmt.Errorf("sqlgraph: count scanned rows: %w", err)
	}
	return count, nil
}
