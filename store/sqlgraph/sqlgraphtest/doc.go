// Package sqlgraphtest runs the query-language script tests
// (tql/tqltest/testdata) against any SQL store through package sqlgraph, so
// that every backend answers every script with the reference evaluator's
// rows, with and without the SQL pushdown. The SQLite and PostgreSQL tests
// share this engine instead of each keeping a copy.
package sqlgraphtest
