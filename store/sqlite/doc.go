// Package sqlite is the embedded default backend of package store: one
// SQLite file (modernc.org/sqlite, pure Go, no cgo) in WAL mode.
//
// Import it for its side effect to make "sqlite:" DSNs available to
// store.Open:
//
//	sqlite:/var/lib/lodestone/twin.db   a file (created if missing)
//	sqlite:twin.db?synchronous=full     fsync every commit (see below)
//	sqlite::memory:                      a private in-memory database
//	sqlite:twin.db?doccache=32          keep 32 MiB of twin documents in memory
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL by default. A commit
// appends the transaction to the write-ahead log with write(2) before it
// returns, so an acknowledged write is in the operating system's page cache
// and survives kill -9 of the process: SQLite recovers the log on the next
// open. What NORMAL gives up is durability against power loss or a kernel
// crash between a commit and the next checkpoint's fsync; the database stays
// consistent but the last transactions may be lost. synchronous=full (DSN
// "?synchronous=full" or Options.Synchronous) fsyncs the log on every commit
// and closes that gap at the cost of one fsync per write.
//
// # Connections
//
// One writer connection (BEGIN IMMEDIATE) owned by a writer goroutine,
// which also hands out strictly increasing transaction times (from the wall
// clock, or from Options.Now, which tests use to write data at chosen
// times), and a pool of query-only reader connections that WAL lets run
// alongside the writer.
// Checkpoints (copying the WAL into the database file) run in the
// background on a connection of their own every 250 ms, never inline in a
// commit. Writes are group-committed: the writes queued while a transaction ran are
// applied in the next one, each in its own savepoint (a failing write rolls
// back alone) and with its own transaction time, and all of them are
// acknowledged after the one commit. Imports run in transactions of their
// own. A reader
// started after a commit returned sees it (read-your-writes).
//
// # Document cache
//
// With doccache=MiB (Options.DocCacheMiB) GetTwinJSON keeps the documents
// it made and serves a twin read again from memory until a transaction
// writes that twin (an import drops them all). The writer goroutine drops
// the written twins after the transaction ends and before any of its
// writes is acknowledged, so read-your-writes holds (storetest's
// ReadAfterWrite and ReadAfterAck). Only the database's only writer may
// turn it on, since a commit by another process is not seen: lodestone
// serve does (32 MiB) for the file in the data folder it holds locked, not
// for a --store DSN. An in-memory
// database uses SQLite's memdb VFS so that the same pools share it; it has
// no WAL, so there a long read delays commits (up to the busy timeout).
//
// # Schema
//
// Versioned migrations in code, recorded in PRAGMA user_version. Tables:
//
//	models(id, dtdl, upload_ns, decommissioned)
//	model_extends(model, base)
//	twins(id, model, etag, props, meta, valid_from, op, patch)
//	twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
//	relationships(source_id, rel_id, target_id, name, etag, props, valid_from, op, patch)
//	relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
//	telemetry(twin_id, name, message_id, source_ns, enqueued_ns, value)
//	outbox(seq, kind, op, subject, key, model, time_ns, data)
//	docs(kind, id, etag, body, updated_ns)
//	state(models, seq)
//
// twins and relationships hold the current versions; a write moves the
// version it supersedes to the history table with valid_to set to the
// write's transaction time (Unix nanoseconds), and a delete moves it there
// without a successor. props and meta are JSON text, queried with the JSON1
// functions (json_extract); meta leaves out the per-property entries that
// only repeat "$lastUpdateTime". op and patch record how the version came about,
// which gives the change list. Indexes: twins(id) and twins(model);
// relationships(source_id, rel_id), (source_id, name) and (target_id); the
// history tables (rowid tables, so that archived versions append to their
// last page instead of landing in random leaves) by unique indexes on the
// same keys plus valid_from, and by (model, valid_from) and
// (target_id, valid_from); telemetry by
// (twin_id, name, source_ns) and (twin_id, source_ns), with a unique
// (twin_id, message_id, name) for dedup. [DB] implements store.SQLer for the
// tql compiler, and store.TwinPatcher: PatchTwinFrom stores a patch applied
// to a version the caller has read, checking only its ETag in the writer
// instead of reading and decoding the row again.
//
// # Outbox and model-set version
//
// Each write queues its store.Record (a twin's document for the recorder
// is built from the props text it has just encoded), and the writer
// inserts the records of a whole group of writes in a few multi-row
// statements just before the group commits; a write that rolls back in its
// savepoint drops its own. The writer numbers the records itself (seq is
// the rowid; the last one handed out is kept in memory and saved in
// state.seq before acks delete records, so a seq is never handed out
// twice) and keeps the model-set version (state.models) in memory, loaded
// at open and set by the writes that bump it, so checking
// Condition.Models costs no query; a write that rolls back, alone or with
// its group, puts the version back. A twin create or replace stores no
// document in its outbox row: PendingRecords rebuilds it from the version
// the record names. The outbox, documents and version statements are shared
// with store/postgres through store/internal/sqlcore. docs is a rowid table
// with a unique (kind, id) index, so that a document of a few KiB stays in
// its leaf page (a WITHOUT ROWID row spills past a quarter page).
//
// # Commit hook
//
// [DB] implements store.CommitHooker: the writer runs the installed
// store.CommitHook (the transparency log) in each group's transaction after
// the outbox rows and before the commit, in a savepoint of its own, with
// the group's records; what it writes commits with them, and it is told
// whether the commit happened before any write of the group is
// acknowledged. The hook's If-Match and If-None-Match document writes take
// one statement each.
package sqlite
