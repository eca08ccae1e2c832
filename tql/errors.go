package tql

import (
	"errors"
	"fmt"
)

// ParseError is a syntax error: the query does not follow the grammar.
// It renders as "tql: line 1, col 34: expected RELATED after JOIN alias".
type ParseError struct {
	Pos   Pos
	Query string
	Msg   string
}

// Error renders the error with its position.
func (e *ParseError) Error() string { return "tql: " + e.Pos.String() + ": " + e.Msg }

// SemanticError is a well-formed query that cannot run: an unknown
// collection name, a relationship variable over several hops, an aggregate
// in WHERE, units that do not convert. It renders like a ParseError.
type SemanticError struct {
	Pos   Pos
	Query string
	Msg   string
}

// Error renders the error with its position.
func (e *SemanticError) Error() string { return "tql: " + e.Pos.String() + ": " + e.Msg }

// CostError reports that a query would read more rows than Options.MaxScan
// allows. Checked with errors.As; ErrCostLimit matches it with errors.Is.
type CostError struct {
	Limit   int // Options.MaxScan
	Scanned int // rows read when the query was stopped
}

// Error names the limit and how to stay within it.
func (e *CostError) Error() string {
	return fmt.Sprintf("tql: query exceeds the scan limit of %d rows (Options.MaxScan); add a $dtId or IS_OF_MODEL condition, raise the limit or page with Options.OnLimit", e.Limit)
}

// Is reports whether target is ErrCostLimit.
func (e *CostError) Is(target error) bool { return target == ErrCostLimit }

// ErrCostLimit is matched (errors.Is) by every *CostError.
var ErrCostLimit = errors.New("tql: scan limit exceeded")

// ErrBadToken reports a continuation token that is malformed or belongs to
// another query. Checked with errors.Is.
var ErrBadToken = errors.New("tql: invalid continuation token")

// ErrNoHistory reports an AS OF query on a graph that keeps no history.
// Checked with errors.Is.
var ErrNoHistory = errors.New("tql: graph keeps no history for AS OF")
