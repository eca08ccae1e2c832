package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// PutModels implements store.Store.
func (db *DB) PutModels(ctx context.Context, models []twin.Model, cond store.Condition) ([]twin.Model, error) {
	out := make([]twin.Model, len(models))
	recs := make([]store.Record, len(models))
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		if err := db.checkModels(cond); err != nil {
			return fmt.Errorf("sqlite: put models: %w", err)
		}
		st, err := newModelWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for i, m := range models {
			if out[i], err = st.put(ctx, m, now); err != nil {
				return err
			}
			if recs[i], err = sqlcore.ModelRecord(store.OpCreate, out[i], now); err != nil {
				return fmt.Errorf("sqlite: put models: %w", err)
			}
		}
		if len(models) == 0 {
			return nil
		}
		if err := db.bumpModels(ctx, tx); err != nil {
			return fmt.Errorf("sqlite: put models: %w", err)
		}
		if err := core.InsertRecords(ctx, txConn{db, tx}, recs); err != nil {
			return fmt.Errorf("sqlite: put models: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sqlcore.Deliver(ctx, recs...)
	return out, nil
}

// ModelsVersion implements store.Store.
func (db *DB) ModelsVersion(ctx context.Context) (int64, error) {
	v, err := core.ModelsVersion(ctx, readConn{db})
	if err != nil {
		return 0, fmt.Errorf("sqlite: model-set version: %w", err)
	}
	return v, nil
}

// modelInTx reads model id in tx; ok is false if it does not exist.
func modelInTx(ctx context.Context, tx *sql.Tx, id string) (m twin.Model, ok bool, err error) {
	m, err = scanModel(tx.QueryRowContext(ctx, `SELECT `+modelCols+` FROM models WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	return m, err == nil, err
}

// modelWriter holds the prepared statements that insert models.
type modelWriter struct {
	exists, insert, extends *sql.Stmt
}

func newModelWriter(ctx context.Context, tx *sql.Tx) (*modelWriter, error) {
	var w modelWriter
	var err error
	if w.exists, err = tx.PrepareContext(ctx, `SELECT 1 FROM models WHERE id = ?`); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	if w.insert, err = tx.PrepareContext(ctx, `INSERT INTO models(id, dtdl, upload_ns, decommissioned) VALUES (?, ?, ?, ?)`); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	if w.extends, err = tx.PrepareContext(ctx, `INSERT OR IGNORE INTO model_extends(model, base) VALUES (?, ?)`); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return &w, nil
}

func (w *modelWriter) close() {
	w.exists.Close()
	w.insert.Close()
	w.extends.Close()
}

func (w *modelWriter) put(ctx context.Context, m twin.Model, now int64) (twin.Model, error) {
	if m.ID == "" {
		return twin.Model{}, fmt.Errorf("sqlite: put model: empty id: %w", store.ErrInvalid)
	}
	if len(m.DTDL) == 0 || !json.Valid(m.DTDL) {
		return twin.Model{}, fmt.Errorf("sqlite: put model %q: DTDL is not JSON: %w", m.ID, store.ErrInvalid)
	}
	var one int
	switch err := w.exists.QueryRowContext(ctx, m.ID).Scan(&one); {
	case err == nil:
		return twin.Model{}, fmt.Errorf("sqlite: put model %q: already exists: %w", m.ID, store.ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return twin.Model{}, fmt.Errorf("sqlite: put model %q: %w", m.ID, err)
	}
	if _, err := w.insert.ExecContext(ctx, m.ID, string(m.DTDL), now, m.Decommissioned); err != nil {
		return twin.Model{}, fmt.Errorf("sqlite: put model %q: %w", m.ID, err)
	}
	for _, b := range m.Extends {
		if _, err := w.extends.ExecContext(ctx, m.ID, b); err != nil {
			return twin.Model{}, fmt.Errorf("sqlite: put model %q: %w", m.ID, err)
		}
	}
	m.UploadTime = nsTime(now)
	return m, nil
}

const modelCols = `id, dtdl, upload_ns, decommissioned, (SELECT json_group_array(base) FROM (SELECT base FROM model_extends e WHERE e.model = models.id ORDER BY base))`

func scanModel(sc interface{ Scan(...any) error }) (twin.Model, error) {
	var m twin.Model
	var dtdl, ext string
	var up int64
	if err := sc.Scan(&m.ID, &dtdl, &up, &m.Decommissioned, &ext); err != nil {
		return m, err
	}
	m.DTDL = json.RawMessage(dtdl)
	m.UploadTime = nsTime(up)
	if err := json.Unmarshal([]byte(ext), &m.Extends); err != nil {
		return m, err
	}
	if len(m.Extends) == 0 {
		m.Extends = nil
	}
	return m, nil
}

// GetModel implements store.Store.
func (db *DB) GetModel(ctx context.Context, id string) (twin.Model, error) {
	m, err := scanModel(db.r.QueryRowContext(ctx, `SELECT `+modelCols+` FROM models WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Model{}, fmt.Errorf("sqlite: get model %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return twin.Model{}, fmt.Errorf("sqlite: get model %q: %w", id, err)
	}
	return m, nil
}

// ListModels implements store.Store.
func (db *DB) ListModels(ctx context.Context) ([]twin.Model, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+modelCols+` FROM models ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list models: %w", err)
	}
	defer rows.Close()
	var out []twin.Model
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list models: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list models: %w", err)
	}
	return out, nil
}

// DecommissionModel implements store.Store.
func (db *DB) DecommissionModel(ctx context.Context, id string) error {
	var rec *store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		rec = nil
		m, ok, err := modelInTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if m.Decommissioned {
			return nil // nothing changes
		}
		if _, err := tx.ExecContext(ctx, `UPDATE models SET decommissioned = 1 WHERE id = ?`, id); err != nil {
			return err
		}
		m.Decommissioned = true
		r, err := sqlcore.ModelRecord(store.OpDecommission, m, now)
		if err != nil {
			return err
		}
		if err := db.bumpModels(ctx, tx); err != nil {
			return err
		}
		rec = &r
		return db.record(ctx, tx, rec)
	})
	if err != nil {
		return fmt.Errorf("sqlite: decommission model %q: %w", id, err)
	}
	if rec != nil {
		sqlcore.Deliver(ctx, *rec)
	}
	return nil
}

// DeleteModel implements store.Store.
func (db *DB) DeleteModel(ctx context.Context, id string) error {
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		m, ok, err := modelInTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		var used int
		err = tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM twins WHERE model = ?1 LIMIT 1))
			+ (SELECT count(*) FROM (SELECT 1 FROM model_extends WHERE base = ?1 LIMIT 1))`, id).Scan(&used)
		if err != nil {
			return err
		}
		if used > 0 {
			return fmt.Errorf("used by twins or extended by models: %w", store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM model_extends WHERE model = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM models WHERE id = ?`, id); err != nil {
			return err
		}
		if rec, err = sqlcore.ModelRecord(store.OpDelete, m, now); err != nil {
			return err
		}
		if err := db.bumpModels(ctx, tx); err != nil {
			return err
		}
		return db.record(ctx, tx, &rec)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete model %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}
