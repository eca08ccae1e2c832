package tenancytest

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"time"

	"lodestone/tql"
	"lodestone/trust/auth"
	"lodestone/trust/tenancy"
)

// The orgs of random worlds, and Outsider, an org that owns nothing and
// receives nothing unless an agreement names it.
var (
	Orgs     = []string{"acme", "globex", "initech"}
	Outsider = "hooli"
)

// The model kinds (each org has its own model of each, and so has org ""),
// property, relationship and telemetry names of random worlds.
var (
	Kinds      = []string{"Base", "Plant", "Mine", "Port"}
	Properties = []string{"name", "capacity", "secret", "level"}
	RelNames   = []string{"feeds", "owns", "partOf"}
	RelProps   = []string{"weight", "secret"}
	Telemetry  = []string{"temp", "flow"}
)

// ModelID is the model of kind owned by org: "dtmi:<org>:<kind>;1", with
// "world" for org "".
func ModelID(org, kind string) string {
	if org == "" {
		org = "world"
	}
	return "dtmi:" + org + ":" + kind + ";1"
}

// World is a random world. Twins and Rels are the full graph's documents
// in the shape of the API's query documents: a twin's org is
// $metadata.$org, a relationship's "$org" (both absent for org "").
type World struct {
	// Orgs are the orgs that own things in this world (a prefix of Orgs).
	Orgs []string
	// Models are every org's models (and org ""'s), with ModelOrg their
	// owner.
	Models   []tql.Model
	ModelOrg map[string]string
	Twins    []tql.Doc
	Rels     []tql.Doc
	// Agreements are in force or expired at Now.
	Agreements []tenancy.Agreement
	// Principals are a reader of each org, of Outsider, and Anonymous.
	Principals []auth.Principal
	Now        time.Time
}

// Random makes the world of a seed, with about nTwins twins and nRels
// relationships.
func Random(seed uint64, nTwins, nRels int) *World {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	w := &World{Orgs: Orgs[:2+rng.IntN(2)], ModelOrg: map[string]string{}, Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	for _, org := range append([]string{""}, w.Orgs...) {
		for _, k := range Kinds {
			m := tql.Model{ID: ModelID(org, k)}
			if k != "Base" {
				m.Extends = []string{ModelID(org, "Base")}
			}
			w.Models = append(w.Models, m)
			w.ModelOrg[m.ID] = org
		}
	}
	owners := append([]string{""}, w.Orgs...)
	ts := w.Now.Add(-time.Hour).Format(time.RFC3339Nano)
	for i := range nTwins {
		org := owners[rng.IntN(len(owners))]
		meta := map[string]any{"$model": ModelID(org, Kinds[rng.IntN(len(Kinds))]), "$lastUpdateTime": ts}
		if org != "" {
			meta["$org"], meta["$writer"] = org, "writer-"+org
		}
		d := tql.Doc{"$dtId": fmt.Sprintf("t-%02d", i), "$etag": fmt.Sprintf(`W/"e-%d"`, i), "$metadata": meta}
		for _, p := range Properties {
			if rng.IntN(4) == 0 {
				continue
			}
			switch p {
			case "name":
				d[p] = fmt.Sprintf("n-%d", rng.IntN(5))
			case "secret":
				d[p] = fmt.Sprintf("s-%d", rng.IntN(3))
			default:
				d[p] = float64(rng.IntN(100))
			}
			meta[p] = map[string]any{"lastUpdateTime": ts}
		}
		w.Twins = append(w.Twins, d)
	}
	for i := range nRels {
		src, dst := w.Twins[rng.IntN(nTwins)], w.Twins[rng.IntN(nTwins)]
		org := tenancy.DocOrg(src)
		if org == "" {
			// An admin of any org may write on the twins of org "".
			org = owners[rng.IntN(len(owners))]
		}
		d := tql.Doc{"$relationshipId": fmt.Sprintf("r-%02d", i), "$sourceId": src["$dtId"], "$targetId": dst["$dtId"],
			"$relationshipName": RelNames[rng.IntN(len(RelNames))], "$etag": fmt.Sprintf(`W/"re-%d"`, i)}
		if org != "" {
			d["$org"] = org
		}
		if rng.IntN(3) > 0 {
			d["weight"] = float64(rng.IntN(10))
		}
		if rng.IntN(2) == 0 {
			d["secret"] = fmt.Sprintf("rs-%d", rng.IntN(3))
		}
		w.Rels = append(w.Rels, d)
	}
	for i := range rng.IntN(6) {
		a := tenancy.Agreement{ID: fmt.Sprintf("a-%d", i), Owner: w.Orgs[rng.IntN(len(w.Orgs))], Created: w.Now.Add(-2 * time.Hour), CreatedBy: "admin"}
		for a.ToOrg == "" || a.ToOrg == a.Owner {
			a.ToOrg = append(slices.Clone(w.Orgs), Outsider)[rng.IntN(len(w.Orgs)+1)]
		}
		for _, k := range Kinds {
			if rng.IntN(2) == 0 {
				a.Models = append(a.Models, ModelID(a.Owner, k))
			}
		}
		if len(a.Models) == 0 {
			a.Models = []string{ModelID(a.Owner, "Plant")}
		}
		a.Properties = subset(rng, append(slices.Clone(Properties), Telemetry...))
		a.Relationships = subset(rng, RelNames)
		switch rng.IntN(4) {
		case 0:
			a.Expires = w.Now.Add(-time.Minute)
		case 1:
		default:
			a.Expires = w.Now.Add(time.Hour)
		}
		w.Agreements = append(w.Agreements, a)
	}
	for _, org := range append(slices.Clone(w.Orgs), Outsider) {
		w.Principals = append(w.Principals, auth.Principal{Subject: "reader-" + org, Org: org, Roles: []auth.Role{auth.Reader}, Method: "token"})
	}
	w.Principals = append(w.Principals, auth.Anonymous)
	return w
}

func subset(rng *rand.Rand, from []string) []string {
	var out []string
	for _, s := range from {
		if rng.IntN(2) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// Graph returns the world's full graph.
func (w *World) Graph() *tql.MemGraph {
	g := tql.NewMemGraph()
	for _, m := range w.Models {
		g.AddModel(m)
	}
	for _, d := range w.Twins {
		_ = g.Put(time.Time{}, d)
	}
	for _, d := range w.Rels {
		_ = g.Put(time.Time{}, d)
	}
	return g
}

// Rules is the reference of the sharing rules: the agreements and the
// time at which they are judged.
type Rules struct {
	Agreements []tenancy.Agreement
	Now        time.Time
}

func (r Rules) inForce(a tenancy.Agreement) bool {
	return a.Expires.IsZero() || r.Now.Before(a.Expires)
}

// full reports that pr sees everything of org: pr is anonymous, of that
// org, or org is "".
func full(pr auth.Principal, org string) bool {
	return pr.Method == "anonymous" || org == "" || org == pr.Org
}

// Twin says whether pr sees a twin of org and model: all of it, or the
// properties in props.
func (r Rules) Twin(pr auth.Principal, org, model string) (visible, all bool, props map[string]bool) {
	if full(pr, org) {
		return true, true, nil
	}
	props = map[string]bool{}
	for _, a := range r.Agreements {
		if r.inForce(a) && a.Owner == org && a.ToOrg == pr.Org && slices.Contains(a.Models, model) {
			visible = true
			for _, p := range a.Properties {
				props[p] = true
			}
		}
	}
	return visible, false, props
}

// Rel says whether pr may see a relationship of org named name (when both
// its ends are visible): all of it or the properties in props.
func (r Rules) Rel(pr auth.Principal, org, name string) (visible, all bool, props map[string]bool) {
	if full(pr, org) {
		return true, true, nil
	}
	props = map[string]bool{}
	for _, a := range r.Agreements {
		if r.inForce(a) && a.Owner == org && a.ToOrg == pr.Org && slices.Contains(a.Relationships, name) {
			visible = true
			for _, p := range a.Properties {
				props[p] = true
			}
		}
	}
	return visible, false, props
}

// Telemetry says whether pr sees the telemetry name of a twin of org and
// model.
func (r Rules) Telemetry(pr auth.Principal, org, model, name string) bool {
	vis, all, props := r.Twin(pr, org, model)
	return vis && (all || props[name])
}

// Model says whether pr sees model id of org.
func (r Rules) Model(pr auth.Principal, org, id string) bool {
	if full(pr, org) {
		return true
	}
	for _, a := range r.Agreements {
		if r.inForce(a) && a.Owner == org && a.ToOrg == pr.Org && slices.Contains(a.Models, id) {
			return true
		}
	}
	return false
}

// ProjectTwin returns what pr sees of twin document d, and false when it
// sees nothing.
func (r Rules) ProjectTwin(pr auth.Principal, d tql.Doc) (tql.Doc, bool) {
	vis, all, props := r.Twin(pr, tenancy.DocOrg(d), tql.TwinModel(d))
	if !vis {
		return nil, false
	}
	if all {
		return d, true
	}
	md, _ := d["$metadata"].(map[string]any)
	meta := map[string]any{"$model": md["$model"]}
	out := tql.Doc{"$dtId": d["$dtId"], "$metadata": meta}
	if e, ok := d["$etag"]; ok {
		out["$etag"] = e
	}
	for p := range props {
		if v, ok := d[p]; ok {
			out[p] = v
		}
		if v, ok := md[p]; ok {
			meta[p] = v
		}
	}
	return out, true
}

// RelOrg is the org of relationship document d: its "$org", else the org
// of its source twin.
func RelOrg(d, src tql.Doc) string {
	if o, ok := d["$org"].(string); ok {
		return o
	}
	return tenancy.DocOrg(src)
}

// ProjectRel returns what pr sees of relationship document d whose source
// twin is src (both ends must be visible; the caller checks), and false
// when it sees nothing. A shared relationship shows its system properties
// and owner org ("$org"), not its writer or signer, and the listed
// properties.
func (r Rules) ProjectRel(pr auth.Principal, d, src tql.Doc) (tql.Doc, bool) {
	name, _ := d["$relationshipName"].(string)
	vis, all, props := r.Rel(pr, RelOrg(d, src), name)
	if !vis {
		return nil, false
	}
	if all {
		return d, true
	}
	out := tql.Doc{}
	for _, k := range []string{"$relationshipId", "$sourceId", "$targetId", "$relationshipName", "$etag", "$org"} {
		if v, ok := d[k]; ok {
			out[k] = v
		}
	}
	for p := range props {
		if v, ok := d[p]; ok {
			out[p] = v
		}
	}
	return out, true
}

// Graph returns the graph pr sees of the full graph of twins and rels:
// the visible twins projected, and the relationships whose ends are both
// visible and that the rules show, projected.
func (r Rules) Graph(pr auth.Principal, models []tql.Model, twins, rels iter.Seq[tql.Doc]) *tql.MemGraph {
	g := tql.NewMemGraph()
	for _, m := range models {
		g.AddModel(m)
	}
	all := map[string]tql.Doc{}
	visible := map[string]bool{}
	for d := range twins {
		id, _ := d["$dtId"].(string)
		all[id] = d
		if p, ok := r.ProjectTwin(pr, d); ok {
			visible[id] = true
			_ = g.Put(time.Time{}, p)
		}
	}
	for d := range rels {
		src, _ := d["$sourceId"].(string)
		dst, _ := d["$targetId"].(string)
		if !visible[src] || !visible[dst] {
			continue
		}
		if p, ok := r.ProjectRel(pr, d, all[src]); ok {
			_ = g.Put(time.Time{}, p)
		}
	}
	return g
}
