package store

import (
	"database/sql"
	"time"
)

// SQLer is implemented by SQL backends so that the tql compiler can run
// queries as SQL instead of in memory. The methods describe relations the
// compiler selects from; the compiler must not write through the DB.
//
// Relations (returned as SQL table expressions, to be used as
// "FROM <expr> AS alias"):
//
//	twins:         id TEXT, model TEXT, etag TEXT, props JSON, meta JSON,
//	               valid_from INTEGER
//	relationships: source_id TEXT, rel_id TEXT, target_id TEXT, name TEXT,
//	               etag TEXT, props JSON, valid_from INTEGER
//	model_bases:   model TEXT, base TEXT (the reflexive, transitive closure
//	               of "extends", for IS_OF_MODEL)
//
// props holds the twin's properties as a JSON object (components nested),
// exactly as the "$dtId"-less body of the twin; property "x.y" is
// JSONPath "$.x.y" (SQLite: json_extract(props, '$.x.y'); PostgreSQL:
// props #> '{x,y}'). meta is the "$metadata" object. Times are Unix
// nanoseconds of transaction time.
//
// Indexes make these cheap in both current and as-of relations: twins by
// id and by model; relationships by (source_id, name), by target_id and by
// (source_id, rel_id).
type SQLer interface {
	// ReadDB returns a pool of read-only connections. The caller must not
	// close it.
	ReadDB() *sql.DB
	// Dialect names the SQL dialect: "sqlite" or "postgres".
	Dialect() string
	// TwinsRelation returns a table expression of the twins current at
	// asOf, or the current twins when asOf is zero.
	TwinsRelation(asOf time.Time) string
	// RelationshipsRelation returns a table expression of the
	// relationships current at asOf, or the current ones when asOf is zero.
	RelationshipsRelation(asOf time.Time) string
	// ModelBasesRelation returns a table expression of (model, base) pairs:
	// every model with itself and each of its ancestors.
	ModelBasesRelation() string
}
