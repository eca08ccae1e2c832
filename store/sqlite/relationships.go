package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

const (
	relCols     = `source_id, rel_id, target_id, name, etag, props`
	qRelCurrent = `SELECT ` + relCols + ` FROM relationships WHERE source_id = ? AND rel_id = ?`
	qTwinExists = `SELECT 1 FROM twins WHERE id = ?`
	qTwinModel  = `SELECT model FROM twins WHERE id = ?`
	qRelArchive = `INSERT OR REPLACE INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
		SELECT source_id, rel_id, valid_from, ?3, target_id, name, etag, props, op, patch FROM relationships WHERE source_id = ?1 AND rel_id = ?2`
	qRelUpsert = `INSERT INTO relationships(source_id, rel_id, target_id, name, etag, props, valid_from, op, patch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(source_id, rel_id) DO UPDATE SET target_id = excluded.target_id, name = excluded.name, etag = excluded.etag,
		props = excluded.props, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch`
	qRelDelete = `DELETE FROM relationships WHERE source_id = ? AND rel_id = ?`
)

func init() {
	writerQueries = append(writerQueries, qRelCurrent, qTwinExists, qTwinModel, qRelArchive, qRelUpsert, qRelDelete)
}

type scanner interface{ Scan(...any) error }

func scanRel(sc scanner) (twin.Relationship, error) { return sqlcore.ScanRelationship(sc) }

func encodeProps(r *twin.Relationship) (string, error) {
	b, err := rowcodec.EncodeRelProps(r)
	return string(b), err
}

func (db *DB) twinExists(ctx context.Context, tx *sql.Tx, id twin.ID) (bool, error) {
	var one int
	err := db.txQueryRow(ctx, tx, qTwinExists, string(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// twinModel returns the model of twin id in tx; ok is false if the twin
// does not exist.
func (db *DB) twinModel(ctx context.Context, tx *sql.Tx, id twin.ID) (model string, ok bool, err error) {
	err = db.txQueryRow(ctx, tx, qTwinModel, string(id)).Scan(&model)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return model, err == nil, err
}

func (db *DB) currentRel(ctx context.Context, tx *sql.Tx, src twin.ID, id string) (twin.Relationship, bool, error) {
	r, err := scanRel(db.txQueryRow(ctx, tx, qRelCurrent, string(src), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// writeRel archives the current version of r (if any), stores r as the
// current version from now and writes the change's record to the outbox:
// data is the patch of an OpPatch, else the relationship's JSON. model is
// the source twin's.
func (db *DB) writeRel(ctx context.Context, tx *sql.Tx, r *twin.Relationship, model string, now int64, op store.ChangeOp, patch []byte, archive bool) (store.Record, error) {
	props, err := encodeProps(r)
	if err != nil {
		return store.Record{}, err
	}
	if archive {
		if _, err := db.txExec(ctx, tx, qRelArchive, string(r.SourceID), r.ID, now); err != nil {
			return store.Record{}, err
		}
	}
	var p any
	if patch != nil {
		p = string(patch)
	}
	if _, err = db.txExec(ctx, tx, qRelUpsert, string(r.SourceID), r.ID, string(r.TargetID), r.Name, string(r.ETag), props, now, string(op), p); err != nil {
		return store.Record{}, err
	}
	data := patch
	if data == nil {
		data = rowcodec.RelationshipDoc(r, []byte(props))
	}
	rec := sqlcore.RelationshipRecord(op, r.SourceID, r.ID, r.ETag, model, now, data)
	rec.Org = r.Org
	if op == store.OpPatch {
		// As for a twin patch (writeTwin): the record names who made the
		// version.
		rec.Writer, rec.Signer = r.Writer, r.Signer
	}
	return rec, db.record(ctx, tx, &rec)
}

// PutRelationship implements store.Store.
func (db *DB) PutRelationship(ctx context.Context, r twin.Relationship, cond store.Condition) (twin.Relationship, error) {
	if r.ID == "" || r.SourceID == "" || r.TargetID == "" || r.Name == "" {
		return twin.Relationship{}, fmt.Errorf("sqlite: put relationship %q of %q: $relationshipId, $sourceId, $targetId and $relationshipName are required: %w", r.ID, r.SourceID, store.ErrInvalid)
	}
	out := r.Clone()
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		if err := db.checkModels(cond); err != nil {
			return err
		}
		model, ok, err := db.twinModel(ctx, tx, r.SourceID)
		if err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("source twin %q: %w", r.SourceID, store.ErrNotFound)
		}
		if ok, err := db.twinExists(ctx, tx, r.TargetID); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("target twin %q does not exist: %w", r.TargetID, store.ErrInvalid)
		}
		cur, exists, err := db.currentRel(ctx, tx, r.SourceID, r.ID)
		if err != nil {
			return err
		}
		if err := checkCond(cond, exists, cur.ETag); err != nil {
			return err
		}
		out.ETag = twin.NewETag()
		op := store.OpCreate
		if exists {
			op = store.OpReplace
		}
		rec, err = db.writeRel(ctx, tx, &out, model, now, op, nil, exists)
		return err
	})
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("sqlite: put relationship %q of %q: %w", r.ID, r.SourceID, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// GetRelationship implements store.Store.
func (db *DB) GetRelationship(ctx context.Context, source twin.ID, id string) (twin.Relationship, error) {
	r, err := scanRel(db.readRow(ctx, qRelCurrent, string(source), id))
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Relationship{}, fmt.Errorf("sqlite: get relationship %q of %q: %w", id, source, store.ErrNotFound)
	}
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("sqlite: get relationship %q of %q: %w", id, source, err)
	}
	return r, nil
}

// PatchRelationship implements store.Store.
func (db *DB) PatchRelationship(ctx context.Context, source twin.ID, id string, p twin.Patch, cond store.Condition) (twin.Relationship, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("sqlite: patch relationship %q of %q: %w: %w", id, source, store.ErrInvalid, err)
	}
	var out twin.Relationship
	var rec store.Record
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		if err := db.checkModels(cond); err != nil {
			return err
		}
		cur, ok, err := db.currentRel(ctx, tx, source, id)
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
		if s, ok := store.StampFrom(ctx); ok {
			next.Writer, next.Signer = s.Writer, s.Signer
		}
		next.ETag = twin.NewETag()
		out = next
		model, _, err := db.twinModel(ctx, tx, source)
		if err != nil {
			return err
		}
		rec, err = db.writeRel(ctx, tx, &out, model, now, store.OpPatch, pj, true)
		return err
	})
	if err != nil {
		return twin.Relationship{}, fmt.Errorf("sqlite: patch relationship %q of %q: %w", id, source, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// DeleteRelationship implements store.Store.
func (db *DB) DeleteRelationship(ctx context.Context, source twin.ID, id string, cond store.Condition) error {
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		cur, ok, err := db.currentRel(ctx, tx, source, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if err := checkCond(cond, true, cur.ETag); err != nil {
			return err
		}
		if _, err := db.txExec(ctx, tx, qRelArchive, string(source), id, now); err != nil {
			return err
		}
		if _, err = db.txExec(ctx, tx, qRelDelete, string(source), id); err != nil {
			return err
		}
		model, _, err := db.twinModel(ctx, tx, source)
		if err != nil {
			return err
		}
		data, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		rec = sqlcore.RelationshipRecord(store.OpDelete, source, id, cur.ETag, model, now, data)
		rec.Org = cur.Org
		return db.record(ctx, tx, &rec)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete relationship %q of %q: %w", id, source, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}

// ListRelationships implements store.Store.
func (db *DB) ListRelationships(ctx context.Context, source twin.ID, name string) ([]twin.Relationship, error) {
	rels, err := db.listRels(ctx, string(source),
		`SELECT `+relCols+` FROM relationships WHERE source_id = ?1 AND (?2 = '' OR name = ?2) ORDER BY rel_id`,
		string(source), name)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list relationships of %q: %w", source, err)
	}
	return rels, nil
}

// ListIncomingRelationships implements store.Store.
func (db *DB) ListIncomingRelationships(ctx context.Context, target twin.ID) ([]twin.Relationship, error) {
	rels, err := db.listRels(ctx, string(target),
		`SELECT `+relCols+` FROM relationships WHERE target_id = ? ORDER BY source_id, rel_id`, string(target))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list incoming relationships of %q: %w", target, err)
	}
	return rels, nil
}

// listRels runs a relationship query on one read snapshot, and reports
// ErrNotFound when the twin does not exist (checked in the same read
// transaction so the answer is consistent).
func (db *DB) listRels(ctx context.Context, twinID, q string, args ...any) ([]twin.Relationship, error) {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []twin.Relationship
	for rows.Next() {
		r, err := scanRel(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		var one int
		err := tx.QueryRowContext(ctx, qTwinExists, twinID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
