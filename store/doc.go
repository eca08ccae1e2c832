// Package store defines the persistence contract of the twin graph: the
// [Store] interface, its sentinel errors and [Open], which picks a backend by
// the scheme of a data source name.
//
// Backends register themselves with [Register] from an init function:
// store/sqlite handles "sqlite:PATH" and "sqlite::memory:", store/postgres
// handles "postgres://…". Import the backend for its side effect, as with
// database/sql drivers:
//
//	import _ "lodestone/store/sqlite"
//	st, err := store.Open(ctx, "sqlite:/var/lib/lodestone/twin.db")
//
// # What the store guarantees
//
// Every write is atomic and durable once it returns: an acknowledged write
// survives a crash of the process. Reads see every write that returned before
// they started (read-your-writes). The store keeps the graph consistent: a
// twin's model must exist, a relationship's source and target twins must
// exist, a twin with relationships cannot be deleted, a model used by a twin
// or extended by another model cannot be deleted, and entity tags change on
// every write. It does not validate twins against DTDL; the API layer does
// that with package dtdl before it writes.
//
// # History
//
// Every version of every twin and relationship is kept with its
// transaction-time interval [validFrom, validTo): the store's clock when the
// version was written and when it was superseded or deleted. Transaction
// times are strictly increasing within a store, so "as of t" names exactly
// one state of the graph: the versions with validFrom <= t < validTo. See
// [Store.TwinAsOf], [Store.TwinChanges], [Store.Snapshot] and
// [Store.Export].
//
// # Bulk
//
// [Store.Import] consumes a stream of [Entity] values in one transaction and
// [Store.Export] produces one from a consistent read, so an export of one
// store imports into another, and neither holds the graph in memory.
//
// # Outbox and the model set
//
// Every write that changes the graph writes a [Record] of its change to the
// store's outbox in the same transaction, so a change is committed if and
// only if its record is; the records stay until [Outbox.AckRecords] removes
// them, which lets a relay publish the events of changes whose writer
// crashed before it could. A write whose context carries a [Recorder]
// (see [WithRecorder]) also gets its records there once it has committed.
// [Models.ModelsVersion] counts the committed model changes; a write that
// was validated against a model set names its version in
// [Condition].Models and fails with [ErrModelsChanged] if the set changed
// since. Small JSON documents that are not part of the graph (jobs,
// routes, leases) live beside it through [Documents].
//
// # Commit hooks
//
// A backend whose transactions have one writer, so that their order is the
// commit order (store/sqlite), implements [CommitHooker]: it runs a
// [CommitHook] in each write transaction after the records are written and
// before the commit, and the hook's documents commit or roll back with the
// changes. The transparency log appends its entries that way; on the other
// backends it appends after the commit.
//
// # Queries
//
// The tql compiler runs queries as SQL on backends that implement [SQLer];
// its doc comment describes the relations such a backend exposes. Backends
// without it are queried through the in-memory evaluator over a [Snapshot].
package store
