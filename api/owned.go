package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/trust/tenancy"
	"lodestone/twin"
)

// The twin, relationship, model, telemetry, history, provenance and
// credibility routes answer through the tenancy policy (package tenancy):
// a principal sees its own org's things, org "" and what sharing
// agreements show it, projected; everything else is not found (404, as if
// it did not exist). Writes are checked by the pipeline (stamp.go there);
// the API adds what needs the agreements: a principal creates twins only
// of models it sees, and relationships only to twins it sees.

// viewer is who reads, under which policy. A request without a principal
// (a server without Security, whose handlers run unguarded) reads as the
// anonymous principal: everything. The query, event, job and run routes
// call it a reader (tenantread.go).
type viewer struct {
	pr  auth.Principal
	pol *tenancy.Policy
	// all says the principal sees everything (no --auth).
	all bool
}

// viewerOf returns the viewer of a request's context.
func (a *API) viewerOf(ctx context.Context) viewer {
	pr := principal(ctx)
	if pr.Method == "anonymous" {
		return viewer{pr: pr, all: true}
	}
	return viewer{pr: pr, pol: a.Tenancy(ctx)}
}

// twin returns t as v sees it; false when hidden.
func (v viewer) twin(t twin.Twin) (twin.Twin, bool) {
	if v.all {
		return t, true
	}
	return v.pol.ProjectTwin(v.pr, t)
}

// twinVisible reports whether v sees twin id now (false when absent).
func (a *API) twinVisible(ctx context.Context, v viewer, id twin.ID) (twin.Twin, bool, error) {
	t, err := a.opts.Store.GetTwin(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	p, ok := v.twin(t)
	return p, ok, nil
}

// seeTwin reads twin id now as v sees it: not found when absent or hidden.
func (a *API) seeTwin(ctx context.Context, v viewer, id twin.ID) (twin.Twin, error) {
	t, ok, err := a.twinVisible(ctx, v, id)
	if err != nil {
		return t, err
	}
	if !ok {
		return t, notFound("DigitalTwinNotFound", "there is no digital twin with id %s", id)
	}
	return t, nil
}

// rel returns r as v sees it, judging its ends by the twins they are now
// (or were at at, when at is not zero); false when hidden.
func (a *API) rel(ctx context.Context, v viewer, r twin.Relationship, at time.Time, seen map[twin.ID]bool) (twin.Relationship, bool, error) {
	if v.all {
		return r, true, nil
	}
	ends := [2]bool{}
	for i, id := range [2]twin.ID{r.SourceID, r.TargetID} {
		ok, known := seen[id]
		if !known {
			var t twin.Twin
			var err error
			if at.IsZero() {
				t, err = a.opts.Store.GetTwin(ctx, id)
			} else {
				t, err = a.opts.Store.TwinAsOf(ctx, id, at)
			}
			switch {
			case errors.Is(err, store.ErrNotFound):
				ok = false
			case err != nil:
				return r, false, err
			default:
				ok = v.pol.TwinVisible(v.pr, t.Metadata.Org, t.Metadata.Model)
			}
			if seen != nil {
				seen[id] = ok
			}
		}
		ends[i] = ok
	}
	if !v.pol.RelationshipVisible(v.pr, r, ends[0], ends[1]) {
		return r, false, nil
	}
	p, ok := v.pol.ProjectRelationship(v.pr, r)
	return p, ok, nil
}

// model reports whether v sees model m.
func (v viewer) model(m twin.Model) bool { return v.all || v.pol.ModelVisible(v.pr, m) }

// checkModelVisible refuses a write naming a model v does not see as if
// the model were not uploaded.
func (a *API) checkModelVisible(v viewer, model string) error {
	if v.all {
		return nil
	}
	if m, ok := a.pipe.Models().All[model]; ok && !v.model(m) {
		return &Error{Status: http.StatusBadRequest, Code: "ModelNotFound", Message: "model " + model + " is not uploaded; upload it with POST /models first"}
	}
	return nil
}

// twinOwner is the part of a twin document that says who owns it, decoded
// without the properties.
type twinOwner struct {
	Metadata struct {
		Model string `json:"$model"`
		Org   string `json:"$org"`
	} `json:"$metadata"`
}

// seeTwinJSON returns the stored JSON of twin id as v sees it: the stored
// bytes when v sees it whole, a projection otherwise; not found when
// absent or hidden.
func (a *API) seeTwinJSON(ctx context.Context, v viewer, id twin.ID) ([]byte, twin.ETag, error) {
	b, etag, err := a.opts.Store.GetTwinJSON(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", notFound("DigitalTwinNotFound", "there is no digital twin with id %s", id)
	}
	if err != nil || v.all {
		return b, etag, err
	}
	var o twinOwner
	if model, org, ok := twinDocOwner(b); ok {
		if len(org) == 0 || string(org) == v.pr.Org {
			return b, etag, nil // its own org's or org "": seen whole
		}
		o.Metadata.Model, o.Metadata.Org = string(model), string(org)
	} else if err := json.Unmarshal(b, &o); err != nil {
		return nil, "", err
	}
	_, all, ok := v.pol.VisibleProperties(v.pr, o.Metadata.Org, o.Metadata.Model)
	switch {
	case !ok:
		return nil, "", notFound("DigitalTwinNotFound", "there is no digital twin with id %s", id)
	case all:
		return b, etag, nil
	}
	var t twin.Twin
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, "", err
	}
	p, _ := v.twin(t)
	out, err := json.Marshal(p)
	return out, etag, err
}

// visibleChanges returns the part of a twin's change list v may see: each
// version is judged by the owner stored in it, and a version v may not see
// is left out with the changes that made it (a delete is judged by the
// version it deleted). A twin none of whose versions v sees is not found.
func (a *API) visibleChanges(ctx context.Context, v viewer, id twin.ID, chs []store.Change) ([]store.Change, error) {
	if v.all {
		return chs, nil
	}
	out := make([]store.Change, 0, len(chs))
	var prev *twin.Twin
	for _, c := range chs {
		judge := c.Twin
		if judge == nil {
			judge = prev
		}
		if c.Twin != nil {
			t := *c.Twin
			prev = &t
		}
		if judge == nil {
			continue
		}
		p, ok := v.twin(*judge)
		if !ok {
			continue
		}
		if c.Twin != nil {
			c.Twin = &p
		}
		if _, all, _ := v.pol.VisibleProperties(v.pr, judge.Metadata.Org, judge.Metadata.Model); !all {
			// A patch may name hidden properties: show only its result.
			c.Patch = nil
		}
		out = append(out, c)
	}
	if len(out) == 0 && len(chs) > 0 {
		return nil, notFound("DigitalTwinNotFound", "there is no digital twin with id %s and none in its history", id)
	}
	return out, nil
}

// snapshot returns s as v sees it: hidden twins and the relationships
// they end are left out, the rest projected.
func (v viewer) snapshot(s *store.Snapshot) *store.Snapshot {
	out := &store.Snapshot{At: s.At}
	vis := make(map[twin.ID]bool, len(s.Twins))
	for _, t := range s.Twins {
		if p, ok := v.twin(t); ok {
			vis[t.ID] = true
			out.Twins = append(out.Twins, p)
		}
	}
	for _, r := range s.Relationships {
		if !v.pol.RelationshipVisible(v.pr, r, vis[r.SourceID], vis[r.TargetID]) {
			continue
		}
		if p, ok := v.pol.ProjectRelationship(v.pr, r); ok {
			out.Relationships = append(out.Relationships, p)
		}
	}
	return out
}

// visibleRels keeps the relationships v sees, projected.
func (a *API) visibleRels(ctx context.Context, v viewer, rels []twin.Relationship) ([]twin.Relationship, error) {
	if v.all {
		return rels, nil
	}
	seen := map[twin.ID]bool{}
	out := rels[:0:0]
	for _, r := range rels {
		p, ok, err := a.rel(ctx, v, r, time.Time{}, seen)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// whole reports whether v sees every property of t (its own org's, org
// "", or everything).
func (v viewer) whole(t twin.Twin) bool {
	if v.all {
		return true
	}
	_, all, ok := v.pol.VisibleProperties(v.pr, t.Metadata.Org, t.Metadata.Model)
	return ok && all
}

// wholeHistory refuses, as not found, the provenance of a twin with a
// version v does not see whole: provenance names every value of every
// version and who wrote it.
func (a *API) wholeHistory(ctx context.Context, v viewer, id twin.ID) error {
	if v.all {
		return nil
	}
	chs, err := a.opts.Store.TwinChanges(ctx, id, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	for _, c := range chs {
		if c.Twin != nil && !v.whole(*c.Twin) {
			return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", id)
		}
	}
	return nil
}

// sharedReadOnly turns the not-found refusal of a write to twin id (or
// under it: its components, relationships, telemetry) into 403
// SharedReadOnly when the principal reads that twin through a sharing
// agreement: the twin's existence is disclosed to it already, and "not
// found" would say the twin is gone. Hidden twins keep their 404. It reads
// the twin only when the write was refused.
func (a *API) sharedReadOnly(ctx context.Context, id twin.ID, err error) error {
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	v := a.viewerOf(ctx)
	if v.all {
		return err
	}
	t, gerr := a.opts.Store.GetTwin(ctx, id)
	if gerr != nil {
		return err
	}
	org := t.Metadata.Org
	if org == "" || org == v.pr.Org || !v.pol.TwinVisible(v.pr, org, t.Metadata.Model) {
		return err
	}
	return &Error{Status: http.StatusForbidden, Code: "SharedReadOnly",
		Message: "twin " + string(id) + " is shared with your org read-only by a sharing agreement: only its owner org may write it, its components, relationships and telemetry", Err: err}
}

// hiddenRelationships explains the refusal of the delete of twin id that
// still has relationships when the principal sees none of them (another
// org's relationships to it, or relationships whose other end it no
// longer sees): 409 RelationshipsNotVisible, naming none. Such a
// relationship belongs to another org or ends at a twin the principal does
// not see, so the delete is not the principal's to do; the relationships'
// owners delete them first. With one it sees, the refusal stays ADT's 400
// RelationshipsNotDeleted.
func (a *API) hiddenRelationships(ctx context.Context, id twin.ID, err error) error {
	var pe *pipeline.Error
	if !errors.As(err, &pe) || pe.Code != "RelationshipsNotDeleted" {
		return err
	}
	v := a.viewerOf(ctx)
	if v.all {
		return err
	}
	out, lerr := a.opts.Store.ListRelationships(ctx, id, "")
	if lerr != nil {
		return err
	}
	in, lerr := a.opts.Store.ListIncomingRelationships(ctx, id)
	if lerr != nil {
		return err
	}
	vis, lerr := a.visibleRels(ctx, v, append(out, in...))
	if lerr != nil || len(vis) > 0 {
		return err
	}
	return &Error{Status: http.StatusConflict, Code: "RelationshipsNotVisible",
		Message: "twin " + string(id) + " is still related by relationships you cannot see (of another org, or to a twin no longer shared with you); their owners must delete them before the twin can be deleted", Err: err}
}
