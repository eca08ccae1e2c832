package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// PutModels implements store.Store. The condition costs a round trip of
// its own (model uploads are rare).
func (db *DB) PutModels(ctx context.Context, models []twin.Model, cond store.Condition) ([]twin.Model, error) {
	var out []twin.Model
	var recs []store.Record
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		if cond.Models != 0 {
			v, err := core.ModelsVersion(ctx, txConn{tx})
			if err != nil {
				return err
			}
			if err := sqlcore.CheckModels(cond, v); err != nil {
				return err
			}
		}
		var err error
		out, recs, _, err = core.PutModels(ctx, txConn{tx}, models, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: put models: %w", err)
	}
	sqlcore.Deliver(ctx, recs...)
	return out, nil
}

// GetModel implements store.Store.
func (db *DB) GetModel(ctx context.Context, id string) (twin.Model, error) {
	m, err := core.GetModel(ctx, poolConn{db.r}, id)
	if err != nil {
		return twin.Model{}, fmt.Errorf("postgres: get model %q: %w", id, err)
	}
	return m, nil
}

// ListModels implements store.Store.
func (db *DB) ListModels(ctx context.Context) ([]twin.Model, error) {
	ms, err := core.ListModels(ctx, poolConn{db.r})
	if err != nil {
		return nil, fmt.Errorf("postgres: list models: %w", err)
	}
	return ms, nil
}

// DecommissionModel implements store.Store.
func (db *DB) DecommissionModel(ctx context.Context, id string) error {
	var rec *store.Record
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var err error
		rec, _, err = core.DecommissionModel(ctx, txConn{tx}, id, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: decommission model %q: %w", id, err)
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

// DeleteModelIf implements store.ModelDeleterIf. The version is read
// under the clock row's lock, so no other server's model change can come
// between the check and the delete.
func (db *DB) DeleteModelIf(ctx context.Context, id string, cond store.Condition) error {
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var err error
		rec, _, err = core.DeleteModel(ctx, txConn{tx}, id, cond, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete model %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}
