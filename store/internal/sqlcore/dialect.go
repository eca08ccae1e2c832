package sqlcore

import (
	"context"
	"strings"
)

// Dialect is what differs between the SQL of the two backends in the
// statements of this package.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// numbered says that placeholders stay $n; otherwise they become ?n.
	numbered bool
	// versionTable and versionColumn name the one-row table and column
	// that hold the model-set version.
	versionTable, versionColumn string
	// seqList is a subquery of the integers of the JSON array text bound
	// to $1.
	seqList string
	// extendsJSON is a scalar subquery of the bases a row of models
	// extends, as a JSON array of strings in order.
	extendsJSON string
	// jsonText turns a json column into its text.
	jsonText string
	// noLimit is the LIMIT argument that means no limit.
	noLimit any
}

// The dialects.
var (
	// SQLite keeps the model-set version in the one-row table
	// state(models).
	SQLite = Dialect{Name: "sqlite", versionTable: "state", versionColumn: "models",
		seqList:     `SELECT value FROM json_each($1)`,
		extendsJSON: `(SELECT json_group_array(base) FROM (SELECT base FROM model_extends e WHERE e.model = models.id ORDER BY base))`,
		jsonText:    `%s`, noLimit: int64(-1)}
	// Postgres keeps it in the clock row (clock.models), which every write
	// transaction locks first: reading it costs a write no round trip.
	Postgres = Dialect{Name: "postgres", numbered: true, versionTable: "clock", versionColumn: "models",
		seqList:     `SELECT json_array_elements_text($1::json)::bigint`,
		extendsJSON: `(SELECT coalesce(json_agg(base ORDER BY base), '[]')::text FROM model_extends e WHERE e.model = models.id)`,
		jsonText:    `%s::text`, noLimit: nil}
)

// Rebind returns q, written with $n placeholders, in the dialect's form.
// Text in single quotes is left alone.
func (d Dialect) Rebind(q string) string {
	if d.numbered || !strings.Contains(q, "$") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	quoted := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '$' && !quoted && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			c = '?'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ModelsVersionExpr is a scalar subquery of the model-set version, for a
// backend to fold into a statement a write runs anyway.
func (d Dialect) ModelsVersionExpr() string {
	return `(SELECT ` + d.versionColumn + ` FROM ` + d.versionTable + `)`
}

// ModelCols are the columns ScanModel reads, to select from models.
func (d Dialect) ModelCols() string {
	return `id, dtdl, upload_ns, decommissioned, org, ` + d.extendsJSON
}

// ModelBasesRelation is the table expression of store.SQLer's
// model_bases: every model with itself and each of its ancestors.
const ModelBasesRelation = `(WITH RECURSIVE mb(model, base) AS (SELECT id, id FROM models
		UNION SELECT mb.model, e.base FROM mb JOIN model_extends e ON e.model = mb.base)
		SELECT model, base FROM mb)`

// Row is one result row.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set; the caller closes it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Conn runs statements: a write transaction, or a read pool. Backends
// implement it over their driver. A row that is not there is reported by
// Row.Scan as an error wrapping database/sql's sql.ErrNoRows (pgx's
// ErrNoRows does).
type Conn interface {
	Exec(ctx context.Context, q string, args ...any) (rowsAffected int64, err error)
	QueryRow(ctx context.Context, q string, args ...any) Row
	Query(ctx context.Context, q string, args ...any) (Rows, error)
}
