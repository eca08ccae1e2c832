package api

import (
	"context"
	"errors"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

// The reads of the graph by the query, event, job, scenario and
// simulation routes go through the tenancy policy (see package tenancy):
// a principal sees its own org's things, org "" and what agreements share
// with it, projected. These helpers serve those routes.

// reader is who reads, under which policy: the same as the entity
// routes' viewer (owned.go), one type with both sets of helpers.
type reader = viewer

// readerOf returns the reader of a request's context.
func (a *API) readerOf(ctx context.Context) reader { return a.viewerOf(ctx) }

// owns reports whether things of org belong to the reader's org (or to
// org "", which every principal reads): runs, studies, jobs, routes and
// endpoints are visible only then.
func (rd reader) owns(org string) bool { return rd.all || org == "" || org == rd.pr.Org }

// canWrite reports whether the reader may write things of org.
func (rd reader) canWrite(org string) bool { return rd.all || rd.pol.CanWrite(rd.pr, org) }

// twinCache looks twins up in the store once and remembers whether the
// reader sees each (and its projection).
type twinCache struct {
	rd    reader
	st    store.Store
	ctx   context.Context
	twins map[twin.ID]cachedTwin
}

type cachedTwin struct {
	t       twin.Twin // the stored twin
	proj    twin.Twin // what the reader sees of it
	visible bool
}

func (a *API) newTwinCache(ctx context.Context, rd reader) *twinCache {
	return &twinCache{rd: rd, st: a.opts.Store, ctx: ctx, twins: map[twin.ID]cachedTwin{}}
}

// get returns the twin id as the reader sees it; false when it is absent
// or hidden. Errors other than not found are returned.
func (c *twinCache) get(id twin.ID) (cachedTwin, error) {
	if ct, ok := c.twins[id]; ok {
		return ct, nil
	}
	t, err := c.st.GetTwin(c.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		c.twins[id] = cachedTwin{}
		return cachedTwin{}, nil
	}
	if err != nil {
		return cachedTwin{}, err
	}
	return c.put(t), nil
}

// put judges and caches a twin already read.
func (c *twinCache) put(t twin.Twin) cachedTwin {
	ct := cachedTwin{t: t, proj: t, visible: true}
	if !c.rd.all {
		ct.proj, ct.visible = c.rd.pol.ProjectTwin(c.rd.pr, t)
	}
	c.twins[t.ID] = ct
	return ct
}

// relationship returns rel as the reader sees it: false when an end is
// hidden or the policy hides it.
func (c *twinCache) relationship(rel twin.Relationship) (twin.Relationship, bool, error) {
	if c.rd.all {
		return rel, true, nil
	}
	src, err := c.get(rel.SourceID)
	if err != nil {
		return rel, false, err
	}
	dst, err := c.get(rel.TargetID)
	if err != nil {
		return rel, false, err
	}
	if !c.rd.pol.RelationshipVisible(c.rd.pr, rel, src.visible, dst.visible) {
		return rel, false, nil
	}
	out, ok := c.rd.pol.ProjectRelationship(c.rd.pr, rel)
	return out, ok, nil
}

// visibleSnapshot returns the store's snapshot at at as the reader sees it:
// hidden twins and the relationships they end are left out, the rest
// projected. Each version is judged by the org stored in it.
func (a *API) visibleSnapshot(ctx context.Context, rd reader, at time.Time) (*store.Snapshot, error) {
	snap, err := a.opts.Store.Snapshot(ctx, at)
	if err != nil || rd.all {
		return snap, err
	}
	return filterSnapshot(rd, snap), nil
}

// filterSnapshot applies the reader's policy to a snapshot.
func filterSnapshot(rd reader, snap *store.Snapshot) *store.Snapshot {
	out := &store.Snapshot{At: snap.At}
	visible := make(map[twin.ID]bool, len(snap.Twins))
	for _, t := range snap.Twins {
		if p, ok := rd.pol.ProjectTwin(rd.pr, t); ok {
			visible[t.ID] = true
			out.Twins = append(out.Twins, p)
		}
	}
	for _, r := range snap.Relationships {
		if !rd.pol.RelationshipVisible(rd.pr, r, visible[r.SourceID], visible[r.TargetID]) {
			continue
		}
		if p, ok := rd.pol.ProjectRelationship(rd.pr, r); ok {
			out.Relationships = append(out.Relationships, p)
		}
	}
	return out
}
