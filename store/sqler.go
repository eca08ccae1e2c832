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
// props holds the properties and components as a JSON object: the twin's
// JSON body without "$dtId", "$etag" and "$metadata". Property "x.y" is
// JSONPath "$.x.y" (SQLite: json_extract(props, '$.x.y'); PostgreSQL:
// props #> '{x,y}'). meta is the "$metadata" object ("$model",
// "$lastUpdateTime", per-property times); prefer the model column for
// "$metadata.$model". Backends may leave out a property's entry in meta
// when it holds only a lastUpdateTime equal to "$lastUpdateTime" (SQLite
// does, to halve row sizes), so read a property's update time as
// COALESCE(<property entry>.lastUpdateTime, "$lastUpdateTime"). valid_from is the version's transaction time in Unix
// nanoseconds; as-of relations hold the version current at asOf, so "AS OF"
// only swaps the relation and leaves the rest of the query unchanged.
//
// Numbers in props are JSON numbers: json_extract returns INTEGER for
// integral values and REAL otherwise, which compare as numbers in SQLite.
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
