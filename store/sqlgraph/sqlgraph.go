package sqlgraph

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"lodestone/store"
	"lodestone/tql"
)

// batch is how many rows a scan reads per SQL query.
const batch = 512

// Graph is a tql.Graph over a SQL store at one point in time. It binds the
// context it was made with; read errors are kept and returned by Err.
// It is not safe for concurrent use.
type Graph struct {
	ctx  context.Context
	s    store.SQLer
	db   *sql.DB
	asOf time.Time

	twins, rels string // table expressions

	bases    map[string][]string // model → the model and its ancestors
	derived  map[string][]string // base → the models that are or extend it
	basesErr error

	// Set by Run: a compiled condition every scanned row must meet, and
	// where scans started and stopped (for the cost of the SQL path).
	filter string
	track  *scanTrack

	err error
}

// scanTrack records the one collection scan of a single-collection query.
type scanTrack struct {
	called    bool
	rels      bool
	from      string   // the relation scanned
	models    []string // nil: all twins
	start     string   // $dtId or RelKey the scan started at
	last      string   // key of the last row yielded ("" for none)
	yielded   int      // rows yielded
	exhausted bool     // the scan reached the end
}

var (
	_ tql.Graph        = (*Graph)(nil)
	_ tql.HistoryGraph = (*Graph)(nil)
	_ tql.ModelScanner = (*Graph)(nil)
	_ tql.ErrGraph     = (*Graph)(nil)
)

// New returns the graph of s as of asOf (the current graph when asOf is
// zero). It reads the model hierarchy once; twins and relationships are
// read on demand.
func New(ctx context.Context, s store.SQLer, asOf time.Time) (*Graph, error) {
	g := &Graph{ctx: ctx, s: s, db: s.ReadDB(), asOf: asOf, twins: s.TwinsRelation(asOf), rels: s.RelationshipsRelation(asOf)}
	rows, err := g.db.QueryContext(ctx, `SELECT model, base FROM `+s.ModelBasesRelation()+` AS mb`)
	if err != nil {
		return nil, fmt.Errorf("sqlgraph: read model hierarchy: %w", err)
	}
	defer rows.Close()
	g.bases, g.derived = map[string][]string{}, map[string][]string{}
	for rows.Next() {
		var m, b string
		if err := rows.Scan(&m, &b); err != nil {
			return nil, fmt.Errorf("sqlgraph: read model hierarchy: %w", err)
		}
		g.bases[m] = append(g.bases[m], b)
		g.derived[b] = append(g.derived[b], m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlgraph: read model hierarchy: %w", err)
	}
	for _, v := range g.derived {
		slices.Sort(v)
	}
	return g, nil
}

// Err returns the first read error, if any.
func (g *Graph) Err() error { return g.err }

func (g *Graph) fail(err error) {
	if g.err == nil && err != nil {
		g.err = fmt.Errorf("sqlgraph: %w", err)
	}
}

// ph returns the n-th (1-based) placeholder of the store's dialect.
func (g *Graph) ph(n int) string {
	if g.s.Dialect() == "postgres" {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// AsOf implements tql.HistoryGraph.
func (g *Graph) AsOf(t time.Time) (tql.Graph, error) {
	h, err := New(g.ctx, g.s, t)
	if err != nil {
		return nil, err
	}
	h.filter, h.track = g.filter, g.track
	return h, nil
}

const twinCols = `t.id, t.etag, t.props, t.meta`

func scanTwin(rows *sql.Rows) (tql.Doc, error) {
	var id, etag string
	var props, meta []byte
	if err := rows.Scan(&id, &etag, &props, &meta); err != nil {
		return nil, err
	}
	doc := tql.Doc{}
	if len(props) > 0 {
		if err := json.Unmarshal(props, &doc); err != nil {
			return nil, fmt.Errorf("twin %s: props: %w", id, err)
		}
		if doc == nil {
			doc = tql.Doc{}
		}
	}
	var md map[string]any
	if len(meta) > 0 {
		if err := json.Unmarshal(meta, &md); err != nil {
			return nil, fmt.Errorf("twin %s: meta: %w", id, err)
		}
	}
	doc["$dtId"] = id
	doc["$etag"] = etag
	doc["$metadata"] = md
	return doc, nil
}

const relCols = `r.source_id, r.rel_id, r.target_id, r.name, r.etag, r.props`

func scanRel(rows *sql.Rows) (tql.Doc, error) {
	var src, id, tgt, name, etag string
	var props []byte
	if err := rows.Scan(&src, &id, &tgt, &name, &etag, &props); err != nil {
		return nil, err
	}
	doc := tql.Doc{}
	if len(props) > 0 {
		if err := json.Unmarshal(props, &doc); err != nil {
			return nil, fmt.Errorf("relationship %s/%s: props: %w", src, id, err)
		}
		if doc == nil {
			doc = tql.Doc{}
		}
	}
	doc["$sourceId"], doc["$relationshipId"], doc["$targetId"], doc["$relationshipName"], doc["$etag"] = src, id, tgt, name, etag
	return doc, nil
}

// query runs q, reads all its rows, closes them and only then calls each
// for every row, stopping early when each returns false. Rows are never
// held open across a yield: the evaluator nests scans (a MATCH of six hops
// nests seven), and open cursors would exhaust the reader pool and
// deadlock. Callers bound the rows with LIMIT or by the degree of one twin.
// It reports whether the caller should go on (false when a yield said stop
// or an error happened) and how many rows it read.
func (g *Graph) query(q string, args []any, scan func(*sql.Rows) (tql.Doc, error), each func(tql.Doc) bool) (cont bool, n int) {
	if g.err != nil {
		return false, 0
	}
	docs, err := g.read(q, args, scan)
	if err != nil {
		g.fail(err)
		return false, 0
	}
	for _, d := range docs {
		if !each(d) {
			return false, len(docs)
		}
	}
	return true, len(docs)
}

func (g *Graph) read(q string, args []any, scan func(*sql.Rows) (tql.Doc, error)) ([]tql.Doc, error) {
	rows, err := g.db.QueryContext(g.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var docs []tql.Doc
	for rows.Next() {
		d, err := scan(rows)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// Twin implements tql.Graph.
func (g *Graph) Twin(id string) (tql.Doc, bool) {
	var out tql.Doc
	g.query(`SELECT `+twinCols+` FROM `+g.twins+` AS t WHERE t.id = `+g.ph(1), []any{id}, scanTwin, func(d tql.Doc) bool { out = d; return false })
	return out, out != nil
}

// Twins implements tql.Graph: ascending by $dtId from start, in batches.
func (g *Graph) Twins(start string) iter.Seq[tql.Doc] {
	return g.scanTwins("", nil, start)
}

// TwinsOfModel implements tql.ModelScanner with the twins index on model.
func (g *Graph) TwinsOfModel(base string, exact bool, start string) iter.Seq[tql.Doc] {
	models := []string{base}
	if !exact {
		models = g.derived[base]
		if len(models) == 0 {
			models = []string{base}
		}
	}
	return g.scanTwins("t.model IN (%s)", models, start)
}

// scanTwins pages through twins with keyset pagination on id; cond, when
// set, is a condition with a %s for the placeholders of models.
func (g *Graph) scanTwins(cond string, models []string, start string) iter.Seq[tql.Doc] {
	return func(yield func(tql.Doc) bool) {
		after, inclusive := start, true
		tr := g.track
		if tr != nil {
			*tr = scanTrack{called: true, from: g.twins, models: models, start: start}
		}
		for {
			args := []any{after}
			op := ">"
			if inclusive {
				op = ">="
			}
			where := "t.id " + op + " " + g.ph(1)
			if cond != "" {
				phs := make([]string, len(models))
				for i, m := range models {
					phs[i] = g.ph(i + 2)
					args = append(args, m)
				}
				where += " AND " + fmt.Sprintf(cond, strings.Join(phs, ", "))
			}
			if g.filter != "" {
				where += " AND " + g.filter
			}
			q := `SELECT ` + twinCols + ` FROM ` + g.twins + ` AS t WHERE ` + where + ` ORDER BY t.id LIMIT ` + fmt.Sprint(batch)
			last := ""
			cont, n := g.query(q, args, scanTwin, func(d tql.Doc) bool {
				last = d["$dtId"].(string)
				if tr != nil {
					tr.last = last
					tr.yielded++
				}
				return yield(d)
			})
			if !cont || n < batch {
				if tr != nil && cont && g.err == nil {
					tr.exhausted = true
				}
				return
			}
			after, inclusive = last, false
		}
	}
}

// Relationships implements tql.Graph: ascending by (source, id) from the
// RelKey start.
func (g *Graph) Relationships(start string) iter.Seq[tql.Doc] {
	return func(yield func(tql.Doc) bool) {
		src, id, _ := strings.Cut(start, "\x00")
		inclusive := true
		tr := g.track
		if tr != nil {
			*tr = scanTrack{called: true, rels: true, from: g.rels, start: start}
		}
		for {
			op := ">"
			if inclusive {
				op = ">="
			}
			filter := ""
			if g.filter != "" {
				filter = " AND " + g.filter
			}
			q := `SELECT ` + relCols + ` FROM ` + g.rels + ` AS r WHERE (r.source_id > ` + g.ph(1) + ` OR (r.source_id = ` + g.ph(2) + ` AND r.rel_id ` + op + ` ` + g.ph(3) + `))` + filter + ` ORDER BY r.source_id, r.rel_id LIMIT ` + fmt.Sprint(batch)
			var lastSrc, lastID string
			cont, n := g.query(q, []any{src, src, id}, scanRel, func(d tql.Doc) bool {
				lastSrc, lastID = d["$sourceId"].(string), d["$relationshipId"].(string)
				if tr != nil {
					tr.last = lastSrc + "\x00" + lastID
					tr.yielded++
				}
				return yield(d)
			})
			if !cont || n < batch {
				if tr != nil && cont && g.err == nil {
					tr.exhausted = true
				}
				return
			}
			src, id, inclusive = lastSrc, lastID, false
		}
	}
}

// Outgoing implements tql.Graph with the (source_id, name) index.
func (g *Graph) Outgoing(id string, names []string) iter.Seq[tql.Doc] {
	return g.edges("r.source_id", id, names, "r.rel_id")
}

// Incoming implements tql.Graph with the target_id index.
func (g *Graph) Incoming(id string, names []string) iter.Seq[tql.Doc] {
	return g.edges("r.target_id", id, names, "r.rel_id, r.source_id")
}

func (g *Graph) edges(col, id string, names []string, order string) iter.Seq[tql.Doc] {
	return func(yield func(tql.Doc) bool) {
		args := []any{id}
		where := col + " = " + g.ph(1)
		if len(names) > 0 {
			phs := make([]string, len(names))
			for i, n := range names {
				phs[i] = g.ph(i + 2)
				args = append(args, n)
			}
			where += " AND r.name IN (" + strings.Join(phs, ", ") + ")"
		}
		g.query(`SELECT `+relCols+` FROM `+g.rels+` AS r WHERE `+where+` ORDER BY `+order, args, scanRel, yield)
	}
}

// IsOfModel implements tql.Graph from the model hierarchy read by New.
func (g *Graph) IsOfModel(model, base string, exact bool) bool {
	if model == base {
		return true
	}
	if exact {
		return false
	}
	return slices.Contains(g.bases[model], base)
}

// Source makes graphs of one store for the API's query endpoint.
type Source struct {
	S store.SQLer
}

// Graph returns the current graph, bound to ctx.
func (s *Source) Graph(ctx context.Context) (tql.Graph, error) { return New(ctx, s.S, time.Time{}) }

// Run evaluates one page of a checked or unchecked query on the current
// graph, pushing work down to SQL (see the package function Run).
func (s *Source) Run(ctx context.Context, q *tql.Query, opts *tql.Options, token string) (*tql.Result, error) {
	return Run(ctx, s.S, q, opts, token)
}
