package store

import "context"

// CommitHook is run by a store's writer inside its write transactions, so
// that what the hook writes commits or rolls back with the changes it
// covers. The transparency log (package trust) is one: its entries for
// the records of a transaction are written in that transaction, so the
// log holds an entry exactly for the changes that committed, in commit
// order, at the cost of no transaction of its own.
//
// The writer calls PrepareCommit once per transaction that wrote records
// (or that RunCommitHook asked for), after the records are numbered and
// written and before the commit, and then Finished exactly once, whatever
// happened, before it acknowledges any write of the transaction. The
// writer runs one transaction at a time, so the calls of two transactions
// never overlap.
type CommitHook interface {
	// PrepareCommit writes the hook's documents through tx, inside the
	// transaction. recs are the records the transaction's writes made (those
	// that rolled back in their savepoints left out), Seq set, in Seq order;
	// the hook must not keep or change them. An error rolls back what the
	// hook wrote (only that: the writes still commit) and is the result of
	// RunCommitHook; the hook should leave its in-memory state as before.
	PrepareCommit(ctx context.Context, tx TxDocs, recs []Record) error
	// Finished tells the hook whether the transaction committed: the hook
	// applies the in-memory state of what PrepareCommit wrote, or
	// discards it (a failed PrepareCommit, a failed commit).
	Finished(committed bool)
}

// TxDocs reads and writes documents inside a write transaction: what it
// writes is seen by its reads and commits with the transaction. It is only
// valid during the PrepareCommit call it was passed to.
type TxDocs interface {
	// GetDoc is Documents.GetDoc as the transaction sees the documents.
	GetDoc(ctx context.Context, kind, id string) (Doc, error)
	// PutDoc is Documents.PutDoc in the transaction.
	PutDoc(ctx context.Context, d Doc, cond Condition) (Doc, error)
}

// CommitHooker is implemented by the stores that run a CommitHook in their
// write transactions (store/sqlite, whose single writer makes commit order
// the order of its transactions). Callers check for it with a type
// assertion and do without the hook when it is missing.
type CommitHooker interface {
	// SetCommitHook installs h for the transactions that begin after it
	// returns; nil removes the hook. A store has at most one hook: setting
	// one while another is installed gives ErrConflict.
	SetCommitHook(h CommitHook) error
	// RunCommitHook commits a transaction in which the hook runs even if no
	// write makes records (it may share the transaction with other writes),
	// so that a hook can write what it has pending; it returns the hook's
	// PrepareCommit error, or the transaction's.
	RunCommitHook(ctx context.Context) error
}
