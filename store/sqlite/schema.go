package sqlite

import (
	"context"
	"fmt"
)

// migrations are applied in order; migration i brings the schema to version
// i+1 (PRAGMA user_version). Never edit a released migration: append one.
var migrations = []string{
	// 1: initial schema. See the package documentation.
	`
CREATE TABLE models (
	id TEXT PRIMARY KEY,
	dtdl TEXT NOT NULL,
	upload_ns INTEGER NOT NULL,
	decommissioned INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE model_extends (
	model TEXT NOT NULL,
	base TEXT NOT NULL,
	PRIMARY KEY (model, base)
) WITHOUT ROWID;
CREATE INDEX model_extends_base ON model_extends(base);

CREATE TABLE twins (
	id TEXT PRIMARY KEY,
	model TEXT NOT NULL,
	etag TEXT NOT NULL,
	props TEXT NOT NULL,
	meta TEXT NOT NULL,
	valid_from INTEGER NOT NULL,
	op TEXT NOT NULL,
	patch TEXT
) WITHOUT ROWID;
CREATE INDEX twins_model ON twins(model);

CREATE TABLE twin_history (
	id TEXT NOT NULL,
	valid_from INTEGER NOT NULL,
	valid_to INTEGER NOT NULL,
	model TEXT NOT NULL,
	etag TEXT NOT NULL,
	props TEXT NOT NULL,
	meta TEXT NOT NULL,
	op TEXT NOT NULL,
	patch TEXT,
	PRIMARY KEY (id, valid_from)
) WITHOUT ROWID;
CREATE INDEX twin_history_model ON twin_history(model, valid_from);

CREATE TABLE relationships (
	source_id TEXT NOT NULL,
	rel_id TEXT NOT NULL,
	target_id TEXT NOT NULL,
	name TEXT NOT NULL,
	etag TEXT NOT NULL,
	props TEXT NOT NULL,
	valid_from INTEGER NOT NULL,
	op TEXT NOT NULL,
	patch TEXT,
	PRIMARY KEY (source_id, rel_id)
) WITHOUT ROWID;
CREATE INDEX relationships_name ON relationships(source_id, name);
CREATE INDEX relationships_target ON relationships(target_id);

CREATE TABLE relationship_history (
	source_id TEXT NOT NULL,
	rel_id TEXT NOT NULL,
	valid_from INTEGER NOT NULL,
	valid_to INTEGER NOT NULL,
	target_id TEXT NOT NULL,
	name TEXT NOT NULL,
	etag TEXT NOT NULL,
	props TEXT NOT NULL,
	op TEXT NOT NULL,
	patch TEXT,
	PRIMARY KEY (source_id, rel_id, valid_from)
) WITHOUT ROWID;
CREATE INDEX relationship_history_target ON relationship_history(target_id, valid_from);

CREATE TABLE telemetry (
	twin_id TEXT NOT NULL,
	name TEXT NOT NULL,
	message_id TEXT NOT NULL,
	source_ns INTEGER NOT NULL,
	enqueued_ns INTEGER NOT NULL,
	value TEXT NOT NULL
);
CREATE UNIQUE INDEX telemetry_dedup ON telemetry(twin_id, message_id, name);
CREATE INDEX telemetry_name_time ON telemetry(twin_id, name, source_ns);
CREATE INDEX telemetry_time ON telemetry(twin_id, source_ns);
`,
	// 2: the outbox of committed changes, documents, and the one-row
	// state: the model-set version (1 for a store that has models
	// already) and the highest outbox seq handed out as of the last ack.
	// The writer hands out seqs itself (the next after the larger of
	// state.seq and the outbox's largest), so a seq is never handed out
	// twice, even once its record was acked and deleted, without the
	// extra page write per insert of AUTOINCREMENT.
	`
CREATE TABLE outbox (
	seq INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	op TEXT NOT NULL,
	subject TEXT NOT NULL,
	key TEXT NOT NULL,
	model TEXT NOT NULL,
	time_ns INTEGER NOT NULL,
	data TEXT NOT NULL
);

CREATE TABLE docs (
	kind TEXT NOT NULL,
	id TEXT NOT NULL,
	etag TEXT NOT NULL,
	body TEXT NOT NULL,
	updated_ns INTEGER NOT NULL,
	PRIMARY KEY (kind, id)
) WITHOUT ROWID;

CREATE TABLE state (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	models INTEGER NOT NULL,
	seq INTEGER NOT NULL
);
INSERT INTO state(one, models, seq) SELECT 1, EXISTS(SELECT 1 FROM models), 0;
`,
	// 3: the owner org of a model ("" for models uploaded without
	// --auth). Twins and relationships keep theirs in their meta and
	// props columns.
	`
ALTER TABLE models ADD COLUMN org TEXT NOT NULL DEFAULT '';
`,
	// 4: docs becomes a rowid table with a unique (kind, id) index. In a
	// WITHOUT ROWID table a row keeps at most about a quarter of a page
	// in its leaf, so a document of a few KiB (a transparency log chunk
	// of eight entries) spilled into overflow pages, and rewriting it,
	// as the log does in every write transaction, freed and allocated
	// them again: three WAL frames instead of one.
	`
CREATE TABLE docs_v4 (
	kind TEXT NOT NULL,
	id TEXT NOT NULL,
	etag TEXT NOT NULL,
	body TEXT NOT NULL,
	updated_ns INTEGER NOT NULL
);
INSERT INTO docs_v4(kind, id, etag, body, updated_ns) SELECT kind, id, etag, body, updated_ns FROM docs ORDER BY kind, id;
DROP TABLE docs;
ALTER TABLE docs_v4 RENAME TO docs;
CREATE UNIQUE INDEX docs_kind_id ON docs(kind, id);
`,
	// 5: the history tables become rowid tables with a unique index on
	// their former primary key. Clustered by (id, valid_from), every
	// archived version went into a random leaf of the table, half-full
	// pages of a few large rows that split often: about two thirds of the
	// WAL frames of a commit of patches were history pages (13 of 19 in a
	// group of four). Rows now append to the table's last page, shared by
	// the writes of a group, and only the small index entries land at
	// random (write syscalls per PATCH of a server under lodestone bench,
	// 16 clients: 12.0 -> 9.4). Rows are copied in time order, so rowid
	// order is time order.
	`
CREATE TABLE twin_history_v5 (
	id TEXT NOT NULL,
	valid_from INTEGER NOT NULL,
	valid_to INTEGER NOT NULL,
	model TEXT NOT NULL,
	etag TEXT NOT NULL,
	props TEXT NOT NULL,
	meta TEXT NOT NULL,
	op TEXT NOT NULL,
	patch TEXT
);
INSERT INTO twin_history_v5(id, valid_from, valid_to, model, etag, props, meta, op, patch)
	SELECT id, valid_from, valid_to, model, etag, props, meta, op, patch FROM twin_history ORDER BY valid_to, id, valid_from;
DROP TABLE twin_history;
ALTER TABLE twin_history_v5 RENAME TO twin_history;
CREATE UNIQUE INDEX twin_history_id ON twin_history(id, valid_from);
CREATE INDEX twin_history_model ON twin_history(model, valid_from);

CREATE TABLE relationship_history_v5 (
	source_id TEXT NOT NULL,
	rel_id TEXT NOT NULL,
	valid_from INTEGER NOT NULL,
	valid_to INTEGER NOT NULL,
	target_id TEXT NOT NULL,
	name TEXT NOT NULL,
	etag TEXT NOT NULL,
	props TEXT NOT NULL,
	op TEXT NOT NULL,
	patch TEXT
);
INSERT INTO relationship_history_v5(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
	SELECT source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch FROM relationship_history ORDER BY valid_to, source_id, rel_id, valid_from;
DROP TABLE relationship_history;
ALTER TABLE relationship_history_v5 RENAME TO relationship_history;
CREATE UNIQUE INDEX relationship_history_key ON relationship_history(source_id, rel_id, valid_from);
CREATE INDEX relationship_history_target ON relationship_history(target_id, valid_from);
`,
}

// SchemaVersion is the schema version this package writes.
const SchemaVersion = 5

func (db *DB) migrate(ctx context.Context) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("sqlite: migrate: read version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this program's %d", v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("sqlite: migrate to version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("sqlite: migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: commit: %w", err)
	}
	db.logger.Info("schema migrated", "from", v, "to", len(migrations))
	return nil
}
