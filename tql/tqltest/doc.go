// Package tqltest runs query-language script tests, in the manner of
// Prometheus's promqltest, against any query engine: the reference evaluator
// of package tql (NewMemEngine) or a store backend that compiles queries to
// SQL. The scripts live in testdata/*.test; Files lists them.
//
// # Script format
//
// A script is a sequence of blocks separated by blank lines. Lines starting
// with # are comments.
//
//	load [at 2025-01-01T00:00:00Z]
//	{"@id": "dtmi:ree:Mine;1", "extends": "dtmi:ree:Site;1", "contents": [{"name": "output", "unit": "tonnePerYear"}]}
//	{"$dtId": "mine-1", "$metadata": {"$model": "dtmi:ree:Mine;1"}, "output": 1000}
//	{"$relationshipId": "r1", "$sourceId": "mine-1", "$targetId": "plant-1", "$relationshipName": "suppliesTo"}
//	{"$delete": "mine-2"}
//	{"$delete": "r7", "$sourceId": "mine-1"}
//
// "load file NAME [at TIME]" reads the lines of testdata/NAME first (a graph
// shared by several scripts), then those of the block.
//
// adds models (a line with "@id"; extends and the units of contents are
// read), twins ($dtId) and relationships ($relationshipId) as of the time
// given (the beginning of time without one), and deletes twins or
// relationships. Loads accumulate; "clear" empties the data set.
//
//	eval [ordered] [ids] [page_size=N] [max_scan=N] [on_limit=page] [require_anchor] [pages=N] SELECT ...
//	  continuation lines of the query are indented
//	{"$dtId": "mine-1", ...}
//
// runs the query, following continuation tokens to the end, and compares the
// rows (one JSON value a line) with the result: as a set unless "ordered".
// With "ids", each twin or relationship in a row is replaced by its ID
// ("mine-1", or {"m": "mine-1", "p": "plant-1"} for rows keyed by name), so
// that expectations stay short. "pages=N" also checks the number of pages.
// An eval with no expected rows expects none.
//
//	eval_fail SELECT ...
//	error: expected RELATED after JOIN alias
//
// expects the query to fail with an error containing the text.
//
// Documents are compared after dropping "$etag" and every "$metadata" key
// but "$model", so that engines that keep more metadata pass the same
// scripts.
package tqltest
