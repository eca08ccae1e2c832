package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// The commit hook (store.CommitHook) runs in the writer, in the
// transaction of a group, after flushRecords and before the commit: the
// single writer makes the order of its transactions the commit order, so
// a hook that appends (the transparency log) appends in commit order, and
// what it writes commits if and only if the group's writes do. It runs in
// a savepoint of its own, so that a hook that fails costs the group
// nothing but the hook's own writes; the writes still commit and the hook
// is told so (Finished(true) with nothing of its own applied is for the
// hook to sort out: it kept its state as before, as PrepareCommit's
// contract asks).

var _ store.CommitHooker = (*DB)(nil)

const (
	qHookSavepoint  = `SAVEPOINT hook`
	qHookRollbackTo = `ROLLBACK TO hook`
	qHookRelease    = `RELEASE hook`
	// qDocReplaceIf and qDocCreate are conditional document writes in one
	// statement each (the general PutDoc reads the ETag first): a hook
	// appending to a log rewrites its last document under If-Match, or
	// starts the next under If-None-Match, in every transaction.
	qDocReplaceIf = `UPDATE docs SET etag = ?, body = ?, updated_ns = ? WHERE kind = ? AND id = ? AND etag = ?`
	qDocCreate    = `INSERT INTO docs(kind, id, etag, body, updated_ns) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO NOTHING`
)

func init() {
	writerQueries = append(writerQueries, qHookSavepoint, qHookRollbackTo, qHookRelease, qDocReplaceIf, qDocCreate)
}

// SetCommitHook implements store.CommitHooker.
func (db *DB) SetCommitHook(h store.CommitHook) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if h != nil && db.hook != nil {
		return fmt.Errorf("sqlite: set commit hook: the store has one: %w", store.ErrConflict)
	}
	db.hook = h
	return nil
}

// RunCommitHook implements store.CommitHooker: an empty write that asks for
// the hook; it is group-committed with the writes queued beside it.
func (db *DB) RunCommitHook(ctx context.Context) error {
	if err := db.submitOp(ctx, &writeOp{fn: func(context.Context, *sql.Tx, int64) error { return nil }, hook: true}); err != nil {
		return fmt.Errorf("sqlite: commit hook: %w", err)
	}
	return nil
}

// commit ends tx, whose writes succeeded (those that failed rolled back in
// their savepoints): it inserts the queued outbox rows, runs the commit
// hook if the transaction made records or hooked asks for it, and commits.
// err is set, and tx rolled back, if the transaction failed; hookErr is
// the hook's own failure, which rolled back only what the hook wrote. The
// hook is told the outcome before commit returns. The caller holds wmu.
func (db *DB) commit(ctx context.Context, tx *sql.Tx, hooked bool) (hookErr, err error) {
	if err := db.flushRecords(ctx, tx); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	h := db.hook
	if h == nil || len(db.recs) == 0 && !hooked {
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("sqlite: commit: %w", err)
		}
		return nil, nil
	}
	committed := false
	defer func() { h.Finished(committed) }()
	if hookErr, err = db.runHook(ctx, tx, h); err != nil {
		_ = tx.Rollback()
		return hookErr, err
	}
	if err := tx.Commit(); err != nil {
		return hookErr, fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	return hookErr, nil
}

// runHook runs h.PrepareCommit in a savepoint of tx, rolled back if the
// hook fails; err is set if the savepoint itself failed (tx is unusable).
func (db *DB) runHook(ctx context.Context, tx *sql.Tx, h store.CommitHook) (hookErr, err error) {
	if _, err := db.txExec(ctx, tx, qHookSavepoint); err != nil {
		return nil, fmt.Errorf("sqlite: hook savepoint: %w", err)
	}
	if hookErr = callHook(ctx, h, txDocs{db, tx}, db.recs); hookErr != nil {
		if _, err := db.txExec(ctx, tx, qHookRollbackTo); err != nil {
			return hookErr, fmt.Errorf("sqlite: rollback to hook savepoint: %w", err)
		}
	}
	if _, err := db.txExec(ctx, tx, qHookRelease); err != nil {
		return hookErr, fmt.Errorf("sqlite: release hook savepoint: %w", err)
	}
	return hookErr, nil
}

// callHook runs h.PrepareCommit, turning a panic into an error (as
// callWrite does for writes).
func callHook(ctx context.Context, h store.CommitHook, tx store.TxDocs, recs []store.Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: commit hook panicked: %v", r)
		}
	}()
	return h.PrepareCommit(ctx, tx, recs)
}

// txDocs is store.TxDocs on the writer's transaction.
type txDocs struct {
	db *DB
	tx *sql.Tx
}

// GetDoc implements store.TxDocs.
func (t txDocs) GetDoc(ctx context.Context, kind, id string) (store.Doc, error) {
	d, err := core.GetDoc(ctx, txConn{t.db, t.tx}, kind, id)
	if err != nil {
		return store.Doc{}, fmt.Errorf("sqlite: get doc %q of %q: %w", id, kind, err)
	}
	return d, nil
}

// PutDoc implements store.TxDocs. The document's time is the transaction
// time of the group's last write. An If-Match of an exact ETag (what a
// hook that wrote the document got back) and an If-None-Match take one
// statement; a stored ETag that matches cond.IfMatch only weakly gives
// ErrPreconditionFailed there, as a changed one does.
func (t txDocs) PutDoc(ctx context.Context, d store.Doc, cond store.Condition) (store.Doc, error) {
	if err := sqlcore.CheckDoc(&d); err != nil {
		return store.Doc{}, fmt.Errorf("sqlite: put doc %q of %q: %w", d.ID, d.Kind, err)
	}
	now := t.db.last
	var res sql.Result
	var err error
	out := store.Doc{Kind: d.Kind, ID: d.ID, ETag: twin.NewETag(), Body: d.Body, Updated: nsTime(now)}
	switch {
	case cond.IfNoneMatch && cond.IfMatch == "":
		res, err = t.db.txExec(ctx, t.tx, qDocCreate, out.Kind, out.ID, string(out.ETag), string(out.Body), now)
	case !cond.IfNoneMatch && cond.IfMatch != "" && cond.IfMatch != twin.AnyETag:
		res, err = t.db.txExec(ctx, t.tx, qDocReplaceIf, string(out.ETag), string(out.Body), now, out.Kind, out.ID, string(cond.IfMatch))
	default:
		if out, err = core.PutDoc(ctx, txConn{t.db, t.tx}, d, cond, now); err != nil {
			return store.Doc{}, fmt.Errorf("sqlite: put doc %q of %q: %w", d.ID, d.Kind, err)
		}
		return out, nil
	}
	if err != nil {
		return store.Doc{}, fmt.Errorf("sqlite: put doc %q of %q: %w", d.ID, d.Kind, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return store.Doc{}, fmt.Errorf("sqlite: put doc %q of %q: %w", d.ID, d.Kind, errors.Join(store.ErrPreconditionFailed, err))
	}
	return out, nil
}
