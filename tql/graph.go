package tql

import (
	"iter"
	"time"
)

// Doc is a twin or relationship document in ADT JSON shape, as decoded by
// encoding/json: a twin has "$dtId" and "$metadata": {"$model": ...}; a
// relationship has "$relationshipId", "$sourceId", "$targetId" and
// "$relationshipName"; properties sit at the top level. Numbers are float64.
// The evaluator never modifies a Doc.
type Doc = map[string]any

// Graph is what the reference evaluator reads. Implementations return
// documents the caller must not modify. Iteration order is part of the
// contract, because continuation tokens resume from a position:
// Twins ascends by $dtId, Relationships by RelKey, and Outgoing and Incoming
// by $relationshipId (then $sourceId) so that a query gives the same rows in
// the same order every time.
//
// A Graph backed by I/O should bind its context when it is created and report
// failures through an Err method (see [ErrGraph]); Eval checks it.
type Graph interface {
	// Twin returns the twin with the given $dtId.
	Twin(id string) (Doc, bool)
	// Twins yields the twins whose $dtId is >= start, ascending.
	Twins(start string) iter.Seq[Doc]
	// Relationships yields the relationships whose RelKey is >= start,
	// ascending.
	Relationships(start string) iter.Seq[Doc]
	// Outgoing yields the relationships whose source is id; with names, only
	// those with one of these $relationshipName values.
	Outgoing(id string, names []string) iter.Seq[Doc]
	// Incoming yields the relationships whose target is id, filtered by
	// names like Outgoing.
	Incoming(id string, names []string) iter.Seq[Doc]
	// IsOfModel reports whether a twin of model is of model base: the same
	// model, or (unless exact) one that extends base directly or indirectly.
	IsOfModel(model, base string, exact bool) bool
}

// ModelScanner is implemented by graphs that can list the twins of a model
// (and, unless exact, of the models extending it) without reading the others.
// The evaluator uses it for scans constrained by IS_OF_MODEL.
type ModelScanner interface {
	TwinsOfModel(base string, exact bool, start string) iter.Seq[Doc]
}

// HistoryGraph is implemented by graphs that keep history; AS OF uses it.
type HistoryGraph interface {
	// AsOf returns the graph as it was at t.
	AsOf(t time.Time) (Graph, error)
}

// ErrGraph is implemented by graphs whose reads can fail; Eval returns Err's
// error, if any, after reading.
type ErrGraph interface {
	Err() error
}

// RelKey is the ordering key of a relationship document in
// Graph.Relationships: its $sourceId, a NUL byte and its $relationshipId.
func RelKey(rel Doc) string { return str(rel["$sourceId"]) + "\x00" + str(rel["$relationshipId"]) }

// TwinModel returns the $metadata.$model of a twin document.
func TwinModel(twin Doc) string {
	if m, ok := twin["$metadata"].(map[string]any); ok {
		return str(m["$model"])
	}
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
