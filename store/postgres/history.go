package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/twin"
)

// TwinsRelation implements store.SQLer. props and meta are jsonb, so a
// query may use PostgreSQL's JSON operators on them (props #> '{x,y}');
// pgx's database/sql driver returns jsonb as JSON text. The as-of relation
// is the union of the current versions that started by then and the
// history versions whose interval contains it; PostgreSQL pushes the
// caller's conditions into both branches, so they use the (id) and
// (id, valid_from) indexes.
func (db *DB) TwinsRelation(asOf time.Time) string {
	const cols = `id, model, etag, props, meta, valid_from`
	if asOf.IsZero() {
		return `(SELECT ` + cols + ` FROM twins)`
	}
	t := strconv.FormatInt(timeNS(asOf), 10)
	return `(SELECT ` + cols + ` FROM twins WHERE valid_from <= ` + t +
		` UNION ALL SELECT ` + cols + ` FROM twin_history WHERE valid_from <= ` + t + ` AND valid_to > ` + t + `)`
}

// RelationshipsRelation implements store.SQLer.
func (db *DB) RelationshipsRelation(asOf time.Time) string {
	const cols = `source_id, rel_id, target_id, name, etag, props, valid_from`
	if asOf.IsZero() {
		return `(SELECT ` + cols + ` FROM relationships)`
	}
	t := strconv.FormatInt(timeNS(asOf), 10)
	return `(SELECT ` + cols + ` FROM relationships WHERE valid_from <= ` + t +
		` UNION ALL SELECT ` + cols + ` FROM relationship_history WHERE valid_from <= ` + t + ` AND valid_to > ` + t + `)`
}

// ModelBasesRelation implements store.SQLer.
func (db *DB) ModelBasesRelation() string {
	return `(WITH RECURSIVE mb(model, base) AS (SELECT id, id FROM models
		UNION SELECT mb.model, e.base FROM mb JOIN model_extends e ON e.model = mb.base)
		SELECT model, base FROM mb)`
}

// ReadDB implements store.SQLer. Its connections are read-only
// (default_transaction_read_only) and use the DB's schema.
func (db *DB) ReadDB() *sql.DB { return db.rdb }

// Dialect implements store.SQLer.
func (db *DB) Dialect() string { return "postgres" }

func fmtTime(t time.Time) string { return t.Format(time.RFC3339Nano) }

// TwinAsOf implements store.Store.
func (db *DB) TwinAsOf(ctx context.Context, id twin.ID, at time.Time) (twin.Twin, error) {
	var model, etag string
	var props, meta []byte
	err := db.r.QueryRow(ctx, `SELECT model, etag, props, meta FROM twins WHERE id = $1 AND valid_from <= $2
		UNION ALL SELECT model, etag, props, meta FROM twin_history WHERE id = $1 AND valid_from <= $2 AND valid_to > $2
		LIMIT 1`, string(id), timeNS(at)).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, pgx.ErrNoRows) {
		return twin.Twin{}, fmt.Errorf("postgres: twin %q as of %s: %w", id, fmtTime(at), store.ErrNotFound)
	}
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: twin %q as of %s: %w", id, fmtTime(at), err)
	}
	t, err := decodeTwin(string(id), model, etag, props, meta)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: twin %q as of %s: %w", id, fmtTime(at), err)
	}
	return t, nil
}

// RelationshipAsOf implements store.Store.
func (db *DB) RelationshipAsOf(ctx context.Context, source twin.ID, id string, at time.Time) (twin.Relationship, error) {
	r, err := scanRel(db.r.QueryRow(ctx, `SELECT `+relCols+` FROM relationships WHERE source_id = $1 AND rel_id = $2 AND valid_from <= $3
		UNION ALL SELECT `+relCols+` FROM relationship_history WHERE source_id = $1 AND rel_id = $2 AND valid_from <= $3 AND valid_to > $3
		LIMIT 1`, string(source), id, timeNS(at)))
	if errors.Is(err, pgx.ErrNoRows) {
		return twin.Relationship{}, fmt.Errorf("postgres: relationship %q of %q as of %s: %w", id, source, fmtTime(at), store.ErrNotFound)
	}
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("postgres: relationship %q of %q as of %s: %w", id, source, fmtTime(at), err)
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
	rows, err := db.r.Query(ctx, `SELECT valid_from, valid_to, model, etag, props, meta, op, patch FROM (
		SELECT valid_from, valid_to, model, etag, props, meta, op, patch FROM twin_history WHERE id = $1
		UNION ALL SELECT valid_from, `+strconv.FormatInt(math.MaxInt64, 10)+`, model, etag, props, meta, op, patch FROM twins WHERE id = $1) v
		ORDER BY valid_from`, string(id))
	if err != nil {
		return nil, fmt.Errorf("postgres: changes of twin %q: %w", id, err)
	}
	defer rows.Close()
	type version struct {
		from, to int64
		t        twin.Twin
		op       string
		patch    *string
	}
	var vs []version
	for rows.Next() {
		var v version
		var model, etag string
		var props, meta []byte
		if err := rows.Scan(&v.from, &v.to, &model, &etag, &props, &meta, &v.op, &v.patch); err != nil {
			return nil, fmt.Errorf("postgres: changes of twin %q: %w", id, err)
		}
		if v.t, err = decodeTwin(string(id), model, etag, props, meta); err != nil {
			return nil, fmt.Errorf("postgres: changes of twin %q: %w", id, err)
		}
		if v.from == v.to {
			continue // superseded in its own transaction
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: changes of twin %q: %w", id, err)
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
		if v.patch != nil {
			p, err := twin.ParsePatch([]byte(*v.patch))
			if err != nil {
				return nil, fmt.Errorf("postgres: changes of twin %q: stored patch: %w", id, err)
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
		snap.At = time.Now().UTC()
	}
	for e, err := range db.Export(ctx, at) {
		if err != nil {
			return nil, fmt.Errorf("postgres: snapshot: %w", err)
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

// Export implements store.Store. It reads in one REPEATABLE READ
// transaction, so the models, twins and relationships come from one
// snapshot of the database, and streams each query's rows as they arrive.
func (db *DB) Export(ctx context.Context, at time.Time) iter.Seq2[store.Entity, error] {
	return func(yield func(store.Entity, error) bool) {
		tx, err := db.r.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			yield(store.Entity{}, fmt.Errorf("postgres: export: %w", err))
			return
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		var upTo int64 = math.MaxInt64
		if !at.IsZero() {
			upTo = timeNS(at)
		}
		// each runs q and yields one entity per row; it reports whether
		// to go on.
		each := func(q string, args []any, row func(pgx.Rows) (store.Entity, error)) bool {
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				yield(store.Entity{}, fmt.Errorf("postgres: export: %w", err))
				return false
			}
			defer rows.Close()
			for rows.Next() {
				e, err := row(rows)
				if err != nil {
					yield(store.Entity{}, fmt.Errorf("postgres: export: %w", err))
					return false
				}
				if !yield(e, nil) {
					return false
				}
			}
			if err := rows.Err(); err != nil {
				yield(store.Entity{}, fmt.Errorf("postgres: export: %w", err))
				return false
			}
			return true
		}
		if !each(`SELECT `+modelCols+` FROM models WHERE upload_ns <= $1 ORDER BY id`, []any{upTo}, func(rows pgx.Rows) (store.Entity, error) {
			m, err := scanModel(rows)
			return store.Entity{Model: &m}, err
		}) {
			return
		}
		if !each(`SELECT id, model, etag, props, meta FROM `+db.TwinsRelation(at)+` AS t ORDER BY id`, nil, func(rows pgx.Rows) (store.Entity, error) {
			var id, model, etag string
			var props, meta []byte
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
		each(`SELECT `+relCols+` FROM `+db.RelationshipsRelation(at)+` AS r ORDER BY source_id, rel_id`, nil, func(rows pgx.Rows) (store.Entity, error) {
			r, err := scanRel(rows)
			return store.Entity{Relationship: &r}, err
		})
	}
}
