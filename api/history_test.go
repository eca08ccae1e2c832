package api_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func asOf(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }

func lastUpdate(t *testing.T, r res) time.Time {
	t.Helper()
	md, _ := r.json(t)["$metadata"].(map[string]any)
	s, _ := md["$lastUpdateTime"].(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("$lastUpdateTime %q: %v", s, err)
	}
	return tm
}

func TestHistory(t *testing.T) {
	e := start(t, options{})
	before := time.Now()
	t1 := lastUpdate(t, e.putTwin("h1", "dtmi:test:Owner;1", map[string]any{"name": "v1"}))
	e.putTwin("h2", "dtmi:test:Owner;1", map[string]any{"name": "other"})
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	e.putTwin("p1", "dtmi:test:Plant;1", nil)
	e.putRel("a1", "r1", "feeds", "p1", map[string]any{"share": 0.1})
	mid := time.Now()
	e.mustDo("PATCH", "/digitaltwins/h1", `[{"op":"replace","path":"/name","value":"v2"}]`, 204)
	e.mustDo("PATCH", "/digitaltwins/a1/relationships/r1", `[{"op":"replace","path":"/share","value":0.2}]`, 204)
	t2 := lastUpdate(t, e.mustDo("GET", "/digitaltwins/h1", nil, 200))
	e.mustDo("DELETE", "/digitaltwins/h2", nil, 204)
	after := time.Now()
	if !t1.Before(t2) {
		t.Fatalf("update times %v, %v out of order", t1, t2)
	}

	tests := []struct {
		name     string
		path     string
		want     int
		wantName any // "name" of the twin, or "share" of the relationship
		field    string
	}{
		{"twin before it existed", "/digitaltwins/h1?asOf=" + asOf(before), 404, nil, ""},
		{"twin at its creation", "/digitaltwins/h1?asOf=" + asOf(t1), 200, "v1", "name"},
		{"twin between the writes", "/digitaltwins/h1?asOf=" + asOf(mid), 200, "v1", "name"},
		{"twin after the patch", "/digitaltwins/h1?asOf=" + asOf(t2), 200, "v2", "name"},
		{"deleted twin as it was", "/digitaltwins/h2?asOf=" + asOf(mid), 200, "other", "name"},
		{"deleted twin after its delete", "/digitaltwins/h2?asOf=" + asOf(after), 404, nil, ""},
		{"date only", "/digitaltwins/h1?asOf=2000-01-01", 404, nil, ""},
		{"bad time", "/digitaltwins/h1?asOf=noon", 400, nil, ""},
		{"relationship before the patch", "/digitaltwins/a1/relationships/r1?asOf=" + asOf(mid), 200, 0.1, "share"},
		{"relationship now", "/digitaltwins/a1/relationships/r1?asOf=" + asOf(after), 200, 0.2, "share"},
		{"relationship before it existed", "/digitaltwins/a1/relationships/r1?asOf=" + asOf(before), 404, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do("GET", tt.path, nil)
			if r.status != tt.want {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, r.status, r.body, tt.want)
			}
			if r.status >= 400 {
				r.errCode(t)
				return
			}
			if got := r.json(t)[tt.field]; got != tt.wantName {
				t.Errorf("GET %s: %s = %v, want %v", tt.path, tt.field, got, tt.wantName)
			}
		})
	}
	e.t = t

	var hist struct {
		Value []struct {
			Sequence int64           `json:"sequence"`
			Kind     string          `json:"kind"`
			Time     time.Time       `json:"time"`
			Twin     json.RawMessage `json:"twin"`
		} `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/digitaltwins/h2/history", nil, 200).body, &hist)
	var kinds []string
	for _, h := range hist.Value {
		kinds = append(kinds, h.Kind)
	}
	if diff := cmp.Diff([]string{"create", "delete"}, kinds); diff != "" {
		t.Errorf("history of h2 (-want +got):\n%s", diff)
	}
	json.Unmarshal(e.mustDo("GET", "/digitaltwins/h1/history", nil, 200).body, &hist)
	kinds = kinds[:0]
	var names []string
	for _, h := range hist.Value {
		kinds = append(kinds, h.Kind)
		var tw map[string]any
		json.Unmarshal(h.Twin, &tw)
		names = append(names, tw["name"].(string))
	}
	if diff := cmp.Diff([]string{"create", "update"}, kinds); diff != "" {
		t.Errorf("history of h1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"v1", "v2"}, names); diff != "" {
		t.Errorf("history of h1: names (-want +got):\n%s", diff)
	}
	var fromMid struct {
		Value []struct {
			Sequence int64            `json:"sequence"`
			Kind     string           `json:"kind"`
			Patch    []map[string]any `json:"patch"`
		} `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/digitaltwins/h1/history?from="+asOf(mid), nil, 200).body, &fromMid)
	wantMid := `[{"sequence":2,"kind":"update","patch":[{"op":"replace","path":"/name","value":"v2"}]}]`
	if got, _ := json.Marshal(fromMid.Value); string(got) != wantMid {
		t.Errorf("history of h1 from mid = %s, want %s", got, wantMid)
	}
	e.mustDo("GET", "/digitaltwins/nope/history", nil, 404)

	type snap struct {
		Twins []struct {
			ID   string `json:"$dtId"`
			Name string `json:"name"`
		} `json:"twins"`
		Relationships []map[string]any `json:"relationships"`
	}
	snaps := []struct {
		name    string
		at      string
		twins   []string
		h1Name  string
		nRels   int
		wantErr int
	}{
		{"before anything", "?asOf=" + asOf(before), nil, "", 0, 0},
		{"between the writes", "?asOf=" + asOf(mid), []string{"a1", "h1", "h2", "p1"}, "v1", 1, 0},
		{"now", "", []string{"a1", "h1", "p1"}, "v2", 1, 0},
		{"bad time", "?asOf=x", nil, "", 0, 400},
	}
	for _, s := range snaps {
		t.Run("snapshot "+s.name, func(t *testing.T) {
			e.t = t
			if s.wantErr != 0 {
				e.mustDo("GET", "/snapshot"+s.at, nil, s.wantErr)
				return
			}
			var got snap
			json.Unmarshal(e.mustDo("GET", "/snapshot"+s.at, nil, 200).body, &got)
			var ids []string
			h1 := ""
			for _, tw := range got.Twins {
				ids = append(ids, tw.ID)
				if tw.ID == "h1" {
					h1 = tw.Name
				}
			}
			if diff := cmp.Diff(s.twins, ids); diff != "" {
				t.Errorf("snapshot twins (-want +got):\n%s", diff)
			}
			if h1 != s.h1Name || len(got.Relationships) != s.nRels {
				t.Errorf("snapshot: h1 name %q, %d relationships; want %q, %d", h1, len(got.Relationships), s.h1Name, s.nRels)
			}
		})
	}
}
