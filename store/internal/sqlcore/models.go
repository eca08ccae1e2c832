package sqlcore

import (
	"context"
	"fmt"

	"lodestone/store"
)

// CheckModels checks cond.Models against the model-set version the write
// transaction sees. Errors wrap store.ErrModelsChanged.
func CheckModels(cond store.Condition, version int64) error {
	if cond.Models != 0 && cond.Models != version {
		return fmt.Errorf("validated against model set %d, stored is %d: %w", cond.Models, version, store.ErrModelsChanged)
	}
	return nil
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
