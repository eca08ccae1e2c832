package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// multiInsert batches rows into multi-row INSERT statements, which costs
// SQLite and database/sql one statement execution per chunk instead of per
// row. It is used by Import when the target table starts empty, where no
// row needs archiving first.
type multiInsert struct {
	tx     *sql.Tx
	prefix string // "INSERT OR REPLACE INTO t(a, b) VALUES "
	cols   int
	chunk  int // rows per full statement
	full   *sql.Stmt
	args   []any
}

// newMultiInsert prepares the full-chunk statement. chunk*cols stays well
// under SQLite's default limit of 32766 parameters.
func newMultiInsert(ctx context.Context, tx *sql.Tx, prefix string, cols, chunk int) (*multiInsert, error) {
	m := &multiInsert{tx: tx, prefix: prefix, cols: cols, chunk: chunk, args: make([]any, 0, cols*chunk)}
	var err error
	if m.full, err = tx.PrepareContext(ctx, m.query(chunk)); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return m, nil
}

func (m *multiInsert) query(rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", m.cols), ",") + ")"
	return m.prefix + strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
}

// add queues one row of m.cols values.
func (m *multiInsert) add(ctx context.Context, vals ...any) error {
	m.args = append(m.args, vals...)
	if len(m.args) == m.cols*m.chunk {
		if _, err := m.full.ExecContext(ctx, m.args...); err != nil {
			return err
		}
		m.args = m.args[:0]
	}
	return nil
}

// flush writes the queued rows.
func (m *multiInsert) flush(ctx context.Context) error {
	if len(m.args) == 0 {
		return nil
	}
	_, err := m.tx.ExecContext(ctx, m.query(len(m.args)/m.cols), m.args...)
	m.args = m.args[:0]
	return err
}
