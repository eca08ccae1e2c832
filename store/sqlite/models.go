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
	var out []twin.Model
	var recs []store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		if err := db.checkModels(cond); err != nil {
			return err
		}
		var v int64
		var err error
		if out, recs, v, err = core.PutModels(ctx, txConn{db, tx}, models, now); err != nil {
			return err
		}
		if v != 0 {
			db.models = v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: put models: %w", err)
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
		var v int64
		var err error
		if rec, v, err = core.DecommissionModel(ctx, txConn{db, tx}, id, now); err != nil {
			return err
		}
		if v != 0 {
			db.models = v
		}
		return nil
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
		var v int64
		var err error
		if rec, v, err = core.DeleteModel(ctx, txConn{db, tx}, id, now); err != nil {
			return err
		}
		db.models = v
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete model %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}
