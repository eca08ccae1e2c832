package tenancy

import (
	"maps"
	"strings"
	"time"

	"lodestone/tql"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// Policy is the set of agreements in force at one time, indexed for the
// questions the API asks. It is safe for concurrent use (it is never
// modified after NewPolicy).
type Policy struct {
	at     time.Time
	grants map[pair]*grant
	all    []Agreement
}

// pair is an owner org and a receiving org.
type pair struct{ owner, to string }

// grant is what an owner shows a receiver: per model the visible property
// names, and per relationship name the visible property names.
type grant struct {
	models map[string]map[string]bool
	rels   map[string]map[string]bool
}

// NewPolicy returns the policy of the agreements in as that are in force
// at now (expired ones are left out).
func NewPolicy(as []Agreement, now time.Time) *Policy {
	p := &Policy{at: now, grants: map[pair]*grant{}}
	for _, a := range as {
		if !a.InForce(now) || a.Owner == "" || a.ToOrg == "" || a.Owner == a.ToOrg {
			continue
		}
		p.all = append(p.all, a)
		k := pair{a.Owner, a.ToOrg}
		g := p.grants[k]
		if g == nil {
			g = &grant{models: map[string]map[string]bool{}, rels: map[string]map[string]bool{}}
			p.grants[k] = g
		}
		for _, m := range a.Models {
			g.models[m] = addAll(g.models[m], a.Properties)
		}
		for _, r := range a.Relationships {
			g.rels[r] = addAll(g.rels[r], a.Properties)
		}
	}
	return p
}

func addAll(set map[string]bool, names []string) map[string]bool {
	if set == nil {
		set = make(map[string]bool, len(names))
	}
	for _, n := range names {
		set[n] = true
	}
	return set
}

// At returns the time the policy was built for.
func (p *Policy) At() time.Time { return p.at }

// Agreements returns the agreements in force that the policy holds.
func (p *Policy) Agreements() []Agreement { return p.all }

// Unrestricted reports that pr sees and writes everything: the principal
// of a server without --auth.
func (p *Policy) Unrestricted(pr auth.Principal) bool { return pr.Method == "anonymous" }

// owns reports whether pr sees everything of org: unrestricted, its own
// org, or org "".
func (p *Policy) owns(pr auth.Principal, org string) bool {
	return p.Unrestricted(pr) || org == "" || org == pr.Org
}

// grantOf returns what org shows pr, or nil.
func (p *Policy) grantOf(pr auth.Principal, org string) *grant {
	if p == nil || pr.Org == "" {
		return nil
	}
	return p.grants[pair{org, pr.Org}]
}

// VisibleProperties returns the property (and telemetry) names of a twin
// of org and model that pr sees: all reports that pr sees every property;
// otherwise props holds the visible names (nil when the twin is hidden).
// ok is false when the twin is hidden.
func (p *Policy) VisibleProperties(pr auth.Principal, org, model string) (props map[string]bool, all, ok bool) {
	if p.owns(pr, org) {
		return nil, true, true
	}
	g := p.grantOf(pr, org)
	if g == nil {
		return nil, false, false
	}
	props, ok = g.models[model]
	return props, false, ok
}

// TwinVisible reports whether pr sees a twin of org and model.
func (p *Policy) TwinVisible(pr auth.Principal, org, model string) bool {
	_, _, ok := p.VisibleProperties(pr, org, model)
	return ok
}

// ProjectTwin returns t as pr sees it: false when it is hidden; for a
// shared twin only "$dtId", "$etag", "$metadata.$model" and the listed
// properties with their metadata. The result shares no maps with t when
// it differs from t.
func (p *Policy) ProjectTwin(pr auth.Principal, t twin.Twin) (twin.Twin, bool) {
	props, all, ok := p.VisibleProperties(pr, t.Metadata.Org, t.Metadata.Model)
	if !ok {
		return twin.Twin{}, false
	}
	if all {
		return t, true
	}
	out := twin.Twin{ID: t.ID, ETag: t.ETag, Metadata: twin.Metadata{Model: t.Metadata.Model}}
	for k, v := range t.Properties {
		if !props[k] {
			continue
		}
		if out.Properties == nil {
			out.Properties = map[string]any{}
		}
		out.Properties[k] = v
		if pm, ok := t.Metadata.Properties[k]; ok {
			if out.Metadata.Properties == nil {
				out.Metadata.Properties = map[string]twin.PropertyMetadata{}
			}
			out.Metadata.Properties[k] = pm
		}
	}
	return out.Clone(), true
}

// ProjectTwinDoc is ProjectTwin on a query document (a twin as decoded
// JSON). The result is a new map when it differs from d; d is not
// modified.
func (p *Policy) ProjectTwinDoc(pr auth.Principal, d tql.Doc) (tql.Doc, bool) {
	props, all, ok := p.VisibleProperties(pr, DocOrg(d), tql.TwinModel(d))
	if !ok {
		return nil, false
	}
	if all {
		return d, true
	}
	out := tql.Doc{}
	md := map[string]any{"$model": tql.TwinModel(d)}
	srcMD, _ := d["$metadata"].(map[string]any)
	for k, v := range d {
		switch {
		case k == "$dtId" || k == "$etag":
			out[k] = v
		case strings.HasPrefix(k, "$"):
		case props[k]:
			out[k] = v
			if m, ok := srcMD[k]; ok {
				md[k] = m
			}
		}
	}
	out["$metadata"] = md
	return out, true
}

// RelationshipVisible reports whether pr sees r, given whether pr sees
// its source and target twins.
func (p *Policy) RelationshipVisible(pr auth.Principal, r twin.Relationship, srcVisible, dstVisible bool) bool {
	if p.Unrestricted(pr) {
		return true
	}
	if !srcVisible || !dstVisible {
		return false
	}
	return p.relNameVisible(pr, r.Org, r.Name)
}

// relNameVisible reports whether pr sees relationships of org named name
// (ends aside).
func (p *Policy) relNameVisible(pr auth.Principal, org, name string) bool {
	if p.owns(pr, org) {
		return true
	}
	g := p.grantOf(pr, org)
	return g != nil && g.rels[name] != nil
}

// ProjectRelationship returns r as pr sees it, ends aside (check them
// with RelationshipVisible): false when its name is not shared with pr;
// for a shared one only the listed properties, without its writer and
// signer.
func (p *Policy) ProjectRelationship(pr auth.Principal, r twin.Relationship) (twin.Relationship, bool) {
	if p.owns(pr, r.Org) {
		return r, true
	}
	g := p.grantOf(pr, r.Org)
	if g == nil || g.rels[r.Name] == nil {
		return twin.Relationship{}, false
	}
	props := g.rels[r.Name]
	out := r
	out.Writer, out.Signer, out.Properties = "", "", nil
	for k, v := range r.Properties {
		if props[k] {
			if out.Properties == nil {
				out.Properties = map[string]any{}
			}
			out.Properties[k] = v
		}
	}
	return out.Clone(), true
}

// ProjectRelDoc is ProjectRelationship on a query document. The
// relationship's org is its "$org"; a document without one (from a graph
// that does not carry owners) takes srcOrg, the org of its source twin.
// Ends aside, as for ProjectRelationship.
func (p *Policy) ProjectRelDoc(pr auth.Principal, d tql.Doc, srcOrg string) (tql.Doc, bool) {
	org := srcOrg
	if v, ok := d["$org"]; ok {
		org, _ = v.(string)
	}
	name, _ := d["$relationshipName"].(string)
	if p.owns(pr, org) {
		return d, true
	}
	g := p.grantOf(pr, org)
	if g == nil || g.rels[name] == nil {
		return nil, false
	}
	props := g.rels[name]
	out := make(tql.Doc, len(d))
	for k, v := range d {
		switch k {
		case "$writer", "$signer":
		case "$relationshipId", "$sourceId", "$targetId", "$relationshipName", "$etag", "$org":
			out[k] = v
		default:
			if props[k] {
				out[k] = v
			}
		}
	}
	return out, true
}

// ModelVisible reports whether pr sees model m: its own org's, org "",
// or one an agreement in force shares with pr's org.
func (p *Policy) ModelVisible(pr auth.Principal, m twin.Model) bool {
	if p.owns(pr, m.Org) {
		return true
	}
	g := p.grantOf(pr, m.Org)
	return g != nil && g.models[m.ID] != nil
}

// TelemetryVisible reports whether pr sees the telemetry called name of a
// twin of twinOrg and model.
func (p *Policy) TelemetryVisible(pr auth.Principal, twinOrg, model, name string) bool {
	props, all, ok := p.VisibleProperties(pr, twinOrg, model)
	return ok && (all || props[name])
}

// CanWrite reports whether pr may write things of org: unrestricted, its
// own org with the writer (or admin) role, or org "" as an admin.
// Nothing is ever written into another org, whatever an agreement says.
func (p *Policy) CanWrite(pr auth.Principal, org string) bool {
	switch {
	case p.Unrestricted(pr):
		return true
	case org == "":
		return pr.Has(auth.Admin)
	case org == pr.Org:
		return pr.Has(auth.Writer)
	}
	return false
}

// SharedWith returns the orgs that share something with org, sorted by
// nothing in particular; callers that need an order sort it.
func (p *Policy) SharedWith(org string) []string {
	var out []string
	for k := range maps.Keys(p.grants) {
		if k.to == org {
			out = append(out, k.owner)
		}
	}
	return out
}
