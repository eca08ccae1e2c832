// Package sqlcore is the SQL both backends of package store share: the
// outbox of committed changes, the documents beside the graph and the
// version of the model set, written once over a thin dialect layer
// ([Dialect]: placeholders, where the version lives) instead of once per
// database. The backends keep what differs for a reason (schema
// migrations, the writer loop, statements folded for fewer round trips)
// and call this package for the rest.
//
// Queries are written with PostgreSQL's numbered placeholders ($1, $2, …);
// the SQLite dialect rewrites them to SQLite's ?1, ?2, … once, when a
// [Core] is made. Statements run through [Conn], which each backend
// implements over its driver (database/sql for SQLite, pgx for
// PostgreSQL).
package sqlcore
