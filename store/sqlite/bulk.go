package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
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
		if st.Models+st.Twins+st.Relationships == 0 {
			return nil
		}
		if st.Models > 0 {
			if err := db.bumpModels(ctx, tx); err != nil {
				return err
			}
		}
		r := sqlcore.ImportRecord(im.modelIDs, st.Twins, st.Relationships, now)
		rec = &r
		return db.record(ctx, tx, rec)
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

	models            *modelWriter
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

// importItem is one entity of an import, encoded for its row by the
// producer goroutine. It holds copies, so the source may reuse its values
// once it has yielded the next one.
type importItem struct {
	model *twin.Model // a model, or nil

	// A twin (twin.ID set) or relationship (relID set).
	id, modelID       string
	source, relID     string
	target, name      string
	etag, props, meta string

	err error // a source or encoding error; ends the import
}

// importBatch is the number of items handed from producer to consumer at
// once.
const importBatch = 256

// produce ranges over src on its own goroutine, encoding each entity, and
// sends the items in batches on out until src ends, an error occurs or
// stop is closed. It closes out when done.
func (im *importer) produce(src iter.Seq2[store.Entity, error], out chan<- []importItem, stop <-chan struct{}) {
	defer close(out)
	batch := make([]importItem, 0, importBatch)
	send := func() bool {
		select {
		case out <- batch:
			batch = make([]importItem, 0, importBatch)
			return true
		case <-stop:
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			batch = append(batch, importItem{err: fmt.Errorf("import source panicked: %v", r)})
			send()
		}
	}()
	for e, err := range src {
		it := im.encode(e, err)
		batch = append(batch, it)
		if it.err != nil || len(batch) == importBatch {
			if !send() || it.err != nil {
				return
			}
		}
	}
	if len(batch) > 0 {
		send()
	}
}

// encode turns one entity into an importItem. It uses no connection.
func (im *importer) encode(e store.Entity, err error) importItem {
	switch {
	case err != nil:
		return importItem{err: err}
	case e.Model != nil:
		m := *e.Model
		m.DTDL = slices.Clone(m.DTDL)
		m.Extends = slices.Clone(m.Extends)
		return importItem{model: &m}
	case e.Twin != nil:
		t := e.Twin
		if t.ID == "" {
			return importItem{err: fmt.Errorf("twin with empty $dtId: %w", store.ErrInvalid)}
		}
		if t.Metadata.Model == "" {
			return importItem{err: fmt.Errorf("twin %q: empty $model: %w", t.ID, store.ErrInvalid)}
		}
		s := stampTwin(*t, im.now)
		props, meta, err := encodeTwin(&s)
		if err != nil {
			return importItem{err: fmt.Errorf("twin %q: %w", t.ID, err)}
		}
		return importItem{id: string(t.ID), modelID: t.Metadata.Model, etag: string(s.ETag), props: props, meta: meta}
	case e.Relationship != nil:
		r := e.Relationship
		if r.ID == "" || r.SourceID == "" || r.TargetID == "" || r.Name == "" {
			return importItem{err: fmt.Errorf("relationship %q of %q: $relationshipId, $sourceId, $targetId and $relationshipName are required: %w", r.ID, r.SourceID, store.ErrInvalid)}
		}
		props, err := encodeProps(r.Properties)
		if err != nil {
			return importItem{err: fmt.Errorf("relationship %q of %q: %w", r.ID, r.SourceID, err)}
		}
		return importItem{source: string(r.SourceID), relID: r.ID, target: string(r.TargetID), name: r.Name, etag: string(twin.NewETag()), props: props}
	default:
		return importItem{err: fmt.Errorf("empty import entity: %w", store.ErrInvalid)}
	}
}

// run writes the items of src. A producer goroutine pulls src and encodes
// (JSON, entity tags) while this goroutine checks references and runs the
// SQL, so an import uses two cores. run waits for the producer before it
// returns.
func (im *importer) run(src iter.Seq2[store.Entity, error], opts store.ImportOptions, st *store.ImportStats) error {
	items := make(chan []importItem, 4)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { im.produce(src, items, stop) })
	defer func() {
		close(stop)
		for range items { // unblock and drain the producer
		}
		wg.Wait()
	}()
	done := 0
	for batch := range items {
		for i := range batch {
			it := &batch[i]
			switch {
			case it.err != nil:
				return it.err
			case it.model != nil:
				if _, err := im.models.put(im.ctx, *it.model, im.now); err != nil {
					return err
				}
				im.knownModels[it.model.ID] = true
				im.modelIDs = append(im.modelIDs, it.model.ID)
				st.Models++
			case it.id != "":
				if err := im.twin(it); err != nil {
					return err
				}
				st.Twins++
			default:
				if err := im.relationship(it); err != nil {
					return err
				}
				st.Relationships++
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
	}
	if err := im.ctx.Err(); err != nil {
		return err
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

func (im *importer) twin(it *importItem) error {
	ok, err := im.modelOK(it.modelID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("twin %q: model %q does not exist: %w", it.id, it.modelID, store.ErrInvalid)
	}
	im.twinIDs[twin.ID(it.id)] = struct{}{}
	op := store.OpCreate
	if im.tmulti != nil {
		if err := im.tmulti.add(im.ctx, it.id, it.modelID, it.etag, it.props, it.meta, im.now, string(op), nil); err != nil {
			return fmt.Errorf("twins near %q: %w", it.id, err)
		}
		return nil
	}
	res, err := im.tarchive.ExecContext(im.ctx, it.id, im.now)
	if err != nil {
		return fmt.Errorf("twin %q: %w", it.id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		op = store.OpReplace
	}
	if _, err := im.tupsert.ExecContext(im.ctx, it.id, it.modelID, it.etag, it.props, it.meta, im.now, string(op), nil); err != nil {
		return fmt.Errorf("twin %q: %w", it.id, err)
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

func (im *importer) relationship(it *importItem) error {
	for _, end := range []string{it.source, it.target} {
		ok, err := im.twinExists(twin.ID(end))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("relationship %q of %q: twin %q does not exist: %w", it.relID, it.source, end, store.ErrInvalid)
		}
	}
	op := store.OpCreate
	if im.rmulti != nil {
		if err := im.rmulti.add(im.ctx, it.source, it.relID, it.target, it.name, it.etag, it.props, im.now, string(op), nil); err != nil {
			return fmt.Errorf("relationships near %q of %q: %w", it.relID, it.source, err)
		}
		return nil
	}
	res, err := im.rarchive.ExecContext(im.ctx, it.source, it.relID, im.now)
	if err != nil {
		return fmt.Errorf("relationship %q of %q: %w", it.relID, it.source, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		op = store.OpReplace
	}
	if _, err := im.rupsert.ExecContext(im.ctx, it.source, it.relID, it.target, it.name, it.etag, it.props, im.now, string(op), nil); err != nil {
		return fmt.Errorf("relationship %q of %q: %w", it.relID, it.source, err)
	}
	return nil
}
