// Package sqlgraph lets the query language read the twin graph straight from
// a SQL store: it implements tql.Graph (with history and model scans) over
// the relations a backend exposes through store.SQLer, so a query walks the
// graph through the store's indexes instead of loading it into memory.
//
// Lookups by $dtId, by model and by relationship (source and name, or
// target) are single indexed queries; scans read in keyset-paginated batches
// in the order tql.Graph's contract requires, so a query that stops after a
// page reads only that page.
package sqlgraph
