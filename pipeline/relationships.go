package pipeline

import (
	"context"
	"errors"
	"slices"

	"lodestone/event"
	"lodestone/store"
	"lodestone/twin"
)

// PutRelationship validates rel against its source twin's model and creates
// or replaces it under cond. The relationship writes of one source twin are
// serialised within this server so that two creates cannot both pass the
// maxMultiplicity count.
func (p *Pipeline) PutRelationship(ctx context.Context, rel twin.Relationship, cond store.Condition) (twin.Relationship, error) {
	unlock, err := p.locks.lock(ctx, string(rel.SourceID), p.opts.RetryDeadline)
	if err != nil {
		return twin.Relationship{}, err
	}
	defer unlock()
	var stored twin.Relationship
	a := actorOf(ctx)
	err = p.commit(ctx, func(ctx context.Context, ms *Models) error {
		old, getErr := p.st.GetRelationship(ctx, rel.SourceID, rel.ID)
		existed := getErr == nil
		if existed && old.Name != rel.Name {
			return refuse(store.ErrInvalid, "ValidationFailed", "relationship %s is a %s; its name cannot change to %s", rel.ID, old.Name, rel.Name)
		}
		if err := p.ownRel(ctx, a, &rel, old, existed); err != nil {
			return err
		}
		if err := p.checkRelationship(ctx, ms, rel, existed); err != nil {
			return err
		}
		if err := p.check(ctx, &Write{Kind: store.KindRelationship, Op: store.OpReplace, Subject: event.RelationshipSubject(string(rel.SourceID), rel.ID), Relationship: &rel}); err != nil {
			return err
		}
		c := cond
		c.Models = ms.Version
		if anyVersion(cond) && !cond.IfNoneMatch {
			// The owner kept is the owner of the version replaced.
			if existed {
				c.IfMatch = old.ETag
			} else {
				c.IfNoneMatch = true
			}
			stored, err = p.st.PutRelationship(ctx, rel, c)
			return retryable(err, cond)
		}
		stored, err = p.st.PutRelationship(ctx, rel, c)
		return err
	})
	return stored, err
}

// ownRel stamps the owner fields of rel (see actor.stampRel) and checks
// that a may write it: a replace needs write access to the relationship's
// org, a create to its source twin's org.
func (p *Pipeline) ownRel(ctx context.Context, a actor, rel *twin.Relationship, old twin.Relationship, existed bool) error {
	org := old.Org
	if !existed && a.on {
		src, err := p.st.GetTwin(ctx, rel.SourceID)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", rel.SourceID)
		} else if err != nil {
			return err
		}
		org = src.Metadata.Org
	}
	if err := a.relWrite(org, rel.SourceID, rel.ID); err != nil {
		return err
	}
	a.stampRel(rel, old, existed)
	return nil
}

// relWrite refuses a's write of a relationship (or of its source twin's
// relationships) of org.
func (a actor) relWrite(org string, src twin.ID, id string) error {
	if a.mayWrite(org) {
		return nil
	}
	if a.pr.Org != org && org != "" {
		return notYours("RelationshipNotFound", "twin %s has no relationship %s that you may write", src, id)
	}
	return forbidden("principal %s may not write relationships of org %q", a.pr.Subject, org)
}

// PatchRelationship applies a JSON Patch to a relationship's properties
// under cond, validating the result first.
func (p *Pipeline) PatchRelationship(ctx context.Context, src twin.ID, id string, pt twin.Patch, cond store.Condition) (twin.Relationship, error) {
	var stored twin.Relationship
	a := actorOf(ctx)
	err := p.commit(ctx, func(ctx context.Context, ms *Models) error {
		cur, err := p.st.GetRelationship(ctx, src, id)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(store.ErrNotFound, "RelationshipNotFound", "twin %s has no relationship %s", src, id)
		}
		if err != nil {
			return err
		}
		if err := a.relWrite(cur.Org, src, id); err != nil {
			return err
		}
		if cond.IfMatch != "" && !cur.ETag.Matches(cond.IfMatch) {
			return refuse(store.ErrPreconditionFailed, "PreconditionFailed", "relationship %s has etag %s, not %s", id, cur.ETag, cond.IfMatch)
		}
		next, err := cur.ApplyPatch(pt)
		if err != nil {
			return err
		}
		if err := p.checkRelationship(ctx, ms, next, true); err != nil {
			return err
		}
		if err := p.check(ctx, &Write{Kind: store.KindRelationship, Op: store.OpPatch, Subject: event.RelationshipSubject(string(src), id), Relationship: &next, Patch: pt}); err != nil {
			return err
		}
		// The store builds the patched version: it records this write's
		// writer and signer from the context.
		sctx := store.WithStamp(ctx, a.stamp())
		stored, err = p.st.PatchRelationship(sctx, src, id, pt, store.Condition{IfMatch: cur.ETag, Models: ms.Version})
		if err == nil {
			stampPatchRecords(ctx, stored.Writer, stored.Signer)
		}
		return retryable(err, cond)
	})
	return stored, err
}

// DeleteRelationship deletes a relationship under cond.
func (p *Pipeline) DeleteRelationship(ctx context.Context, src twin.ID, id string, cond store.Condition) error {
	a := actorOf(ctx)
	return p.commit(ctx, func(ctx context.Context, ms *Models) error {
		c := cond
		if a.on {
			cur, err := p.st.GetRelationship(ctx, src, id)
			if errors.Is(err, store.ErrNotFound) {
				return refuse(store.ErrNotFound, "RelationshipNotFound", "twin %s has no relationship %s", src, id)
			} else if err != nil {
				return err
			}
			if err := a.relWrite(cur.Org, src, id); err != nil {
				return err
			}
			if anyVersion(cond) {
				c.IfMatch = cur.ETag
			}
		}
		if err := p.check(ctx, &Write{Kind: store.KindRelationship, Op: store.OpDelete, Subject: event.RelationshipSubject(string(src), id)}); err != nil {
			return err
		}
		err := retryable(p.st.DeleteRelationship(ctx, src, id, c), cond)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(store.ErrNotFound, "RelationshipNotFound", "twin %s has no relationship %s", src, id)
		}
		return err
	})
}

// checkRelationship validates rel against its source twin's model: the
// relationship is declared, the target twin exists and is of the declared
// target model, the multiplicity holds and the edge properties fit.
func (p *Pipeline) checkRelationship(ctx context.Context, ms *Models, rel twin.Relationship, replacing bool) error {
	src, err := p.st.GetTwin(ctx, rel.SourceID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", rel.SourceID)
	}
	if err != nil {
		return err
	}
	iface, err := ms.Interface(src.Metadata.Model)
	if iface == nil {
		return err
	}
	tgt, err := p.st.GetTwin(ctx, rel.TargetID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(store.ErrInvalid, "ValidationFailed", "$targetId: there is no digital twin with id %s", rel.TargetID)
	}
	if err != nil {
		return err
	}
	tgtIface, _ := ms.Interface(tgt.Metadata.Model)
	existing, err := p.st.ListRelationships(ctx, rel.SourceID, rel.Name)
	if err != nil {
		return err
	}
	// count includes rel itself: it adds one unless it replaces an
	// existing edge of the same name.
	count := len(existing) + 1
	if replacing && slices.ContainsFunc(existing, func(e twin.Relationship) bool { return e.ID == rel.ID }) {
		count--
	}
	return iface.ValidateRelationship(rel.Name, tgtIface, rel.Properties, count)
}
