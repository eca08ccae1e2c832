package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache keeps prepared statements per query text. Statements prepared
// on a *sql.DB are re-prepared by database/sql on each pool connection as
// needed and reused after that.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// tx and inTx are the statements of m bound to the running write
	// transaction (writer cache only): a group of writes runs the same few
	// statements many times, and binding one to a transaction
	// (Tx.StmtContext) allocates a statement each time.
	tx   *sql.Tx
	inTx map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[q]; ok {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[q] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = nil
}

// writerQueries are prepared on the writer connection when the database
// opens. They cannot be prepared later: the writer has one connection, and
// inside a transaction the transaction holds it.
var writerQueries []string

// prepareWriter prepares writerQueries on the writer connection.
func (db *DB) prepareWriter(ctx context.Context) error {
	for _, q := range writerQueries {
		if _, err := db.wstmts.get(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// txStmt returns the writer statement for q bound to tx: the one prepared at
// open if q is in writerQueries, else one prepared in tx.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	c := &db.wstmts
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[q]
	if !ok {
		s, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		return s, nil
	}
	if c.tx != tx {
		// Another transaction: its statements were closed with it.
		c.tx = tx
		clear(c.inTx)
	}
	if ts, ok := c.inTx[q]; ok {
		return ts, nil
	}
	ts := tx.StmtContext(context.WithoutCancel(ctx), s)
	if c.inTx == nil {
		c.inTx = make(map[string]*sql.Stmt)
	}
	c.inTx[q] = ts
	return ts, nil
}

// txExec runs a cached statement in tx.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	s, err := db.txStmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// txQueryRow runs a cached single-row query in tx.
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	s, err := db.txStmt(ctx, tx, q)
	if err != nil {
		return tx.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// readRow runs a cached single-row query on the reader pool.
func (db *DB) readRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := db.rstmts.get(ctx, q)
	if err != nil {
		return db.r.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// readRows runs a cached query on the reader pool.
func (db *DB) readRows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := db.rstmts.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}
