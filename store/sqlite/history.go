package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"math"
	"time"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// asOfNS converts an as-of time to the integer compared with valid_from and
// valid_to.
func asOfNS(at time.Time) int64 { return timeNS(at) }

// TwinsRelation implements store.SQLer. The as-of relation is the union of
// the current versions that started by then and the history versions whose
// interval contains it.
func (db *DB) TwinsRelation(asOf time.Time) string {
	return sqlcore.AsOfRelation("twins", "twin_history", `id, model, etag, props, meta, valid_from`, asOf)
}

// RelationshipsRelation implements store.SQLer.
func (db *DB) RelationshipsRelation(asOf time.Time) string {
	return sqlcore.AsOfRelation("relationships", "relationship_history", `source_id, rel_id, target_id, name, etag, props, valid_from`, asOf)
}

// ModelBasesRelation implements store.SQLer.
func (db *DB) ModelBasesRelation() string { return sqlcore.ModelBasesRelation }

// ReadDB implements store.SQLer.
func (db *DB) ReadDB() *sql.DB { return db.r }

// Dialect implements store.SQLer.
func (db *DB) Dialect() string { return "sqlite" }

// TwinAsOf implements store.Store.
func (db *DB) TwinAsOf(ctx context.Context, id twin.ID, at time.Time) (twin.Twin, error) {
	t, err := core.TwinAsOf(ctx, readConn{db}, id, at)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: twin %q as of %s: %w", id, at.Format(time.RFC3339Nano), err)
	}
	return t, nil
}

// RelationshipAsOf implements store.Store.
func (db *DB) RelationshipAsOf(ctx context.Context, source twin.ID, id string, at time.Time) (twin.Relationship, error) {
	r, err := core.RelationshipAsOf(ctx, readConn{db}, source, id, at)
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("sqlite: relationship %q of %q as of %s: %w", id, source, at.Format(time.RFC3339Nano), err)
	}
	return r, nil
}

// TwinChanges implements store.Store.
func (db *DB) TwinChanges(ctx context.Context, id twin.ID, from, to time.Time) ([]store.Change, error) {
	ch, err := core.TwinChanges(ctx, readConn{db}, id, from, to)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes of twin %q: %w", id, err)
	}
	return ch, nil
}

// Snapshot implements store.Store by collecting Export.
func (db *DB) Snapshot(ctx context.Context, at time.Time) (*store.Snapshot, error) {
	snapAt := at
	if at.IsZero() {
		snapAt = db.now().UTC()
	}
	snap, err := sqlcore.Snapshot(db.Export(ctx, at), snapAt)
	if err != nil {
		return nil, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	return snap, nil
}

// Export implements store.Store. It reads in one read transaction, so the
// models, twins and relationships are consistent with each other.
func (db *DB) Export(ctx context.Context, at time.Time) iter.Seq2[store.Entity, error] {
	return func(yield func(store.Entity, error) bool) {
		tx, err := db.r.BeginTx(ctx, nil)
		if err != nil {
			yield(store.Entity{}, fmt.Errorf("sqlite: export: %w", err))
			return
		}
		defer tx.Rollback()
		var upTo int64 = math.MaxInt64
		if !at.IsZero() {
			upTo = asOfNS(at)
		}
		// each runs q and yields one entity per row; it reports whether
		// to go on.
		each := func(q string, args []any, row func(*sql.Rows) (store.Entity, error)) bool {
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				yield(store.Entity{}, fmt.Errorf("sqlite: export: %w", err))
				return false
			}
			defer rows.Close()
			for rows.Next() {
				e, err := row(rows)
				if err != nil {
					yield(store.Entity{}, fmt.Errorf("sqlite: export: %w", err))
					return false
				}
				if !yield(e, nil) {
					return false
				}
			}
			if err := rows.Err(); err != nil {
				yield(store.Entity{}, fmt.Errorf("sqlite: export: %w", err))
				return false
			}
			return true
		}
		if !each(`SELECT `+core.Dialect().ModelCols()+` FROM models WHERE upload_ns <= ? ORDER BY id`, []any{upTo}, func(rows *sql.Rows) (store.Entity, error) {
			m, err := sqlcore.ScanModel(rows)
			return store.Entity{Model: &m}, err
		}) {
			return
		}
		if !each(`SELECT id, model, etag, props, meta FROM `+db.TwinsRelation(at)+` ORDER BY id`, nil, func(rows *sql.Rows) (store.Entity, error) {
			var id, model, etag, props, meta string
			if err := rows.Scan(&id, &model, &etag, &props, &meta); err != nil {
				return store.Entity{}, err
			}
			t, err := decodeTwin(id, model, etag, props, meta)
			if err != nil {
				return store.Entity{}, fmt.Errorf("twin %q: %w", id, err)
			}
			return store.Entity{Twin: &t}, nil
		}) {
			return
		}
		each(`SELECT `+relCols+` FROM `+db.RelationshipsRelation(at)+` ORDER BY source_id, rel_id`, nil, func(rows *sql.Rows) (store.Entity, error) {
			r, err := scanRel(rows)
			return store.Entity{Relationship: &r}, err
		})
	}
}
