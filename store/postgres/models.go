package postgres

import (
	"context"
	"encoding/json"
	"errors"
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

const modelCols = `id, dtdl, upload_ns, decommissioned, ARRAY(SELECT base FROM model_extends e WHERE e.model = models.id ORDER BY base)`

func scanModel(sc pgx.Row) (twin.Model, error) {
	var m twin.Model
	var dtdl string
	var up int64
	if err := sc.Scan(&m.ID, &dtdl, &up, &m.Decommissioned, &m.Extends); err != nil {
		return m, err
	}
	m.DTDL = json.RawMessage(dtdl)
	m.UploadTime = nsTime(up)
	if len(m.Extends) == 0 {
		m.Extends = nil
	}
	return m, nil
}

// GetModel implements store.Store.
func (db *DB) GetModel(ctx context.Context, id string) (twin.Model, error) {
	m, err := scanModel(db.r.QueryRow(ctx, `SELECT `+modelCols+` FROM models WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return twin.Model{}, fmt.Errorf("postgres: get model %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return twin.Model{}, fmt.Errorf("postgres: get model %q: %w", id, err)
	}
	return m, nil
}

// ListModels implements store.Store.
func (db *DB) ListModels(ctx context.Context) ([]twin.Model, error) {
	rows, err := db.r.Query(ctx, `SELECT `+modelCols+` FROM models ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list models: %w", err)
	}
	defer rows.Close()
	var out []twin.Model
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list models: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list models: %w", err)
	}
	return out, nil
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
	var rec store.Record
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var err error
		rec, _, err = core.DeleteModel(ctx, txConn{tx}, id, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete model %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}
