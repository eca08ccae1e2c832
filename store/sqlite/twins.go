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
	qTwinCurrent = `SELECT model, etag, props, meta FROM twins WHERE id = ?`
	qTwinEtag    = `SELECT etag FROM twins WHERE id = ?`
	qModelExists = `SELECT 1 FROM models WHERE id = ?`
	// qTwinPutState reads what a put checks, in one statement: the etag of
	// the current version of twin ?1 (NULL if none) and whether model ?2
	// exists.
	qTwinPutState = `SELECT (SELECT etag FROM twins WHERE id = ?1), EXISTS(SELECT 1 FROM models WHERE id = ?2)`
	// qTwinArchive moves the current version of a twin to the history,
	// closing its interval at ?2.
	qTwinArchive = `INSERT OR REPLACE INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT id, valid_from, ?2, model, etag, props, meta, op, patch FROM twins WHERE id = ?1`
	// qTwinArchiveIf is qTwinArchive of the version with etag ?3 only: a
	// patch of a version read before (PatchTwinFrom) checks its ETag and
	// archives it in one statement.
	qTwinArchiveIf = `INSERT OR REPLACE INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT id, valid_from, ?2, model, etag, props, meta, op, patch FROM twins WHERE id = ?1 AND etag = ?3`
	// qTwinUpsert updates in place (unlike INSERT OR REPLACE, which deletes
	// and re-inserts), so indexes whose columns did not change are not
	// touched.
	qTwinUpsert = `INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET model = excluded.model, etag = excluded.etag, props = excluded.props, meta = excluded.meta,
		valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch`
	// qTwinUpdate rewrites the current version of a twin whose model
	// stays the same: leaving model out of the SET list spares the
	// twins_model index an entry rewrite (SQLite rewrites the entries of
	// every index on a column in the SET list, changed or not).
	qTwinUpdate = `UPDATE twins SET etag = ?2, props = ?3, meta = ?4, valid_from = ?5, op = ?6, patch = ?7 WHERE id = ?1`
	qTwinDelete = `DELETE FROM twins WHERE id = ?`
	qTwinHasRel = `SELECT EXISTS(SELECT 1 FROM relationships WHERE source_id = ?1) OR EXISTS(SELECT 1 FROM relationships WHERE target_id = ?1)`
)

func init() {
	writerQueries = append(writerQueries, qTwinCurrent, qTwinEtag, qTwinUpdate, qModelExists, qTwinPutState, qTwinArchive, qTwinArchiveIf, qTwinUpsert, qTwinDelete, qTwinHasRel)
}

// checkCond checks a write precondition (see rowcodec.CheckCond).
func checkCond(cond store.Condition, exists bool, etag twin.ETag) error {
	return rowcodec.CheckCond(cond, exists, etag)
}

// stampTwin returns t as a put at transaction time now (Unix ns) stores it
// (see rowcodec.StampTwin).
func stampTwin(t twin.Twin, now int64) twin.Twin { return rowcodec.StampTwin(t, nsTime(now)) }

// decodeTwin rebuilds a twin from its columns (see rowcodec.DecodeTwin).
func decodeTwin(id, model, etag, props, meta string) (twin.Twin, error) {
	return rowcodec.DecodeTwin(id, model, etag, []byte(props), []byte(meta))
}

// currentTwin reads the current version of a twin in tx; ok is false if it
// does not exist.
func (db *DB) currentTwin(ctx context.Context, tx *sql.Tx, id twin.ID) (t twin.Twin, ok bool, err error) {
	var model, etag, props, meta string
	err = db.txQueryRow(ctx, tx, qTwinCurrent, string(id)).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Twin{}, false, nil
	}
	if err != nil {
		return twin.Twin{}, false, err
	}
	t, err = decodeTwin(string(id), model, etag, props, meta)
	return t, err == nil, err
}

func (db *DB) modelExists(ctx context.Context, tx *sql.Tx, model string) (bool, error) {
	var one int
	err := db.txQueryRow(ctx, tx, qModelExists, model).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// writeTwin archives the current version of t.ID (if any), stores t as
// the current version from now and writes the change's record to the
// outbox: data is the patch of an OpPatch, else the twin's document, made
// from the encoded columns for the recorder of ctx (the outbox row leaves
// it out: sqlcore.Rebuilt). sameModel says that the current version exists
// with t's model; archived, that the caller has archived it already.
func (db *DB) writeTwin(ctx context.Context, tx *sql.Tx, t *twin.Twin, now int64, op store.ChangeOp, patch []byte, archive, archived, sameModel bool) (store.Record, error) {
	pb, mb, err := rowcodec.EncodeTwin(t)
	if err != nil {
		return store.Record{}, err
	}
	props, meta := string(pb), string(mb)
	if archive && !archived {
		if _, err := db.txExec(ctx, tx, qTwinArchive, string(t.ID), now); err != nil {
			return store.Record{}, err
		}
	}
	var p any
	if patch != nil {
		p = string(patch)
	}
	if archive && sameModel {
		_, err = db.txExec(ctx, tx, qTwinUpdate, string(t.ID), string(t.ETag), props, meta, now, string(op), p)
	} else {
		_, err = db.txExec(ctx, tx, qTwinUpsert, string(t.ID), t.Metadata.Model, string(t.ETag), props, meta, now, string(op), p)
	}
	if err != nil {
		return store.Record{}, err
	}
	db.touch(t.ID, false)
	data := patch
	if data == nil && store.RecorderFrom(ctx) != nil {
		if data, err = rowcodec.TwinDoc(t, pb); err != nil {
			return store.Record{}, err
		}
	}
	rec := sqlcore.TwinRecord(op, t.ID, t.ETag, t.Metadata.Model, now, data)
	rec.Org = t.Metadata.Org
	if op == store.OpPatch {
		// The patch's record names who made the version (store.Record),
		// as the pipeline would set them after the write: the commit hook
		// sees the record complete.
		rec.Writer, rec.Signer = t.Metadata.Writer, t.Metadata.Signer
	}
	return rec, db.record(ctx, tx, &rec)
}

// PutTwin implements store.Store.
func (db *DB) PutTwin(ctx context.Context, t twin.Twin, cond store.Condition) (twin.Twin, error) {
	if t.ID == "" {
		return twin.Twin{}, fmt.Errorf("sqlite: put twin: empty $dtId: %w", store.ErrInvalid)
	}
	if t.Metadata.Model == "" {
		return twin.Twin{}, fmt.Errorf("sqlite: put twin %q: empty $model: %w", t.ID, store.ErrInvalid)
	}
	var out twin.Twin
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		if err := db.checkModels(cond); err != nil {
			return err
		}
		var etag sql.NullString
		var ok bool
		if err := db.txQueryRow(ctx, tx, qTwinPutState, string(t.ID), t.Metadata.Model).Scan(&etag, &ok); err != nil {
			return err
		}
		exists := etag.Valid
		if err := checkCond(cond, exists, twin.ETag(etag.String)); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("model %q does not exist: %w", t.Metadata.Model, store.ErrInvalid)
		}
		out = stampTwin(t.Clone(), now)
		op := store.OpCreate
		if exists {
			op = store.OpReplace
		}
		var err error
		rec, err = db.writeTwin(ctx, tx, &out, now, op, nil, exists, false, false)
		return err
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: put twin %q: %w", t.ID, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// GetTwin implements store.Store.
func (db *DB) GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error) {
	var model, etag, props, meta string
	err := db.readRow(ctx, qTwinCurrent, string(id)).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Twin{}, fmt.Errorf("sqlite: get twin %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: get twin %q: %w", id, err)
	}
	t, err := decodeTwin(string(id), model, etag, props, meta)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: get twin %q: %w", id, err)
	}
	return t, nil
}

// patchFrom applies p (pj: its JSON) to cur, the stored version of a twin,
// at transaction time now and stores the result with a new ETag; archived
// says that cur is in the history already.
func (db *DB) patchFrom(ctx context.Context, tx *sql.Tx, cur *twin.Twin, p twin.Patch, pj []byte, now int64, archived bool) (twin.Twin, store.Record, error) {
	next, err := cur.ApplyPatch(p, nsTime(now))
	if err != nil {
		return twin.Twin{}, store.Record{}, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	if next.Metadata.Model != cur.Metadata.Model {
		ok, err := db.modelExists(ctx, tx, next.Metadata.Model)
		if err != nil {
			return twin.Twin{}, store.Record{}, err
		}
		if !ok {
			return twin.Twin{}, store.Record{}, fmt.Errorf("model %q does not exist: %w", next.Metadata.Model, store.ErrInvalid)
		}
	}
	next.ETag = twin.NewETag()
	rec, err := db.writeTwin(ctx, tx, &next, now, store.OpPatch, pj, true, archived, next.Metadata.Model == cur.Metadata.Model)
	return next, rec, err
}

// PatchTwin implements store.Store.
func (db *DB) PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: patch twin %q: %w: %w", id, store.ErrInvalid, err)
	}
	var out twin.Twin
	var rec store.Record
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		if err := db.checkModels(cond); err != nil {
			return err
		}
		cur, ok, err := db.currentTwin(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if err := checkCond(cond, true, cur.ETag); err != nil {
			return err
		}
		out, rec, err = db.patchFrom(ctx, tx, &cur, p, pj, now, false)
		return err
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: patch twin %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// PatchTwinFrom implements store.TwinPatcher. The writer checks the stored
// ETag only (an indexed single-column read) and applies p to base, which
// saves reading and decoding the stored version inside the single writer.
func (db *DB) PatchTwinFrom(ctx context.Context, base twin.Twin, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	id := base.ID
	if base.ETag == "" || base.ETag == twin.AnyETag {
		return twin.Twin{}, fmt.Errorf("sqlite: patch twin %q: base version has no etag: %w", id, store.ErrInvalid)
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: patch twin %q: %w: %w", id, store.ErrInvalid, err)
	}
	var out twin.Twin
	var rec store.Record
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		if err := db.checkModels(cond); err != nil {
			return err
		}
		// Archive the base version if it is still the current one; else
		// say why not.
		res, err := db.txExec(ctx, tx, qTwinArchiveIf, string(id), now, string(base.ETag))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			var etag string
			err := db.txQueryRow(ctx, tx, qTwinEtag, string(id)).Scan(&etag)
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("etag %s is not the base version's %s: %w", etag, base.ETag, store.ErrPreconditionFailed)
		}
		out, rec, err = db.patchFrom(ctx, tx, &base, p, pj, now, true)
		return err
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("sqlite: patch twin %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// DeleteTwin implements store.Store. The record's data is the deleted
// version's document, made from its columns as GetTwinJSON makes it.
func (db *DB) DeleteTwin(ctx context.Context, id twin.ID, cond store.Condition) error {
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		var model, etag, props, meta string
		err := db.txQueryRow(ctx, tx, qTwinCurrent, string(id)).Scan(&model, &etag, &props, &meta)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := checkCond(cond, true, twin.ETag(etag)); err != nil {
			return err
		}
		var has bool
		if err := db.txQueryRow(ctx, tx, qTwinHasRel, string(id)).Scan(&has); err != nil {
			return err
		}
		if has {
			return fmt.Errorf("twin has relationships: %w", store.ErrConflict)
		}
		if _, err := db.txExec(ctx, tx, qTwinArchive, string(id), now); err != nil {
			return err
		}
		if _, err = db.txExec(ctx, tx, qTwinDelete, string(id)); err != nil {
			return err
		}
		db.touch(id, false)
		doc, err := twinJSON(id, model, etag, props, meta)
		if err != nil {
			return err
		}
		rec = sqlcore.TwinRecord(store.OpDelete, id, twin.ETag(etag), model, now, doc)
		rec.Org = rowcodec.MetaOrg([]byte(meta))
		return db.record(ctx, tx, &rec)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete twin %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}
