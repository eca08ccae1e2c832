package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// PendingRecords implements store.Outbox.
func (db *DB) PendingRecords(ctx context.Context, after int64, limit int) ([]store.Record, error) {
	recs, err := core.PendingRecords(ctx, readConn{db}, after, limit, func(id twin.ID, model, etag string, props, meta []byte) ([]byte, error) {
		return twinJSON(id, model, etag, string(props), string(meta))
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending records: %w", err)
	}
	return recs, nil
}

// qSaveSeq saves the last seq handed out, before acks delete records.
const qSaveSeq = `UPDATE state SET seq = ?`

// recordCols is the number of values of an outbox row: seq, then
// sqlcore.RecordCols.
const recordCols = 8

// qRecordRows[k] inserts k outbox rows; k is a power of two up to
// maxRecordRows. They are prepared at open, so a group of writes inserts
// its n records in about log2(n) statements and prepares none.
var qRecordRows = map[int]string{}

const maxRecordRows = 64

func init() {
	writerQueries = append(writerQueries, qSaveSeq)
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", recordCols), ",") + ")"
	for k := 1; k <= maxRecordRows; k *= 2 {
		qRecordRows[k] = `INSERT INTO outbox(seq, ` + sqlcore.RecordCols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", k), ",")
		writerQueries = append(writerQueries, qRecordRows[k])
	}
}

// flushRecords inserts the outbox rows the writes of tx queued. The writer
// calls it just before it commits tx.
func (db *DB) flushRecords(ctx context.Context, tx *sql.Tx) error {
	args := db.records
	for len(args) > 0 {
		n := len(args) / recordCols
		k := maxRecordRows
		for k > n {
			k /= 2
		}
		if _, err := db.txExec(ctx, tx, qRecordRows[k], args[:k*recordCols]...); err != nil {
			return fmt.Errorf("sqlite: outbox: %w", err)
		}
		args = args[k*recordCols:]
	}
	return nil
}

// dropRecords forgets the queued outbox rows from value n on: those of a
// write that rolled back, or (n = 0) all once a transaction has ended.
func (db *DB) dropRecords(n int) {
	clear(db.records[n:])
	db.records = db.records[:n]
	clear(db.recs[n/recordCols:])
	db.recs = db.recs[:n/recordCols]
}

// AckRecords implements store.Outbox. It is a write like the others (the
// database has one writer), group-committed with them.
func (db *DB) AckRecords(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ int64) error {
		if _, err := db.txExec(ctx, tx, qSaveSeq, db.seq); err != nil {
			return err
		}
		return core.AckRecords(ctx, txConn{db, tx}, seqs)
	})
	if err != nil {
		return fmt.Errorf("sqlite: ack records: %w", err)
	}
	return nil
}

// PutDoc implements store.Documents.
func (db *DB) PutDoc(ctx context.Context, d store.Doc, cond store.Condition) (store.Doc, error) {
	if err := sqlcore.CheckDoc(&d); err != nil {
		return store.Doc{}, fmt.Errorf("sqlite: put doc %q of %q: %w", d.ID, d.Kind, err)
	}
	var out store.Doc
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		var err error
		out, err = core.PutDoc(ctx, txConn{db, tx}, d, cond, now)
		return err
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("sqlite: put doc %q of %q: %w", d.ID, d.Kind, err)
	}
	return out, nil
}

// GetDoc implements store.Documents.
func (db *DB) GetDoc(ctx context.Context, kind, id string) (store.Doc, error) {
	d, err := core.GetDoc(ctx, readConn{db}, kind, id)
	if err != nil {
		return store.Doc{}, fmt.Errorf("sqlite: get doc %q of %q: %w", id, kind, err)
	}
	return d, nil
}

// ListDocs implements store.Documents.
func (db *DB) ListDocs(ctx context.Context, kind string) ([]store.Doc, error) {
	ds, err := core.ListDocs(ctx, readConn{db}, kind)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list docs of %q: %w", kind, err)
	}
	return ds, nil
}

// DeleteDoc implements store.Documents.
func (db *DB) DeleteDoc(ctx context.Context, kind, id string, cond store.Condition) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ int64) error {
		return core.DeleteDoc(ctx, txConn{db, tx}, kind, id, cond)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete doc %q of %q: %w", id, kind, err)
	}
	return nil
}
