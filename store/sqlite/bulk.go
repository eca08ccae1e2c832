package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

// errDryRun rolls back a dry-run import.
var errDryRun = errors.New("sqlite: dry run")

// importCacheKiB is the page cache used during an import. Dirty pages stay
// in it until the commit or until it is full, when SQLite spills them to the
// WAL; 512 MiB keeps the indexes of a few million rows hot while the whole
// import stays under the 2 GB budget.
const importCacheKiB = 512 * 1024

// multiChunk is the number of rows per multi-row INSERT.
const multiChunk = 200

// Import implements store.Store. Everything is written in one transaction
// with one transaction time. Into an empty table rows go through multi-row
// INSERTs; into a non-empty one each row first archives the version it
// replaces.
func (db *DB) Import(ctx context.Context, src iter.Seq2[store.Entity, error], opts store.ImportOptions) (store.ImportStats, error) {
	start := time.Now()
	var st store.ImportStats
	err := db.submit(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		var oldCache int64
		if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&oldCache); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, importCacheKiB)); err != nil {
			return err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, oldCache))
		im, err := db.newImporter(ctx, tx, now)
		if err != nil {
			return err
		}
		defer im.close()
		if err := im.run(src, opts, &st); err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	}, true)
	if err == nil && st.Twins+st.Relationships >= 10000 {
		db.optimize(ctx)
	}
	st.Elapsed = time.Since(start)
	if errors.Is(err, errDryRun) {
		return st, nil
	}
	if err != nil {
		return store.ImportStats{Elapsed: st.Elapsed}, fmt.Errorf("sqlite: import: %w", err)
	}
	return st, nil
}

// importer holds the state of one import transaction.
type importer struct {
	db  *DB
	ctx context.Context
	tx  *sql.Tx
	now int64

	models            *modelWriter
	knownModels       map[string]bool
	twinIDs           map[twin.ID]struct{} // twins written by this import
	hasTwins          bool                 // the twins table was not empty at the start
	hasRels           bool
	tmulti, rmulti    *multiInsert // nil when rows must be archived one by one
	tarchive, tupsert *sql.Stmt
	rarchive, rupsert *sql.Stmt
}

func (db *DB) newImporter(ctx context.Context, tx *sql.Tx, now int64) (*importer, error) {
	im := &importer{db: db, ctx: ctx, tx: tx, now: now, knownModels: map[string]bool{}, twinIDs: map[twin.ID]struct{}{}}
	var err error
	if im.models, err = newModelWriter(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM twins), EXISTS(SELECT 1 FROM relationships)`).Scan(&im.hasTwins, &im.hasRels); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{{&im.tarchive, qTwinArchive}, {&im.tupsert, qTwinUpsert}, {&im.rarchive, qRelArchive}, {&im.rupsert, qRelUpsert}} {
		if *p.dst, err = db.txStmt(ctx, tx, p.q); err != nil {
			return nil, err
		}
	}
	if !im.hasTwins {
		if im.tmulti, err = newMultiInsert(ctx, tx, `INSERT OR REPLACE INTO twins(id, model, etag, props, meta, valid_from, op, patch) VALUES `, 8, multiChunk); err != nil {
			return nil, err
		}
	}
	if !im.hasRels {
		if im.rmulti, err = newMultiInsert(ctx, tx, `INSERT OR REPLACE INTO relationships(source_id, rel_id, target_id, name, etag, props, valid_from, op, patch) VALUES `, 9, multiChunk); err != nil {
			return nil, err
		}
	}
	return im, nil
}

func (im *importer) close() {
	im.models.close()
	if im.tmulti != nil {
		im.tmulti.full.Close()
	}
	if im.rmulti != nil {
		im.rmulti.full.Close()
	}
}

func (im *importer) run(src iter.Seq2[store.Entity, error], opts store.ImportOptions, st *store.ImportStats) error {
	done := 0
	for e, err := range src {
		if err != nil {
			return err
		}
		switch {
		case e.Model != nil:
			if _, err := im.models.put(im.ctx, *e.Model, im.now); err != nil {
				return err
			}
			im.knownModels[e.Model.ID] = true
			st.Models++
		case e.Twin != nil:
			if err := im.twin(e.Twin); err != nil {
				return err
			}
			st.Twins++
		case e.Relationship != nil:
			if err := im.relationship(e.Relationship); err != nil {
				return err
			}
			st.Relationships++
		default:
			return fmt.Errorf("entity %d is empty: %w", done, store.ErrInvalid)
		}
		done++
		if done%1000 == 0 {
			if err := im.ctx.Err(); err != nil {
				return err
			}
			if opts.Progress != nil && done%10000 == 0 {
				opts.Progress(done)
			}
		}
	}
	if im.tmulti != nil {
		if err := im.tmulti.flush(im.ctx); err != nil {
			return fmt.Errorf("twins: %w", err)
		}
	}
	if im.rmulti != nil {
		if err := im.rmulti.flush(im.ctx); err != nil {
			return fmt.Errorf("relationships: %w", err)
		}
	}
	if opts.Progress != nil {
		opts.Progress(done)
	}
	return nil
}

func (im *importer) modelOK(id string) (bool, error) {
	if ok, seen := im.knownModels[id]; seen {
		return ok, nil
	}
	ok, err := im.db.modelExists(im.ctx, im.tx, id)
	if err != nil {
		return false, err
	}
	im.knownModels[id] = ok
	return ok, nil
}

func (im *importer) twin(t *twin.Twin) error {
	if t.ID == "" {
		return fmt.Errorf("twin with empty $dtId: %w", store.ErrInvalid)
	}
	if t.Metadata.Model == "" {
		return fmt.Errorf("twin %q: empty $model: %w", t.ID, store.ErrInvalid)
	}
	ok, err := im.modelOK(t.Metadata.Model)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("twin %q: model %q does not exist: %w", t.ID, t.Metadata.Model, store.ErrInvalid)
	}
	s := stampTwin(*t, im.now)
	props, meta, err := encodeTwin(&s)
	if err != nil {
		return fmt.Errorf("twin %q: %w", t.ID, err)
	}
	im.twinIDs[t.ID] = struct{}{}
	op := store.OpCreate
	if im.tmulti != nil {
		if err := im.tmulti.add(im.ctx, string(s.ID), s.Metadata.Model, string(s.ETag), props, meta, im.now, string(op), nil); err != nil {
			return fmt.Errorf("twins near %q: %w", t.ID, err)
		}
		return nil
	}
	res, err := im.tarchive.ExecContext(im.ctx, string(s.ID), im.now)
	if err != nil {
		return fmt.Errorf("twin %q: %w", t.ID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		op = store.OpReplace
	}
	if _, err := im.tupsert.ExecContext(im.ctx, string(s.ID), s.Metadata.Model, string(s.ETag), props, meta, im.now, string(op), nil); err != nil {
		return fmt.Errorf("twin %q: %w", t.ID, err)
	}
	return nil
}

func (im *importer) twinExists(id twin.ID) (bool, error) {
	if _, ok := im.twinIDs[id]; ok {
		return true, nil
	}
	if !im.hasTwins {
		return false, nil
	}
	return im.db.twinExists(im.ctx, im.tx, id)
}

func (im *importer) relationship(r *twin.Relationship) error {
	if r.ID == "" || r.SourceID == "" || r.TargetID == "" || r.Name == "" {
		return fmt.Errorf("relationship %q of %q: $relationshipId, $sourceId, $targetId and $relationshipName are required: %w", r.ID, r.SourceID, store.ErrInvalid)
	}
	for _, end := range []twin.ID{r.SourceID, r.TargetID} {
		ok, err := im.twinExists(end)
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
	etag := string(twin.NewETag())
	if im.rmulti != nil {
		if err := im.rmulti.add(im.ctx, string(r.SourceID), r.ID, string(r.TargetID), r.Name, etag, props, im.now, string(op), nil); err != nil {
			return fmt.Errorf("relationships near %q of %q: %w", r.ID, r.SourceID, err)
		}
		return nil
	}
	res, err := im.rarchive.ExecContext(im.ctx, string(r.SourceID), r.ID, im.now)
	if err != nil {
		return fmt.Errorf("relationship %q of %q: %w", r.ID, r.SourceID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		op = store.OpReplace
	}
	if _, err := im.rupsert.ExecContext(im.ctx, string(r.SourceID), r.ID, string(r.TargetID), r.Name, etag, props, im.now, string(op), nil); err != nil {
		return fmt.Errorf("relationship %q of %q: %w", r.ID, r.SourceID, err)
	}
	return nil
}
