package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lodestone/dtdl"
	"lodestone/store"
	"lodestone/tql"
	"lodestone/trust/tenancy"
	"lodestone/twin"
)

func (a *API) queryRoutes() []Route {
	return []Route{
		{Pattern: "POST /query", Handler: a.query, Summary: "Run a query (ADT query language plus ORDER BY, GROUP BY, anchor-free MATCH, AS OF); 1,000 rows a page with a continuation token", Body: "QueryRequest", Response: "QueryResponse"},
		{Pattern: "GET /api/v1/graph/neighbourhood", Handler: a.neighbourhood, Summary: "A twin's neighbourhood, expanded on the server (?id, ?depth 1..3, ?limit, ?cursor)", Response: "Neighbourhood"},
	}
}

// QueryRunner is a GraphSource that can also run a whole query, pushing
// parts of it down to the store (store/sqlgraph.Source does).
type QueryRunner interface {
	Run(ctx context.Context, q *tql.Query, opts *tql.Options, token string) (*tql.Result, error)
}

// PropertyUnit implements tql.UnitResolver from the uploaded models, so that
// a query comparing a property declared in tonnes with '500 kg' converts.
func (a *API) PropertyUnit(model, property string) string {
	set := a.pipe.Models().Set
	if set == nil {
		return ""
	}
	iface := set.Interface(model)
	if iface == nil {
		return ""
	}
	switch c := iface.Content(property).(type) {
	case *dtdl.Property:
		return c.Unit
	case *dtdl.Telemetry:
		return c.Unit
	}
	return ""
}

func (a *API) graph(ctx context.Context) (tql.Graph, error) {
	if a.opts.Graph != nil {
		return a.opts.Graph.Graph(ctx)
	}
	return a.memGraph(ctx)
}

// memGraph copies the current graph into memory: the fallback for stores
// that cannot answer graph reads themselves. AS OF is not available on it.
func (a *API) memGraph(ctx context.Context) (tql.Graph, error) {
	snap, err := a.opts.Store.Snapshot(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	g := tql.NewMemGraph()
	for _, m := range a.pipe.Models().All {
		g.AddModel(tql.Model{ID: m.ID, Extends: m.Extends})
	}
	for _, t := range snap.Twins {
		if err := g.Put(t.Metadata.LastUpdateTime, twinDoc(t)); err != nil {
			return nil, err
		}
	}
	for _, r := range snap.Relationships {
		if err := g.Put(snap.At, relDoc(r)); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func twinDoc(t twin.Twin) tql.Doc {
	d := t.Doc()
	d["$dtId"] = string(t.ID)
	return d
}

func relDoc(r twin.Relationship) tql.Doc {
	d := make(tql.Doc, len(r.Properties)+5)
	for k, v := range r.Properties {
		d[k] = v
	}
	d["$relationshipId"] = r.ID
	d["$sourceId"] = string(r.SourceID)
	d["$targetId"] = string(r.TargetID)
	d["$relationshipName"] = r.Name
	if r.ETag != "" {
		d["$etag"] = string(r.ETag)
	}
	// The owner keys, as the SQL graphs read them from the props column.
	for k, v := range map[string]string{"$org": r.Org, "$writer": r.Writer, "$signer": r.Signer} {
		if v != "" {
			d[k] = v
		}
	}
	return d
}

func (a *API) query(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var req QueryRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Query == "" {
		return badRequest("InvalidArgument", "query: must not be empty")
	}
	q, err := tql.Parse(req.Query)
	if err != nil {
		return err
	}
	if req.PageSize == 0 {
		// ADT's SDKs ask for a page size in this header (byPage's maxPageSize).
		if req.PageSize, err = maxItemsPerPage(r); err != nil {
			return err
		}
	}
	opts := &tql.Options{PageSize: req.PageSize, MaxScan: a.opts.QueryMaxScan, Units: a}
	rd := a.readerOf(r.Context())
	if !rd.all && len(rd.pol.SharedWith(rd.pr.Org)) == 0 {
		// Nothing is shared with the principal's org: it sees its own
		// twins and those of org "" whole, so a query of the twins alone
		// is the query of those twins, which the store runs in SQL.
		if sq, ok := orgScoped(q, rd.pr.Org); ok {
			q, rd = sq, reader{pr: rd.pr, pol: rd.pol, all: true}
		}
	}
	if err := tql.Check(q, opts); err != nil {
		return err
	}
	r, endSpan := a.querySpan(r) // ops.go: a "query.eval" span when tracing
	defer endSpan()
	var res *tql.Result
	if !rd.all {
		// A principal that does not see everything queries the graph it
		// sees (tenancy.View): hidden twins are absent, shared ones
		// projected, so rows, counts, aggregates, JOINs and MATCH paths
		// are those of the visible graph.
		var g tql.Graph
		if g, err = a.graph(r.Context()); err != nil {
			return err
		}
		res, err = tql.Eval(r.Context(), tenancy.View(g, rd.pol, rd.pr), q, opts, req.ContinuationToken)
	} else if rn, ok := a.opts.Graph.(QueryRunner); ok {
		// The store runs what it can in SQL (filters, aggregates, ORDER
		// BY) and falls back to the reference evaluator for the rest.
		res, err = rn.Run(r.Context(), q, opts, req.ContinuationToken)
	} else {
		var g tql.Graph
		if g, err = a.graph(r.Context()); err != nil {
			return err
		}
		res, err = tql.Eval(r.Context(), g, q, opts, req.ContinuationToken)
	}
	if err != nil {
		return err
	}
	out := QueryResponse{Value: res.Rows, ContinuationToken: res.ContinuationToken, QueryCharge: float64(res.Cost.RowsScanned)}
	if out.Value == nil {
		out.Value = []map[string]any{}
	}
	w.Header().Set("query-charge", strconv.Itoa(res.Cost.RowsScanned))
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) neighbourhood(w http.ResponseWriter, r *http.Request) error {
	qs := queryParams(r)
	root := twin.ID(qs.Get("id"))
	if root == "" {
		return badRequest("InvalidArgument", "id: the twin to start from is required")
	}
	depth, limit, offset := 1, 200, 0
	var err error
	if v := qs.Get("depth"); v != "" {
		if depth, err = strconv.Atoi(v); err != nil || depth < 1 || depth > 3 {
			return badRequest("InvalidArgument", "depth: %q must be 1, 2 or 3", v)
		}
	}
	if v := qs.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 5000 {
			return badRequest("InvalidArgument", "limit: %q must be between 1 and 5000", v)
		}
	}
	if v := qs.Get("cursor"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return badRequest("InvalidArgument", "cursor: %q is not a cursor from a previous page", v)
		}
	}
	// Twins and relationships the principal does not see are left out,
	// as if absent: a hidden root is not found.
	tc := a.newTwinCache(r.Context(), a.readerOf(r.Context()))
	rootTwin, err := tc.get(root)
	if err != nil {
		return err
	}
	if !rootTwin.visible {
		return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", root)
	}
	edges, err := a.neighbourEdges(r.Context(), tc, root, depth)
	if err != nil {
		return err
	}
	out := Neighbourhood{Root: root, Depth: depth, Nodes: []GraphNode{{ID: root, Model: rootTwin.t.Metadata.Model}}, Edges: []GraphEdge{}}
	end := min(offset+limit, len(edges))
	if offset < end {
		out.Edges = edges[offset:end]
	}
	if end < len(edges) {
		out.NextCursor = strconv.Itoa(end)
	}
	have := map[twin.ID]bool{root: true}
	for _, e := range out.Edges {
		for _, id := range []twin.ID{e.Source, e.Target} {
			if have[id] {
				continue
			}
			have[id] = true
			t, err := tc.get(id)
			if err != nil {
				return fmt.Errorf("neighbourhood of %s: %w", root, err)
			}
			if !t.visible {
				return fmt.Errorf("neighbourhood of %s: twin %s: %w", root, id, store.ErrNotFound)
			}
			out.Nodes = append(out.Nodes, GraphNode{ID: id, Model: t.t.Metadata.Model})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// neighbourEdges walks breadth-first over the relationships, in both
// directions, that the principal of tc sees, to depth hops from root.
// Edges are collected in visiting order, which is deterministic because
// the store lists relationships in id order.
func (a *API) neighbourEdges(ctx context.Context, tc *twinCache, root twin.ID, depth int) ([]GraphEdge, error) {
	seenTwin := map[twin.ID]bool{root: true}
	seenEdge := map[string]bool{}
	var edges []GraphEdge
	frontier := []twin.ID{root}
	for d := 0; d < depth && len(frontier) > 0; d++ {
		var next []twin.ID
		for _, id := range frontier {
			out, err := a.opts.Store.ListRelationships(ctx, id, "")
			if err != nil {
				return nil, err
			}
			in, err := a.opts.Store.ListIncomingRelationships(ctx, id)
			if err != nil {
				return nil, err
			}
			for _, rel := range append(out, in...) {
				key := string(rel.SourceID) + "\x00" + rel.ID
				if seenEdge[key] {
					continue
				}
				if _, ok, err := tc.relationship(rel); err != nil {
					return nil, err
				} else if !ok {
					continue
				}
				seenEdge[key] = true
				edges = append(edges, GraphEdge{ID: rel.ID, Source: rel.SourceID, Target: rel.TargetID, Name: rel.Name})
				for _, other := range []twin.ID{rel.SourceID, rel.TargetID} {
					if !seenTwin[other] {
						seenTwin[other] = true
						next = append(next, other)
					}
				}
			}
		}
		frontier = next
	}
	return edges, nil
}

// orgScoped returns q restricted to the twins of org and of org "" (those
// without "$org"): q with "(NOT IS_DEFINED(T.$metadata.$org) OR
// T.$metadata.$org = 'org') AND" before its WHERE. Only a query of the
// twins alone (no JOIN, no MATCH: paths would cross other twins) is
// rewritten, and only for an org name that needs no quoting; false
// otherwise.
func orgScoped(q *tql.Query, org string) (*tql.Query, bool) {
	if q.From.Collection != tql.DigitalTwins || len(q.Joins) > 0 || len(q.Matches) > 0 || !plainOrg(org) {
		return nil, false
	}
	prefix := ""
	if q.From.Alias != "" {
		prefix = q.From.Alias + "."
	}
	cond, err := tql.Parse(fmt.Sprintf("SELECT * FROM DIGITALTWINS %s WHERE (NOT IS_DEFINED(%s$metadata.$org) OR %s$metadata.$org = '%s')", q.From.Alias, prefix, prefix, org))
	if err != nil {
		return nil, false
	}
	out := *q
	out.Where = cond.Where
	if q.Where != nil {
		out.Where = &tql.Binary{Pos: q.Where.Position(), Op: "AND", X: cond.Where, Y: q.Where}
	}
	return &out, true
}

// plainOrg reports whether an org name is letters, digits and "._-:".
func plainOrg(org string) bool {
	if org == "" {
		return false
	}
	for _, c := range org {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:", c)) {
			return false
		}
	}
	return true
}
