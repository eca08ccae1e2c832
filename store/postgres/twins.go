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
	qTwinCurrent = `SELECT model, etag, props, meta FROM twins WHERE id = $1`
	// qTwinState reads what a put checks: the stored etag (NULL when the
	// twin does not exist) and whether the model exists.
	qTwinState = `SELECT (SELECT etag FROM twins WHERE id = $1), EXISTS(SELECT 1 FROM models WHERE id = $2)`
	// qTwinWrite moves the current version of a twin (if any) to the
	// history, closing its interval at $6, and stores the new one. The
	// CTE reads twins as they were before the statement.
	qTwinWrite = `WITH old AS (
		INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT id, valid_from, $6, model, etag, props, meta, op, patch FROM twins WHERE id = $1)
	INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (id) DO UPDATE SET model = excluded.model, etag = excluded.etag, props = excluded.props,
		meta = excluded.meta, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch`
	// qTwinDelete moves the current version to the history, closed at $2.
	qTwinDelete = `WITH old AS (DELETE FROM twins WHERE id = $1 RETURNING *)
	INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
	SELECT id, valid_from, $2, model, etag, props, meta, op, patch FROM old`
	qTwinDeleteState = `SELECT etag, EXISTS(SELECT 1 FROM relationships WHERE source_id = $1)
		OR EXISTS(SELECT 1 FROM relationships WHERE target_id = $1) FROM twins WHERE id = $1`
	qModelExists = `SELECT EXISTS(SELECT 1 FROM models WHERE id = $1)`
)

// querier is what reads need of a transaction or a pool.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readTwin(ctx context.Context, q querier, id twin.ID) (twin.Twin, bool, error) {
	var model, etag string
	var props, meta []byte
	err := q.QueryRow(ctx, qTwinCurrent, string(id)).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, pgx.ErrNoRows) {
		return twin.Twin{}, false, nil
	}
	if err != nil {
		return twin.Twin{}, false, err
	}
	t, err := decodeTwin(string(id), model, etag, props, meta)
	return t, err == nil, err
}

// writeTwin archives the current version of t.ID (if any) and stores t as
// the current version from now.
func writeTwin(ctx context.Context, tx pgx.Tx, t *twin.Twin, now int64, op store.ChangeOp, patch []byte) error {
	props, meta, err := encodeTwin(t)
	if err != nil {
		return err
	}
	var p *string
	if patch != nil {
		s := string(patch)
		p = &s
	}
	_, err = tx.Exec(ctx, qTwinWrite, string(t.ID), t.Metadata.Model, string(t.ETag), props, meta, now, string(op), p)
	return err
}

func modelExists(ctx context.Context, q querier, id string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, qModelExists, id).Scan(&ok)
	return ok, err
}

// PutTwin implements store.Store.
func (db *DB) PutTwin(ctx context.Context, t twin.Twin, cond store.Condition) (twin.Twin, error) {
	if t.ID == "" {
		return twin.Twin{}, fmt.Errorf("postgres: put twin: empty $dtId: %w", store.ErrInvalid)
	}
	if t.Metadata.Model == "" {
		return twin.Twin{}, fmt.Errorf("postgres: put twin %q: empty $model: %w", t.ID, store.ErrInvalid)
	}
	var out twin.Twin
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var etag *string
		var modelOK bool
		if err := tx.QueryRow(ctx, qTwinState, string(t.ID), t.Metadata.Model).Scan(&etag, &modelOK); err != nil {
			return err
		}
		exists := etag != nil
		var cur twin.ETag
		if exists {
			cur = twin.ETag(*etag)
		}
		if err := checkCond(cond, exists, cur); err != nil {
			return err
		}
		if !modelOK {
			return fmt.Errorf("model %q does not exist: %w", t.Metadata.Model, store.ErrInvalid)
		}
		out = stampTwin(t.Clone(), now)
		op := store.OpCreate
		if exists {
			op = store.OpReplace
		}
		return writeTwin(ctx, tx, &out, now, op, nil)
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: put twin %q: %w", t.ID, err)
	}
	return out, nil
}

// GetTwin implements store.Store.
func (db *DB) GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error) {
	t, ok, err := readTwin(ctx, db.r, id)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: get twin %q: %w", id, err)
	}
	if !ok {
		return twin.Twin{}, fmt.Errorf("postgres: get twin %q: %w", id, store.ErrNotFound)
	}
	return t, nil
}

// GetTwinJSON implements store.Store. jsonb keeps neither the key order nor
// the number spelling of the text it was given, so unlike store/sqlite this
// decodes the properties and marshals the twin.
func (db *DB) GetTwinJSON(ctx context.Context, id twin.ID) ([]byte, twin.ETag, error) {
	t, err := db.GetTwin(ctx, id)
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: get twin %q: %w", id, err)
	}
	return b, t.ETag, nil
}

// PatchTwin implements store.Store.
func (db *DB) PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w: %w", id, store.ErrInvalid, err)
	}
	var out twin.Twin
	err = db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		cur, ok, err := readTwin(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if err := checkCond(cond, true, cur.ETag); err != nil {
			return err
		}
		next, err := cur.ApplyPatch(p, nsTime(now))
		if err != nil {
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		if next.Metadata.Model != cur.Metadata.Model {
			ok, err := modelExists(ctx, tx, next.Metadata.Model)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("model %q does not exist: %w", next.Metadata.Model, store.ErrInvalid)
			}
		}
		next.ETag = twin.NewETag()
		out = next
		return writeTwin(ctx, tx, &out, now, store.OpPatch, pj)
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w", id, err)
	}
	return out, nil
}

// DeleteTwin implements store.Store.
func (db *DB) DeleteTwin(ctx context.Context, id twin.ID, cond store.Condition) error {
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var etag string
		var hasRels bool
		err := tx.QueryRow(ctx, qTwinDeleteState, string(id)).Scan(&etag, &hasRels)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := checkCond(cond, true, twin.ETag(etag)); err != nil {
			return err
		}
		if hasRels {
			return fmt.Errorf("twin has relationships: %w", store.ErrConflict)
		}
		_, err = tx.Exec(ctx, qTwinDelete, string(id), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete twin %q: %w", id, err)
	}
	return nil
}

// PatchTwinFrom applies p to base, the current version of twin base.ID as
// the caller read it, and stores the result if the twin still has base's
// ETag: ErrNotFound if it is gone, ErrPreconditionFailed if it has another
// version by now. It saves PatchTwin's read and decode of the stored twin;
// otherwise it behaves as PatchTwin (this is store.TwinPatcher).
func (db *DB) PatchTwinFrom(ctx context.Context, base twin.Twin, p twin.Patch) (twin.Twin, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w: %w", base.ID, store.ErrInvalid, err)
	}
	var out twin.Twin
	err = db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var etag string
		err := tx.QueryRow(ctx, `SELECT etag FROM twins WHERE id = $1`, string(base.ID)).Scan(&etag)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if twin.ETag(etag) != base.ETag {
			return fmt.Errorf("etag %s is not the base's %s: %w", etag, base.ETag, store.ErrPreconditionFailed)
		}
		next, err := base.ApplyPatch(p, nsTime(now))
		if err != nil {
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		if next.Metadata.Model != base.Metadata.Model {
			ok, err := modelExists(ctx, tx, next.Metadata.Model)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("model %q does not exist: %w", next.Metadata.Model, store.ErrInvalid)
			}
		}
		next.ETag = twin.NewETag()
		out = next
		return writeTwin(ctx, tx, &out, now, store.OpPatch, pj)
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w", base.ID, err)
	}
	return out, nil
}
