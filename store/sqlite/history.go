package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

// asOfNS converts an as-of time to the integer compared with valid_from and
// valid_to.
func asOfNS(at time.Time) int64 { return timeNS(at) }

// TwinsRelation implements store.SQLer. The as-of relation is the union of
// the current versions that started by then and the history versions whose
// interval contains it.
func (db *DB) TwinsRelation(asOf time.Time) string {
	if asOf.IsZero() {
		return `(SELECT id, model, etag, props, meta, valid_from FROM twins)`
	}
	t := strconv.FormatInt(asOfNS(asOf), 10)
	return `(SELECT id, model, etag, props, meta, valid_from FROM twins WHERE valid_from <= ` + t +
		` UNION ALL SELECT id, model, etag, props, meta, valid_from FROM twin_history WHERE valid_from <= ` + t + ` AND valid_to > ` + t + `)`
}

// RelationshipsRelation implements store.SQLer.
func (db *DB) RelationshipsRelation(asOf time.Time) string {
	if asOf.IsZero() {
		return `(SELECT source_id, rel_id, target_id, name, etag, props, valid_from FROM relationships)`
	}
	t := strconv.FormatInt(asOfNS(asOf), 10)
	return `(SELECT source_id, rel_id, target_id, name, etag, props, valid_from FROM relationships WHERE valid_from <= ` + t +
		` UNION ALL SELECT source_id, rel_id, target_id, name, etag, props, valid_from FROM relationship_history WHERE valid_from <= ` + t + ` AND valid_to > ` + t + `)`
}

// ModelBasesRelation implements store.SQLer.
func (db *DB) ModelBasesRelation() string {
	return `(WITH RECURSIVE mb(model, base) AS (SELECT id, id FROM models
		UNION SELECT mb.model, e.base FROM mb JOIN model_extends e ON e.model = mb.base)
		SELECT model, base FROM mb)`
}

// ReadDB implements store.SQLer.
func (db *DB) ReadDB() *sql.DB { return db.r }

// Dialect implements store.SQLer.
func (db *DB) Dialect() string { return "sqlite" }

// TwinAsOf implements store.Store.
func (db *DB) TwinAsOf(ctx context.Context, id twin.ID, at time.Time) (twin.Twin, error) {
	t := asOfNS(at)
	var model, etag, props, meta string
	err := db.readRow(ctx, `SELECT model, etag, props, meta FROM twins WHERE id = ?1 AND valid_from <= ?2
		UNION ALL SELECT model, etag, props, meta FROM twin_history WHERE id = ?1 AND valid_from <= ?2 AND valid_to > ?2
		LIMIT 1`, string(id), t).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Twin{}, fmt.Errorf("sqlite: twin %q as of %s: %w", id, at.Format(time.RFC3339Nano), store.ErrNotFound)
	}
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: twin %q as of %s: %w", id, at.Format(time.RFC3339Nano), err)
	}
	tw, err := decodeTwin(string(id), model, etag, props, meta)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: twin %q as of %s: %w", id, at.Format(time.RFC3339Nano), err)
	}
	return tw, nil
}

// RelationshipAsOf implements store.Store.
func (db *DB) RelationshipAsOf(ctx context.Context, source twin.ID, id string, at time.Time) (twin.Relationship, error) {
	t := asOfNS(at)
	r, err := scanRel(db.readRow(ctx, `SELECT `+relCols+` FROM relationships WHERE source_id = ?1 AND rel_id = ?2 AND valid_from <= ?3
		UNION ALL SELECT `+relCols+` FROM relationship_history WHERE source_id = ?1 AND rel_id = ?2 AND valid_from <= ?3 AND valid_to > ?3
		LIMIT 1`, string(source), id, t))
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Relationship{}, fmt.Errorf("sqlite: relationship %q of %q as of %s: %w", id, source, at.Format(time.RFC3339Nano), store.ErrNotFound)
	}
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("sqlite: relationship %q of %q as of %s: %w", id, source, at.Format(time.RFC3339Nano), err)
	}
	return r, nil
}

// TwinChanges implements store.Store. The change list is derived from the
// versions: each version records the operation that made it, and a version
// whose interval ends without a successor starting at that instant was
// deleted then.
func (db *DB) TwinChanges(ctx context.Context, id twin.ID, from, to time.Time) ([]store.Change, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = timeNS(from)
	}
	if !to.IsZero() {
		hi = timeNS(to)
	}
	rows, err := db.readRows(ctx, `SELECT valid_from, valid_to, model, etag, props, meta, op, patch FROM (
		SELECT valid_from, valid_to, model, etag, props, meta, op, patch FROM twin_history WHERE id = ?1
		UNION ALL SELECT valid_from, `+strconv.FormatInt(math.MaxInt64, 10)+`, model, etag, props, meta, op, patch FROM twins WHERE id = ?1)
		ORDER BY valid_from`, string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes of twin %q: %w", id, err)
	}
	defer rows.Close()
	type version struct {
		from, to int64
		t        twin.Twin
		op       string
		patch    sql.NullString
	}
	var vs []version
	for rows.Next() {
		var v version
		var model, etag, props, meta string
		if err := rows.Scan(&v.from, &v.to, &model, &etag, &props, &meta, &v.op, &v.patch); err != nil {
			return nil, fmt.Errorf("sqlite: changes of twin %q: %w", id, err)
		}
		if v.t, err = decodeTwin(string(id), model, etag, props, meta); err != nil {
			return nil, fmt.Errorf("sqlite: changes of twin %q: %w", id, err)
		}
		if v.from == v.to {
			continue // superseded in its own transaction (a bulk batch naming the twin twice)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: changes of twin %q: %w", id, err)
	}
	var out []store.Change
	add := func(c store.Change, ns int64) {
		if ns >= lo && ns < hi {
			out = append(out, c)
		}
	}
	for i, v := range vs {
		c := store.Change{Time: nsTime(v.from), Op: store.ChangeOp(v.op)}
		tw := v.t
		c.Twin = &tw
		if v.patch.Valid {
			p, err := twin.ParsePatch([]byte(v.patch.String))
			if err != nil {
				return nil, fmt.Errorf("sqlite: changes of twin %q: stored patch: %w", id, err)
			}
			c.Patch = p
		}
		add(c, v.from)
		if v.to != math.MaxInt64 && (i+1 == len(vs) || vs[i+1].from != v.to) {
			add(store.Change{Time: nsTime(v.to), Op: store.OpDelete}, v.to)
		}
	}
	return out, nil
}

// Snapshot implements store.Store by collecting Export.
func (db *DB) Snapshot(ctx context.Context, at time.Time) (*store.Snapshot, error) {
	snap := &store.Snapshot{At: at}
	if at.IsZero() {
		snap.At = db.now().UTC()
	}
	for e, err := range db.Export(ctx, at) {
		if err != nil {
			return nil, fmt.Errorf("sqlite: snapshot: %w", err)
		}
		switch {
		case e.Twin != nil:
			snap.Twins = append(snap.Twins, *e.Twin)
		case e.Relationship != nil:
			snap.Relationships = append(snap.Relationships, *e.Relationship)
		}
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
		if !each(`SELECT `+modelCols+` FROM models WHERE upload_ns <= ? ORDER BY id`, []any{upTo}, func(rows *sql.Rows) (store.Entity, error) {
			m, err := scanModel(rows)
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
