package store

import (
	"context"
	"iter"
	"time"

	"lodestone/twin"
)

// The roles of a store. Store is all of them; code that needs one role
// takes that role's interface, so that what it may do is visible in its
// signature and a test double stays small.

// Models stores the DTDL models and the version of the model set.
type Models interface {
	// PutModels stores a batch of models atomically: all or none. A model
	// whose id already exists gives ErrConflict; a model without id or
	// DTDL gives ErrInvalid. UploadTime is set by the store. cond.Models,
	// when non-zero, must be the current model-set version
	// (ErrModelsChanged otherwise): the batch was validated against it.
	// Each model records a KindModel OpCreate record.
	PutModels(ctx context.Context, models []twin.Model, cond Condition) ([]twin.Model, error)
	// GetModel returns one model, or ErrNotFound.
	GetModel(ctx context.Context, id string) (twin.Model, error)
	// ListModels returns all models ordered by id.
	ListModels(ctx context.Context) ([]twin.Model, error)
	// DecommissionModel marks a model decommissioned, or gives
	// ErrNotFound. It is idempotent: a model already decommissioned
	// records nothing and keeps the model-set version.
	DecommissionModel(ctx context.Context, id string) error
	// DeleteModel deletes a model that no twin uses and no model extends;
	// otherwise ErrConflict. A missing model gives ErrNotFound.
	DeleteModel(ctx context.Context, id string) error
	// ModelsVersion returns the version of the model set: it is 0 for an
	// empty store and increases with every committed model change
	// (upload, decommission, delete, an import with models).
	ModelsVersion(ctx context.Context) (int64, error)
}

// Twins stores the current versions of twins.
type Twins interface {
	// PutTwin creates or replaces a twin under cond. The twin's model must
	// exist (ErrInvalid). The store sets the ETag, "$lastUpdateTime" and
	// every property's lastUpdateTime (keeping given sourceTimes) and
	// returns the stored twin.
	PutTwin(ctx context.Context, t twin.Twin, cond Condition) (twin.Twin, error)
	// GetTwin returns the current version of a twin, or ErrNotFound.
	GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error)
	// GetTwinJSON returns the current version of a twin as its ADT JSON
	// document, byte for byte what json.Marshal of GetTwin's result gives,
	// and its ETag. Backends build it from the stored JSON without
	// decoding the properties where they can, which makes it the cheap way
	// to serve reads. The caller must not modify the document: a backend
	// may share it between readers (sqlite's document cache).
	GetTwinJSON(ctx context.Context, id twin.ID) ([]byte, twin.ETag, error)
	// PatchTwin applies a JSON Patch to a twin under cond (see
	// twin.Twin.ApplyPatch); the patch is recorded in the change list. A
	// patch that cannot be applied gives an error wrapping ErrInvalid and
	// the *twin.PatchError.
	PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond Condition) (twin.Twin, error)
	// DeleteTwin deletes a twin under cond. A twin with outgoing or
	// incoming relationships gives ErrConflict, as in ADT.
	DeleteTwin(ctx context.Context, id twin.ID, cond Condition) error
}

// Relationships stores the current versions of relationships.
type Relationships interface {
	// PutRelationship creates or replaces a relationship under cond. A
	// missing source twin gives ErrNotFound, a missing target ErrInvalid.
	PutRelationship(ctx context.Context, r twin.Relationship, cond Condition) (twin.Relationship, error)
	// GetRelationship returns a relationship by source and id, or
	// ErrNotFound.
	GetRelationship(ctx context.Context, source twin.ID, id string) (twin.Relationship, error)
	// PatchRelationship applies a JSON Patch to a relationship's
	// properties under cond.
	PatchRelationship(ctx context.Context, source twin.ID, id string, p twin.Patch, cond Condition) (twin.Relationship, error)
	// DeleteRelationship deletes a relationship under cond.
	DeleteRelationship(ctx context.Context, source twin.ID, id string, cond Condition) error
	// ListRelationships returns the outgoing relationships of source, only
	// those named name when name is not empty, ordered by id. A missing
	// source twin gives ErrNotFound.
	ListRelationships(ctx context.Context, source twin.ID, name string) ([]twin.Relationship, error)
	// ListIncomingRelationships returns the relationships whose target is
	// target, ordered by source and id. A missing target gives ErrNotFound.
	ListIncomingRelationships(ctx context.Context, target twin.ID) ([]twin.Relationship, error)
}

// TelemetryLog stores telemetry points.
type TelemetryLog interface {
	// AppendTelemetry stores telemetry points atomically and returns how
	// many were new: a point whose (twin, message id, name) is already
	// stored is skipped, so retried messages are harmless. Every twin must
	// exist (ErrNotFound). EnqueuedTime is set by the store. It records
	// one KindTelemetry record per (twin, message id) with new points, and
	// nothing when every point was stored already.
	AppendTelemetry(ctx context.Context, points []Telemetry) (int, error)
	// QueryTelemetry returns the points of one twin matching q, ordered by
	// source time then enqueued time.
	QueryTelemetry(ctx context.Context, q TelemetryQuery) ([]Telemetry, error)
}

// History reads the graph as it was.
type History interface {
	// TwinAsOf returns the version of a twin that was current at time at,
	// or ErrNotFound if it did not exist then.
	TwinAsOf(ctx context.Context, id twin.ID, at time.Time) (twin.Twin, error)
	// RelationshipAsOf returns the version of a relationship current at at,
	// or ErrNotFound.
	RelationshipAsOf(ctx context.Context, source twin.ID, id string, at time.Time) (twin.Relationship, error)
	// TwinChanges returns the changes of a twin whose transaction time is
	// in [from, to), oldest first; a zero to means no upper bound. It
	// returns an empty list, not ErrNotFound, for a twin never written.
	TwinChanges(ctx context.Context, id twin.ID, from, to time.Time) ([]Change, error)
	// Snapshot returns the whole graph as of at (the current graph when at
	// is zero): twins ordered by id and relationships by source and id. It
	// holds the graph in memory; use it for exports and tests, and queries
	// for anything large.
	Snapshot(ctx context.Context, at time.Time) (*Snapshot, error)
}

// Bulk moves whole graphs in and out.
type Bulk interface {
	// Export streams the graph as of at (the current graph when at is
	// zero) from one consistent read: the models stored by then ordered by
	// id, then the twins ordered by id, then the relationships ordered by
	// source and id. Its output is a valid Import stream. The stream holds
	// a read transaction until it ends or the consumer stops early.
	Export(ctx context.Context, at time.Time) iter.Seq2[Entity, error]
	// Import writes a stream of models, twins and relationships in one
	// transaction: on any error (including one yielded by src) nothing is
	// written. Models must be new; twins and relationships are created or
	// replaced without preconditions. A twin's model must be stored or come
	// earlier in the stream, and so must a relationship's twins. The stream
	// is consumed once and not held in memory, so imports of millions of
	// entities run in bounded memory. Backends may pull src on a goroutine
	// of their own (to overlap decoding with writing); it is never pulled
	// concurrently, and an entity may be reused once the next is
	// requested. With opts.DryRun the stream is checked in a transaction
	// that is then rolled back. opts.Progress is called on the goroutine
	// that called Import, never on the store's writer, so it may use the
	// store (its writes wait for the import). An import that writes something records
	// one KindImport summary (not one record per entity) and, when it
	// has models, bumps the model-set version.
	Import(ctx context.Context, src iter.Seq2[Entity, error], opts ImportOptions) (ImportStats, error)
}
