package sqlite

import (
	"context"
	"database/sql"
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

// GetModel implements store.Store.
func (db *DB) GetModel(ctx context.Context, id string) (twin.Model, error) {
	m, err := core.GetModel(ctx, readConn{db}, id)
	if err != nil {
		return twin.Model{}, fmt.Errorf("sqlite: get model %q: %w", id, err)
	}
	return m, nil
}

// ListModels implements store.Store.
func (db *DB) ListModels(ctx context.Context) ([]twin.Model, error) {
	ms, err := core.ListModels(ctx, readConn{db})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list models: %w", err)
	}
	return ms, nil
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
	return db.DeleteModelIf(ctx, id, store.Condition{})
}

// DeleteModelIf implements store.ModelDeleterIf.
func (db *DB) DeleteModelIf(ctx context.Context, id string, cond store.Condition) error {
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		var v int64
		var err error
		if rec, v, err = core.DeleteModel(ctx, txConn{db, tx}, id, cond, now); err != nil {
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
