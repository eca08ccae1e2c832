package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A merger merges statements of one kind that several writes of a group
// queued, such as their twin writes, into one set-based statement: the
// server then starts one executor and one savepoint for them instead of
// one each, and the client encodes one set of parameters.
//
// Each merged statement's args are a row; rows that share a key (the same
// entity) do not merge, so that one statement never touches a row twice.
// The merged statement returns one row per statement, in their order: the
// columns of the statement's own row (scanned into its dest), then the
// value that matches it (see match), which is checked.
type merger struct {
	sql    string                 // takes the arrays made by arrays
	key    func(args []any) any   // rows with equal keys do not merge (comparable)
	match  func(args []any) int64 // the last column of the row returned for args
	arrays func(rows [][]any) []any
}

// maxMerged caps the statements merged into one.
const maxMerged = maxGroup

// queueMerged is queryRowLater for a statement that m may merge with
// those of the same kind that the writes after this one queue. Only a
// write's last statement should be queued so: a statement is merged only
// when it directly follows its write's savepoint in the queue, so that if
// the merged statement fails, rolling back to that savepoint undoes
// nothing else, and the statements are then sent one by one.
func queueMerged(ctx context.Context, tx pgx.Tx, m *merger, dest []any, sql string, args ...any) error {
	if t, ok := tx.(*groupTx); ok && t.op != ctl {
		t.ahead = nil
		t.pending = append(t.pending, stmt{sql: sql, args: args, dest: dest, op: t.op, merge: m})
		return nil
	}
	return tx.QueryRow(ctx, sql, args...).Scan(dest...)
}

// span is what send sends for t.pending[from:to]: the statement at from
// alone, or, when merged, the savepoint at from (of the first write) and
// one merged statement for the statements at from+1, from+3, … (the
// savepoints between them are not sent).
type span struct {
	from, to int
	merged   bool
}

// mergeable reports whether t.pending[i:i+2] is a write's savepoint and a
// statement it queued to be merged, of a write that has returned.
func (t *groupTx) mergeable(i int) bool {
	p := t.pending
	return i+1 < len(p) && p[i].save && p[i+1].merge != nil && p[i+1].op == p[i].op && p[i].op != t.op
}

// plan splits t.pending into spans, merging where it may (when merge is
// true).
func (t *groupTx) plan(merge bool) []span {
	spans := make([]span, 0, len(t.pending))
	for i := 0; i < len(t.pending); {
		if merge && t.mergeable(i) {
			m := t.pending[i+1].merge
			j := i + 2
			for ; j-i < 2*maxMerged && t.mergeable(j) && t.pending[j+1].merge == m && !t.keyIn(m, i, j); j += 2 {
			}
			if j-i >= 4 {
				spans = append(spans, span{from: i, to: j, merged: true})
				i = j
				continue
			}
		}
		spans = append(spans, span{from: i, to: i + 1})
		i++
	}
	return spans
}

// keyIn reports whether the statement at j+1 has the key of one of the
// merged statements at i+1, i+3, …, j-1.
func (t *groupTx) keyIn(m *merger, i, j int) bool {
	k := m.key(t.pending[j+1].args)
	for x := i + 1; x < j; x += 2 {
		if m.key(t.pending[x].args) == k {
			return true
		}
	}
	return false
}

// mergedArgs returns the args of the statements merged in sp.
func (t *groupTx) mergedArgs(sp span) [][]any {
	rows := make([][]any, 0, (sp.to-sp.from)/2)
	for x := sp.from + 1; x < sp.to; x += 2 {
		rows = append(rows, t.pending[x].args)
	}
	return rows
}

// readMerged reads the rows of sp's merged statement into the dests of
// its statements.
func (t *groupTx) readMerged(br pgx.BatchResults, sp span) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	x := sp.from + 1
	for rows.Next() {
		if x >= sp.to {
			return fmt.Errorf("postgres: merged statement returned more rows than it merged")
		}
		s := t.pending[x]
		m := s.merge
		var got int64
		if err := rows.Scan(append(s.dest[:len(s.dest):len(s.dest)], &got)...); err != nil {
			return err
		}
		if want := m.match(s.args); got != want {
			return fmt.Errorf("postgres: merged statement returned the row of %d for %d", got, want)
		}
		x += 2
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if x < sp.to {
		return fmt.Errorf("postgres: merged statement returned fewer rows than it merged")
	}
	return nil
}
