package tenancy

import (
	"iter"
	"sync"
	"time"

	"lodestone/tql"
	"lodestone/trust/auth"
)

// View returns g as principal pr sees it under policy p: the twins pr may
// not see are absent (Twin, Twins, TwinsOfModel), the others are projected
// (ProjectTwinDoc), and a relationship appears only when both its ends are
// visible and the policy lets pr see it (ProjectRelDoc), projected. A
// query evaluated over the view therefore counts, aggregates, joins and
// walks MATCH paths over the visible graph only: a path through a hidden
// twin does not exist.
//
// The view keeps the optional interfaces of g that the evaluator uses:
// tql.ModelScanner (filtered), tql.HistoryGraph (AsOf returns the view of
// the inner graph at that time, so each version is judged by the org
// stored in it), tql.ErrGraph and tql.UnitResolver (passed through). An
// unrestricted principal gets g itself.
//
// A view is as safe for concurrent use as g; it caches the visibility of
// the twins it has read, under a lock.
func View(g tql.Graph, p *Policy, pr auth.Principal) tql.Graph {
	if p.Unrestricted(pr) {
		return g
	}
	v := &view{g: g, p: p, pr: pr, twins: map[string]seen{}}
	_, scan := g.(tql.ModelScanner)
	_, hist := g.(tql.HistoryGraph)
	switch {
	case scan && hist:
		return &scanHistView{v}
	case scan:
		return &scanView{v}
	case hist:
		return &histView{v}
	}
	return v
}

// view is the filtered graph.
type view struct {
	g  tql.Graph
	p  *Policy
	pr auth.Principal

	mu sync.Mutex
	// twins caches the projection of each twin read so far (nil for a
	// twin that is hidden or absent) and its org, so that relationship
	// scans look each end up once.
	twins map[string]seen
	// complete says twins holds every twin of g (read by a scan of all
	// relationships), so a twin not in it is absent.
	complete bool
}

type seen struct {
	doc tql.Doc
	org string
}

// The wrappers add the optional interfaces the inner graph has.
type (
	scanView     struct{ *view }
	histView     struct{ *view }
	scanHistView struct{ *view }
)

var (
	_ tql.Graph        = (*view)(nil)
	_ tql.ErrGraph     = (*view)(nil)
	_ tql.UnitResolver = (*view)(nil)
	_ tql.ModelScanner = (*scanView)(nil)
	_ tql.HistoryGraph = (*histView)(nil)
	_ tql.ModelScanner = (*scanHistView)(nil)
	_ tql.HistoryGraph = (*scanHistView)(nil)
)

// project returns the projection of twin document d, caching it; false
// when the principal may not see it.
func (v *view) project(d tql.Doc) (tql.Doc, bool) {
	id, _ := d["$dtId"].(string)
	v.mu.Lock()
	s, ok := v.twins[id]
	v.mu.Unlock()
	if ok {
		return s.doc, s.doc != nil
	}
	s = seen{org: DocOrg(d)}
	if pd, ok := v.p.ProjectTwinDoc(v.pr, d); ok {
		s.doc = pd
	}
	v.mu.Lock()
	v.twins[id] = s
	v.mu.Unlock()
	return s.doc, s.doc != nil
}

// visible returns the projection of the twin with the given id; false when
// it is absent or hidden.
func (v *view) visible(id string) (tql.Doc, bool) {
	v.mu.Lock()
	s, ok := v.twins[id]
	v.mu.Unlock()
	if ok || v.isComplete() {
		return s.doc, s.doc != nil
	}
	d, ok := v.g.Twin(id)
	if !ok {
		v.mu.Lock()
		v.twins[id] = seen{}
		v.mu.Unlock()
		return nil, false
	}
	return v.project(d)
}

// rel returns the projection of relationship document d: nil when an end
// is hidden or the policy hides it.
func (v *view) rel(d tql.Doc) (tql.Doc, bool) {
	src, _ := d["$sourceId"].(string)
	dst, _ := d["$targetId"].(string)
	if _, ok := v.visible(src); !ok {
		return nil, false
	}
	if _, ok := v.visible(dst); !ok {
		return nil, false
	}
	v.mu.Lock()
	srcOrg := v.twins[src].org
	v.mu.Unlock()
	return v.p.ProjectRelDoc(v.pr, d, srcOrg)
}

// DocOrg returns the $metadata.$org of a twin document ("" when none).
func DocOrg(d tql.Doc) string {
	if m, ok := d["$metadata"].(map[string]any); ok {
		s, _ := m["$org"].(string)
		return s
	}
	return ""
}

// Twin implements tql.Graph.
func (v *view) Twin(id string) (tql.Doc, bool) { return v.visible(id) }

// twinSeq filters and projects a sequence of twin documents.
func (v *view) twinSeq(seq iter.Seq[tql.Doc]) iter.Seq[tql.Doc] {
	return func(yield func(tql.Doc) bool) {
		for d := range seq {
			if pd, ok := v.project(d); ok && !yield(pd) {
				return
			}
		}
	}
}

// relSeq filters and projects a sequence of relationship documents.
func (v *view) relSeq(seq iter.Seq[tql.Doc]) iter.Seq[tql.Doc] {
	return func(yield func(tql.Doc) bool) {
		for d := range seq {
			if pd, ok := v.rel(d); ok && !yield(pd) {
				return
			}
		}
	}
}

// Twins implements tql.Graph.
func (v *view) Twins(start string) iter.Seq[tql.Doc] { return v.twinSeq(v.g.Twins(start)) }

// Relationships implements tql.Graph. A scan of the relationships reads
// every twin first, in one scan, rather than looking each end up.
func (v *view) Relationships(start string) iter.Seq[tql.Doc] {
	return func(yield func(tql.Doc) bool) {
		if !v.isComplete() {
			for d := range v.g.Twins("") {
				v.project(d)
			}
			v.mu.Lock()
			v.complete = true
			v.mu.Unlock()
		}
		for d := range v.relSeq(v.g.Relationships(start)) {
			if !yield(d) {
				return
			}
		}
	}
}

func (v *view) isComplete() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.complete
}

// Outgoing implements tql.Graph: nothing for a hidden twin.
func (v *view) Outgoing(id string, names []string) iter.Seq[tql.Doc] {
	if _, ok := v.visible(id); !ok {
		return func(func(tql.Doc) bool) {}
	}
	return v.relSeq(v.g.Outgoing(id, names))
}

// Incoming implements tql.Graph: nothing for a hidden twin.
func (v *view) Incoming(id string, names []string) iter.Seq[tql.Doc] {
	if _, ok := v.visible(id); !ok {
		return func(func(tql.Doc) bool) {}
	}
	return v.relSeq(v.g.Incoming(id, names))
}

// IsOfModel implements tql.Graph; the model hierarchy is not secret
// (hidden twins are absent whatever their model).
func (v *view) IsOfModel(model, base string, exact bool) bool {
	return v.g.IsOfModel(model, base, exact)
}

// Err implements tql.ErrGraph: the inner graph's error.
func (v *view) Err() error {
	if eg, ok := v.g.(tql.ErrGraph); ok {
		return eg.Err()
	}
	return nil
}

// PropertyUnit implements tql.UnitResolver: the inner graph's units.
func (v *view) PropertyUnit(model, property string) string {
	if u, ok := v.g.(tql.UnitResolver); ok {
		return u.PropertyUnit(model, property)
	}
	return ""
}

func (v *view) twinsOfModel(base string, exact bool, start string) iter.Seq[tql.Doc] {
	return v.twinSeq(v.g.(tql.ModelScanner).TwinsOfModel(base, exact, start))
}

func (v *view) asOf(t time.Time) (tql.Graph, error) {
	h, err := v.g.(tql.HistoryGraph).AsOf(t)
	if err != nil {
		return nil, err
	}
	return View(h, v.p, v.pr), nil
}

// TwinsOfModel implements tql.ModelScanner.
func (v *scanView) TwinsOfModel(base string, exact bool, start string) iter.Seq[tql.Doc] {
	return v.twinsOfModel(base, exact, start)
}

// AsOf implements tql.HistoryGraph.
func (v *histView) AsOf(t time.Time) (tql.Graph, error) { return v.asOf(t) }

// TwinsOfModel implements tql.ModelScanner.
func (v *scanHistView) TwinsOfModel(base string, exact bool, start string) iter.Seq[tql.Doc] {
	return v.twinsOfModel(base, exact, start)
}

// AsOf implements tql.HistoryGraph.
func (v *scanHistView) AsOf(t time.Time) (tql.Graph, error) { return v.asOf(t) }
