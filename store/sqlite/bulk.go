package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

// errDryRun rolls back a dry-run import.
var errDryRun = errors.New("sqlite: dry run")

// importCacheKiB is the page cache used during an import: large enough to
// keep the B-tree pages of a few million rows' indexes hot (memory stays far
// under the 2 GB budget of the issue).
const importCacheKiB = 512 * 1024

// Import implements store.Store. Everything is written in one transaction
// with one transaction time. Twins are written in id order and
// relationships in (source, id) order so that the primary-key B-trees are
// appended to rather than split at random.
func (db *DB) Import(ctx context.Context, b *store.Batch, opts store.ImportOptions) (store.ImportStats, error) {
	start := time.Now()
	var st store.ImportStats
	err := db.write(ctx, func(tx *sql.Tx, now int64) error {
		var oldCache int64
		if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&oldCache); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, importCacheKiB)); err != nil {
			return err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, oldCache))
		return db.importTx(ctx, tx, now, b, opts, &st)
	})
	st.Elapsed = time.Since(start)
	if errors.Is(err, errDryRun) {
		return st, nil
	}
	if err != nil {
		return store.ImportStats{Elapsed: st.Elapsed}, fmt.Errorf("sqlite: import: %w", err)
	}
	return st, nil
}

func (db *DB) importTx(ctx context.Context, tx *sql.Tx, now int64, b *store.Batch, opts store.ImportOptions, st *store.ImportStats) error {
	done := 0
	step := func() error {
		done++
		if done%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if opts.Progress != nil && done%10000 == 0 {
				opts.Progress(done)
			}
		}
		return nil
	}

	// Models.
	mw, err := newModelWriter(ctx, tx)
	if err != nil {
		return err
	}
	defer mw.close()
	known := make(map[string]bool, len(b.Models))
	for _, m := range b.Models {
		if _, err := mw.put(ctx, m, now); err != nil {
			return err
		}
		known[m.ID] = true
		st.Models++
		if err := step(); err != nil {
			return err
		}
	}
	modelOK := func(id string) (bool, error) {
		if ok, seen := known[id]; seen {
			return ok, nil
		}
		ok, err := db.modelExists(ctx, tx, id)
		if err != nil {
			return false, err
		}
		known[id] = ok
		return ok, nil
	}

	// Twins.
	var hasTwins, hasRels bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM twins), EXISTS(SELECT 1 FROM relationships)`).Scan(&hasTwins, &hasRels); err != nil {
		return err
	}
	archive, err := db.txStmt(ctx, tx, qTwinArchive)
	if err != nil {
		return err
	}
	upsert, err := db.txStmt(ctx, tx, qTwinUpsert)
	if err != nil {
		return err
	}
	order := make([]int, len(b.Twins))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(b.Twins[i].ID, b.Twins[j].ID) })
	inBatch := make(map[twin.ID]struct{}, len(b.Twins))
	for _, i := range order {
		t := &b.Twins[i]
		if t.ID == "" {
			return fmt.Errorf("twin %d: empty $dtId: %w", i, store.ErrInvalid)
		}
		if t.Metadata.Model == "" {
			return fmt.Errorf("twin %q: empty $model: %w", t.ID, store.ErrInvalid)
		}
		ok, err := modelOK(t.Metadata.Model)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("twin %q: model %q does not exist: %w", t.ID, t.Metadata.Model, store.ErrInvalid)
		}
		s := stampTwin(*t, now)
		props, meta, err := encodeTwin(&s)
		if err != nil {
			return fmt.Errorf("twin %q: %w", t.ID, err)
		}
		op := store.OpCreate
		if hasTwins {
			res, err := archive.ExecContext(ctx, string(s.ID), now)
			if err != nil {
				return fmt.Errorf("twin %q: %w", t.ID, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				op = store.OpReplace
			}
		}
		if _, err := upsert.ExecContext(ctx, string(s.ID), s.Metadata.Model, string(s.ETag), props, meta, now, string(op), nil); err != nil {
			return fmt.Errorf("twin %q: %w", t.ID, err)
		}
		inBatch[t.ID] = struct{}{}
		st.Twins++
		if err := step(); err != nil {
			return err
		}
	}

	// Relationships.
	rarchive, err := db.txStmt(ctx, tx, qRelArchive)
	if err != nil {
		return err
	}
	rupsert, err := db.txStmt(ctx, tx, qRelUpsert)
	if err != nil {
		return err
	}
	exists := func(id twin.ID) (bool, error) {
		if _, ok := inBatch[id]; ok {
			return true, nil
		}
		if !hasTwins {
			return false, nil
		}
		return db.twinExists(ctx, tx, id)
	}
	order = order[:0]
	for i := range b.Relationships {
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(i, j int) int {
		ri, rj := &b.Relationships[i], &b.Relationships[j]
		return cmp.Or(cmp.Compare(ri.SourceID, rj.SourceID), cmp.Compare(ri.ID, rj.ID))
	})
	for _, i := range order {
		r := &b.Relationships[i]
		if r.ID == "" || r.SourceID == "" || r.TargetID == "" || r.Name == "" {
			return fmt.Errorf("relationship %d (%q of %q): $relationshipId, $sourceId, $targetId and $relationshipName are required: %w", i, r.ID, r.SourceID, store.ErrInvalid)
		}
		for _, end := range []twin.ID{r.SourceID, r.TargetID} {
			ok, err := exists(end)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("relationship %q of %q: twin %q does not exist: %w", r.ID, r.SourceID, end, store.ErrInvalid)
			}
		}
		props, err := encodeProps(r.Properties)
		if err != nil {
			return fmt.Errorf("relationship %q of %q: %w", r.ID, r.SourceID, err)
		}
		op := store.OpCreate
		if hasRels {
			res, err := rarchive.ExecContext(ctx, string(r.SourceID), r.ID, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				op = store.OpReplace
			}
		}
		if _, err := rupsert.ExecContext(ctx, string(r.SourceID), r.ID, string(r.TargetID), r.Name, string(twin.NewETag()), props, now, string(op), nil); err != nil {
			return fmt.Errorf("relationship %q of %q: %w", r.ID, r.SourceID, err)
		}
		st.Relationships++
		if err := step(); err != nil {
			return err
		}
	}
	if opts.Progress != nil {
		opts.Progress(done)
	}
	if opts.DryRun {
		return errDryRun
	}
	return nil
}
