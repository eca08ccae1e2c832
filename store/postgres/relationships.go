package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

const (
	relCols     = `source_id, rel_id, target_id, name, etag, props`
	qRelCurrent = `SELECT ` + relCols + ` FROM relationships WHERE source_id = $1 AND rel_id = $2`
	qTwinExists = `SELECT EXISTS(SELECT 1 FROM twins WHERE id = $1)`
)

var (
	// qRelState reads what a put checks: the source twin's model (NULL
	// when it does not exist), whether the target twin exists, the
	// relationship's etag (NULL when it does not) and the model-set
	// version.
	qRelState = `SELECT (SELECT model FROM twins WHERE id = $1), EXISTS(SELECT 1 FROM twins WHERE id = $3),
		(SELECT etag FROM relationships WHERE source_id = $1 AND rel_id = $2), ` + qModels
	// qRelWriteState reads what a patch or delete starts from: the current
	// version, its source twin's model and the model-set version.
	qRelWriteState = `SELECT ` + relCols + `, (SELECT model FROM twins WHERE id = $1), ` + qModels + `
		FROM relationships WHERE source_id = $1 AND rel_id = $2`
	// qRelWrite moves the current version (if any) to the history, stores
	// the new one and writes the change's record to the outbox ($10
	// subject, $11 the source twin's model; data: the patch $9 of a patch,
	// else $12), returning its seq.
	qRelWrite = `WITH old AS (
		INSERT INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
		SELECT source_id, rel_id, valid_from, $7, target_id, name, etag, props, op, patch FROM relationships
		WHERE source_id = $1 AND rel_id = $2),
	cur AS (
		INSERT INTO relationships(source_id, rel_id, target_id, name, etag, props, valid_from, op, patch)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (source_id, rel_id) DO UPDATE SET target_id = excluded.target_id, name = excluded.name, etag = excluded.etag,
			props = excluded.props, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch)
	INSERT INTO outbox(` + sqlcore.RecordCols + `) VALUES ('relationship', $8, $10, $5, $11, $7, coalesce($9, $12)) RETURNING seq`
	// qRelDelete moves the current version to the history, closed at $3,
	// and writes the delete's record to the outbox ($4 subject, $5 model,
	// $6 data).
	qRelDelete = `WITH old AS (DELETE FROM relationships WHERE source_id = $1 AND rel_id = $2 RETURNING *),
	h AS (INSERT INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
		SELECT source_id, rel_id, valid_from, $3, target_id, name, etag, props, op, patch FROM old)
	INSERT INTO outbox(` + sqlcore.RecordCols + `) SELECT 'relationship', 'delete', $4, etag, $5, $3, $6 FROM old RETURNING seq`
)

func scanRel(sc pgx.Row) (twin.Relationship, error) { return sqlcore.ScanRelationship(sc) }

func readRel(ctx context.Context, q querier, src twin.ID, id string) (twin.Relationship, bool, error) {
	r, err := scanRel(q.QueryRow(ctx, qRelCurrent, string(src), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// relRead is the first read of a patch or delete of relationship id of
// src: relWriteState's.
func relRead(src twin.ID, id string) firstRead {
	return firstRead{keys: []string{twinKey(src), relKey(src, id)}, sql: qRelWriteState, args: []any{string(src), id}}
}

// relWriteState reads a relationship, its source twin's model and the
// model-set version in tx; ok is false if the relationship does not exist.
func relWriteState(ctx context.Context, tx pgx.Tx, src twin.ID, id string) (r twin.Relationship, model string, models int64, ok bool, err error) {
	var s, tgt, etag string
	var props []byte
	err = tx.QueryRow(ctx, qRelWriteState, string(src), id).Scan(&s, &r.ID, &tgt, &r.Name, &etag, &props, &model, &models)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, "", 0, false, nil
	}
	if err != nil {
		return r, "", 0, false, err
	}
	r.SourceID, r.TargetID, r.ETag = twin.ID(s), twin.ID(tgt), twin.ETag(etag)
	err = decodeProps(props, &r)
	return r, model, models, err == nil, err
}

// writeRel archives the current version of r (if any), stores r as the
// current version from now and writes the change's record to the outbox,
// in one statement: data is the patch of an OpPatch, else the
// relationship's JSON. model is the source twin's. It sets *rec to the
// record and queues the statement as writeTwin does (rec.Seq is set once
// it ran).
func writeRel(ctx context.Context, tx pgx.Tx, rec *store.Record, r *twin.Relationship, model string, now int64, op store.ChangeOp, patch []byte) error {
	props, err := encodeProps(r)
	if err != nil {
		return err
	}
	var p *string
	data, doc := patch, ""
	if patch != nil {
		s := string(patch)
		p = &s
	} else {
		data = rowcodec.RelationshipDoc(r, props)
		doc = string(data)
	}
	*rec = sqlcore.RelationshipRecord(op, r.SourceID, r.ID, r.ETag, model, now, data)
	rec.Org = r.Org
	return queryRowLater(ctx, tx, []any{&rec.Seq}, qRelWrite, string(r.SourceID), r.ID, string(r.TargetID), r.Name, string(r.ETag), props, now, string(op), p,
		rec.Subject, model, doc)
}

// relKey is the writeRead key of relationship id of twin src. The keys of
// a relationship write are its relationship's and its source twin's (whose
// model it reads), and for a put its target twin's: DeleteTwin, which
// checks for relationships to its twin whatever their keys, does not read
// ahead.
func relKey(src twin.ID, id string) string { return "rel\x00" + string(src) + "\x00" + id }

// PutRelationship implements store.Store.
func (db *DB) PutRelationship(ctx context.Context, r twin.Relationship, cond store.Condition) (twin.Relationship, error) {
	if r.ID == "" || r.SourceID == "" || r.TargetID == "" || r.Name == "" {
		return twin.Relationship{}, fmt.Errorf("postgres: put relationship %q of %q: $relationshipId, $sourceId, $targetId and $relationshipName are required: %w", r.ID, r.SourceID, store.ErrInvalid)
	}
	out := r.Clone()
	var rec store.Record
	args := []any{string(r.SourceID), r.ID, string(r.TargetID)}
	read := firstRead{keys: []string{twinKey(r.SourceID), twinKey(r.TargetID), relKey(r.SourceID, r.ID)}, sql: qRelState, args: args}
	err := db.writeRead(ctx, read, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var model, etag *string
		var tgtOK bool
		var models int64
		if err := tx.QueryRow(ctx, qRelState, args...).Scan(&model, &tgtOK, &etag, &models); err != nil {
			return err
		}
		if err := sqlcore.CheckModels(cond, models); err != nil {
			return err
		}
		if model == nil {
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
		return writeRel(ctx, tx, &rec, &out, *model, now, op, nil)
	})
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("postgres: put relationship %q of %q: %w", r.ID, r.SourceID, err)
	}
	sqlcore.Deliver(ctx, rec)
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
	var rec store.Record
	err = db.writeRead(ctx, relRead(source, id), func(ctx context.Context, tx pgx.Tx, now int64) error {
		cur, model, models, ok, err := relWriteState(ctx, tx, source, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if err := sqlcore.CheckModels(cond, models); err != nil {
			return err
		}
		if err := checkCond(cond, true, cur.ETag); err != nil {
			return err
		}
		next, err := cur.ApplyPatch(p)
		if err != nil {
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		if s, ok := store.StampFrom(ctx); ok {
			next.Writer, next.Signer = s.Writer, s.Signer
		}
		next.ETag = twin.NewETag()
		out = next
		return writeRel(ctx, tx, &rec, &out, model, now, store.OpPatch, pj)
	})
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("postgres: patch relationship %q of %q: %w", id, source, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// DeleteRelationship implements store.Store.
func (db *DB) DeleteRelationship(ctx context.Context, source twin.ID, id string, cond store.Condition) error {
	var rec store.Record
	err := db.writeRead(ctx, relRead(source, id), func(ctx context.Context, tx pgx.Tx, now int64) error {
		cur, model, _, ok, err := relWriteState(ctx, tx, source, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if err := checkCond(cond, true, cur.ETag); err != nil {
			return err
		}
		data, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		rec = sqlcore.RelationshipRecord(store.OpDelete, source, id, cur.ETag, model, now, data)
		rec.Org = cur.Org
		// The relationship exists (the clock's lock keeps it), so the
		// statement returns its row.
		return queryRowLater(ctx, tx, []any{&rec.Seq}, qRelDelete, string(source), id, now, rec.Subject, model, string(data))
	})
	if err != nil {
		return fmt.Errorf("postgres: delete relationship %q of %q: %w", id, source, err)
	}
	sqlcore.Deliver(ctx, rec)
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
