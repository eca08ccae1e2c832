package pipeline

import (
	"context"
	"errors"
	"iter"

	"lodestone/store"
)

// Import writes a stream of models, twins and relationships in one
// transaction (see store.Bulk.Import). src builds the stream from the model
// set it is to be validated against, read under the model lock, so that no
// model change of this server comes in between. It records one summary
// event; models it brings are in force for the next write. Every entity
// gets the importer's org, subject and signer (see actor.stampImport).
func (p *Pipeline) Import(ctx context.Context, opts store.ImportOptions, src func(ms *Models) iter.Seq2[store.Entity, error]) (store.ImportStats, error) {
	if err := p.models.acquire(ctx, p.opts.RetryDeadline); err != nil {
		return store.ImportStats{}, err
	}
	defer p.models.release()
	ms, err := p.models.reload(ctx, -1)
	if err != nil {
		return store.ImportStats{}, err
	}
	a := actorOf(ctx)
	// Entities of other orgs are refused as not found before the
	// signature check, which would name their model.
	stream, err := p.signedImport(ctx, a, a.stampImport(ctx, p.st, src(ms)))
	if err != nil {
		return store.ImportStats{}, err
	}
	// The import's summary record carries the importer's org.
	ctx = store.WithStamp(ctx, a.stamp())
	var stats store.ImportStats
	err = p.commit(ctx, func(ctx context.Context, _ *Models) error {
		if err := p.check(ctx, &Write{Kind: store.KindImport, Op: store.OpCreate}); err != nil {
			return err
		}
		// The stream was validated against ms: the store refuses the
		// import if another server changed the model set since. The
		// stream cannot be read twice, so that refusal is final.
		o := opts
		o.Models = ms.Version
		var err error
		stats, err = p.st.Import(ctx, stream, o)
		if errors.Is(err, store.ErrModelsChanged) {
			return refuse(ErrBusy, "ServiceUnavailable", "the model set changed during the import (through another server); run the import again")
		}
		return err
	})
	if err == nil && stats.Models > 0 && !opts.DryRun {
		p.refreshModels(ctx)
	}
	return stats, err
}

// stampImport stamps every entity of an import with a's org, writer and
// signer, and refuses (as not found) the replacement of a twin or
// relationship that a may not write.
func (a actor) stampImport(ctx context.Context, st store.Store, in iter.Seq2[store.Entity, error]) iter.Seq2[store.Entity, error] {
	return func(yield func(store.Entity, error) bool) {
		for e, err := range in {
			if err == nil {
				err = a.stampEntity(ctx, st, &e)
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

// stampEntity stamps one imported entity; it copies what it changes, so
// that the caller's values stay as they were.
func (a actor) stampEntity(ctx context.Context, st store.Store, e *store.Entity) error {
	switch {
	case e.Model != nil:
		m := *e.Model
		m.Org = a.org()
		e.Model = &m
		if !a.mayWrite(m.Org) {
			return forbidden("principal %s may not import models to org %q", a.pr.Subject, m.Org)
		}
	case e.Twin != nil:
		t := *e.Twin
		if a.on {
			cur, err := st.GetTwin(ctx, t.ID)
			if err == nil && !a.mayWrite(cur.Metadata.Org) {
				return notYours("DigitalTwinNotFound", "twin %s: there is no digital twin with this id that you may write", t.ID)
			}
		}
		t.Metadata.Org, t.Metadata.Writer, t.Metadata.Signer = a.org(), a.writer(), a.signer
		e.Twin = &t
	case e.Relationship != nil:
		r := *e.Relationship
		if a.on {
			cur, err := st.GetRelationship(ctx, r.SourceID, r.ID)
			if err == nil && !a.mayWrite(cur.Org) {
				return notYours("RelationshipNotFound", "twin %s has no relationship %s that you may write", r.SourceID, r.ID)
			}
		}
		r.Org, r.Writer, r.Signer = a.org(), a.writer(), a.signer
		e.Relationship = &r
	}
	return nil
}
