package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/twin"
)

const (
	relCols     = `source_id, rel_id, target_id, name, etag, props`
	qRelCurrent = `SELECT ` + relCols + ` FROM relationships WHERE source_id = $1 AND rel_id = $2`
	// qRelState reads what a put checks: whether the source and target
	// twins exist and the relationship's etag (NULL when it does not).
	qRelState = `SELECT EXISTS(SELECT 1 FROM twins WHERE id = $1), EXISTS(SELECT 1 FROM twins WHERE id = $3),
		(SELECT etag FROM relationships WHERE source_id = $1 AND rel_id = $2)`
	qRelWrite = `WITH old AS (
		INSERT INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
		SELECT source_id, rel_id, valid_from, $7, target_id, name, etag, props, op, patch FROM relationships
		WHERE source_id = $1 AND rel_id = $2)
	INSERT INTO relationships(source_id, rel_id, target_id, name, etag, props, valid_from, op, patch)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (source_id, rel_id) DO UPDATE SET target_id = excluded.target_id, name = excluded.name, etag = excluded.etag,
		props = excluded.props, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch`
	qRelDelete = `WITH old AS (DELETE FROM relationships WHERE source_id = $1 AND rel_id = $2 RETURNING *)
	INSERT INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
	SELECT source_id, rel_id, valid_from, $3, target_id, name, etag, props, op, patch FROM old`
	qTwinExists = `SELECT EXISTS(SELECT 1 FROM twins WHERE id = $1)`
)

func scanRel(sc pgx.Row) (twin.Relationship, error) {
	var r twin.Relationship
	var src, tgt, etag string
	var props []byte
	if err := sc.Scan(&src, &r.ID, &tgt, &r.Name, &etag, &props); err != nil {
		return r, err
	}
	r.SourceID, r.TargetID, r.ETag = twin.ID(src), twin.ID(tgt), twin.ETag(etag)
	var err error
	r.Properties, err = decodeProps(props)
	return r, err
}

func readRel(ctx context.Context, q querier, src twin.ID, id string) (twin.Relationship, bool, error) {
	r, err := scanRel(q.QueryRow(ctx, qRelCurrent, string(src), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

func writeRel(ctx context.Context, tx pgx.Tx, r *twin.Relationship, now int64, op store.ChangeOp, patch []byte) error {
	props, err := encodeProps(r.Properties)
	if err != nil {
		return err
	}
	var p *string
	if patch != nil {
		s := string(patch)
		p = &s
	}
	_, err = tx.Exec(ctx, qRelWrite, string(r.SourceID), r.ID, string(r.TargetID), r.Name, string(r.ETag), props, now, string(op), p)
	return err
}

// PutRelationship implements store.Store.
func (db *DB) PutRelationship(ctx context.Context, r twin.Relationship, cond store.Condition) (twin.Relationship, error) {
	if r.ID == "" || r.SourceID == "" || r.TargetID == "" || r.Name == "" {
		return twin.Relationship{}, fmt.Errorf("postgres: put relationship %q of %q: $relationshipId, $sourceId, $targetId and $relationshipName are required: %w", r.ID, r.SourceID, store.ErrInvalid)
	}
	out := r.Clone()
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var srcOK, tgtOK bool
		var etag *string
		if err := tx.QueryRow(ctx, qRelState, string(r.SourceID), r.ID, string(r.TargetID)).Scan(&srcOK, &tgtOK, &etag); err != nil {
			return err
		}
		if !srcOK {
			return fmt.Errorf("source twin %q: %w", r.SourceID, store.ErrNotFound)
		}
		if !tgtOK {
			return fmt.Errorf("target twin %q does not exist: %w", r.TargetID, store.ErrInvalid)
		}
		exists := etag != nil
		var cur twin.ETag
		if exists {
			cur = twin.ETag(*etag)
		}
		if err := checkCond(cond, exists, cur); err != nil {
			return err
		}
		out.ETag = twin.NewETag()
		op := store.OpCreate
		if exists {
			op = store.OpReplace
		}
		return writeRel(ctx, tx, &out, now, op, nil)
	})
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("postgres: put relationship %q of %q: %w", r.ID, r.SourceID, err)
	}
	return out, nil
}

// GetRelationship implements store.Store.
func (db *DB) GetRelationship(ctx context.Context, source twin.ID, id string) (twin.Relationship, error) {
	r, ok, err := readRel(ctx, db.r, source, id)
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("postgres: get relationship %q of %q: %w", id, source, err)
	}
	if !ok {
		return twin.Relationship{}, fmt.Errorf("postgres: get relationship %q of %q: %w", id, source, store.ErrNotFound)
	}
	return r, nil
}

// PatchRelationship implements store.Store.
func (db *DB) PatchRelationship(ctx context.Context, source twin.ID, id string, p twin.Patch, cond store.Condition) (twin.Relationship, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("postgres: patch relationship %q of %q: %w: %w", id, source, store.ErrInvalid, err)
	}
	var out twin.Relationship
	err = db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		cur, ok, err := readRel(ctx, tx, source, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if err := checkCond(cond, true, cur.ETag); err != nil {
			return err
		}
		next, err := cur.ApplyPatch(p)
		if err != nil {
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		next.ETag = twin.NewETag()
		out = next
		return writeRel(ctx, tx, &out, now, store.OpPatch, pj)
	})
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("postgres: patch relationship %q of %q: %w", id, source, err)
	}
	return out, nil
}

// DeleteRelationship implements store.Store.
func (db *DB) DeleteRelationship(ctx context.Context, source twin.ID, id string, cond store.Condition) error {
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var etag string
		err := tx.QueryRow(ctx, `SELECT etag FROM relationships WHERE source_id = $1 AND rel_id = $2`, string(source), id).Scan(&etag)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := checkCond(cond, true, twin.ETag(etag)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, qRelDelete, string(source), id, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete relationship %q of %q: %w", id, source, err)
	}
	return nil
}

// ListRelationships implements store.Store.
func (db *DB) ListRelationships(ctx context.Context, source twin.ID, name string) ([]twin.Relationship, error) {
	rels, err := db.listRels(ctx, string(source),
		`SELECT `+relCols+` FROM relationships WHERE source_id = $1 AND ($2 = '' OR name = $2) ORDER BY rel_id`,
		string(source), name)
	if err != nil {
		return nil, fmt.Errorf("postgres: list relationships of %q: %w", source, err)
	}
	return rels, nil
}

// ListIncomingRelationships implements store.Store.
func (db *DB) ListIncomingRelationships(ctx context.Context, target twin.ID) ([]twin.Relationship, error) {
	rels, err := db.listRels(ctx, string(target),
		`SELECT `+relCols+` FROM relationships WHERE target_id = $1 ORDER BY source_id, rel_id`, string(target))
	if err != nil {
		return nil, fmt.Errorf("postgres: list incoming relationships of %q: %w", target, err)
	}
	return rels, nil
}

// listRels runs a relationship query and, when it finds none, reports
// ErrNotFound if the twin does not exist. The two reads are not one
// snapshot, but each answer is a state the graph was in: a twin created or
// deleted in between shows as existing with no relationships, or missing.
func (db *DB) listRels(ctx context.Context, twinID, q string, args ...any) ([]twin.Relationship, error) {
	rows, err := db.r.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []twin.Relationship
	for rows.Next() {
		r, err := scanRel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		var ok bool
		if err := db.r.QueryRow(ctx, qTwinExists, twinID).Scan(&ok); err != nil {
			return nil, err
		}
		if !ok {
			return nil, store.ErrNotFound
		}
	}
	return out, nil
}
