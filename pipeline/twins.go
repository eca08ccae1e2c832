package pipeline

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"lodestone/dtdl"
	"lodestone/store"
	"lodestone/twin"
)

// PutTwin validates t against its model and creates or replaces it under
// cond. It returns the stored twin and its ADT JSON document (the data of
// its event, byte for byte what json.Marshal of the twin gives).
//
// A replace that accepts any version takes the version it replaces from
// the twins this pipeline has just written, as PatchTwin does: the store
// takes the write only under If-Match of that version, and any other
// outcome is decided again on the version read from the store.
func (p *Pipeline) PutTwin(ctx context.Context, t twin.Twin, cond store.Condition) (twin.Twin, []byte, error) {
	if t.Metadata.Model == "" {
		return twin.Twin{}, nil, refuse(store.ErrInvalid, "ValidationFailed", "$metadata.$model is required")
	}
	var stored twin.Twin
	var doc []byte
	a := actorOf(ctx)
	err := p.commit(ctx, func(ctx context.Context, ms *Models) error {
		if anyVersion(cond) && !cond.IfNoneMatch {
			if cur, ok := p.twins.get(t.ID); ok {
				s, d, err := p.putOnce(ctx, a, ms, t, cond, &cur)
				if err == nil {
					stored, doc = s, d
					return nil
				}
				p.twins.drop(t.ID, cur.ETag)
			}
		}
		var err error
		stored, doc, err = p.putOnce(ctx, a, ms, t, cond, nil)
		return err
	})
	return stored, doc, err
}

// putOnce is one attempt of PutTwin; cached, when not nil, is the current
// version as the twin cache has it (see ownTwin).
func (p *Pipeline) putOnce(ctx context.Context, a actor, ms *Models, t twin.Twin, cond store.Condition, cached *twin.Twin) (twin.Twin, []byte, error) {
	iface, err := ms.Interface(t.Metadata.Model)
	if err != nil {
		return twin.Twin{}, nil, err
	}
	if err := ValidateTwin(iface, t); err != nil {
		return twin.Twin{}, nil, err
	}
	c := cond
	c.Models = ms.Version
	if err := p.ownTwin(ctx, a, &t, &c, cached); err != nil {
		return twin.Twin{}, nil, err
	}
	if err := p.check(ctx, &Write{Kind: store.KindTwin, Op: store.OpReplace, Subject: string(t.ID), Twin: &t}); err != nil {
		return twin.Twin{}, nil, err
	}
	rec := store.RecorderFrom(ctx)
	n := len(rec.Records())
	stored, err := p.st.PutTwin(ctx, t, c)
	if err != nil {
		if cond.IfNoneMatch {
			return twin.Twin{}, nil, err
		}
		return twin.Twin{}, nil, retryable(err, cond)
	}
	var doc []byte
	if rs := rec.Records(); len(rs) > n {
		doc = rs[len(rs)-1].Data
	}
	p.twins.put(stored)
	return stored, doc, nil
}

// ownTwin stamps the owner fields of t (see actor.stampTwin) and checks
// that a may write it. It reads the current version (or takes cached, a
// version from the twin cache, for a condition that accepts any version),
// and makes c conditional on it when the client's condition accepts any
// version, so that the owner it kept is the owner of the version it
// replaces (a concurrent delete and create makes the write retry).
func (p *Pipeline) ownTwin(ctx context.Context, a actor, t *twin.Twin, c *store.Condition, cached *twin.Twin) error {
	if c.IfNoneMatch {
		// A create only (the store refuses it if the twin exists): no
		// owner to keep, nothing to read.
		if !a.mayWrite(a.org()) {
			return forbidden("principal %s may not create twins in org %q", a.pr.Subject, a.org())
		}
		if err := p.checkSigned(ctx, a, t.Metadata.Model); err != nil {
			return err
		}
		a.stampTwin(t, twin.Twin{}, false)
		return nil
	}
	var cur twin.Twin
	var err error
	if cached != nil {
		cur = *cached
	} else {
		cur, err = p.st.GetTwin(ctx, t.ID)
	}
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	switch {
	case exists && !a.mayWrite(cur.Metadata.Org):
		if a.pr.Org != cur.Metadata.Org && cur.Metadata.Org != "" {
			return notYours("DigitalTwinNotFound", "there is no digital twin with id %s that you may write", t.ID)
		}
		return forbidden("principal %s may not write twin %s of org %q", a.pr.Subject, t.ID, cur.Metadata.Org)
	case !exists && !a.mayWrite(a.org()):
		return forbidden("principal %s may not create twins in org %q", a.pr.Subject, a.org())
	}
	if err := p.checkSigned(ctx, a, t.Metadata.Model, cur.Metadata.Model); err != nil {
		return err
	}
	a.stampTwin(t, cur, exists)
	if anyVersion(*c) && !c.IfNoneMatch {
		if exists {
			c.IfMatch = cur.ETag
		} else {
			c.IfNoneMatch = true
		}
	}
	return nil
}

// PatchTwin applies a JSON Patch to twin id (to its component when
// component is not empty: the patch paths are then already prefixed with
// the component and the component must exist). The patched twin is
// validated against its (possibly new) model before the store applies the
// same patch to the same version. Without If-Match a concurrent write makes
// it retry on the newer version until the retry deadline.
//
// The base version is first taken from the twins this pipeline has just
// written (twinCache), which saves a read of the store. The store is the
// arbiter: it takes the patch only under If-Match of that version, so a
// stale entry costs one refused write. Any outcome of an attempt on a
// cached version other than success (a refused write, a precondition, a
// permission or validation refusal) is decided again on the version read
// from the store, so the cache changes no answer.
func (p *Pipeline) PatchTwin(ctx context.Context, id twin.ID, pt twin.Patch, cond store.Condition, component string) (twin.Twin, error) {
	var stored twin.Twin
	a := actorOf(ctx)
	err := p.commit(ctx, func(ctx context.Context, ms *Models) error {
		if cur, ok := p.twins.get(id); ok {
			s, err := p.patchFrom(ctx, a, ms, cur, pt, cond, component)
			if err == nil {
				stored = s
				p.twins.put(s)
				return nil
			}
			p.twins.drop(id, cur.ETag)
		}
		cur, err := p.st.GetTwin(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", id)
		}
		if err != nil {
			return err
		}
		stored, err = p.patchFrom(ctx, a, ms, cur, pt, cond, component)
		if err == nil {
			p.twins.put(stored)
		}
		return err
	})
	return stored, err
}

// patchFrom is one attempt of PatchTwin on cur, the version it read (from
// the store or the cache).
func (p *Pipeline) patchFrom(ctx context.Context, a actor, ms *Models, cur twin.Twin, pt twin.Patch, cond store.Condition, component string) (twin.Twin, error) {
	id := cur.ID
	if component != "" {
		if _, ok := cur.Properties[component].(map[string]any); !ok {
			return twin.Twin{}, refuse(store.ErrNotFound, "ComponentNotFound", "twin %s has no component %s", id, component)
		}
	}
	if !a.mayWrite(cur.Metadata.Org) {
		if a.pr.Org != cur.Metadata.Org && cur.Metadata.Org != "" {
			return twin.Twin{}, notYours("DigitalTwinNotFound", "there is no digital twin with id %s", id)
		}
		return twin.Twin{}, forbidden("principal %s may not write twin %s of org %q", a.pr.Subject, id, cur.Metadata.Org)
	}
	if cond.IfMatch != "" && !cur.ETag.Matches(cond.IfMatch) {
		return twin.Twin{}, refuse(store.ErrPreconditionFailed, "PreconditionFailed", "twin %s has etag %s, not %s", id, cur.ETag, cond.IfMatch)
	}
	if err := p.checkSigned(ctx, a, cur.Metadata.Model); err != nil {
		return twin.Twin{}, err
	}
	// The store applies the patch to cur: the writer and signer of
	// this write go in with it (the org stays).
	cur.Metadata.Writer, cur.Metadata.Signer = a.writer(), a.signer
	next, err := cur.ApplyPatch(pt, p.now())
	if err != nil {
		return twin.Twin{}, err
	}
	iface, err := ms.Interface(next.Metadata.Model)
	// A twin of a decommissioned model may still be updated, but not
	// moved to one.
	if iface == nil || (err != nil && next.Metadata.Model != cur.Metadata.Model) {
		return twin.Twin{}, err
	}
	if next.Metadata.Model != cur.Metadata.Model {
		if err := p.checkSigned(ctx, a, next.Metadata.Model); err != nil {
			return twin.Twin{}, err
		}
	}
	if err := ValidateTwin(iface, next); err != nil {
		return twin.Twin{}, err
	}
	if err := p.check(ctx, &Write{Kind: store.KindTwin, Op: store.OpPatch, Subject: string(id), Twin: &next, Patch: pt}); err != nil {
		return twin.Twin{}, err
	}
	// The store writes the patched version under If-Match of the
	// version validated here; a store that can take that version
	// (store.TwinPatcher) need not read and decode it again.
	c := store.Condition{IfMatch: cur.ETag, Models: ms.Version}
	var stored twin.Twin
	if tp, ok := p.st.(store.TwinPatcher); ok {
		stored, err = tp.PatchTwinFrom(ctx, cur, pt, c)
	} else {
		stored, err = p.st.PatchTwin(ctx, id, pt, c)
	}
	if err != nil {
		return twin.Twin{}, retryable(err, cond)
	}
	stampPatchRecords(ctx, stored.Metadata.Writer, stored.Metadata.Signer)
	return stored, nil
}

// DeleteTwin deletes a twin that has no relationships, under cond.
func (p *Pipeline) DeleteTwin(ctx context.Context, id twin.ID, cond store.Condition) error {
	a := actorOf(ctx)
	return p.commit(ctx, func(ctx context.Context, ms *Models) error {
		c := cond
		if a.on {
			cur, err := p.st.GetTwin(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", id)
			} else if err != nil {
				return err
			}
			if !a.mayWrite(cur.Metadata.Org) {
				if a.pr.Org != cur.Metadata.Org && cur.Metadata.Org != "" {
					return notYours("DigitalTwinNotFound", "there is no digital twin with id %s", id)
				}
				return forbidden("principal %s may not delete twin %s of org %q", a.pr.Subject, id, cur.Metadata.Org)
			}
			if anyVersion(cond) {
				c.IfMatch = cur.ETag
			}
		}
		if err := p.check(ctx, &Write{Kind: store.KindTwin, Op: store.OpDelete, Subject: string(id)}); err != nil {
			return err
		}
		err := retryable(p.st.DeleteTwin(ctx, id, c), cond)
		p.twins.drop(id, "")
		switch {
		case errors.Is(err, store.ErrNotFound):
			return refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", id)
		case errors.Is(err, store.ErrConflict):
			// ADT answers 400, not 409, for a twin that still has
			// relationships.
			return &Error{Code: "RelationshipsNotDeleted", Message: "twin " + string(id) + " still has relationships; delete them first", Err: store.ErrInvalid}
		}
		return err
	})
}

// retryable turns the precondition failure of a write conditional on the
// version the pipeline read into errRetry when the client's own condition
// accepts any version.
func retryable(err error, cond store.Condition) error {
	if errors.Is(err, store.ErrPreconditionFailed) && anyVersion(cond) {
		return errRetry
	}
	return err
}

// anyVersion reports whether cond accepts any current version (no If-Match,
// or If-Match: *).
func anyVersion(cond store.Condition) bool {
	return cond.IfMatch == "" || cond.IfMatch == twin.AnyETag
}

// ValidateTwin checks t against its model. The store and twin.ApplyPatch
// keep a "$metadata" entry (lastUpdateTime) for every top-level member,
// components included, while the validator accepts entries for properties
// only; a component's own metadata lives in its "$metadata". The component
// entries are left out of the document so that a twin with components can
// be patched at all.
//
// The document is t.Doc() without its copies: the validator reads it and
// changes nothing, so the properties are t's own maps, and each metadata
// entry is an empty object (of a property's metadata the validator reads
// only "unit", which twin.PropertyMetadata does not have).
func ValidateTwin(iface *dtdl.Interface, t twin.Twin) error {
	doc := make(map[string]any, len(t.Properties)+1)
	for k, v := range t.Properties {
		doc[k] = v
	}
	md := make(map[string]any, len(t.Metadata.Properties)+1)
	md["$model"] = t.Metadata.Model
	for k := range t.Metadata.Properties {
		if iface.Component(k) == nil {
			md[k] = noPropertyMetadata
		}
	}
	doc["$metadata"] = md
	return iface.ValidateTwin(doc)
}

// noPropertyMetadata is the metadata entry ValidateTwin gives every
// property; nothing writes to it.
var noPropertyMetadata = map[string]any{}

// keyedLocks serialise the writes of one key within this server (by a
// hash of the key), waiting no longer than the caller's context.
type keyedLocks [64]chan struct{}

func (k *keyedLocks) init() {
	for i := range k {
		k[i] = make(chan struct{}, 1)
	}
}

func (k *keyedLocks) lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(key))
	ch := k[h.Sum32()%uint32(len(k))]
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, refuse(ErrBusy, "ServiceUnavailable", "another write of %s is in progress; retry later", key)
}
