package trust

import (
	"context"
	"errors"
	"fmt"

	"lodestone/store"
	"lodestone/twin"
)

// The log as the store's commit hook.
//
// Appending after the commit (Committed) costs a second store transaction
// per batch of entries, which the write waits for, and leaves the log's
// order to whichever batch is written first. On a store whose single
// writer runs a store.CommitHook (SQLite), the log instead writes the
// entries of a transaction's records in that transaction, after its
// outbox rows and before its commit: the entries commit if and only if
// the changes do, log order is commit order, and one transaction serves
// the changes and the log. PrepareCommit writes the chunk documents and
// keeps the entries aside (pend); Finished adds them to the in-memory
// tree once the commit has happened, or drops them, so a transaction that
// fails leaves the log's memory as it was.
//
// The hook takes the records whose entry it can make from the record as
// the store wrote it (hookable). The others, and records committed before
// the log started, reach Committed, which queues their entries (late) and
// has the store run the hook in a transaction (RunCommitHook): the log
// then never holds appendMu across a store write, which would deadlock
// with the writer waiting for appendMu in PrepareCommit.
//
// Other logs on the same store (servers sharing a database) append after
// their commits; every chunk write is conditional on the chunk's ETag, and
// a hook that finds a chunk changed reads the chunks in the transaction
// (syncTx) and appends after them.

var _ store.CommitHook = (*Log)(nil)

// hookEntries are entries waiting for PrepareCommit, with their seqs.
type hookEntries struct {
	ents [][]byte
	seqs []int64
}

// hookTx is what one PrepareCommit took and wrote.
type hookTx struct {
	late   hookEntries // taken from l.late, put back if the transaction fails
	ents   [][]byte    // entries written after the in-memory ones, in order
	seqs   []int64
	etag   string // ETag of the last chunk written (or read) in the transaction
	failed bool   // PrepareCommit failed: its writes were rolled back
}

// hookable reports whether the hook logs r in its own transaction: a twin
// or relationship record with its data (the store names the writer and
// signer of a patch's version in its record, as the pipeline would). The
// pipeline completes other records after the store has written them (the
// owner org of telemetry), and a twin create made without a recorder has
// no document yet (the outbox rebuilds it); those are logged by
// Committed, from the records as the pipeline or the relay hands them
// over, so that every entry is the one Committed would have made.
func hookable(r store.Record) bool {
	return (r.Kind == store.KindTwin || r.Kind == store.KindRelationship) && len(r.Data) > 0 && r.Seq != 0
}

// PrepareCommit implements store.CommitHook: it writes the entries of the
// hookable records of recs, and the late entries queued by Committed, in
// the store's transaction tx. It holds appendMu until Finished.
func (l *Log) PrepareCommit(ctx context.Context, tx store.TxDocs, recs []store.Record) error {
	l.appendMu.Lock()
	l.qmu.Lock()
	l.pend = hookTx{late: l.late}
	l.late = hookEntries{}
	l.qmu.Unlock()
	p := &l.pend
	var ents [][]byte
	var seqs []int64
	var seen map[int64]bool
	if len(p.late.seqs) > 1 {
		seen = make(map[int64]bool, len(p.late.seqs))
	}
	for i, s := range p.late.seqs {
		if l.known(s) || seen[s] {
			continue
		}
		if seen != nil {
			seen[s] = true
		}
		ents, seqs = append(ents, p.late.ents[i]), append(seqs, s)
	}
	for _, r := range recs {
		if !hookable(r) || l.known(r.Seq) {
			continue
		}
		e, err := EntryOf(l.source, r)
		if err != nil {
			continue // Committed reports it to the write
		}
		ents, seqs = append(ents, e.Bytes()), append(seqs, r.Seq)
	}
	sortBySeq(ents, seqs)
	if err := l.writeTx(ctx, tx, ents, seqs); err != nil {
		p.failed = true
		return fmt.Errorf("trust: append to the log: %w", err)
	}
	return nil
}

// Finished implements store.CommitHook: it adds what PrepareCommit wrote
// to the tree if the transaction committed, and else puts the late
// entries it took back in the queue.
func (l *Log) Finished(committed bool) {
	defer l.appendMu.Unlock()
	p := l.pend
	l.pend = hookTx{}
	if !committed || p.failed {
		if len(p.late.seqs) > 0 {
			l.qmu.Lock()
			l.late.ents = append(p.late.ents, l.late.ents...)
			l.late.seqs = append(p.late.seqs, l.late.seqs...)
			l.qmu.Unlock()
		}
		return
	}
	if len(p.ents) == 0 {
		return
	}
	if err := l.add(p.ents, p.seqs); err != nil {
		// Only a hash reader that misses a hash of the tree fails, which
		// add's own appends rule out.
		l.logger.Error("transparency log: add committed entries", "err", err)
	}
	l.mu.Lock()
	l.lastChunk = p.etag
	l.mu.Unlock()
}

// known reports whether seq has an entry in the tree or in the running
// transaction; the caller holds appendMu.
func (l *Log) known(seq int64) bool {
	if seq == 0 {
		return false
	}
	l.mu.RLock()
	_, ok := l.seqs[seq]
	l.mu.RUnlock()
	if ok {
		return true
	}
	for _, s := range l.pend.seqs {
		if s == seq {
			return true
		}
	}
	return false
}

// viewSize is the size of the tree with the running transaction's
// entries; the caller holds appendMu (nothing else changes the tree).
func (l *Log) viewSize() int64 { return int64(len(l.entries) + len(l.pend.ents)) }

// viewEntry returns entry i of the tree with the running transaction's
// entries, and its seq; the caller holds appendMu.
func (l *Log) viewEntry(i int64) ([]byte, int64) {
	if n := int64(len(l.entries)); i >= n {
		return l.pend.ents[i-n], l.pend.seqs[i-n]
	}
	return l.entries[i], l.seqOf[i]
}

// viewETag returns the ETag of the last chunk as the transaction sees it.
func (l *Log) viewETag() string {
	if l.pend.etag != "" {
		return l.pend.etag
	}
	return l.lastChunk
}

// maxHookSyncs bounds how often one PrepareCommit reads other logs'
// entries before it gives up (and Committed appends instead).
const maxHookSyncs = 8

// writeTx stores ents after the last entry in tx, chunk by chunk, keeping
// them in l.pend; the caller holds appendMu.
func (l *Log) writeTx(ctx context.Context, tx store.TxDocs, ents [][]byte, seqs []int64) error {
	p := &l.pend
	for syncs := 0; len(ents) > 0; {
		size := l.viewSize()
		chunk, k := size/ChunkSize, int(size%ChunkSize)
		n := min(ChunkSize-k, len(ents))
		cents, cseqs := make([][]byte, 0, k+n), make([]int64, 0, k+n)
		cond := store.Condition{IfNoneMatch: true}
		if k > 0 {
			for i := size - int64(k); i < size; i++ {
				e, s := l.viewEntry(i)
				cents, cseqs = append(cents, e), append(cseqs, s)
			}
			cond = store.Condition{IfMatch: twin.ETag(l.viewETag())}
		}
		cents, cseqs = append(cents, ents[:n]...), append(cseqs, seqs[:n]...)
		d, err := tx.PutDoc(ctx, store.Doc{Kind: DocChunk, ID: chunkID(chunk), Body: encodeChunk(cents, cseqs)}, cond)
		if errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			// Another log appended: read its entries and append after them.
			if syncs++; syncs > maxHookSyncs {
				return err
			}
			if err := l.syncTx(ctx, tx); err != nil {
				return err
			}
			ents, seqs = l.unknown(ents, seqs)
			continue
		}
		if err != nil {
			return err
		}
		p.ents, p.seqs = append(p.ents, ents[:n]...), append(p.seqs, seqs[:n]...)
		p.etag = string(d.ETag)
		ents, seqs = ents[n:], seqs[n:]
	}
	return nil
}

// unknown returns the entries of ents whose seqs are not known (yet).
func (l *Log) unknown(ents [][]byte, seqs []int64) ([][]byte, []int64) {
	var e2 [][]byte
	var s2 []int64
	for i, s := range seqs {
		if !l.known(s) {
			e2, s2 = append(e2, ents[i]), append(s2, s)
		}
	}
	return e2, s2
}

// syncTx reads, in tx, the entries appended after the tree and the
// running transaction's entries, and adds them to the transaction's.
func (l *Log) syncTx(ctx context.Context, tx store.TxDocs) error {
	p := &l.pend
	for {
		size := l.viewSize()
		chunk, k := size/ChunkSize, int(size%ChunkSize)
		d, err := tx.GetDoc(ctx, DocChunk, chunkID(chunk))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("trust: read log chunk %d: %w", chunk, err)
		}
		ents, seqs, err := readChunk(d, chunk, k, func(i int64) []byte { e, _ := l.viewEntry(i); return e })
		if err != nil {
			return err
		}
		p.ents, p.seqs = append(p.ents, ents...), append(p.seqs, seqs...)
		p.etag = string(d.ETag)
		if k+len(ents) < ChunkSize {
			return nil
		}
	}
}

// commitLate logs the records of recs not logged yet (every one with a
// seq) through the store's hook: it queues their entries and has the store run the hook, which
// writes them in a transaction (shared with other writes, if any).
func (l *Log) commitLate(ctx context.Context, recs []store.Record) error {
	var missing []store.Record
	l.mu.RLock()
	for _, r := range recs {
		if _, ok := l.seqs[r.Seq]; !ok {
			missing = append(missing, r)
		}
	}
	l.mu.RUnlock()
	var add hookEntries
	for _, r := range missing {
		e, err := EntryOf(l.source, r)
		if err != nil {
			return err
		}
		add.ents, add.seqs = append(add.ents, e.Bytes()), append(add.seqs, r.Seq)
	}
	l.qmu.Lock()
	l.late.ents = append(l.late.ents, add.ents...)
	l.late.seqs = append(l.late.seqs, add.seqs...)
	l.qmu.Unlock()
	// One run normally logs them; a transaction that took them and failed
	// put them back, for the next.
	for range 3 {
		if err := l.hooker.RunCommitHook(ctx); err != nil {
			return fmt.Errorf("trust: append to the log: %w", err)
		}
		if l.logged(missing) {
			return nil
		}
	}
	return errors.New("trust: append to the log: the store's hook did not log the records")
}
