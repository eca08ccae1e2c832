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
}

// Store is the twin graph's persistence. Implementations are safe for
// concurrent use. All methods take a context first and return errors that
// wrap the sentinels above where one applies.
type Store interface {
	// PutModels stores a batch of models atomically: all or none. A model
	// whose id already exists gives ErrConflict; a model without id or DTDL
	// gives ErrInvalid. UploadTime is set by the store.
	PutModels(ctx context.Context, models []twin.Model) ([]twin.Model, error)
	// GetModel returns one model, or ErrNotFound.
	GetModel(ctx context.Context, id string) (twin.Model, error)
	// ListModels returns all models ordered by id.
	ListModels(ctx context.Context) ([]twin.Model, error)
	// DecommissionModel marks a model decommissioned (idempotent).
	DecommissionModel(ctx context.Context, id string) error
	// DeleteModel deletes a model that no twin uses and no model extends;
	// otherwise ErrConflict.
	DeleteModel(ctx context.Context, id string) error

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
	// decoding the properties, which makes it the cheap way to serve reads.
	GetTwinJSON(ctx context.Context, id twin.ID) ([]byte, twin.ETag, error)
	// PatchTwin applies a JSON Patch to a twin under cond (see
	// twin.Twin.ApplyPatch); the patch is recorded in the change list. A
	// patch that cannot be applied gives an error wrapping ErrInvalid and
	// the *twin.PatchError.
	PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond Condition) (twin.Twin, error)
	// DeleteTwin deletes a twin under cond. A twin with outgoing or incoming
	// relationships gives ErrConflict, as in ADT.
	DeleteTwin(ctx context.Context, id twin.ID, cond Condition) error

	// PutRelationship creates or replaces a relationship under cond. A
	// missing source twin gives ErrNotFound, a missing target ErrInvalid.
	PutRelationship(ctx context.Context, r twin.Relationship, cond Condition) (twin.Relationship, error)
	// GetRelationship returns a relationship by source and id.
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

	// AppendTelemetry stores telemetry points atomically and returns how
	// many were new: a point whose (twin, message id, name) is already
	// stored is skipped, so retried messages are harmless. Every twin must
	// exist (ErrNotFound). EnqueuedTime is set by the store.
	AppendTelemetry(ctx context.Context, points []Telemetry) (int, error)
	// QueryTelemetry returns the points of one twin matching q, ordered by
	// source time then enqueued time.
	QueryTelemetry(ctx context.Context, q TelemetryQuery) ([]Telemetry, error)

	// TwinAsOf returns the version of a twin that was current at time at,
	// or ErrNotFound if it did not exist then.
	TwinAsOf(ctx context.Context, id twin.ID, at time.Time) (twin.Twin, error)
	// RelationshipAsOf returns the version of a relationship current at at.
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
	// that is then rolled back.
	Import(ctx context.Context, src iter.Seq2[Entity, error], opts ImportOptions) (ImportStats, error)

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
	// (so the times are the store's), recorded in the change list, and a
	// patch that cannot be applied gives an error wrapping ErrInvalid.
	PatchTwinFrom(ctx context.Context, base twin.Twin, p twin.Patch) (twin.Twin, error)
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
	// Progress, when not nil, is called from Import's goroutine now and
	// then with the number of entities written so far.
	Progress func(done int)
}

// ImportStats counts what an import wrote.
type ImportStats struct {
	// Models, Twins and Relationships count the entities written (or, in
	// a dry run, checked).
	Models, Twins, Relationships int
	// Elapsed is the wall time of the import.
	Elapsed time.Duration
}
