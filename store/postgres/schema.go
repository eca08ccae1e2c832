package postgres

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order; migration i brings the schema to version
// i+1 (recorded in the schema_version table). Never edit a released
// migration: append one.
//
// Key columns use the "C" collation so that ids sort by bytes, as in
// SQLite: paging, exports and query results come out in the same order on
// both backends whatever the database's default collation.
var migrations = []string{
	// 1: initial schema. See the package documentation.
	`
CREATE TABLE clock (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	last bigint NOT NULL
);
INSERT INTO clock(one, last) VALUES (true, 0);

CREATE TABLE models (
	id text COLLATE "C" PRIMARY KEY,
	dtdl text NOT NULL,
	upload_ns bigint NOT NULL,
	decommissioned boolean NOT NULL DEFAULT false
);
CREATE TABLE model_extends (
	model text COLLATE "C" NOT NULL,
	base text COLLATE "C" NOT NULL,
	PRIMARY KEY (model, base)
);
CREATE INDEX model_extends_base ON model_extends(base);

CREATE TABLE twins (
	id text COLLATE "C" PRIMARY KEY,
	model text COLLATE "C" NOT NULL,
	etag text NOT NULL,
	props jsonb NOT NULL,
	meta jsonb NOT NULL,
	valid_from bigint NOT NULL,
	op text NOT NULL,
	patch text
);
CREATE INDEX twins_model ON twins(model);

CREATE TABLE twin_history (
	id text COLLATE "C" NOT NULL,
	valid_from bigint NOT NULL,
	valid_to bigint NOT NULL,
	model text COLLATE "C" NOT NULL,
	etag text NOT NULL,
	props jsonb NOT NULL,
	meta jsonb NOT NULL,
	op text NOT NULL,
	patch text,
	PRIMARY KEY (id, valid_from)
);
CREATE INDEX twin_history_model ON twin_history(model, valid_from);

CREATE TABLE relationships (
	source_id text COLLATE "C" NOT NULL,
	rel_id text COLLATE "C" NOT NULL,
	target_id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	etag text NOT NULL,
	props jsonb NOT NULL,
	valid_from bigint NOT NULL,
	op text NOT NULL,
	patch text,
	PRIMARY KEY (source_id, rel_id)
);
CREATE INDEX relationships_name ON relationships(source_id, name);
CREATE INDEX relationships_target ON relationships(target_id);

CREATE TABLE relationship_history (
	source_id text COLLATE "C" NOT NULL,
	rel_id text COLLATE "C" NOT NULL,
	valid_from bigint NOT NULL,
	valid_to bigint NOT NULL,
	target_id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	etag text NOT NULL,
	props jsonb NOT NULL,
	op text NOT NULL,
	patch text,
	PRIMARY KEY (source_id, rel_id, valid_from)
);
CREATE INDEX relationship_history_target ON relationship_history(target_id, valid_from);

CREATE TABLE telemetry (
	twin_id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	message_id text NOT NULL,
	source_ns bigint NOT NULL,
	enqueued_ns bigint NOT NULL,
	value json NOT NULL
);
CREATE UNIQUE INDEX telemetry_dedup ON telemetry(twin_id, message_id, name);
CREATE INDEX telemetry_name_time ON telemetry(twin_id, name, source_ns);
CREATE INDEX telemetry_time ON telemetry(twin_id, source_ns);
`,
	// 2: the outbox of committed changes, documents, and the model-set
	// version in the clock row (1 for a schema that has models already),
	// which every write transaction has locked before it reads it. seq is
	// drawn by writes that hold the clock row's lock, so it increases in
	// commit order.
	`
ALTER TABLE clock ADD COLUMN models bigint NOT NULL DEFAULT 0;
UPDATE clock SET models = 1 WHERE EXISTS (SELECT 1 FROM models);

CREATE TABLE outbox (
	seq bigserial PRIMARY KEY,
	kind text NOT NULL,
	op text NOT NULL,
	subject text COLLATE "C" NOT NULL,
	key text NOT NULL,
	model text COLLATE "C" NOT NULL,
	time_ns bigint NOT NULL,
	data text NOT NULL
);

CREATE TABLE docs (
	kind text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	etag text NOT NULL,
	body text NOT NULL,
	updated_ns bigint NOT NULL,
	PRIMARY KEY (kind, id)
);
`,
	// 3: the outbox is a queue: its rows are deleted soon after they are
	// inserted, so it is vacuumed after every 1,000 dead rows, whatever
	// its size, and without the cost-based delay.
	`
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
`,
	// 4: the owner org of a model ("" for models uploaded without
	// --auth). Twins and relationships keep theirs in their meta and
	// props columns.
	`
ALTER TABLE models ADD COLUMN org text NOT NULL DEFAULT '';
`,
}

// SchemaVersion is the schema version this package writes.
const SchemaVersion = 4

// migrate creates schema if needed and brings it to SchemaVersion. Servers
// starting together take turns through an advisory lock named after the
// schema.
func migrate(ctx context.Context, cfg *pgx.ConnConfig, schema string, logger *slog.Logger) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('lodestone/store/postgres:' || $1))`, schema); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	ident := pgx.Identifier{schema}.Sanitize()
	// Creating a schema needs the CREATE privilege on the database even
	// with IF NOT EXISTS, so look first: a user who may only use an
	// existing schema can still open it.
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS(SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+ident); err != nil {
			return fmt.Errorf("postgres: migrate: create schema %s: %w", ident, err)
		}
	}
	var versioned bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, ident+`.schema_version`).Scan(&versioned); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if !versioned {
		if _, err := tx.Exec(ctx, `CREATE TABLE `+ident+`.schema_version (version integer NOT NULL)`); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
	}
	var v int
	err = tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+ident+`.schema_version`).Scan(&v)
	if err != nil {
		return fmt.Errorf("postgres: migrate: read version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("postgres: migrate: schema %s is at version %d, newer than this program's %d", ident, v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	// The migrations name tables without a schema.
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+ident); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return fmt.Errorf("postgres: migrate %s to version %d: %w", ident, i+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM schema_version`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_version(version) VALUES ($1)`, len(migrations)); err != nil {
		return fmt.Errorf("postgres: migrate: set version: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: commit: %w", err)
	}
	logger.Info("schema migrated", "from", v, "to", len(migrations))
	return nil
}
