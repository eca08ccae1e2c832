package provenance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

// Reader is what Build reads from the store.
type Reader interface {
	store.History
	store.Relationships
}

// Reference is one bibliography entry a "source" text cites.
type Reference struct {
	Key   string
	Title string
	URL   string
	Kind  string
	Year  int // 0 when the bibliography records none
}

// Options tune Build. Every field is optional.
type Options struct {
	// Source is the CloudEvents source the server's events are made with
	// (event ids of twin changes do not depend on it).
	Source string
	// Log is the transparency log's index; nil when the server keeps no
	// log (changes then carry no log index, and imports cannot be told
	// from creates).
	Log *LogIndex
	// SpecHash returns the inputHash the simulate route computes for a
	// cascade twin's spec, to check that a result was computed from the
	// spec version the document names; nil skips the check.
	SpecHash func(twin.Twin) (string, error)
	// Cite resolves the bibliography keys cited in a "source" text; nil
	// leaves citations unresolved.
	Cite func(source string) []Reference
}

// UnrecordedAgent is the agent of a change that names no principal: one
// written without --auth, or a delete (the deleted version names who
// wrote it, not who deleted it).
const UnrecordedAgent = "agent:unauthenticated"

// performanceProps are the SimulatedPerformance properties the simulate
// route writes from one process run (api/simulate.go performancePatch).
var performanceProps = []string{"recovery", "purity", "throughputCapacityTonnesReoPerYear", "reagentUse", "converged", "modelVersion", "inputHash", "simulatedAt"}

// builder holds the state of one Build.
type builder struct {
	ctx  context.Context
	st   Reader
	opts Options
	doc  *Document
}

// Build returns the provenance of twin id: every version of every
// property value, from the twin's change list. A twin never written gives
// an error wrapping store.ErrNotFound; a deleted twin's history is still
// answered (its values are invalidated by the delete).
func Build(ctx context.Context, st Reader, id twin.ID, opts Options) (*Document, error) {
	chs, err := st.TwinChanges(ctx, id, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("provenance: changes of %s: %w", id, err)
	}
	if len(chs) == 0 {
		return nil, fmt.Errorf("provenance: twin %s: %w", id, store.ErrNotFound)
	}
	b := &builder{ctx: ctx, st: st, opts: opts, doc: newDocument()}
	if err := b.twin(id, chs); err != nil {
		return nil, err
	}
	return b.doc, nil
}

// agent returns the agent of the version t (nil for a delete): the
// principal ("$writer"), its org ("$org") and the key that signed the
// write ("$signer") stored in the version, adding it to the document.
func (b *builder) agent(t *twin.Twin) string {
	if t == nil || (t.Metadata.Writer == "" && t.Metadata.Signer == "") {
		b.doc.Agent[UnrecordedAgent] = Attrs{
			"prov:type":         "lodestone:UnrecordedPrincipal",
			"lodestone:subject": "unauthenticated",
			"lodestone:org":     "",
			"lodestone:signer":  "none",
			"lodestone:note":    "the change names no principal: it was written without --auth, or it is a delete (a deleted version names who wrote it, not who deleted it)",
		}
		return UnrecordedAgent
	}
	md := t.Metadata
	name := "agent:" + md.Org + "/" + md.Writer
	signer := "none"
	if md.Signer != "" {
		name += "#" + md.Signer
		signer = md.Signer
	}
	if _, seen := b.doc.Agent[name]; !seen {
		b.doc.Agent[name] = Attrs{"prov:type": "lodestone:Principal", "lodestone:subject": md.Writer, "lodestone:org": md.Org, "lodestone:signer": signer}
	}
	return name
}

// state is the latest entity of each property and its value's JSON.
type state struct {
	entity map[string]string
	value  map[string]string
}

func (b *builder) twin(id twin.ID, chs []store.Change) error {
	st := state{entity: map[string]string{}, value: map[string]string{}}
	var prevETag string
	for i, ch := range chs {
		version := i + 1
		etag := ""
		if ch.Twin != nil {
			etag = string(ch.Twin.ETag)
		} else if ch.Op == store.OpDelete {
			etag = prevETag
		}
		act := b.change(id, ch, etag)
		if ch.Op == store.OpDelete || ch.Twin == nil {
			for _, p := range slices.Sorted(maps.Keys(st.entity)) {
				relation(b.doc.WasInvalidatedBy, "inv", Attrs{"prov:entity": st.entity[p], "prov:activity": act, "prov:time": stamp(ch.Time)})
			}
			st = state{entity: map[string]string{}, value: map[string]string{}}
			prevETag = ""
			continue
		}
		prevETag = etag
		changed := b.values(id, version, *ch.Twin, ch, act, &st)
		if err := b.process(id, *ch.Twin, changed, ch.Time); err != nil {
			return err
		}
		b.scenario(*ch.Twin, changed, st)
		b.sources(*ch.Twin, changed)
	}
	if last := chs[len(chs)-1]; last.Twin != nil && last.Op != store.OpDelete {
		for _, e := range st.entity {
			b.doc.Entity[e]["lodestone:current"] = true
		}
	}
	return nil
}

// change adds the activity of one change and returns its name. A change
// made by an import (its time is that of a logged import) is the
// import's activity, shared by every twin it wrote.
func (b *builder) change(id twin.ID, ch store.Change, etag string) string {
	ev := pipeline.EventOf(b.opts.Source, store.Record{Kind: store.KindTwin, Op: ch.Op, Subject: string(id), Key: etag, Time: ch.Time})
	attrs := Attrs{
		"prov:startTime":      stamp(ch.Time),
		"prov:endTime":        stamp(ch.Time),
		"lodestone:op":        string(ch.Op),
		"lodestone:eventId":   ev.ID,
		"lodestone:eventType": ev.Type,
		"lodestone:request":   "a single write (API request or connector)",
	}
	name := "change:" + ev.ID
	org := ""
	if l := b.opts.Log; l != nil {
		if imp, ok := l.imports[ch.Time.UTC().Format(time.RFC3339Nano)]; ok && ch.Op != store.OpPatch {
			name = "change:" + imp.ID
			attrs["lodestone:eventId"] = imp.ID
			attrs["lodestone:eventType"] = imp.Type
			attrs["lodestone:request"] = "an import (POST /jobs/imports or lodestone import)"
			attrs["lodestone:logIndex"] = imp.index
			org = imp.Org
		} else if e, ok := l.byID[ev.ID]; ok {
			attrs["lodestone:logIndex"] = e.index
			org = e.Org
		} else {
			attrs["lodestone:logIndex"] = nil
			attrs["lodestone:logNote"] = "not in the transparency log (written before the log started, or the log is missing it: run lodestone verify)"
		}
	} else {
		attrs["lodestone:logNote"] = "the server keeps no transparency log; an import cannot be told from a create"
	}
	attrs["prov:type"] = "lodestone:Change"
	if strings.HasPrefix(attrs["lodestone:request"].(string), "an import") {
		attrs["prov:type"] = "lodestone:Import"
	}
	if ch.Twin != nil && ch.Twin.Metadata.Org != "" {
		org = ch.Twin.Metadata.Org
	}
	attrs["lodestone:org"] = org
	if _, seen := b.doc.Activity[name]; !seen {
		b.doc.Activity[name] = attrs
		relation(b.doc.WasAssociatedWith, "assoc", Attrs{"prov:activity": name, "prov:agent": b.agent(ch.Twin)})
	}
	return name
}

// values adds an entity for each property whose value this version
// changed and returns the changed properties with their entities.
func (b *builder) values(id twin.ID, version int, t twin.Twin, ch store.Change, act string, st *state) map[string]string {
	changed := map[string]string{}
	for _, p := range slices.Sorted(maps.Keys(t.Properties)) {
		raw, _ := json.Marshal(t.Properties[p])
		if prev, ok := st.value[p]; ok && prev == string(raw) {
			continue
		}
		name := fmt.Sprintf("twin:%s/%s/v%d", id, p, version)
		attrs := Attrs{
			"prov:type":             "lodestone:PropertyValue",
			"prov:value":            literal(t.Properties[p]),
			"lodestone:twin":        string(id),
			"lodestone:property":    p,
			"lodestone:twinVersion": version,
			"lodestone:etag":        string(t.ETag),
			"lodestone:model":       t.Metadata.Model,
		}
		if md, ok := t.Metadata.Properties[p]; ok && !md.SourceTime.IsZero() {
			attrs["lodestone:sourceTime"] = stamp(md.SourceTime)
		}
		b.doc.Entity[name] = attrs
		relation(b.doc.WasGeneratedBy, "gen", Attrs{"prov:entity": name, "prov:activity": act, "prov:time": stamp(ch.Time)})
		relation(b.doc.WasAttributedTo, "attr", Attrs{"prov:entity": name, "prov:agent": b.agent(&t)})
		if prev, ok := st.entity[p]; ok {
			relation(b.doc.WasDerivedFrom, "der", Attrs{"prov:generatedEntity": name, "prov:usedEntity": prev, "prov:activity": act, "prov:type": "prov:Revision"})
			if ch.Op == store.OpPatch {
				relation(b.doc.Used, "use", Attrs{"prov:activity": act, "prov:entity": prev})
			}
		}
		st.entity[p], st.value[p] = name, string(raw)
		changed[p] = name
	}
	for _, p := range slices.Sorted(maps.Keys(st.entity)) {
		if _, ok := t.Properties[p]; !ok {
			relation(b.doc.WasInvalidatedBy, "inv", Attrs{"prov:entity": st.entity[p], "prov:activity": act, "prov:time": stamp(ch.Time)})
			delete(st.entity, p)
			delete(st.value, p)
		}
	}
	return changed
}

// process links the SimulatedPerformance values a version wrote to the
// process run they came from: the run used the cascade's spec (the
// version current when it ran) and was run by the engine modelVersion
// names.
func (b *builder) process(id twin.ID, t twin.Twin, changed map[string]string, at time.Time) error {
	var outs []string
	for _, p := range performanceProps {
		if e, ok := changed[p]; ok {
			outs = append(outs, e)
		}
	}
	hash, _ := t.Properties["inputHash"].(string)
	mv, _ := t.Properties["modelVersion"].(string)
	if len(outs) == 0 || hash == "" || mv == "" {
		return nil
	}
	simAt, _ := t.Properties["simulatedAt"].(string)
	if simAt == "" {
		return nil // not a process-twin result (the simulate route always sets it)
	}
	run := "run:" + strings.TrimPrefix(hash, "sha256:") + "@" + simAt
	if _, seen := b.doc.Activity[run]; !seen {
		attrs := Attrs{"prov:type": "lodestone:ProcessRun", "lodestone:inputHash": hash, "lodestone:modelVersion": mv, "lodestone:simulatedAt": simAt}
		if conv, ok := t.Properties["converged"].(bool); ok {
			attrs["lodestone:converged"] = conv
		}
		attrs["prov:endTime"] = simAt
		b.doc.Activity[run] = attrs
		sw := "agent:" + mv
		b.doc.Agent[sw] = Attrs{"prov:type": "prov:SoftwareAgent", "lodestone:modelVersion": mv}
		relation(b.doc.WasAssociatedWith, "assoc", Attrs{"prov:activity": run, "prov:agent": sw})
	}
	when := at
	if ts, err := time.Parse(time.RFC3339Nano, simAt); err == nil {
		when = ts
	}
	spec, err := b.spec(id, hash, when, run)
	if err != nil {
		return err
	}
	for _, e := range outs {
		d := Attrs{"prov:generatedEntity": e, "prov:activity": run}
		if spec != "" {
			d["prov:usedEntity"] = spec
		} else {
			d["prov:usedEntity"] = run + "/input"
		}
		relation(b.doc.WasDerivedFrom, "der", d)
	}
	if spec == "" {
		b.doc.Entity[run+"/input"] = Attrs{"prov:type": "lodestone:ProcessInput", "lodestone:inputHash": hash,
			"lodestone:note": "no cascade twin of this twin (itself or a hasUnit target) held a spec when the run was made: the input is known by its hash only"}
		relation(b.doc.Used, "use", Attrs{"prov:activity": run, "prov:entity": run + "/input"})
	}
	return nil
}

// scenarioOutputs are the properties of a ScenarioRun twin that its run
// computed (scenario/run.go Encode).
var scenarioOutputs = []string{"resultJson", "provenanceJson", "lostTonnes", "demandFillRate", "firstStockout", "fillRates", "status", "error", "completedAt"}

// scenario links the outputs of a scenario run a version wrote to the
// run, which used the twin's scenarioJson (the SCENARIO document with its
// network, as of graphAsOf when built from the graph) and was run by the
// engine modelVersion names.
func (b *builder) scenario(t twin.Twin, changed map[string]string, st state) {
	hash, _ := t.Properties["inputHash"].(string)
	mv, _ := t.Properties["modelVersion"].(string)
	input, ok := st.entity["scenarioJson"]
	if hash == "" || mv == "" || !ok {
		return
	}
	var outs []string
	for _, p := range scenarioOutputs {
		if e, ok := changed[p]; ok {
			outs = append(outs, e)
		}
	}
	if len(outs) == 0 {
		return
	}
	done, _ := t.Properties["completedAt"].(string)
	if done == "" {
		return // a run in progress has computed nothing yet
	}
	run := "run:" + strings.TrimPrefix(hash, "sha256:") + "@" + done
	if _, seen := b.doc.Activity[run]; !seen {
		attrs := Attrs{"prov:type": "lodestone:ScenarioRun", "lodestone:inputHash": hash, "lodestone:modelVersion": mv}
		for _, k := range []string{"graphAsOf", "fromGraph", "seed", "runs", "startDate", "days"} {
			if v, ok := t.Properties[k]; ok {
				attrs["lodestone:"+k] = literal(v)
			}
		}
		attrs["prov:endTime"] = done
		b.doc.Activity[run] = attrs
		sw := "agent:" + mv
		b.doc.Agent[sw] = Attrs{"prov:type": "prov:SoftwareAgent", "lodestone:modelVersion": mv}
		relation(b.doc.WasAssociatedWith, "assoc", Attrs{"prov:activity": run, "prov:agent": sw})
		relation(b.doc.Used, "use", Attrs{"prov:activity": run, "prov:entity": input})
	}
	for _, e := range outs {
		relation(b.doc.WasDerivedFrom, "der", Attrs{"prov:generatedEntity": e, "prov:usedEntity": input, "prov:activity": run})
	}
}

// spec finds the cascade spec a run used: the "spec" value of the twin
// itself or of a twin its hasUnit relationships point at, in the version
// current at the run. With SpecHash the version whose hash is the run's
// inputHash is preferred; the entity says whether it matched.
func (b *builder) spec(id twin.ID, hash string, at time.Time, run string) (string, error) {
	cands := []twin.ID{id}
	rels, err := b.st.ListRelationships(b.ctx, id, "hasUnit")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("provenance: relationships of %s: %w", id, err)
	}
	for _, r := range rels {
		cands = append(cands, r.TargetID)
	}
	best, bestMatch := "", false
	for _, c := range cands {
		t, version, ch, err := b.versionAt(c, at)
		if err != nil {
			return "", err
		}
		if t == nil || t.Properties["spec"] == nil {
			continue
		}
		name := fmt.Sprintf("twin:%s/spec/v%d", c, version)
		match, matched := false, false
		if b.opts.SpecHash != nil {
			if h, err := b.opts.SpecHash(*t); err == nil {
				match, matched = h == hash, true
			}
		}
		if _, seen := b.doc.Entity[name]; !seen {
			b.doc.Entity[name] = Attrs{"prov:type": "lodestone:PropertyValue", "prov:value": literal(t.Properties["spec"]),
				"lodestone:twin": string(c), "lodestone:property": "spec", "lodestone:twinVersion": version,
				"lodestone:etag": string(t.ETag), "lodestone:model": t.Metadata.Model}
			act := b.change(c, ch, string(t.ETag))
			relation(b.doc.WasGeneratedBy, "gen", Attrs{"prov:entity": name, "prov:activity": act, "prov:time": stamp(ch.Time)})
			relation(b.doc.WasAttributedTo, "attr", Attrs{"prov:entity": name, "prov:agent": b.agent(t)})
		}
		if matched {
			b.doc.Entity[name]["lodestone:inputHashMatches"] = match
		}
		if _, done := b.doc.Entity[name]["lodestone:fittedData"]; !done {
			b.fitted(name, *t)
		}
		if best == "" || (match && !bestMatch) {
			best, bestMatch = name, match
		}
	}
	if best != "" {
		relation(b.doc.Used, "use", Attrs{"prov:activity": run, "prov:entity": best})
	}
	return best, nil
}

// versionAt returns the version of twin id current at at, its number in
// the change list and the change that wrote it; nil when it did not
// exist then.
func (b *builder) versionAt(id twin.ID, at time.Time) (*twin.Twin, int, store.Change, error) {
	chs, err := b.st.TwinChanges(b.ctx, id, time.Time{}, time.Time{})
	if err != nil {
		return nil, 0, store.Change{}, fmt.Errorf("provenance: changes of %s: %w", id, err)
	}
	var cur store.Change
	n := 0
	for i, ch := range chs {
		if ch.Time.After(at) {
			break
		}
		cur, n = ch, i+1
	}
	return cur.Twin, n, cur, nil
}

// fitted records what the spec's parameters were fitted to: every
// "source" text inside the spec or on the cascade twin, with its cited
// bibliography entries; when there is none, the entity says so.
func (b *builder) fitted(spec string, t twin.Twin) {
	var texts []string
	collectSources(t.Properties["spec"], &texts)
	if s, ok := t.Properties["source"].(string); ok && s != "" {
		texts = append(texts, s)
	}
	if len(texts) == 0 {
		b.doc.Entity[spec]["lodestone:fittedData"] = "not recorded: neither the spec nor the cascade twin names a source of its parameters"
		return
	}
	b.doc.Entity[spec]["lodestone:fittedData"] = strings.Join(texts, "; ")
	b.cite(spec, texts)
}

func collectSources(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if s, ok := x[k].(string); ok && (k == "source" || k == "sources") && s != "" {
				*out = append(*out, s)
				continue
			}
			collectSources(x[k], out)
		}
	case []any:
		for _, e := range x {
			collectSources(e, out)
		}
	}
}

// sources links the values a version changed to the bibliography entries
// their citations cite (as primary sources): a property's entry in the
// twin's "sources" map when it has one, else the twin's "source" text
// (world twins carry the citations of their figures there).
func (b *builder) sources(t twin.Twin, changed map[string]string) {
	src, _ := t.Properties["source"].(string)
	per, _ := t.Properties["sources"].(map[string]any)
	for _, p := range slices.Sorted(maps.Keys(changed)) {
		if p == "source" || p == "sources" {
			continue
		}
		text, _ := per[p].(string)
		if text == "" && !slices.Contains(performanceProps, p) {
			text = src
		}
		if text == "" {
			continue
		}
		e := b.doc.Entity[changed[p]]
		e["lodestone:source"] = text
		_, srcNew := changed["source"]
		_, perNew := changed["sources"]
		if !srcNew && !perNew {
			// The value changed and its citation did not: the cited
			// document need not support the new value.
			e["lodestone:sourceNote"] = "the value was changed after its citation was written; the citation is not claimed for it"
			continue
		}
		b.cite(changed[p], []string{text})
	}
}

// cite adds wasDerivedFrom (prov:PrimarySource) from entity to each
// bibliography entry the texts cite.
func (b *builder) cite(entity string, texts []string) {
	if b.opts.Cite == nil {
		return
	}
	seen := map[string]bool{}
	for _, s := range texts {
		refs := b.opts.Cite(s)
		sort.Slice(refs, func(i, j int) bool { return refs[i].Key < refs[j].Key })
		for _, r := range refs {
			if seen[r.Key] {
				continue
			}
			seen[r.Key] = true
			name := "bib:" + r.Key
			if _, ok := b.doc.Entity[name]; !ok {
				a := Attrs{"prov:type": "lodestone:Reference", "prov:label": r.Title, "lodestone:key": r.Key, "lodestone:kind": r.Kind}
				if r.URL != "" {
					a["prov:location"] = r.URL
				}
				if r.Year != 0 {
					a["lodestone:year"] = r.Year
				}
				b.doc.Entity[name] = a
			}
			relation(b.doc.WasDerivedFrom, "der", Attrs{"prov:generatedEntity": entity, "prov:usedEntity": name, "prov:type": "prov:PrimarySource"})
		}
	}
}

func stamp(t time.Time) map[string]string {
	return typed(t.UTC().Format(time.RFC3339Nano), "xsd:dateTime")
}
