package store

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"time"

	"lodestone/twin"
)

// Sentinel errors of every backend, checked with errors.Is. Backends wrap
// them with the operation and the entity.
var (
	// ErrNotFound means the twin, relationship, model or version asked for
	// does not exist (at the time asked for).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means the write would break the graph's consistency: the
	// entity already exists (models), a twin still has relationships, or a
	// model is still referenced.
	ErrConflict = errors.New("store: conflict")
	// ErrPreconditionFailed means an If-Match or If-None-Match condition
	// did not hold.
	ErrPreconditionFailed = errors.New("store: precondition failed")
	// ErrInvalid means the request itself is malformed or refers to an
	// entity that must exist and does not (a twin's model, a relationship's
	// target), or a patch cannot be applied.
	ErrInvalid = errors.New("store: invalid")
)

// Condition is an HTTP-style write precondition.
type Condition struct {
	// IfMatch, when set, requires the stored entity to exist with this
	// entity tag; twin.AnyETag ("*") requires only that it exist. A
	// mismatch or a missing entity gives ErrPreconditionFailed on put and
	// ErrPreconditionFailed or ErrNotFound on patch and delete.
	IfMatch twin.ETag
	// IfNoneMatch ("If-None-Match: *") requires that the entity not exist
	// yet: a put creates and never replaces.
	IfNoneMatch bool
	// Models is the model-set version (see Models.ModelsVersion) the write
	// was validated against; when non-zero and the stored version differs,
	// the write fails with ErrModelsChanged and changes nothing. The store
	// compares it inside the write's transaction, and every model change
	// bumps the version in its own transaction, so no twin or relationship
	// is ever stored validated against a model set that no longer holds.
	// PutModels, PutTwin, PatchTwin, PatchTwinFrom, PutRelationship and
	// PatchRelationship check it; the other writes ignore it.
	Models int64
}

// Store is the twin graph's persistence: every role of roles.go and
// outbox.go in one. Implementations are safe for concurrent use. All
// methods take a context first and return errors that wrap the sentinels
// above where one applies.
//
// Every write that changes the graph (models, twins, relationships,
// telemetry, imports) also writes its [Record] to the outbox in the same
// transaction, and adds it to the [Recorder] of its context once committed.
type Store interface {
	Models
	Twins
	Relationships
	TelemetryLog
	History
	Bulk
	Outbox
	Documents

	// Close releases the store's resources.
	Close() error
}

// TwinPatcher is implemented by stores that can patch a twin from a
// version the caller has already read (and, typically, validated the
// patched result of), instead of reading and decoding the stored version
// again. Callers check for it with a type assertion and fall back to
// PatchTwin.
type TwinPatcher interface {
	// PatchTwinFrom applies p to base, which must be the current version
	// of twin base.ID as read from the store, and stores the result under
	// If-Match base.ETag: ErrNotFound if the twin is gone,
	// ErrPreconditionFailed if it has another version by now. Otherwise it
	// behaves as PatchTwin: the patch is applied at the transaction time
	// (so the times are the store's), recorded in the change list and
	// the outbox, and a patch that cannot be applied gives an error
	// wrapping ErrInvalid. Of cond only Models is used (the If-Match is
	// base.ETag).
	PatchTwinFrom(ctx context.Context, base twin.Twin, p twin.Patch, cond Condition) (twin.Twin, error)
}

// Telemetry is one named telemetry value sent on behalf of a twin.
type Telemetry struct {
	// TwinID is the twin the value belongs to.
	TwinID twin.ID `json:"twinId"`
	// Name is the telemetry name ("component/name" for a component's).
	Name string `json:"name"`
	// MessageID identifies the message the value came in, for dedup.
	MessageID string `json:"messageId"`
	// SourceTime is when the value was measured; when zero the store uses
	// EnqueuedTime.
	SourceTime time.Time `json:"sourceTime"`
	// EnqueuedTime is when the store accepted the value.
	EnqueuedTime time.Time `json:"enqueuedTime"`
	// Value is the JSON value.
	Value json.RawMessage `json:"value"`
}

// TelemetryQuery selects telemetry points of one twin.
type TelemetryQuery struct {
	// TwinID is required.
	TwinID twin.ID
	// Name selects one telemetry name; empty means all.
	Name string
	// From and To bound the source time to [From, To); zero means unbounded.
	From, To time.Time
	// Limit caps the number of points; 0 means no cap.
	Limit int
}

// ChangeOp names the kind of a change.
type ChangeOp string

// Change operations.
const (
	OpCreate  ChangeOp = "create"
	OpReplace ChangeOp = "replace"
	OpPatch   ChangeOp = "patch"
	OpDelete  ChangeOp = "delete"
)

// Change is one entry in a twin's change list.
type Change struct {
	// Time is the transaction time of the change.
	Time time.Time `json:"time"`
	// Op is what happened.
	Op ChangeOp `json:"op"`
	// Patch is the JSON Patch of an OpPatch change.
	Patch twin.Patch `json:"patch,omitempty"`
	// Twin is the twin after the change; nil for OpDelete.
	Twin *twin.Twin `json:"twin,omitempty"`
}

// Snapshot is the state of the whole graph at one time.
type Snapshot struct {
	// At is the time of the snapshot.
	At time.Time `json:"at"`
	// Twins are the twins current at At, ordered by id.
	Twins []twin.Twin `json:"twins"`
	// Relationships are the relationships current at At, ordered by
	// source and id.
	Relationships []twin.Relationship `json:"relationships"`
}

// Entity is one item of an import stream; exactly one field is set.
type Entity struct {
	Model        *twin.Model
	Twin         *twin.Twin
	Relationship *twin.Relationship
}

// Batch is an import held in memory.
type Batch struct {
	// Models are imported first, then Twins, then Relationships.
	Models        []twin.Model
	Twins         []twin.Twin
	Relationships []twin.Relationship
}

// Entities returns the batch as an import stream: models first, then twins,
// then relationships. The entities point into the batch's slices.
func (b *Batch) Entities() iter.Seq2[Entity, error] {
	return func(yield func(Entity, error) bool) {
		for i := range b.Models {
			if !yield(Entity{Model: &b.Models[i]}, nil) {
				return
			}
		}
		for i := range b.Twins {
			if !yield(Entity{Twin: &b.Twins[i]}, nil) {
				return
			}
		}
		for i := range b.Relationships {
			if !yield(Entity{Relationship: &b.Relationships[i]}, nil) {
				return
			}
		}
	}
}

// ImportOptions tunes Import.
type ImportOptions struct {
	// DryRun checks the batch and writes nothing.
	DryRun bool
	// Progress, when not nil, is called from the goroutine that called
	// Import now and then with the number of entities written so far, and
	// once more at the end; counts may be skipped. It may use the store.
	Progress func(done int)
	// Models, when not 0, is the model-set version the caller validated
	// the batch against: the import fails with ErrModelsChanged, writing
	// nothing, unless it is still the version when the import's
	// transaction runs (as Condition.Models for single writes).
	Models int64
}

// ModelDeleterIf is implemented by the stores whose model delete can be
// conditioned on the model-set version (store/sqlite and store/postgres):
// a caller that checked the other models' references to the model against
// the set it read passes that set's version in cond.Models, and the delete
// fails with ErrModelsChanged if a model was stored, decommissioned or
// deleted since, by any server. Only cond.Models is used; 0 deletes
// unconditionally, as DeleteModel.
type ModelDeleterIf interface {
	DeleteModelIf(ctx context.Context, id string, cond Condition) error
}

// ImportStats counts what an import wrote.
type ImportStats struct {
	// Models, Twins and Relationships count the entities written (or, in
	// a dry run, checked).
	Models, Twins, Relationships int
	// Elapsed is the wall time of the import.
	Elapsed time.Duration
}
