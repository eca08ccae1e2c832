package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// errDryRun rolls back a dry-run import.
var errDryRun = errors.New("postgres: dry run")

// copyChunk is the number of rows sent per COPY.
const copyChunk = 4096

// Import implements store.Store. Everything is written in one transaction
// with one transaction time, in three steps:
//
//  1. The stream is pulled and encoded on a producer goroutine; models are
//     inserted as they come, twins and relationships are copied (COPY) into
//     temporary staging tables. A twin's model and a relationship's twins
//     are checked in order: the model must be stored or come earlier,
//     a relationship's twins must come earlier or be stored already (the
//     latter checked in one query after the stream ends).
//  2. The stored versions of the staged twins and relationships move to
//     the history tables.
//  3. The staged rows replace them in set-based INSERT … SELECT statements
//     (the last one of an id wins when the stream names it twice).
func (db *DB) Import(ctx context.Context, src iter.Seq2[store.Entity, error], opts store.ImportOptions) (store.ImportStats, error) {
	start := time.Now()
	var st store.ImportStats
	var rec *store.Record
	err := sqlcore.ImportProgress(opts, func(opts store.ImportOptions) error {
		return db.submit(ctx, func(sqlCtx context.Context, tx pgx.Tx, now int64) error {
			if err := core.CheckModelsIn(sqlCtx, txConn{tx}, opts.Models); err != nil {
				return err
			}
			im := &importer{ctx: ctx, sql: sqlCtx, tx: tx, now: now, knownModels: map[string]bool{}, twinIDs: map[twin.ID]struct{}{}}
			if err := im.setup(); err != nil {
				return err
			}
			if err := sqlcore.Import(ctx, src, now, opts, &st, im); err != nil {
				return err
			}
			if err := im.merge(); err != nil {
				return err
			}
			if opts.DryRun {
				return errDryRun
			}
			if st.Models+st.Twins+st.Relationships == 0 {
				return nil
			}
			if st.Models > 0 {
				if _, err := core.BumpModels(sqlCtx, txConn{tx}); err != nil {
					return err
				}
			}
			r := sqlcore.ImportRecord(ctx, im.modelIDs, st.Twins, st.Relationships, now)
			rec = &r
			return core.InsertRecord(sqlCtx, txConn{tx}, rec)
		}, true)
	})
	st.Elapsed = time.Since(start)
	if errors.Is(err, errDryRun) {
		return st, nil
	}
	if err != nil {
		return store.ImportStats{Elapsed: st.Elapsed}, fmt.Errorf("postgres: import: %w", err)
	}
	if rec != nil {
		sqlcore.Deliver(ctx, *rec)
	}
	if st.Twins+st.Relationships >= 10000 {
		// Fresh planner statistics for the grown tables; autovacuum would
		// get there later.
		if _, err := db.w.Exec(context.WithoutCancel(ctx), `ANALYZE twins, relationships`); err != nil {
			db.logger.Warn("analyze", "err", err)
		}
	}
	return st, nil
}

// importer holds the state of one import transaction.
type importer struct {
	ctx context.Context // the caller's: checked for cancellation
	sql context.Context // for statements, which are not interrupted
	tx  pgx.Tx
	now int64

	knownModels map[string]bool
	modelIDs    []string             // the models this import stored
	twinIDs     map[twin.ID]struct{} // twins written by this import
	hasTwins    bool                 // the twins table was not empty at the start
	hasRels     bool                 // nor the relationships table
	needCheck   bool                 // some relationship names a twin not in the stream

	seq          int64
	twins, rels  []staged // staged rows not yet copied
	nTwin, nRels int      // rows copied
}

// staged is an item on its way to a staging table: seq orders the stream,
// and a relationship whose end was not in the stream before it is checked
// against the stored twins once the stream has ended.
type staged struct {
	sqlcore.ImportItem
	seq                      int64
	checkSource, checkTarget bool
}

const stagingDDL = `
SET LOCAL work_mem = '256MB';
CREATE TEMP TABLE import_twins (seq bigint, id text COLLATE "C", model text COLLATE "C", etag text, props jsonb, meta jsonb) ON COMMIT DROP;
CREATE TEMP TABLE import_rels (seq bigint, source_id text COLLATE "C", rel_id text COLLATE "C", target_id text COLLATE "C",
	name text COLLATE "C", etag text, props jsonb, check_source boolean, check_target boolean) ON COMMIT DROP;
`

func (im *importer) setup() error {
	if _, err := im.tx.Exec(im.sql, stagingDDL); err != nil {
		return fmt.Errorf("staging tables: %w", err)
	}
	return im.tx.QueryRow(im.sql, `SELECT EXISTS(SELECT 1 FROM twins), EXISTS(SELECT 1 FROM relationships)`).Scan(&im.hasTwins, &im.hasRels)
}

// Model implements sqlcore.ImportSink.
func (im *importer) Model(m *twin.Model) error {
	if _, err := core.PutModel(im.sql, txConn{im.tx}, *m, im.now); err != nil {
		return err
	}
	im.knownModels[m.ID] = true
	im.modelIDs = append(im.modelIDs, m.ID)
	return nil
}

// Flush implements sqlcore.ImportSink.
func (im *importer) Flush() error {
	if err := im.flushTwins(); err != nil {
		return err
	}
	return im.flushRels()
}

func (im *importer) modelOK(id string) (bool, error) {
	if ok, seen := im.knownModels[id]; seen {
		return ok, nil
	}
	ok, err := modelExists(im.sql, im.tx, id)
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
	im.seq++
	im.twins = append(im.twins, staged{ImportItem: *it, seq: im.seq})
	if len(im.twins) == copyChunk {
		return im.flushTwins()
	}
	return nil
}

// Relationship implements sqlcore.ImportSink.
func (im *importer) Relationship(it *sqlcore.ImportItem) error {
	_, srcSeen := im.twinIDs[twin.ID(it.Source)]
	_, tgtSeen := im.twinIDs[twin.ID(it.Target)]
	if !srcSeen || !tgtSeen {
		if !im.hasTwins {
			end := it.Source
			if srcSeen {
				end = it.Target
			}
			return fmt.Errorf("relationship %q of %q: twin %q does not exist: %w", it.RelID, it.Source, end, store.ErrInvalid)
		}
		im.needCheck = true
	}
	im.seq++
	im.rels = append(im.rels, staged{ImportItem: *it, seq: im.seq, checkSource: !srcSeen, checkTarget: !tgtSeen})
	if len(im.rels) == copyChunk {
		return im.flushRels()
	}
	return nil
}

// rowSource feeds staged items to CopyFrom, reusing one values slice.
type rowSource struct {
	items []staged
	i     int
	vals  []any
	row   func(it *staged, vals []any) []any
}

func (s *rowSource) Next() bool { s.i++; return s.i <= len(s.items) }

func (s *rowSource) Values() ([]any, error) { return s.row(&s.items[s.i-1], s.vals[:0]), nil }

func (s *rowSource) Err() error { return nil }

var (
	twinCopyCols = []string{"seq", "id", "model", "etag", "props", "meta"}
	relCopyCols  = []string{"seq", "source_id", "rel_id", "target_id", "name", "etag", "props", "check_source", "check_target"}
)

func (im *importer) flushTwins() error {
	if len(im.twins) == 0 {
		return nil
	}
	src := &rowSource{items: im.twins, vals: make([]any, 0, len(twinCopyCols)), row: func(it *staged, v []any) []any {
		return append(v, it.seq, it.ID, it.ModelID, it.ETag, it.Props, it.Meta)
	}}
	if _, err := im.tx.CopyFrom(im.sql, pgx.Identifier{"import_twins"}, twinCopyCols, src); err != nil {
		return fmt.Errorf("twins near %q: %w", im.twins[0].ID, mapErr(err))
	}
	im.nTwin += len(im.twins)
	im.twins = im.twins[:0]
	return nil
}

func (im *importer) flushRels() error {
	if len(im.rels) == 0 {
		return nil
	}
	src := &rowSource{items: im.rels, vals: make([]any, 0, len(relCopyCols)), row: func(it *staged, v []any) []any {
		return append(v, it.seq, it.Source, it.RelID, it.Target, it.Name, it.ETag, it.Props, it.checkSource, it.checkTarget)
	}}
	if _, err := im.tx.CopyFrom(im.sql, pgx.Identifier{"import_rels"}, relCopyCols, src); err != nil {
		return fmt.Errorf("relationships near %q of %q: %w", im.rels[0].RelID, im.rels[0].Source, mapErr(err))
	}
	im.nRels += len(im.rels)
	im.rels = im.rels[:0]
	return nil
}

// merge checks the staged relationships against the stored twins and
// moves the staged rows into the graph.
func (im *importer) merge() error {
	now := strconv.FormatInt(im.now, 10)
	if im.needCheck {
		var src, id, end string
		err := im.tx.QueryRow(im.sql, `SELECT r.source_id, r.rel_id,
			CASE WHEN r.check_source AND NOT EXISTS (SELECT 1 FROM twins t WHERE t.id = r.source_id) THEN r.source_id ELSE r.target_id END
			FROM import_rels r
			WHERE (r.check_source AND NOT EXISTS (SELECT 1 FROM twins t WHERE t.id = r.source_id))
			   OR (r.check_target AND NOT EXISTS (SELECT 1 FROM twins t WHERE t.id = r.target_id))
			ORDER BY r.seq LIMIT 1`).Scan(&src, &id, &end)
		if err == nil {
			return fmt.Errorf("relationship %q of %q: twin %q does not exist: %w", id, src, end, store.ErrInvalid)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	// The statements join the staged rows with the graph (LEFT JOIN, IN)
	// rather than probe it per row (EXISTS): a per-row probe of a table
	// the planner believes small is a sequential scan, which grows with
	// every row the statement inserts.
	var stmts []string
	if im.nTwin > 0 {
		latest := `(SELECT DISTINCT ON (id) * FROM import_twins ORDER BY id, seq DESC) s`
		if im.hasTwins {
			stmts = append(stmts, `INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
				SELECT t.id, t.valid_from, `+now+`, t.model, t.etag, t.props, t.meta, t.op, t.patch
				FROM twins t WHERE t.id IN (SELECT id FROM import_twins)`,
				// The join reads twins as they were before the statement.
				`INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch)
				SELECT s.id, s.model, s.etag, s.props, s.meta, `+now+`, CASE WHEN t.id IS NULL THEN 'create' ELSE 'replace' END, NULL
				FROM `+latest+` LEFT JOIN twins t ON t.id = s.id
				ON CONFLICT (id) DO UPDATE SET model = excluded.model, etag = excluded.etag, props = excluded.props,
					meta = excluded.meta, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch`)
		} else {
			stmts = append(stmts, `INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch)
				SELECT s.id, s.model, s.etag, s.props, s.meta, `+now+`, 'create', NULL FROM `+latest)
		}
	}
	if im.nRels > 0 {
		latest := `(SELECT DISTINCT ON (source_id, rel_id) * FROM import_rels ORDER BY source_id, rel_id, seq DESC) s`
		if im.hasRels {
			stmts = append(stmts, `INSERT INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
				SELECT r.source_id, r.rel_id, r.valid_from, `+now+`, r.target_id, r.name, r.etag, r.props, r.op, r.patch
				FROM relationships r WHERE (r.source_id, r.rel_id) IN (SELECT source_id, rel_id FROM import_rels)`,
				`INSERT INTO relationships(source_id, rel_id, target_id, name, etag, props, valid_from, op, patch)
				SELECT s.source_id, s.rel_id, s.target_id, s.name, s.etag, s.props, `+now+`,
					CASE WHEN r.source_id IS NULL THEN 'create' ELSE 'replace' END, NULL
				FROM `+latest+` LEFT JOIN relationships r ON r.source_id = s.source_id AND r.rel_id = s.rel_id
				ON CONFLICT (source_id, rel_id) DO UPDATE SET target_id = excluded.target_id, name = excluded.name, etag = excluded.etag,
					props = excluded.props, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch`)
		} else {
			stmts = append(stmts, `INSERT INTO relationships(source_id, rel_id, target_id, name, etag, props, valid_from, op, patch)
				SELECT s.source_id, s.rel_id, s.target_id, s.name, s.etag, s.props, `+now+`, 'create', NULL FROM `+latest)
		}
	}
	for _, q := range stmts {
		if err := im.ctx.Err(); err != nil {
			return err
		}
		// No arguments: the simple protocol, so no statement naming the
		// temporary tables is prepared and cached.
		if _, err := im.tx.Exec(im.sql, q); err != nil {
			return mapErr(err)
		}
	}
	return nil
}
