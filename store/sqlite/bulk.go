package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
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
	var rec *store.Record
	err := sqlcore.ImportProgress(opts, func(opts store.ImportOptions) error {
		return db.submit(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
			if err := core.CheckModelsIn(ctx, txConn{db, tx}, opts.Models); err != nil {
				return err
			}
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
			db.touch("", true) // any twin: the cache is cleared
			defer im.close()
			if err := sqlcore.Import(ctx, src, now, opts, &st, im); err != nil {
				return err
			}
			if opts.DryRun {
				return errDryRun
			}
			if st.Models+st.Twins+st.Relationships == 0 {
				return nil
			}
			if st.Models > 0 {
				if err := db.bumpModels(ctx, tx); err != nil {
					return err
				}
			}
			r := sqlcore.ImportRecord(ctx, im.modelIDs, st.Twins, st.Relationships, now)
			rec = &r
			return db.record(ctx, tx, rec)
		}, true)
	})
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
	if rec != nil {
		sqlcore.Deliver(ctx, *rec)
	}
	return st, nil
}

// importer holds the state of one import transaction.
type importer struct {
	db  *DB
	ctx context.Context
	tx  *sql.Tx
	now int64

	modelIDs          []string // the models this import stored
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
	if im.tmulti != nil {
		im.tmulti.full.Close()
	}
	if im.rmulti != nil {
		im.rmulti.full.Close()
	}
}

// Model implements sqlcore.ImportSink.
func (im *importer) Model(m *twin.Model) error {
	if _, err := core.PutModel(im.ctx, txConn{im.db, im.tx}, *m, im.now); err != nil {
		return err
	}
	im.knownModels[m.ID] = true
	im.modelIDs = append(im.modelIDs, m.ID)
	return nil
}

// Flush implements sqlcore.ImportSink.
func (im *importer) Flush() error {
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

// Twin implements sqlcore.ImportSink.
func (im *importer) Twin(it *sqlcore.ImportItem) error {
	ok, err := im.modelOK(it.ModelID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("twin %q: model %q does not exist: %w", it.ID, it.ModelID, store.ErrInvalid)
	}
	im.twinIDs[twin.ID(it.ID)] = struct{}{}
	op := store.OpCreate
	props, meta := string(it.Props), string(it.Meta) // text, not blobs
	if im.tmulti != nil {
		if err := im.tmulti.add(im.ctx, it.ID, it.ModelID, it.ETag, props, meta, im.now, string(op), nil); err != nil {
			return fmt.Errorf("twins near %q: %w", it.ID, err)
		}
		return nil
	}
	res, err := im.tarchive.ExecContext(im.ctx, it.ID, im.now)
	if err != nil {
		return fmt.Errorf("twin %q: %w", it.ID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		op = store.OpReplace
	}
	if _, err := im.tupsert.ExecContext(im.ctx, it.ID, it.ModelID, it.ETag, props, meta, im.now, string(op), nil); err != nil {
		return fmt.Errorf("twin %q: %w", it.ID, err)
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

// Relationship implements sqlcore.ImportSink.
func (im *importer) Relationship(it *sqlcore.ImportItem) error {
	for _, end := range []string{it.Source, it.Target} {
		ok, err := im.twinExists(twin.ID(end))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("relationship %q of %q: twin %q does not exist: %w", it.RelID, it.Source, end, store.ErrInvalid)
		}
	}
	op := store.OpCreate
	props := string(it.Props)
	if im.rmulti != nil {
		if err := im.rmulti.add(im.ctx, it.Source, it.RelID, it.Target, it.Name, it.ETag, props, im.now, string(op), nil); err != nil {
			return fmt.Errorf("relationships near %q of %q: %w", it.RelID, it.Source, err)
		}
		return nil
	}
	res, err := im.rarchive.ExecContext(im.ctx, it.Source, it.RelID, im.now)
	if err != nil {
		return fmt.Errorf("relationship %q of %q: %w", it.RelID, it.Source, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		op = store.OpReplace
	}
	if _, err := im.rupsert.ExecContext(im.ctx, it.Source, it.RelID, it.Target, it.Name, it.ETag, props, im.now, string(op), nil); err != nil {
		return fmt.Errorf("relationship %q of %q: %w", it.RelID, it.Source, err)
	}
	return nil
}
