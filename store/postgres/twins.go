package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

var (
	qTwinCurrent = `SELECT model, etag, props, meta FROM twins WHERE id = $1`
	// qTwinPatchState reads what a patch starts from: the current version
	// and the model-set version.
	qTwinPatchState = `SELECT model, etag, props, meta, ` + qModels + ` FROM twins WHERE id = $1`
	// qTwinPatchFromState reads what PatchTwinFrom checks: the stored etag
	// (NULL when the twin does not exist) and the model-set version.
	qTwinPatchFromState = `SELECT (SELECT etag FROM twins WHERE id = $1), ` + qModels
	// qTwinState reads what a put checks: the stored etag (NULL when the
	// twin does not exist), whether the model exists and the model-set
	// version.
	qTwinState = `SELECT (SELECT etag FROM twins WHERE id = $1), EXISTS(SELECT 1 FROM models WHERE id = $2), ` + qModels
	// twinStates and patchFromStates run the first reads of several puts
	// (qTwinState) and of several PatchTwinFroms (qTwinPatchFromState) as
	// one statement each.
	twinStates = &readMerger{
		sql: `SELECT (SELECT etag FROM twins WHERE id = v.id COLLATE "C"),
			EXISTS(SELECT 1 FROM models WHERE id = v.model COLLATE "C"), ` + qModels + `
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(id, model, n) ORDER BY v.n`,
		arrays: func(args [][]any) []any { return textArrays(args, 2) },
	}
	patchFromStates = &readMerger{
		sql: `SELECT (SELECT etag FROM twins WHERE id = v.id COLLATE "C"), ` + qModels + `
			FROM unnest($1::text[]) WITH ORDINALITY AS v(id, n) ORDER BY v.n`,
		arrays: func(args [][]any) []any { return textArrays(args, 1) },
	}
	// qTwinWrite moves the current version of a twin (if any) to the
	// history, closing its interval at $6, stores the new one and writes
	// the change's record to the outbox, returning its seq. The record's
	// data is the patch $8 of a patch, and left out otherwise
	// (sqlcore.Rebuilt), so nothing is sent twice. The CTEs read twins as
	// they were before the statement.
	qTwinWrite = `WITH old AS (
		INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT id, valid_from, $6, model, etag, props, meta, op, patch FROM twins WHERE id = $1),
	cur AS (
		INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET model = excluded.model, etag = excluded.etag, props = excluded.props,
			meta = excluded.meta, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch)
	INSERT INTO outbox(` + sqlcore.RecordCols + `) VALUES ('twin', $7, $1, $3, $2, $6, coalesce($8, '')) RETURNING seq`
	// qTwinWriteMerged is qTwinWrite for several twins (each at most
	// once), whose columns come as arrays (twinWrites). The jsonb columns
	// come as text, parsed as qTwinWrite's parameters are. It returns the
	// records' seqs and times in the order of the arrays, which is the
	// order of the times, and so of the seqs.
	qTwinWriteMerged = `WITH v AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[])
			AS v(id, model, etag, props, meta, valid_from, op, patch)),
	old AS (
		INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT t.id, t.valid_from, v.valid_from, t.model, t.etag, t.props, t.meta, t.op, t.patch
			FROM v JOIN twins t ON t.id = v.id COLLATE "C"),
	cur AS (
		INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch)
		SELECT id, model, etag, props::jsonb, meta::jsonb, valid_from, op, patch FROM v
		ON CONFLICT (id) DO UPDATE SET model = excluded.model, etag = excluded.etag, props = excluded.props,
			meta = excluded.meta, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch)
	INSERT INTO outbox(` + sqlcore.RecordCols + `)
	SELECT 'twin', op, id, etag, model, valid_from, coalesce(patch, '') FROM v ORDER BY valid_from
	RETURNING seq, time_ns`
	// qTwinDelete moves the current version to the history, closed at $2,
	// and writes the delete's record ($3: its data) to the outbox.
	qTwinDelete = `WITH old AS (DELETE FROM twins WHERE id = $1 RETURNING *),
	h AS (INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT id, valid_from, $2, model, etag, props, meta, op, patch FROM old)
	INSERT INTO outbox(` + sqlcore.RecordCols + `) SELECT 'twin', 'delete', id, etag, model, $2, $3 FROM old RETURNING seq`
	// qTwinDeleteState reads the version a delete removes (its document
	// is the record's data) and whether the twin has relationships.
	qTwinDeleteState = `SELECT model, etag, props, meta, EXISTS(SELECT 1 FROM relationships WHERE source_id = $1)
		OR EXISTS(SELECT 1 FROM relationships WHERE target_id = $1) FROM twins WHERE id = $1`
	qModelExists = `SELECT EXISTS(SELECT 1 FROM models WHERE id = $1)`
)

// querier is what reads need of a transaction or a pool.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readTwin(ctx context.Context, q querier, id twin.ID) (twin.Twin, bool, error) {
	var model, etag string
	var props, meta []byte
	err := q.QueryRow(ctx, qTwinCurrent, string(id)).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, pgx.ErrNoRows) {
		return twin.Twin{}, false, nil
	}
	if err != nil {
		return twin.Twin{}, false, err
	}
	t, err := decodeTwin(string(id), model, etag, props, meta)
	return t, err == nil, err
}

// writeTwin archives the current version of t.ID (if any), stores t as
// the current version from now and writes the change's record to the
// outbox, in one statement: the record's data is the patch of an OpPatch,
// else the twin's document, spliced from the encoded properties for the
// recorder of ctx (the outbox row leaves it out: sqlcore.Rebuilt). It sets
// *rec to the record; the statement is queued (queryRowLater), so rec.Seq
// is set once it ran, before the write returns: rec must stay valid until
// then and the write function must not read rec.Seq.
func writeTwin(ctx context.Context, tx pgx.Tx, rec *store.Record, t *twin.Twin, now int64, op store.ChangeOp, patch []byte) error {
	props, meta, err := encodeTwin(t)
	if err != nil {
		return err
	}
	var p *string
	data := patch
	if patch != nil {
		s := string(patch)
		p = &s
	} else if store.RecorderFrom(ctx) != nil {
		if data, err = rowcodec.TwinDoc(t, props); err != nil {
			return err
		}
	}
	*rec = sqlcore.TwinRecord(op, t.ID, t.ETag, t.Metadata.Model, now, data)
	rec.Org = t.Metadata.Org
	return queueMerged(ctx, tx, twinWrites, []any{&rec.Seq}, qTwinWrite, string(t.ID), t.Metadata.Model, string(t.ETag), props, meta, now, string(op), p)
}

// textArrays returns the first n args of each of rows, which are strings,
// as n arrays.
func textArrays(rows [][]any, n int) []any {
	out := make([]any, n)
	for c := range n {
		col := make([]string, len(rows))
		for i, r := range rows {
			col[i] = r[c].(string)
		}
		out[c] = col
	}
	return out
}

// twinWrites merges the qTwinWrite statements of a group's writes into
// qTwinWriteMerged. The args of qTwinWrite are id, model, etag, props,
// meta, time, op and patch.
var twinWrites = &merger{
	sql:   qTwinWriteMerged,
	key:   func(args []any) any { return args[0] },
	match: func(args []any) int64 { return args[5].(int64) },
	arrays: func(rows [][]any) []any {
		n := len(rows)
		ids, models, etags := make([]string, n), make([]string, n), make([]string, n)
		props, meta, ops := make([]string, n), make([]string, n), make([]string, n)
		times, patches := make([]int64, n), make([]*string, n)
		for i, r := range rows {
			ids[i], models[i], etags[i] = r[0].(string), r[1].(string), r[2].(string)
			props[i], meta[i] = string(r[3].([]byte)), string(r[4].([]byte))
			times[i], ops[i], patches[i] = r[5].(int64), r[6].(string), r[7].(*string)
		}
		return []any{ids, models, etags, props, meta, times, ops, patches}
	},
}

// twinKey is the writeRead key of twin id.
func twinKey(id twin.ID) string { return "twin\x00" + string(id) }

func modelExists(ctx context.Context, q querier, id string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, qModelExists, id).Scan(&ok)
	return ok, err
}

// PutTwin implements store.Store.
func (db *DB) PutTwin(ctx context.Context, t twin.Twin, cond store.Condition) (twin.Twin, error) {
	if t.ID == "" {
		return twin.Twin{}, fmt.Errorf("postgres: put twin: empty $dtId: %w", store.ErrInvalid)
	}
	if t.Metadata.Model == "" {
		return twin.Twin{}, fmt.Errorf("postgres: put twin %q: empty $model: %w", t.ID, store.ErrInvalid)
	}
	if out, err := db.putBlind(ctx, t, cond); !errors.Is(err, errBlindFallback) {
		if err != nil {
			return twin.Twin{}, fmt.Errorf("postgres: put twin %q: %w", t.ID, err)
		}
		return out, nil
	}
	var out twin.Twin
	var rec store.Record
	args := []any{string(t.ID), t.Metadata.Model}
	read := firstRead{keys: []string{twinKey(t.ID)}, sql: qTwinState, args: args, merge: twinStates}
	err := db.writeRead(ctx, read, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var etag *string
		var modelOK bool
		var models int64
		if err := tx.QueryRow(ctx, qTwinState, args...).Scan(&etag, &modelOK, &models); err != nil {
			return err
		}
		if err := sqlcore.CheckModels(cond, models); err != nil {
			return err
		}
		exists := etag != nil
		var cur twin.ETag
		if exists {
			cur = twin.ETag(*etag)
		}
		if err := checkCond(cond, exists, cur); err != nil {
			return err
		}
		if !modelOK {
			return fmt.Errorf("model %q does not exist: %w", t.Metadata.Model, store.ErrInvalid)
		}
		out = stampTwin(t.Clone(), now)
		op := store.OpCreate
		if exists {
			op = store.OpReplace
		}
		return writeTwin(ctx, tx, &rec, &out, now, op, nil)
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: put twin %q: %w", t.ID, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// GetTwin implements store.Store.
func (db *DB) GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error) {
	t, ok, err := readTwin(ctx, db.r, id)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: get twin %q: %w", id, err)
	}
	if !ok {
		return twin.Twin{}, fmt.Errorf("postgres: get twin %q: %w", id, store.ErrNotFound)
	}
	return t, nil
}

// GetTwinJSON implements store.Store. jsonb keeps neither the key order nor
// the number spelling of the text it was given, so unlike store/sqlite this
// decodes the properties and marshals the twin.
func (db *DB) GetTwinJSON(ctx context.Context, id twin.ID) ([]byte, twin.ETag, error) {
	t, err := db.GetTwin(ctx, id)
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: get twin %q: %w", id, err)
	}
	return b, t.ETag, nil
}

// patchFrom applies p (pj: its JSON) to cur, the stored version of a twin,
// at transaction time now and stores the result with a new ETag in *out;
// the change's record goes to *rec (see writeTwin).
func patchFrom(ctx context.Context, tx pgx.Tx, out *twin.Twin, rec *store.Record, cur *twin.Twin, p twin.Patch, pj []byte, now int64) error {
	next, err := cur.ApplyPatch(p, nsTime(now))
	if err != nil {
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	if next.Metadata.Model != cur.Metadata.Model {
		ok, err := modelExists(ctx, tx, next.Metadata.Model)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("model %q does not exist: %w", next.Metadata.Model, store.ErrInvalid)
		}
	}
	next.ETag = twin.NewETag()
	*out = next
	return writeTwin(ctx, tx, rec, out, now, store.OpPatch, pj)
}

// PatchTwin implements store.Store.
func (db *DB) PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w: %w", id, store.ErrInvalid, err)
	}
	var out twin.Twin
	var rec store.Record
	read := firstRead{keys: []string{twinKey(id)}, sql: qTwinPatchState, args: []any{string(id)}}
	err = db.writeRead(ctx, read, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var model, etag string
		var props, meta []byte
		var models int64
		err := tx.QueryRow(ctx, qTwinPatchState, string(id)).Scan(&model, &etag, &props, &meta, &models)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := sqlcore.CheckModels(cond, models); err != nil {
			return err
		}
		cur, err := decodeTwin(string(id), model, etag, props, meta)
		if err != nil {
			return err
		}
		if err := checkCond(cond, true, cur.ETag); err != nil {
			return err
		}
		return patchFrom(ctx, tx, &out, &rec, &cur, p, pj, now)
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// DeleteTwin implements store.Store. The record's data is the deleted
// version's document.
func (db *DB) DeleteTwin(ctx context.Context, id twin.ID, cond store.Condition) error {
	var rec store.Record
	// It names its twin but does not read ahead: it checks for the
	// relationships to the twin, which an earlier write of the group may
	// change without naming the twin (a put that moves a relationship's
	// target away from it, a delete of a relationship to it).
	err := db.writeRead(ctx, firstRead{keys: []string{twinKey(id)}}, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var model, etag string
		var props, meta []byte
		var hasRels bool
		err := tx.QueryRow(ctx, qTwinDeleteState, string(id)).Scan(&model, &etag, &props, &meta, &hasRels)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := checkCond(cond, true, twin.ETag(etag)); err != nil {
			return err
		}
		if hasRels {
			return fmt.Errorf("twin has relationships: %w", store.ErrConflict)
		}
		old, err := decodeTwin(string(id), model, etag, props, meta)
		if err != nil {
			return err
		}
		doc, err := json.Marshal(old)
		if err != nil {
			return err
		}
		rec = sqlcore.TwinRecord(store.OpDelete, id, old.ETag, model, now, doc)
		rec.Org = old.Metadata.Org
		// The twin exists (the clock's lock keeps it), so the statement
		// returns its row.
		return queryRowLater(ctx, tx, []any{&rec.Seq}, qTwinDelete, string(id), now, string(doc))
	})
	if err != nil {
		return fmt.Errorf("postgres: delete twin %q: %w", id, err)
	}
	sqlcore.Deliver(ctx, rec)
	return nil
}

// PatchTwinFrom applies p to base, the current version of twin base.ID as
// the caller read it, and stores the result if the twin still has base's
// ETag: ErrNotFound if it is gone, ErrPreconditionFailed if it has another
// version by now. It saves PatchTwin's read and decode of the stored twin;
// otherwise it behaves as PatchTwin (this is store.TwinPatcher).
func (db *DB) PatchTwinFrom(ctx context.Context, base twin.Twin, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w: %w", base.ID, store.ErrInvalid, err)
	}
	if out, err := db.patchBlind(ctx, base, p, pj, cond); !errors.Is(err, errBlindFallback) {
		if err != nil {
			return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w", base.ID, err)
		}
		return out, nil
	}
	var out twin.Twin
	var rec store.Record
	read := firstRead{keys: []string{twinKey(base.ID)}, sql: qTwinPatchFromState, args: []any{string(base.ID)}, merge: patchFromStates}
	err = db.writeRead(ctx, read, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var etag *string
		var models int64
		if err := tx.QueryRow(ctx, qTwinPatchFromState, string(base.ID)).Scan(&etag, &models); err != nil {
			return err
		}
		if err := sqlcore.CheckModels(cond, models); err != nil {
			return err
		}
		if etag == nil {
			return store.ErrNotFound
		}
		if twin.ETag(*etag) != base.ETag {
			return fmt.Errorf("etag %s is not the base's %s: %w", *etag, base.ETag, store.ErrPreconditionFailed)
		}
		return patchFrom(ctx, tx, &out, &rec, &base, p, pj, now)
	})
	if err != nil {
		return twin.Twin{}, fmt.Errorf("postgres: patch twin %q: %w", base.ID, err)
	}
	sqlcore.Deliver(ctx, rec)
	return out, nil
}
