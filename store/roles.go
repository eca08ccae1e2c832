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
	PutModels(ctx context.Context, models []twin.Model, cond Condition) ([]twin.Model, error)
	// GetModel returns one model, or ErrNotFound.
	GetModel(ctx context.Context, id string) (twin.Model, error)
	// ListModels returns all models ordered by id.
	ListModels(ctx context.Context) ([]twin.Model, error)
	// DecommissionModel marks a model decommissioned (idempotent: a
	// model already decommissioned records nothing).
	DecommissionModel(ctx context.Context, id string) error
	// DeleteModel deletes a model that no twin uses and no model extends;
	// otherwise ErrConflict.
	DeleteModel(ctx context.Context, id string) error
	// ModelsVersion returns the version of the model set: it is 0 for an
	// empty store and increases with every committed model change
	// (upload, decommission, delete, an import with models).
	ModelsVersion(ctx context.Context) (int64, error)
}

// Twins stores the current versions of twins.
type Twins interface {
	// PutTwin creates or replaces a twin under cond (see Store).
	PutTwin(ctx context.Context, t twin.Twin, cond Condition) (twin.Twin, error)
	// GetTwin returns the current version of a twin, or ErrNotFound.
	GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error)
	// GetTwinJSON returns the current version's ADT JSON and ETag.
	GetTwinJSON(ctx context.Context, id twin.ID) ([]byte, twin.ETag, error)
	// PatchTwin applies a JSON Patch to a twin under cond.
	PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond Condition) (twin.Twin, error)
	// DeleteTwin deletes a twin without relationships under cond.
	DeleteTwin(ctx context.Context, id twin.ID, cond Condition) error
}

// Relationships stores the current versions of relationships.
type Relationships interface {
	PutRelationship(ctx context.Context, r twin.Relationship, cond Condition) (twin.Relationship, error)
	GetRelationship(ctx context.Context, source twin.ID, id string) (twin.Relationship, error)
	PatchRelationship(ctx context.Context, source twin.ID, id string, p twin.Patch, cond Condition) (twin.Relationship, error)
	DeleteRelationship(ctx context.Context, source twin.ID, id string, cond Condition) error
	ListRelationships(ctx context.Context, source twin.ID, name string) ([]twin.Relationship, error)
	ListIncomingRelationships(ctx context.Context, target twin.ID) ([]twin.Relationship, error)
}

// TelemetryLog stores telemetry points.
type TelemetryLog interface {
	AppendTelemetry(ctx context.Context, points []Telemetry) (int, error)
	QueryTelemetry(ctx context.Context, q TelemetryQuery) ([]Telemetry, error)
}

// History reads the graph as it was.
type History interface {
	TwinAsOf(ctx context.Context, id twin.ID, at time.Time) (twin.Twin, error)
	RelationshipAsOf(ctx context.Context, source twin.ID, id string, at time.Time) (twin.Relationship, error)
	TwinChanges(ctx context.Context, id twin.ID, from, to time.Time) ([]Change, error)
	Snapshot(ctx context.Context, at time.Time) (*Snapshot, error)
}

// Bulk moves whole graphs in and out.
type Bulk interface {
	Export(ctx context.Context, at time.Time) iter.Seq2[Entity, error]
	Import(ctx context.Context, src iter.Seq2[Entity, error], opts ImportOptions) (ImportStats, error)
}
