package sqlcore

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/twin"
)

// ImportItem is one entity of an import, encoded for its row by the
// producer goroutine of Import. It holds copies, so the source may reuse
// its values once it has yielded the next one.
type ImportItem struct {
	// Model is a model, or nil.
	Model *twin.Model

	// A twin (ID set) or a relationship (RelID set).
	ID, ModelID   string
	Source, RelID string
	Target, Name  string
	// ETag is the new version's entity tag; Props and Meta are its
	// columns (see rowcodec.EncodeTwin; Meta is nil for a relationship).
	ETag        string
	Props, Meta []byte
}

// ImportSink is what a backend does with the items of an import, in its
// write transaction.
type ImportSink interface {
	// Model stores a model.
	Model(m *twin.Model) error
	// Twin and Relationship write or stage an entity; they check its
	// references.
	Twin(it *ImportItem) error
	Relationship(it *ImportItem) error
	// Flush writes what is still staged, after the last item.
	Flush() error
}

// importBatch is the number of items handed from producer to consumer at
// once.
const importBatch = 256

// Import runs the stream src through sink: a producer goroutine pulls src
// and encodes each entity for transaction time now (JSON, entity tags)
// while the calling goroutine hands the items to sink, so an import uses
// two cores. It counts what was written in st, checks ctx every 1000
// entities and reports opts.Progress every 10,000 and at the end. It waits
// for the producer before it returns.
func Import(ctx context.Context, src iter.Seq2[store.Entity, error], now int64, opts store.ImportOptions, st *store.ImportStats, sink ImportSink) error {
	items := make(chan []importItem, 4)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { produce(src, now, items, stop) })
	defer func() {
		close(stop)
		for range items { // unblock and drain the producer
		}
		wg.Wait()
	}()
	done := 0
	for batch := range items {
		for i := range batch {
			it := &batch[i]
			var err error
			switch {
			case it.err != nil:
				return it.err
			case it.Model != nil:
				err = sink.Model(it.Model)
				st.Models++
			case it.ID != "":
				err = sink.Twin(&it.ImportItem)
				st.Twins++
			default:
				err = sink.Relationship(&it.ImportItem)
				st.Relationships++
			}
			if err != nil {
				return err
			}
			done++
			if done%1000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				if opts.Progress != nil && done%10000 == 0 {
					opts.Progress(done)
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sink.Flush(); err != nil {
		return err
	}
	if opts.Progress != nil {
		opts.Progress(done)
	}
	return nil
}

// importItem is an ImportItem or the error that ends the import (of the
// source or of encoding).
type importItem struct {
	ImportItem
	err error
}

// produce ranges over src, encoding each entity, and sends the items in
// batches on out until src ends, an error occurs or stop is closed. It
// closes out when done.
func produce(src iter.Seq2[store.Entity, error], now int64, out chan<- []importItem, stop <-chan struct{}) {
	defer close(out)
	batch := make([]importItem, 0, importBatch)
	send := func() bool {
		select {
		case out <- batch:
			batch = make([]importItem, 0, importBatch)
			return true
		case <-stop:
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			batch = append(batch, importItem{err: fmt.Errorf("import source panicked: %v", r)})
			send()
		}
	}()
	for e, err := range src {
		it := encode(e, err, now)
		batch = append(batch, it)
		if it.err != nil || len(batch) == importBatch {
			if !send() || it.err != nil {
				return
			}
		}
	}
	if len(batch) > 0 {
		send()
	}
}

// encode turns one entity into an item. It uses no connection.
func encode(e store.Entity, err error, now int64) importItem {
	switch {
	case err != nil:
		return importItem{err: err}
	case e.Model != nil:
		m := *e.Model
		m.DTDL = slices.Clone(m.DTDL)
		m.Extends = slices.Clone(m.Extends)
		return importItem{ImportItem: ImportItem{Model: &m}}
	case e.Twin != nil:
		t := e.Twin
		if t.ID == "" {
			return importItem{err: fmt.Errorf("twin with empty $dtId: %w", store.ErrInvalid)}
		}
		if t.Metadata.Model == "" {
			return importItem{err: fmt.Errorf("twin %q: empty $model: %w", t.ID, store.ErrInvalid)}
		}
		s := rowcodec.StampTwin(*t, NSTime(now))
		props, meta, err := rowcodec.EncodeTwin(&s)
		if err != nil {
			return importItem{err: fmt.Errorf("twin %q: %w", t.ID, err)}
		}
		return importItem{ImportItem: ImportItem{ID: string(t.ID), ModelID: t.Metadata.Model, ETag: string(s.ETag), Props: props, Meta: meta}}
	case e.Relationship != nil:
		r := e.Relationship
		if r.ID == "" || r.SourceID == "" || r.TargetID == "" || r.Name == "" {
			return importItem{err: fmt.Errorf("relationship %q of %q: $relationshipId, $sourceId, $targetId and $relationshipName are required: %w", r.ID, r.SourceID, store.ErrInvalid)}
		}
		props, err := rowcodec.EncodeRelProps(r)
		if err != nil {
			return importItem{err: fmt.Errorf("relationship %q of %q: %w", r.ID, r.SourceID, err)}
		}
		return importItem{ImportItem: ImportItem{Source: string(r.SourceID), RelID: r.ID, Target: string(r.TargetID), Name: r.Name, ETag: string(twin.NewETag()), Props: props}}
	default:
		return importItem{err: fmt.Errorf("empty import entity: %w", store.ErrInvalid)}
	}
}

// ImportProgress runs submit, which runs an import in the backend's writer,
// on a goroutine of its own, and calls opts.Progress from the calling
// goroutine (the one that called store.Bulk.Import) with the counts the
// import reports through the options submit gets. The writer so never
// runs the caller's callback: a Progress that writes to the store (an
// import job saving its progress) waits for the import instead of
// deadlocking the writer it waits for. Counts may be skipped, never
// reordered; the last one is delivered before ImportProgress returns.
func ImportProgress(opts store.ImportOptions, submit func(opts store.ImportOptions) error) error {
	if opts.Progress == nil {
		return submit(opts)
	}
	progress := opts.Progress
	counts := make(chan int, 1)
	opts.Progress = func(n int) {
		for {
			select {
			case counts <- n:
				return
			default:
				select {
				case <-counts: // replace the count not yet delivered
				default:
				}
			}
		}
	}
	done := make(chan error, 1)
	go func() { done <- submit(opts) }()
	for {
		select {
		case n := <-counts:
			progress(n)
		case err := <-done:
			select {
			case n := <-counts:
				progress(n)
			default:
			}
			return err
		}
	}
}
