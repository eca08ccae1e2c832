package tql

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Model is what MemGraph knows of a model: its ID, the models it extends and
// the units its properties declare (property name → unit name, see
// LookupUnit).
type Model struct {
	ID      string
	Extends []string
	Units   map[string]string
}

// MemGraph is an in-memory twin graph with history: every change is kept
// with the time it was made, and AsOf replays the changes up to a time. It is
// the reference Graph for tests and examples, not a store: it holds
// everything in memory. It is safe for concurrent use; a query sees the state
// of the graph when it started reading.
type MemGraph struct {
	mu      sync.Mutex // guards the fields below
	models  map[string]*Model
	events  []memEvent
	sorted  bool
	current *memSnap
	ancest  map[string]map[string]bool // model → itself and every model it extends
}

type memEvent struct {
	at     time.Time
	seq    int
	doc    Doc    // put; nil for a delete
	twinID string // delete of a twin
	relSrc string // delete of a relationship: source and ID
	relID  string
}

// NewMemGraph returns an empty graph.
func NewMemGraph() *MemGraph {
	return &MemGraph{models: map[string]*Model{}}
}

var (
	_ Graph        = (*MemGraph)(nil)
	_ HistoryGraph = (*MemGraph)(nil)
	_ ModelScanner = (*MemGraph)(nil)
	_ UnitResolver = (*MemGraph)(nil)
)

// AddModel adds or replaces a model. Models have no history.
func (g *MemGraph) AddModel(m Model) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.models[m.ID] = &m
	g.ancest = nil
	g.current = nil
}

// Put adds or replaces a twin (a document with $dtId) or a relationship (a
// document with $relationshipId, $sourceId, $targetId and
// $relationshipName) as of time at. The graph keeps doc; the caller must not
// modify it afterwards.
func (g *MemGraph) Put(at time.Time, doc Doc) error {
	switch {
	case str(doc["$relationshipId"]) != "":
		for _, k := range []string{"$sourceId", "$targetId", "$relationshipName"} {
			if str(doc[k]) == "" {
				return fmt.Errorf("tql: put relationship %q: missing %s", str(doc["$relationshipId"]), k)
			}
		}
	case str(doc["$dtId"]) != "":
		if TwinModel(doc) == "" {
			return fmt.Errorf("tql: put twin %q: missing $metadata.$model", str(doc["$dtId"]))
		}
	default:
		return errors.New("tql: put: document has neither $dtId nor $relationshipId")
	}
	g.add(memEvent{at: at, doc: doc})
	return nil
}

// DeleteTwin removes a twin, and the relationships from and to it, as of at.
func (g *MemGraph) DeleteTwin(at time.Time, id string) { g.add(memEvent{at: at, twinID: id}) }

// DeleteRelationship removes a relationship as of at.
func (g *MemGraph) DeleteRelationship(at time.Time, source, id string) {
	g.add(memEvent{at: at, relSrc: source, relID: id})
}

func (g *MemGraph) add(e memEvent) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e.seq = len(g.events)
	if n := len(g.events); n > 0 && e.at.Before(g.events[n-1].at) {
		g.sorted = false
	}
	g.events = append(g.events, e)
	g.current = nil
}

// snap returns the current state.
func (g *MemGraph) snap() *memSnap {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.current == nil {
		g.current = g.build(time.Time{}, false)
	}
	return g.current
}

// AsOf returns the graph as it was at t: the changes made at or before t.
func (g *MemGraph) AsOf(t time.Time) (Graph, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.build(t, true), nil
}

// build replays the events; g.mu is held.
func (g *MemGraph) build(t time.Time, upTo bool) *memSnap {
	if !g.sorted {
		slices.SortStableFunc(g.events, func(a, b memEvent) int {
			return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq))
		})
		g.sorted = true
	}
	s := &memSnap{g: g, twins: map[string]Doc{}, rels: map[string]Doc{}}
	for _, e := range g.events {
		if upTo && e.at.After(t) {
			break
		}
		switch {
		case e.doc != nil && str(e.doc["$relationshipId"]) != "":
			s.rels[RelKey(e.doc)] = e.doc
		case e.doc != nil:
			s.twins[str(e.doc["$dtId"])] = e.doc
		case e.twinID != "":
			delete(s.twins, e.twinID)
			for k, r := range s.rels {
				if str(r["$sourceId"]) == e.twinID || str(r["$targetId"]) == e.twinID {
					delete(s.rels, k)
				}
			}
		default:
			delete(s.rels, e.relSrc+"\x00"+e.relID)
		}
	}
	s.index()
	return s
}

// memSnap is the state of a MemGraph at one time, with indexes.
type memSnap struct {
	g       *MemGraph
	twins   map[string]Doc
	rels    map[string]Doc
	ids     []string         // sorted $dtIds
	relKeys []string         // sorted RelKeys
	out     map[string][]Doc // by source, sorted by $relationshipId
	in      map[string][]Doc // by target, sorted by $relationshipId, $sourceId
	byModel map[string][]string
}

func (s *memSnap) index() {
	s.ids = make([]string, 0, len(s.twins))
	s.byModel = map[string][]string{}
	for id := range s.twins {
		s.ids = append(s.ids, id)
	}
	sort.Strings(s.ids)
	for _, id := range s.ids {
		m := TwinModel(s.twins[id])
		s.byModel[m] = append(s.byModel[m], id)
	}
	s.out, s.in = map[string][]Doc{}, map[string][]Doc{}
	s.relKeys = make([]string, 0, len(s.rels))
	for k, r := range s.rels {
		s.relKeys = append(s.relKeys, k)
		s.out[str(r["$sourceId"])] = append(s.out[str(r["$sourceId"])], r)
		s.in[str(r["$targetId"])] = append(s.in[str(r["$targetId"])], r)
	}
	sort.Strings(s.relKeys)
	byID := func(a, b Doc) int {
		return cmp.Or(strings.Compare(str(a["$relationshipId"]), str(b["$relationshipId"])),
			strings.Compare(str(a["$sourceId"]), str(b["$sourceId"])))
	}
	for _, l := range s.out {
		slices.SortFunc(l, byID)
	}
	for _, l := range s.in {
		slices.SortFunc(l, byID)
	}
}

// Graph methods of MemGraph read the current state.

// Twin implements Graph.
func (g *MemGraph) Twin(id string) (Doc, bool) { return g.snap().Twin(id) }

// Twins implements Graph.
func (g *MemGraph) Twins(start string) iter.Seq[Doc] { return g.snap().Twins(start) }

// Relationships implements Graph.
func (g *MemGraph) Relationships(start string) iter.Seq[Doc] { return g.snap().Relationships(start) }

// Outgoing implements Graph.
func (g *MemGraph) Outgoing(id string, names []string) iter.Seq[Doc] {
	return g.snap().Outgoing(id, names)
}

// Incoming implements Graph.
func (g *MemGraph) Incoming(id string, names []string) iter.Seq[Doc] {
	return g.snap().Incoming(id, names)
}

// TwinsOfModel implements ModelScanner.
func (g *MemGraph) TwinsOfModel(base string, exact bool, start string) iter.Seq[Doc] {
	return g.snap().TwinsOfModel(base, exact, start)
}

// IsOfModel implements Graph from the models added with AddModel.
func (g *MemGraph) IsOfModel(model, base string, exact bool) bool {
	if model == base {
		return true
	}
	if exact {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ancest == nil {
		g.ancest = map[string]map[string]bool{}
	}
	a, ok := g.ancest[model]
	if !ok {
		a = map[string]bool{}
		var walk func(string)
		walk = func(id string) {
			if a[id] {
				return
			}
			a[id] = true
			if m := g.models[id]; m != nil {
				for _, e := range m.Extends {
					walk(e)
				}
			}
		}
		walk(model)
		g.ancest[model] = a
	}
	return a[base]
}

// PropertyUnit implements UnitResolver: the unit declared for property by
// model or by a model it extends.
func (g *MemGraph) PropertyUnit(model, property string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := map[string]bool{}
	var find func(string) string
	find = func(id string) string {
		if seen[id] {
			return ""
		}
		seen[id] = true
		m := g.models[id]
		if m == nil {
			return ""
		}
		if u := m.Units[property]; u != "" {
			return u
		}
		for _, e := range m.Extends {
			if u := find(e); u != "" {
				return u
			}
		}
		return ""
	}
	return find(model)
}

// Twin implements Graph for one state of the graph.
func (s *memSnap) Twin(id string) (Doc, bool) {
	d, ok := s.twins[id]
	return d, ok
}

// Twins implements Graph for one state of the graph.
func (s *memSnap) Twins(start string) iter.Seq[Doc] {
	return func(yield func(Doc) bool) {
		i, _ := slices.BinarySearch(s.ids, start)
		for _, id := range s.ids[i:] {
			if !yield(s.twins[id]) {
				return
			}
		}
	}
}

// Relationships implements Graph for one state of the graph.
func (s *memSnap) Relationships(start string) iter.Seq[Doc] {
	return func(yield func(Doc) bool) {
		i, _ := slices.BinarySearch(s.relKeys, start)
		for _, k := range s.relKeys[i:] {
			if !yield(s.rels[k]) {
				return
			}
		}
	}
}

func filterNames(l []Doc, names []string) iter.Seq[Doc] {
	return func(yield func(Doc) bool) {
		for _, r := range l {
			if len(names) > 0 && !slices.Contains(names, str(r["$relationshipName"])) {
				continue
			}
			if !yield(r) {
				return
			}
		}
	}
}

// Outgoing implements Graph for one state of the graph.
func (s *memSnap) Outgoing(id string, names []string) iter.Seq[Doc] {
	return filterNames(s.out[id], names)
}

// Incoming implements Graph for one state of the graph.
func (s *memSnap) Incoming(id string, names []string) iter.Seq[Doc] {
	return filterNames(s.in[id], names)
}

// IsOfModel implements Graph for one state of the graph.
func (s *memSnap) IsOfModel(model, base string, exact bool) bool {
	return s.g.IsOfModel(model, base, exact)
}

// PropertyUnit implements UnitResolver for one state of the graph.
func (s *memSnap) PropertyUnit(model, property string) string {
	return s.g.PropertyUnit(model, property)
}

// TwinsOfModel implements ModelScanner for one state of the graph.
func (s *memSnap) TwinsOfModel(base string, exact bool, start string) iter.Seq[Doc] {
	var ids []string
	n := 0
	for m, l := range s.byModel {
		if s.IsOfModel(m, base, exact) {
			ids = append(ids, l...)
			n++
		}
	}
	if n > 1 {
		sort.Strings(ids)
	}
	return func(yield func(Doc) bool) {
		i, _ := slices.BinarySearch(ids, start)
		for _, id := range ids[i:] {
			if !yield(s.twins[id]) {
				return
			}
		}
	}
}
