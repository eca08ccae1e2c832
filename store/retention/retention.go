package retention

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"lodestone/store"
	"lodestone/store/postgres"
	_ "lodestone/store/sqlite" // registers the "sqlite" database/sql driver
)

// Options says what a compaction removes.
type Options struct {
	// HistoryBefore removes the twin and relationship versions that ended
	// (were superseded or deleted) before it; the current version of
	// every twin and relationship is never removed. Zero keeps them all.
	HistoryBefore time.Time
	// TelemetryBefore removes the telemetry stored before it (transaction
	// time). Zero keeps it all.
	TelemetryBefore time.Time
	// Mark is called with the horizons actually used, before any row
	// goes (the server and the CLI record a signed compaction marker for
	// the transparency log there); an error stops the compaction.
	Mark func(ctx context.Context, history, telemetry time.Time) error
	// Vacuum gives the freed space back to the file system: VACUUM on
	// SQLite (rewrites the file; writers wait), VACUUM FULL of the
	// compacted tables on PostgreSQL (an exclusive lock on each while it
	// runs). Without it the space is reused by later writes.
	Vacuum bool
	// Batch is the rows removed per transaction (default 2000), so that
	// writers are never held up for long.
	Batch int
}

// Result tells what a compaction removed and the store's size around it.
type Result struct {
	HistoryBefore        time.Time `json:"history_before,omitzero"`
	TelemetryBefore      time.Time `json:"telemetry_before,omitzero"`
	TwinVersions         int64     `json:"twin_versions"`
	RelationshipVersions int64     `json:"relationship_versions"`
	Telemetry            int64     `json:"telemetry"`
	Before               Size      `json:"before"`
	After                Size      `json:"after"`
}

// Size is the disk use of a store. File is what the file system holds
// (SQLite: the database, its WAL and shared memory; PostgreSQL: the total
// relation sizes of the schema's tables, indexes and TOAST); Used the part
// that holds live data (SQLite: pages not on the free list; PostgreSQL:
// the same as File, since the space of removed rows is reused rather than
// returned until VACUUM FULL).
type Size struct {
	File int64 `json:"file_bytes"`
	Used int64 `json:"used_bytes"`
}

// DB is a write connection to a store's database, for compaction.
type DB struct {
	db      *sql.DB
	dialect string // "sqlite" or "postgres"
	path    string // SQLite file
	schema  string // PostgreSQL schema
}

// Open opens the database of a store DSN (sqlite:PATH or postgres://…),
// which must already hold a Lodestone store.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" || path == ":memory:" {
			return nil, fmt.Errorf("retention: store %q: a SQLite file is needed", dsn)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("retention: store %q: %w", dsn, err)
		}
		u := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_txlock=immediate"
		db, err := sql.Open("sqlite", u)
		if err != nil {
			return nil, fmt.Errorf("retention: open %s: %w", path, err)
		}
		db.SetMaxOpenConns(1)
		return &DB{db: db, dialect: "sqlite", path: path}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		conn, schema, err := postgres.ParseDSN(dsn)
		if err != nil {
			return nil, err
		}
		if schema == "" {
			schema = "public"
		}
		cfg, err := pgx.ParseConfig(conn)
		if err != nil {
			return nil, fmt.Errorf("retention: store DSN: %w", err)
		}
		cfg.RuntimeParams["search_path"] = schema
		db := stdlib.OpenDB(*cfg)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("retention: connect: %w", err)
		}
		return &DB{db: db, dialect: "postgres", schema: schema}, nil
	}
	return nil, fmt.Errorf("retention: store %q: want sqlite:PATH or postgres://…", dsn)
}

// Close closes the connection.
func (d *DB) Close() error { return d.db.Close() }

// Size returns the store's disk use.
func (d *DB) Size(ctx context.Context) (Size, error) {
	var s Size
	if d.dialect == "sqlite" {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if fi, err := os.Stat(d.path + suffix); err == nil {
				s.File += fi.Size()
			}
		}
		var pages, free, size int64
		for q, v := range map[string]*int64{"PRAGMA page_count": &pages, "PRAGMA freelist_count": &free, "PRAGMA page_size": &size} {
			if err := d.db.QueryRowContext(ctx, q).Scan(v); err != nil {
				return s, fmt.Errorf("retention: size: %w", err)
			}
		}
		s.Used = (pages - free) * size
		return s, nil
	}
	err := d.db.QueryRowContext(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`, d.schema).Scan(&s.File)
	if err != nil {
		return s, fmt.Errorf("retention: size: %w", err)
	}
	s.Used = s.File
	return s, nil
}

// table describes a table compaction removes rows from: its key columns
// (in the order of its primary key or unique index, so that batches walk
// it) and the column compared with the horizon.
type table struct {
	name string
	key  []string
	time string
}

var (
	twinHistory = table{"twin_history", []string{"id", "valid_from"}, "valid_to"}
	relHistory  = table{"relationship_history", []string{"source_id", "rel_id", "valid_from"}, "valid_to"}
	telemetry   = table{"telemetry", []string{"twin_id", "message_id", "name"}, "enqueued_ns"}
)

// Compact removes what o says from the store st (opened on the same
// database, for its outbox). The history horizon is moved back to the
// oldest change whose event is not yet published, whose document the
// relay may rebuild from a history version. It returns what was removed
// and the sizes before and after.
func (d *DB) Compact(ctx context.Context, st store.Outbox, o Options) (*Result, error) {
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	if o.HistoryBefore.IsZero() && o.TelemetryBefore.IsZero() {
		return nil, errors.New("retention: nothing to compact: give a history or telemetry horizon")
	}
	res := &Result{HistoryBefore: o.HistoryBefore, TelemetryBefore: o.TelemetryBefore}
	if !o.HistoryBefore.IsZero() {
		pending, err := st.PendingRecords(ctx, 0, 1)
		if err != nil {
			return nil, fmt.Errorf("retention: outbox: %w", err)
		}
		if len(pending) > 0 && pending[0].Time.Before(res.HistoryBefore) {
			res.HistoryBefore = pending[0].Time
		}
	}
	var err error
	if res.Before, err = d.Size(ctx); err != nil {
		return nil, err
	}
	if o.Mark != nil {
		if err := o.Mark(ctx, res.HistoryBefore, res.TelemetryBefore); err != nil {
			return nil, fmt.Errorf("retention: compaction marker: %w", err)
		}
	}
	if !res.HistoryBefore.IsZero() {
		if res.TwinVersions, err = d.purge(ctx, twinHistory, res.HistoryBefore, o.Batch); err != nil {
			return res, err
		}
		if res.RelationshipVersions, err = d.purge(ctx, relHistory, res.HistoryBefore, o.Batch); err != nil {
			return res, err
		}
	}
	if !res.TelemetryBefore.IsZero() {
		if res.Telemetry, err = d.purge(ctx, telemetry, res.TelemetryBefore, o.Batch); err != nil {
			return res, err
		}
	}
	if err := d.vacuum(ctx, o.Vacuum); err != nil {
		return res, err
	}
	res.After, err = d.Size(ctx)
	return res, err
}

// ph returns the i-th (1-based) placeholder of the dialect.
func (d *DB) ph(i int) string {
	if d.dialect == "sqlite" {
		return fmt.Sprintf("?%d", i)
	}
	return fmt.Sprintf("$%d", i)
}

// purge removes the rows of t whose time column is before horizon, in
// batches that walk the key: each batch reads the next batch of keys and
// removes the matching rows up to the last of them in one transaction.
func (d *DB) purge(ctx context.Context, t table, horizon time.Time, batch int) (int64, error) {
	keys := strings.Join(t.key, ", ")
	var after []any // the last key of the previous batch
	var removed int64
	for {
		where, args := d.before(t, horizon)
		if after != nil {
			where += " AND (" + keys + ") > (" + d.phs(len(args)+1, len(after)) + ")"
			args = append(args, after...)
		}
		q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d", keys, t.name, where, keys, batch)
		last, n, err := d.lastKey(ctx, q, args, len(t.key))
		if err != nil {
			return removed, fmt.Errorf("retention: %s: %w", t.name, err)
		}
		if n == 0 {
			return removed, nil
		}
		del := "DELETE FROM " + t.name + " WHERE " + where + " AND (" + keys + ") <= (" + d.phs(len(args)+1, len(last)) + ")"
		r, err := d.db.ExecContext(ctx, del, append(args, last...)...)
		if err != nil {
			return removed, fmt.Errorf("retention: %s: %w", t.name, err)
		}
		k, _ := r.RowsAffected()
		removed += k
		after = last
		if n < batch {
			return removed, nil
		}
	}
}

// before is the condition on t's time column and its argument.
func (d *DB) before(t table, horizon time.Time) (string, []any) {
	return t.time + " < " + d.ph(1), []any{horizon.UnixNano()}
}

// phs returns n placeholders from the i-th, comma separated.
func (d *DB) phs(i, n int) string {
	out := make([]string, n)
	for j := range out {
		out[j] = d.ph(i + j)
	}
	return strings.Join(out, ", ")
}

// lastKey runs q (a select of keys) and returns the last row's key and
// the number of rows.
func (d *DB) lastKey(ctx context.Context, q string, args []any, ncols int) ([]any, int, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	n := 0
	var last []any
	for rows.Next() {
		vals := make([]any, ncols)
		ptrs := make([]any, ncols)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, 0, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		last = vals
		n++
	}
	return last, n, rows.Err()
}

// vacuum gives space back (full) or, on PostgreSQL, at least lets it be
// reused and refreshes the planner's statistics.
func (d *DB) vacuum(ctx context.Context, full bool) error {
	var stmts []string
	switch {
	case d.dialect == "sqlite" && full:
		stmts = []string{"PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"}
	case d.dialect == "postgres":
		verb := "VACUUM (ANALYZE) "
		if full {
			verb = "VACUUM (FULL, ANALYZE) "
		}
		for _, t := range []table{twinHistory, relHistory, telemetry} {
			stmts = append(stmts, verb+pgx.Identifier{d.schema, t.name}.Sanitize())
		}
	}
	for _, s := range stmts {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("retention: %s: %w", s, err)
		}
	}
	return nil
}
