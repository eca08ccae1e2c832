package main

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"lodestone/api"
	"lodestone/twin"
)

// change is one difference between two versions of a twin: a property (or
// a field inside an object property, as a JSON Pointer) added, removed or
// changed, or the model changed ("/$metadata/$model").
type change struct {
	Op   string `json:"op"` // add, remove, replace
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// historyEntry is an entry of twin history --json: the API's entry, with
// the same fields, and what changed from the version before.
type historyEntry struct {
	api.HistoryEntry
	Changes []change `json:"changes"`
}

// historyOutput is the --json document of twin history: the API's
// HistoryList shape with changes added to each entry.
type historyOutput struct {
	Value []historyEntry `json:"value"`
}

// historyWithChanges diffs each version with the one before it.
func historyWithChanges(h []api.HistoryEntry) historyOutput {
	out := historyOutput{Value: make([]historyEntry, len(h))}
	var prev *twin.Twin
	for i, e := range h {
		out.Value[i] = historyEntry{HistoryEntry: e, Changes: versionChanges(prev, e)}
		if e.Twin != nil {
			prev = e.Twin
		}
		if e.Kind == "delete" {
			prev = nil
		}
	}
	return out
}

// versionChanges is what entry e changed from the twin prev (nil before
// the first version or after a delete). Without the stored state of e, the
// patch it recorded stands in.
func versionChanges(prev *twin.Twin, e api.HistoryEntry) []change {
	switch {
	case e.Kind == "delete":
		if prev == nil {
			return []change{}
		}
		return diffTwins(prev, nil)
	case e.Twin != nil:
		return diffTwins(prev, e.Twin)
	}
	out := []change{}
	for _, op := range e.Patch {
		c := change{Op: op.Op, Path: op.Path, New: op.Value}
		if c.Op == "add" {
			c.Op = "replace"
		}
		out = append(out, c)
	}
	return out
}

// diffTwins lists the changes from a to b (either may be nil), sorted by
// path.
func diffTwins(a, b *twin.Twin) []change {
	out := []change{}
	var am, bm string
	var ap, bp map[string]any
	if a != nil {
		am, ap = a.Metadata.Model, a.Properties
	}
	if b != nil {
		bm, bp = b.Metadata.Model, b.Properties
	}
	if am != bm {
		out = append(out, valueChange("/$metadata/$model", am, bm, am != "", bm != ""))
	}
	diffMaps(&out, "", ap, bp)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func valueChange(path string, old, new any, hadOld, hasNew bool) change {
	switch {
	case !hadOld:
		return change{Op: "add", Path: path, New: new}
	case !hasNew:
		return change{Op: "remove", Path: path, Old: old}
	}
	return change{Op: "replace", Path: path, Old: old, New: new}
}

// diffMaps appends the differences between two property maps, going into
// objects on both sides so that one field of a large object shows as
// one change. Keys starting with "$" (component metadata) are skipped.
func diffMaps(out *[]change, prefix string, a, b map[string]any) {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		if strings.HasPrefix(k, "$") {
			continue
		}
		path := prefix + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
		av, inA := a[k]
		bv, inB := b[k]
		am, aObj := av.(map[string]any)
		bm, bObj := bv.(map[string]any)
		switch {
		case inA && inB && aObj && bObj:
			diffMaps(out, path, am, bm)
		case inA && inB && reflect.DeepEqual(av, bv):
		default:
			if inA != inB || !reflect.DeepEqual(av, bv) {
				*out = append(*out, valueChange(path, av, bv, inA, inB))
			}
		}
	}
}

// printHistory prints each version with what it changed:
//
//	#2  2025-04-01T10:00:00Z  update  etag W/"…"
//	    ~ /capacityTonnesPerYear: 20000 → 25000
func printHistory(w io.Writer, h []api.HistoryEntry) {
	hist := historyWithChanges(h)
	for _, e := range hist.Value {
		etag := ""
		if e.Twin != nil {
			etag = "  etag " + string(e.Twin.ETag)
		}
		fmt.Fprintf(w, "#%d  %s  %s%s\n", e.Sequence, e.Time.UTC().Format(time.RFC3339Nano), e.Kind, etag)
		switch e.Kind {
		case "create":
			fmt.Fprintf(w, "    created with %d properties\n", countProps(e.Changes))
			continue
		case "delete":
			fmt.Fprintf(w, "    deleted (it had %d properties)\n", countProps(e.Changes))
			continue
		}
		if len(e.Changes) == 0 {
			fmt.Fprintln(w, "    no property changed")
		}
		for _, c := range e.Changes {
			switch c.Op {
			case "add":
				fmt.Fprintf(w, "    + %s: %s\n", c.Path, short(c.New))
			case "remove":
				fmt.Fprintf(w, "    - %s (was %s)\n", c.Path, short(c.Old))
			default:
				fmt.Fprintf(w, "    ~ %s: %s → %s\n", c.Path, short(c.Old), short(c.New))
			}
		}
	}
}

// countProps counts the property changes, leaving out the model's.
func countProps(cs []change) int {
	n := 0
	for _, c := range cs {
		if !strings.HasPrefix(c.Path, "/$metadata/") {
			n++
		}
	}
	return n
}

// short is a value as compact JSON, cut at 80 characters.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
