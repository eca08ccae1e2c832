// Package retention compacts a store: it removes the twin and relationship
// versions that ended before a history horizon (never the current
// version) and the telemetry stored before a telemetry horizon, in small
// batches that walk each table's key so that writers are never held up for
// long, and reports the store's disk use before and after. Both backends
// are served through one write connection of its own (SQLite file or
// PostgreSQL schema).
//
// The transparency log keeps its entries: the caller records a signed
// compaction marker (trust.RecordCompaction) through Options.Mark before
// any row goes, so that trust.Verify accepts the entries of removed rows
// before the horizons and still reports any other row removed.
package retention
