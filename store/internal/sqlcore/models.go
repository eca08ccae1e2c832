package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"lodestone/store"
	"lodestone/twin"
)

// CheckModels checks cond.Models against the model-set version the write
// transaction sees. Errors wrap store.ErrModelsChanged.
func CheckModels(cond store.Condition, version int64) error {
	if cond.Models != 0 && cond.Models != version {
		return fmt.Errorf("validated against model set %d, stored is %d: %w", cond.Models, version, store.ErrModelsChanged)
	}
	return nil
}

// CheckModelsIn checks, when models is not 0, that it is the model-set
// version the write transaction tx sees (see CheckModels).
func (c *Core) CheckModelsIn(ctx context.Context, tx Conn, models int64) error {
	if models == 0 {
		return nil
	}
	v, err := c.ModelsVersion(ctx, tx)
	if err != nil {
		return err
	}
	return CheckModels(store.Condition{Models: models}, v)
}

// ModelsVersion reads the model-set version on q.
func (c *Core) ModelsVersion(ctx context.Context, q Conn) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, c.qVersion).Scan(&v)
	return v, err
}

// BumpModels increases the model-set version in the write transaction tx
// and returns the new version. Every model change calls it in its own
// transaction.
func (c *Core) BumpModels(ctx context.Context, tx Conn) (int64, error) {
	var v int64
	if err := tx.QueryRow(ctx, c.qVersionBump).Scan(&v); err != nil {
		return 0, fmt.Errorf("bump model-set version: %w", err)
	}
	return v, nil
}

// The statements of model writes. They are the same on both databases:
// SQLite reads true as 1, and both take ON CONFLICT DO NOTHING.
const (
	qModelInsert        = `INSERT INTO models(id, dtdl, upload_ns, decommissioned, org) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`
	qExtendsInsert      = `INSERT INTO model_extends(model, base) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	qModelRow           = `SELECT dtdl, upload_ns, decommissioned, org FROM models WHERE id = $1`
	qModelBases         = `SELECT base FROM model_extends WHERE model = $1 ORDER BY base`
	qModelDecommission  = `UPDATE models SET decommissioned = true WHERE id = $1`
	qModelUsed          = `SELECT EXISTS(SELECT 1 FROM twins WHERE model = $1) OR EXISTS(SELECT 1 FROM model_extends WHERE base = $1)`
	qModelDeleteExtends = `DELETE FROM model_extends WHERE model = $1`
	qModelDelete        = `DELETE FROM models WHERE id = $1`
)

// PutModel inserts one model in the write transaction tx at transaction
// time now and returns it as stored. A model without id or DTDL gives
// ErrInvalid, one whose id is stored already ErrConflict. It neither bumps
// the version nor records: PutModels and imports do, once per batch.
func (c *Core) PutModel(ctx context.Context, tx Conn, m twin.Model, now int64) (twin.Model, error) {
	if m.ID == "" {
		return twin.Model{}, fmt.Errorf("model with empty id: %w", store.ErrInvalid)
	}
	if len(m.DTDL) == 0 || !json.Valid(m.DTDL) {
		return twin.Model{}, fmt.Errorf("model %q: DTDL is not JSON: %w", m.ID, store.ErrInvalid)
	}
	// DO NOTHING reports a duplicate without aborting the transaction.
	n, err := tx.Exec(ctx, c.qModelInsert, m.ID, string(m.DTDL), now, m.Decommissioned, m.Org)
	if err != nil {
		return twin.Model{}, fmt.Errorf("model %q: %w", m.ID, err)
	}
	if n == 0 {
		return twin.Model{}, fmt.Errorf("model %q already exists: %w", m.ID, store.ErrConflict)
	}
	for _, b := range m.Extends {
		if _, err := tx.Exec(ctx, c.qExtendsInsert, m.ID, b); err != nil {
			return twin.Model{}, fmt.Errorf("model %q: %w", m.ID, err)
		}
	}
	m.UploadTime = NSTime(now)
	return m, nil
}

// PutModels implements the write of store.Models.PutModels in tx, after
// the caller has checked the condition: it inserts the models, bumps the
// version and writes one record per model. It returns the stored models,
// their records and the new version.
func (c *Core) PutModels(ctx context.Context, tx Conn, models []twin.Model, now int64) ([]twin.Model, []store.Record, int64, error) {
	if len(models) == 0 {
		return nil, nil, 0, nil
	}
	out := make([]twin.Model, len(models))
	recs := make([]store.Record, len(models))
	for i, m := range models {
		var err error
		if out[i], err = c.PutModel(ctx, tx, m, now); err != nil {
			return nil, nil, 0, err
		}
		if recs[i], err = ModelRecord(store.OpCreate, out[i], now); err != nil {
			return nil, nil, 0, err
		}
	}
	v, err := c.BumpModels(ctx, tx)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := c.InsertRecords(ctx, tx, recs); err != nil {
		return nil, nil, 0, err
	}
	return out, recs, v, nil
}

// ModelIn reads model id in the transaction tx; ok is false if it does not
// exist.
func (c *Core) ModelIn(ctx context.Context, tx Conn, id string) (m twin.Model, ok bool, err error) {
	var dtdl string
	var up int64
	err = tx.QueryRow(ctx, c.qModelRow, id).Scan(&dtdl, &up, &m.Decommissioned, &m.Org)
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Model{}, false, nil
	}
	if err != nil {
		return twin.Model{}, false, err
	}
	m.ID, m.DTDL, m.UploadTime = id, json.RawMessage(dtdl), NSTime(up)
	rows, err := tx.Query(ctx, c.qModelBases, id)
	if err != nil {
		return twin.Model{}, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return twin.Model{}, false, err
		}
		m.Extends = append(m.Extends, b)
	}
	return m, true, rows.Err()
}

// DecommissionModel implements the write of store.Models.DecommissionModel
// in tx. A model already decommissioned changes nothing: rec is nil and
// version 0; otherwise rec is the change's record and version the new
// model-set version.
func (c *Core) DecommissionModel(ctx context.Context, tx Conn, id string, now int64) (rec *store.Record, version int64, err error) {
	m, ok, err := c.ModelIn(ctx, tx, id)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, store.ErrNotFound
	}
	if m.Decommissioned {
		return nil, 0, nil
	}
	if _, err := tx.Exec(ctx, c.qModelDecommission, id); err != nil {
		return nil, 0, err
	}
	m.Decommissioned = true
	r, err := ModelRecord(store.OpDecommission, m, now)
	if err != nil {
		return nil, 0, err
	}
	if version, err = c.BumpModels(ctx, tx); err != nil {
		return nil, 0, err
	}
	return &r, version, c.InsertRecord(ctx, tx, &r)
}

// DeleteModel implements the write of store.Models.DeleteModel (and of
// store.ModelDeleterIf.DeleteModelIf, with cond) in tx and returns the
// change's record and the new model-set version.
func (c *Core) DeleteModel(ctx context.Context, tx Conn, id string, cond store.Condition, now int64) (store.Record, int64, error) {
	if err := c.CheckModelsIn(ctx, tx, cond.Models); err != nil {
		return store.Record{}, 0, err
	}
	m, ok, err := c.ModelIn(ctx, tx, id)
	if err != nil {
		return store.Record{}, 0, err
	}
	if !ok {
		return store.Record{}, 0, store.ErrNotFound
	}
	var used bool
	if err := tx.QueryRow(ctx, c.qModelUsed, id).Scan(&used); err != nil {
		return store.Record{}, 0, err
	}
	if used {
		return store.Record{}, 0, fmt.Errorf("used by twins or extended by models: %w", store.ErrConflict)
	}
	if _, err := tx.Exec(ctx, c.qModelDeleteExtends, id); err != nil {
		return store.Record{}, 0, err
	}
	if _, err := tx.Exec(ctx, c.qModelDelete, id); err != nil {
		return store.Record{}, 0, err
	}
	rec, err := ModelRecord(store.OpDelete, m, now)
	if err != nil {
		return store.Record{}, 0, err
	}
	v, err := c.BumpModels(ctx, tx)
	if err != nil {
		return store.Record{}, 0, err
	}
	return rec, v, c.InsertRecord(ctx, tx, &rec)
}
