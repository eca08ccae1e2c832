package world_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lodestone/supply"
	"lodestone/world"
)

// usgsRow is one row of the USGS mine production table kept as test data.
type usgsRow struct {
	country, iso string
	tonnes       float64
	source       string
}

// usgsTable reads testdata/usgs-mcs2025-rare-earths-mine-production.csv:
// the rows of the USGS MCS 2025 rare-earths table (p. 145), 2024 mine
// production in t REO.
func usgsTable(t *testing.T) []usgsRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "usgs-mcs2025-rare-earths-mine-production.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "country,iso,tonnes_reo_2024,source" {
		t.Fatalf("header = %q", got)
	}
	var rows []usgsRow
	for _, rec := range recs[1:] {
		v, err := strconv.ParseFloat(rec[2], 64)
		if err != nil {
			t.Fatalf("row %q: %v", rec, err)
		}
		rows = append(rows, usgsRow{rec[0], rec[1], v, rec[3]})
	}
	return rows
}

// usgsProblems compares the world's mine list with the USGS table and
// returns what does not match: a producer of the table without a mine node
// or an absent entry, a node whose tonnage or citation differs from the
// table, a mine not in the table, a world total that the rows do not round
// to.
func usgsProblems(w *world.World, rows []usgsRow) []string {
	var probs []string
	mines := map[string][]*world.Node{}
	for i := range w.Nodes {
		if n := &w.Nodes[i]; n.Stage == supply.StageMine {
			mines[n.Country] = append(mines[n.Country], n)
		}
	}
	absent := map[string]world.Absent{}
	for _, a := range w.Absent {
		absent[a.Country] = a
	}
	inTable := map[string]bool{}
	sum, total := 0.0, 0.0
	for _, r := range rows {
		if r.iso == "WORLD" {
			total = r.tonnes
			continue
		}
		inTable[r.iso] = true
		sum += r.tonnes
		ns := mines[r.iso]
		if len(ns) == 0 {
			// A producer left out deliberately is in absent, with its
			// reason (Validate requires one).
			if _, ok := absent[r.iso]; !ok {
				probs = append(probs, fmt.Sprintf("%s (%s): %g t REO in %s, but neither a mine node nor in absent (add a node with its source, or list it in absent with the reason)", r.country, r.iso, r.tonnes, r.source))
			}
			continue
		}
		got := 0.0
		for _, n := range ns {
			got += n.Capacity()
			q := n.CapacityTonnesPerYear
			if q.Year != 2024 || !strings.Contains(q.Source, "[MCS2025, p. 145") {
				probs = append(probs, fmt.Sprintf("%s: capacity year %d, source %q: want 2024 and a citation of the table, [MCS2025, p. 145, ...]", n.ID, q.Year, q.Source))
			}
		}
		if got != r.tonnes {
			probs = append(probs, fmt.Sprintf("%s (%s): mine nodes hold %g t REO, the table %g t", r.country, r.iso, got, r.tonnes))
		}
	}
	for iso, ns := range mines {
		if !inTable[iso] {
			probs = append(probs, fmt.Sprintf("mine node %s: country %s is not in the USGS table", ns[0].ID, iso))
		}
	}
	// USGS rounds the world total to two significant figures.
	if p := math.Pow(10, math.Floor(math.Log10(sum))-1); math.Round(sum/p)*p != total {
		probs = append(probs, fmt.Sprintf("rows sum to %g t, which does not round to the world total %g t", sum, total))
	}
	if w.WorldMineProductionTonnesREO.Value != total {
		probs = append(probs, fmt.Sprintf("world_mine_production_tonnes_reo = %g, the table's total %g", w.WorldMineProductionTonnesREO.Value, total))
	}
	return probs
}

// TestUSGSMines checks the mine list against the USGS MCS 2025 table kept
// in testdata: every producer of the table is a mine node with the table's
// 2024 tonnage and a citation of the table's page, or is listed in absent
// with the reason; the countries issue 10 names (Madagascar, Vietnam,
// Malaysia, Laos) are each one or the other.
func TestUSGSMines(t *testing.T) {
	w := load(t)
	rows := usgsTable(t)
	if len(rows) < 18 {
		t.Fatalf("read %d rows, want the whole table (18)", len(rows))
	}
	for _, p := range usgsProblems(w, rows) {
		t.Error(p)
	}
	absent := map[string]world.Absent{}
	for _, a := range w.Absent {
		absent[a.Country] = a
	}
	for _, iso := range []string{"MG", "VN", "MY", "LA"} {
		mine := false
		for _, n := range w.Nodes {
			mine = mine || (n.Stage == supply.StageMine && n.Country == iso)
		}
		if _, ok := absent[iso]; mine == ok {
			t.Errorf("%s: mine node %v, absent %v: want exactly one", iso, mine, ok)
		}
	}
	if a := absent["LA"]; !strings.Contains(a.Reason, "no row") {
		t.Errorf("absent LA reason = %q, want why Laos has no figure", a.Reason)
	}
}

// TestUSGSMinesCatchesMissing removes a producer (the Madagascar node and
// its arcs) and checks that the comparison reports it, unless it is listed
// in absent.
func TestUSGSMinesCatchesMissing(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(world.Data(), &m); err != nil {
		t.Fatal(err)
	}
	var nodes, arcs []any
	for _, n := range m["nodes"].([]any) {
		if n.(map[string]any)["id"] != "mine-mg" {
			nodes = append(nodes, n)
		}
	}
	for _, a := range m["arcs"].([]any) {
		if a.(map[string]any)["from"] != "mine-mg" {
			arcs = append(arcs, a)
		}
	}
	m["nodes"], m["arcs"] = nodes, arcs
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	probs := usgsProblems(w, usgsTable(t))
	if len(probs) != 1 || !strings.Contains(probs[0], "Madagascar (MG): 2000 t REO") {
		t.Errorf("problems = %q, want one naming Madagascar", probs)
	}
	// Listed as deliberately absent, with a reason, it passes.
	w.Absent = append(w.Absent, world.Absent{Country: "MG", Name: "Madagascar", Reason: "test", Source: "[MCS2025, p. 145]"})
	if probs := usgsProblems(w, usgsTable(t)); len(probs) != 0 {
		t.Errorf("with Madagascar absent: problems = %q, want none", probs)
	}
}

// TestAbsentErrors checks that a bad absent entry is refused with an error
// naming its field.
func TestAbsentErrors(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(a map[string]any)
		wantField string
	}{
		{"no reason", func(a map[string]any) { a["reason"] = " " }, "absent[0].reason"},
		{"bad country", func(a map[string]any) { a["country"] = "Laos" }, "absent[0].country"},
		{"country with a mine", func(a map[string]any) { a["country"] = "MG" }, "absent[0].country"},
		{"unresolved source", func(a map[string]any) { a["source"] = "USGS [NOPE]" }, "absent[0].source"},
		{"no source", func(a map[string]any) { delete(a, "source") }, "absent[0].source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(world.Data(), &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m["absent"].([]any)[0].(map[string]any))
			data, _ := json.Marshal(m)
			_, err := world.Decode(data)
			if err == nil || !strings.Contains(err.Error(), tt.wantField) {
				t.Fatalf("Decode = %v, want an error naming %s", err, tt.wantField)
			}
		})
	}
}
