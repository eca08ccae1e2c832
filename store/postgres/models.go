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

// PutModels implements store.Store.
func (db *DB) PutModels(ctx context.Context, models []twin.Model, cond store.Condition) ([]twin.Model, error) {
	out := make([]twin.Model, len(models))
	recs := make([]store.Record, len(models))
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		if cond.Models != 0 {
			v, err := core.ModelsVersion(ctx, txConn{tx})
			if err != nil {
				return fmt.Errorf("postgres: put models: %w", err)
			}
			if err := sqlcore.CheckModels(cond, v); err != nil {
				return fmt.Errorf("postgres: put models: %w", err)
			}
		}
		for i, m := range models {
			var err error
			if out[i], err = putModel(ctx, tx, m, now); err != nil {
				return err
			}
			if recs[i], err = sqlcore.ModelRecord(store.OpCreate, out[i], now); err != nil {
				return fmt.Errorf("postgres: put models: %w", err)
			}
		}
		if len(models) == 0 {
			return nil
		}
		if _, err := core.BumpModels(ctx, txConn{tx}); err != nil {
			return fmt.Errorf("postgres: put models: %w", err)
		}
		if err := core.InsertRecords(ctx, txConn{tx}, recs); err != nil {
			return fmt.Errorf("postgres: put models: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sqlcore.Deliver(ctx, recs...)
	return out, nil
}

// modelInTx reads model id in tx; ok is false if it does not exist.
func modelInTx(ctx context.Context, tx pgx.Tx, id string) (m twin.Model, ok bool, err error) {
	m, err = scanModel(tx.QueryRow(ctx, `SELECT `+modelCols+` FROM models WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false, nil
	}
	return m, err == nil, err
}

// putModel inserts one model in tx.
func putModel(ctx context.Context, tx pgx.Tx, m twin.Model, now int64) (twin.Model, error) {
	if m.ID == "" {
		return twin.Model{}, fmt.Errorf("postgres: put model: empty id: %w", store.ErrInvalid)
	}
	if len(m.DTDL) == 0 || !json.Valid(m.DTDL) {
		return twin.Model{}, fmt.Errorf("postgres: put model %q: DTDL is not JSON: %w", m.ID, store.ErrInvalid)
	}
	// ON CONFLICT DO NOTHING reports a duplicate without aborting the
	// transaction.
	tag, err := tx.Exec(ctx, `INSERT INTO models(id, dtdl, upload_ns, decommissioned) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
		m.ID, string(m.DTDL), now, m.Decommissioned)
	if err != nil {
		return twin.Model{}, fmt.Errorf("postgres: put model %q: %w", m.ID, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return twin.Model{}, fmt.Errorf("postgres: put model %q: already exists: %w", m.ID, store.ErrConflict)
	}
	if len(m.Extends) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO model_extends(model, base) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, m.ID, m.Extends); err != nil {
			return twin.Model{}, fmt.Errorf("postgres: put model %q: %w", m.ID, mapErr(err))
		}
	}
	m.UploadTime = nsTime(now)
	return m, nil
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
		if _, err := tx.Exec(ctx, `UPDATE models SET decommissioned = true WHERE id = $1`, id); err != nil {
			return err
		}
		m.Decommissioned = true
		r, err := sqlcore.ModelRecord(store.OpDecommission, m, now)
		if err != nil {
			return err
		}
		if _, err := core.BumpModels(ctx, txConn{tx}); err != nil {
			return err
		}
		rec = &r
		return core.InsertRecord(ctx, txConn{tx}, rec)
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
		m, ok, err := modelInTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		var used bool
		err = tx.QueryRow(ctx, `SELECT EXISTS(SELECT 1 FROM twins WHERE model = $1) OR EXISTS(SELECT 1 FROM model_extends WHERE base = $1)`, id).Scan(&used)
		if err != nil {
			return err
		}
		if used {
			return fmt.Errorf("used by twins or extended by models: %w", store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM model_extends WHERE model = $1`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM models WHERE id = $1`, id); err != nil {
			return err
		}
		if rec, err = sqlcore.ModelRecord(store.OpDelete, m, now); err != nil {
			return err
		}
		if _, err := core.BumpModels(ctx, txConn{tx}); err != nil {
			return err
		}
		return core.InsertRecord(ctx, txConn{tx}, &rec)
	})
	if err != nil {
		return fmt.Errorf("postgres: delete model %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}
