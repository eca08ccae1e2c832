package store

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"lodestone/twin"
)

// ErrModelsChanged means a write was validated against a model set that is
// no longer the stored one (another server uploaded, decommissioned or
// deleted a model in between): the caller reloads the models, validates
// again and retries. Checked with errors.Is.
var ErrModelsChanged = errors.New("store: model set changed")

// Kind names what a committed change is about.
type Kind string

// Kinds of records.
const (
	KindTwin         Kind = "twin"
	KindRelationship Kind = "relationship"
	KindModel        Kind = "model"
	KindTelemetry    Kind = "telemetry"
	KindImport       Kind = "import"
)

// OpDecommission is the change of a model that is decommissioned.
const OpDecommission ChangeOp = "decommission"

// Record is one committed change as the store's outbox holds it until its
// event is published. Every write that changes the graph writes its records
// in the same transaction as the change, so a change is committed if and
// only if its records are: after a crash the outbox still holds the records
// whose events were not yet published, and the relay publishes them with
// the same event ids (see the graph package).
//
// What each kind records:
//
//	kind          op                      subject             key                      data
//	twin          create, replace         twin id             new etag                 the twin's ADT JSON document
//	twin          patch                   twin id             new etag                 the JSON Patch
//	twin          delete                  twin id             deleted version's etag   the deleted version's document
//	relationship  create, replace         "src/relationships/id"  new etag             the relationship's JSON
//	relationship  patch                   "src/relationships/id"  new etag             the JSON Patch
//	relationship  delete                  "src/relationships/id"  deleted etag         the deleted relationship's JSON
//	model         create                  model id            upload time (RFC 3339 nano)  the twin.Model JSON (with its DTDL)
//	model         decommission, delete    model id            transaction time (RFC 3339 nano)  the twin.Model JSON (with its DTDL)
//	telemetry     create                  twin id             message id               {"name": value, …} of the new points only
//	import        create                  ""                  transaction time (RFC 3339 nano)  {"models": [ids], "twins": n, "relationships": n}
//
// A telemetry write whose points were all stored already records nothing,
// and so does an import that writes nothing. An import records one summary,
// not one record per entity. Writes that fail record nothing. The records
// of one write share its transaction time (a batch of models, telemetry of
// several messages); each write's Time is strictly greater than that of the
// writes committed before it, so Seq order is also Time order.
type Record struct {
	// Seq is the record's position in the outbox: it increases in commit
	// order, across every writer of the database.
	Seq int64 `json:"seq"`
	// Kind and Op say what changed and how.
	Kind Kind     `json:"kind"`
	Op   ChangeOp `json:"op"`
	// Subject names the entity (see the table above).
	Subject string `json:"subject"`
	// Key makes the change unique within its subject (see above); the
	// event id derives from kind, op, subject and key.
	Key string `json:"key"`
	// Model is the model id of the twin (twins, telemetry) or of the
	// relationship's source twin; "" otherwise.
	Model string `json:"model,omitempty"`
	// Org is the owner org of the changed entity (of the twin, for
	// telemetry), as the store wrote it; "" for things written without
	// --auth and for import summaries. Events carry it as their "org"
	// extension attribute.
	Org string `json:"org,omitempty"`
	// Writer and Signer are the "$writer" and "$signer" of the version a
	// patch makes, which its data (the patch) does not name; the write
	// pipeline sets them and the transparency log's entry covers them.
	Writer string `json:"writer,omitempty"`
	Signer string `json:"signer,omitempty"`
	// Time is the transaction time of the change.
	Time time.Time `json:"time"`
	// Data is the event's data (see above).
	Data json.RawMessage `json:"data,omitempty"`
}

// Recorder collects the records that writes commit: a caller that needs
// them (the write pipeline, to publish their events before it acknowledges
// the request) passes a context made by [WithRecorder] to the write.
// Backends add a write's records once its transaction has committed, never
// those of a write that failed. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	records []Record
}

// Add appends committed records. Backends call it.
func (r *Recorder) Add(recs ...Record) {
	r.mu.Lock()
	r.records = append(r.records, recs...)
	r.mu.Unlock()
}

// Records returns the records collected so far, in the order added.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Reset forgets the records collected so far (for a retried write).
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.records = r.records[:0]
	r.mu.Unlock()
}

type recorderKey struct{}

// WithRecorder returns a context whose writes add their committed records
// to r.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// RecorderFrom returns the recorder of ctx, or nil. Backends call it.
func RecorderFrom(ctx context.Context) *Recorder {
	r, _ := ctx.Value(recorderKey{}).(*Recorder)
	return r
}

type stampKey struct{}

// Stamp is who makes a write, for a store write that builds the stored
// version itself from the stored one (a relationship patch): the writer
// and signer it records ("$writer", "$signer"; see package twin). The
// owner org never changes on a patch.
type Stamp struct {
	Writer, Signer string
	// Org is the writer's org: an import's summary record carries it.
	Org string
}

// WithStamp returns a context whose relationship patches record s. The
// write pipeline sets it; without it a patch keeps the stored writer and
// signer.
func WithStamp(ctx context.Context, s Stamp) context.Context {
	return context.WithValue(ctx, stampKey{}, s)
}

// StampFrom returns the stamp of ctx, if it has one. Backends call it.
func StampFrom(ctx context.Context) (Stamp, bool) {
	s, ok := ctx.Value(stampKey{}).(Stamp)
	return s, ok
}

// Outbox is the store's side of the event relay: the records of committed
// changes whose events are not yet known to be published.
type Outbox interface {
	// PendingRecords returns up to limit records still in the outbox
	// whose Seq is greater than after, in Seq order; a limit of 0 or less
	// means no cap.
	PendingRecords(ctx context.Context, after int64, limit int) ([]Record, error)
	// AckRecords removes the records whose events the bus has persisted.
	// Seqs no longer in the outbox are ignored.
	AckRecords(ctx context.Context, seqs []int64) error
}

// Doc is a small JSON document the server keeps beside the graph: an
// import job, an event route, an endpoint, a route's checkpoint or lease.
// Documents are not part of the graph: they have no history and record
// no events.
type Doc struct {
	// Kind groups documents ("job", "route", "endpoint", …) and ID names
	// one within its kind.
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// ETag is set by the store on every write; conditions compare it.
	ETag twin.ETag `json:"etag"`
	// Body is the document.
	Body json.RawMessage `json:"body"`
	// Updated is when the store last wrote the document.
	Updated time.Time `json:"updated"`
}

// Documents stores Docs. Writes take the same conditions as twins
// (If-Match, If-None-Match: *), so that servers sharing a database can
// take leases and update documents without losing one another's writes.
type Documents interface {
	// PutDoc creates or replaces a document under cond and returns it
	// as stored (with its new ETag and time). An empty kind or id, or a
	// body that is not a JSON value, gives ErrInvalid.
	PutDoc(ctx context.Context, d Doc, cond Condition) (Doc, error)
	// GetDoc returns a document, or ErrNotFound.
	GetDoc(ctx context.Context, kind, id string) (Doc, error)
	// ListDocs returns the documents of a kind ordered by id.
	ListDocs(ctx context.Context, kind string) ([]Doc, error)
	// DeleteDoc deletes a document under cond; ErrNotFound if absent.
	DeleteDoc(ctx context.Context, kind, id string, cond Condition) error
}
