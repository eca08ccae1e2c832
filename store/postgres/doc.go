// Package postgres is the PostgreSQL backend of package store, for running
// several API servers on one database. It uses pgx (github.com/jackc/pgx/v5)
// and passes the same conformance suite (store/storetest) as store/sqlite.
//
// Import it for its side effect to make "postgres://" DSNs available to
// store.Open:
//
//	postgres://user@host:5432/lodestone?sslmode=disable
//	postgres://user@host/lodestone?schema=plant_a&pool_max_conns=16
//
// The "schema" parameter names the PostgreSQL schema that holds the tables
// (default "public"; created if missing), so that several graphs can share a
// database. Every other parameter is pgx's.
//
// # Transaction time
//
// Several servers may write to one schema at once, so transaction times
// cannot come from each server's clock. They come from a one-row table,
// clock, that every write transaction updates first:
//
//	UPDATE clock SET last = GREATEST(last + 1, <database clock in ns>) RETURNING last
//
// The row lock it takes is held until the transaction ends. So write
// transactions on a schema run one at a time, whichever server runs them; a
// transaction's time is greater than that of every transaction that
// committed before it, and it sees all their writes. Times are therefore
// strictly increasing, per entity and across the graph, and commit order is
// time order: "as of t" names exactly one state of the graph, as with
// SQLite. The time is the database server's clock (microseconds, as Unix
// nanoseconds), or one nanosecond past the last time if that clock has not
// moved on or was set back. The price is that writes do not run in
// parallel across servers; each server group-commits (below), so a
// transaction carries many writes, and reads, which take no lock, scale
// with the servers. An import is one transaction and holds the clock until
// it commits, so other writes wait for it (as they do on SQLite).
//
// # Connections
//
// Each DB has one writer connection, owned by a writer goroutine, and one
// for blind writes (see "Blind writes"). The writer group-commits: the writes queued while a transaction ran are applied in
// the next one, each in its own savepoint (a failing write rolls back alone)
// and with its own transaction time, and all are acknowledged after the one
// commit. An acknowledged write is committed with the server's
// synchronous_commit setting (on by default: flushed to the WAL on disk;
// a blind group is made durable by a later commit: see "Blind writes").
// Reads use a pool of read-only connections (default_transaction_read_only),
// which is also the store.SQLer read pool; a read started after a write was
// acknowledged sees it, on any server (read-your-writes).
//
// # Round trips
//
// Since write transactions on a schema run one at a time, a write's cost
// is mostly the round trips its transaction waits for, during which it
// holds the clock. The writer sends statements in pipelined batches (one
// Sync each) and saves round trips where it can:
//
//   - A write's savepoint goes with its first statement.
//   - A write may queue statements whose results it does not need at once
//     (execLater, queryRowLater): they go with its next statement, with the
//     next write's first one, or with the commit. One that fails fails its
//     write alone: the transaction rolls back to that write's savepoint and
//     the statements after it are sent again.
//   - When writes are waiting as a group commits, the next transaction's
//     BEGIN and clock tick go in the same round trip, after the COMMIT: the
//     tick runs once the commit is durable and the clock row's lock free,
//     so the order stays strict, and the next group starts at once.
//   - A write may name its first statement, a read of the state it checks,
//     and the keys of what it touches (writeRead). The writer then runs the
//     reads of a group's writes in the round trip that begins the group,
//     after the tick, for the writes that share no key with an earlier
//     write of the group and come before any write that names no keys.
//   - Statements queued with queueMerged (the twin writes) that follow
//     one another in the queue, each right after its write's savepoint,
//     go as one set-based statement (merger) behind the first write's
//     savepoint: the server starts one executor and one subtransaction
//     for them instead of one each. Statements on the same entity are not
//     merged. If the merged statement fails, the writer rolls back to that
//     savepoint and sends the statements one by one, so that only the
//     write whose statement fails fails.
//
// In steady state a group of writes that use both costs one round trip and
// the commit's fsync, whatever its size. WriterStats counts the round trips.
// The twin and relationship writes use writeRead and queue their write
// statement with queryRowLater (the twin writes with queueMerged). A twin
// write's key is its twin; a relationship write's are the relationship
// and its source twin, and for a put its target twin. DeleteTwin names its twin but does not read
// ahead: it checks for relationships to its twin, which an earlier write
// may change without naming it. AckRecords is not a write: it runs on a
// connection of its own, outside the clock row's lock (see its comment).
//
// # Blind writes
//
// A group of the writer holds the clock row's lock across a round trip and
// the writer's own work on its writes. The commonest twin writes need no
// decision of this process between their read and their write: a create
// (PutTwin with If-None-Match), a put without conditions, and
// PatchTwinFrom. They are encoded by their caller, with a sentinel time
// where the transaction time goes, and a blind writer (blind.go), with a
// connection of its own, sends a group of them as one batch: BEGIN, the
// clock's tick, one statement that checks each write's conditions against
// the state under the lock, writes those that pass (the statement puts the
// transaction time in place of the sentinel) and returns every write's
// state, and COMMIT. The lock is then held only while the server runs the
// batch. The batch commits with synchronous_commit off, so the lock is
// released once the commit is in the WAL's buffers rather than once it
// is on disk; a flusher, with a connection of its own, then commits a
// transaction with the server's setting, which flushes the WAL past the
// group's commit, and only then are the group's writes acknowledged (an
// acknowledged write is as durable as on the writer's path). The next
// group runs while the last one's WAL goes to disk. Until the flush,
// other connections may see a group's writes that are not yet durable;
// PendingRecords flushes before it returns records, so the relay never
// publishes the event of such a write.
// Each write's outcome is decided again from the returned state by
// the checks the writer's path uses, with the same errors. Writes with
// If-Match, data that holds the sentinel, a patch that does not apply or
// touches a component, and the writes of a group whose statement fails
// (rolled back whole) go through the writer instead. A group's writers
// mostly write again as soon as they are answered, so the blind writer
// waits a little (twice the last group's run, 6 ms at most) for as many
// writes as it answered plus those queued then: the writers then share one
// group and its commit instead of alternating in two halves.
//
// # Schema
//
// Versioned migrations in code, recorded in the schema_version table and
// applied under an advisory lock so that servers starting together do not
// race. Tables (key columns use the "C" collation so ids sort by bytes, as
// in SQLite):
//
//	clock(last)
//	models(id, dtdl, upload_ns, decommissioned)
//	model_extends(model, base)
//	twins(id, model, etag, props jsonb, meta jsonb, valid_from, op, patch)
//	twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
//	relationships(source_id, rel_id, target_id, name, etag, props jsonb, valid_from, op, patch)
//	relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
//	telemetry(twin_id, name, message_id, source_ns, enqueued_ns, value json)
//
// The layout is store/sqlite's: twins and relationships hold the current
// versions, and a write moves the version it supersedes to the history
// table with valid_to set to its transaction time (in the same statement).
// props and meta are jsonb, so queries may use PostgreSQL's JSON operators
// (props #> '{x,y}') and indexes; meta leaves out the per-property entries
// that only repeat "$lastUpdateTime". Since jsonb does not keep the text it
// was given, GetTwinJSON marshals the decoded twin.
//
// # Bulk
//
// Import runs in one transaction: models are inserted as they come, twins
// and relationships are copied (COPY) into temporary staging tables, then
// the versions they replace move to the history and the staged rows go in
// with set-based INSERT … SELECT statements. Export reads in one REPEATABLE
// READ transaction and streams its rows.
package postgres
