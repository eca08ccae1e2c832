package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// shareAssets has acme share its assets and plants with globex: capacity,
// share and temperature, and the feeds relationships.
func (tn *tenants) shareAssets() {
	tn.must("acme/admin", "PUT", "/sharing/s1", map[string]any{"to_org": "globex", "models": []string{"dtmi:test:Asset;1", "dtmi:test:Plant;1"},
		"properties": []string{"capacity", "share", "temperature"}, "relationships": []string{"feeds"}}, 200)
}

// postTelemetry sends one telemetry message as who (to a component when
// comp is not empty) with the given source time; it returns the status.
func (tn *tenants) postTelemetry(who, id, comp, msgID string, at time.Time, values map[string]any) int {
	tn.t.Helper()
	path := "/digitaltwins/" + id + "/telemetry"
	if comp != "" {
		path = "/digitaltwins/" + id + "/components/" + comp + "/telemetry"
	}
	req, _ := http.NewRequest("POST", tn.url+path, strings.NewReader(mustJSON(values)))
	req.Header.Set("Authorization", "Bearer "+tenantTokens[who])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Message-Id", msgID)
	req.Header.Set("Telemetry-Source-Time", at.Format(time.RFC3339Nano))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSharedTelemetryLimit: a shared reader's limit counts the telemetry
// it sees: the unshared names are left out before the limit, not after.
func TestSharedTelemetryLimit(t *testing.T) {
	tn := startTenants(t)
	tn.seedAcme()
	tn.shareAssets()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	// Unshared gauge levels and shared temperatures, interleaved in time.
	for i := range 6 {
		if st := tn.postTelemetry("acme/writer", "a1", "gauge", fmt.Sprint("g", i), t0.Add(time.Duration(2*i)*time.Second), map[string]any{"level": float64(i)}); st != 204 {
			t.Fatalf("gauge telemetry = %d", st)
		}
		if st := tn.postTelemetry("acme/writer", "a1", "", fmt.Sprint("t", i), t0.Add(time.Duration(2*i+1)*time.Second), map[string]any{"temperature": float64(10 + i)}); st != 204 {
			t.Fatalf("temperature telemetry = %d", st)
		}
	}
	for _, c := range []struct {
		who, query string
		want       []float64 // temperatures, in order
		wantNames  []string
	}{
		{"globex/reader", "?limit=3", []float64{10, 11, 12}, nil},
		{"globex/reader", "?limit=2&name=temperature", []float64{10, 11}, nil},
		{"globex/reader", "?name=gauge/level", nil, nil},
		{"globex/reader", "", []float64{10, 11, 12, 13, 14, 15}, nil},
		{"globex/reader", "?limit=2&from=" + t0.Add(4*time.Second).Format(time.RFC3339), []float64{12, 13}, nil},
		{"acme/reader", "?limit=3", nil, []string{"gauge/level", "temperature", "gauge/level"}},
	} {
		pts := tn.must(c.who, "GET", "/digitaltwins/a1/telemetry"+c.query, nil, 200)["value"].([]any)
		var temps []float64
		var names []string
		for _, p := range pts {
			m := p.(map[string]any)
			names = append(names, m["name"].(string))
			if m["name"] == "temperature" {
				temps = append(temps, m["value"].(float64))
			} else if c.who != "acme/reader" {
				t.Errorf("%s %s: unshared point %v", c.who, c.query, m)
			}
		}
		if c.wantNames != nil {
			if fmt.Sprint(names) != fmt.Sprint(c.wantNames) {
				t.Errorf("%s %s: names %v, want %v", c.who, c.query, names, c.wantNames)
			}
			continue
		}
		if fmt.Sprint(temps) != fmt.Sprint(c.want) || len(pts) != len(c.want) {
			t.Errorf("%s %s: temperatures %v (%d points), want %v", c.who, c.query, temps, len(pts), c.want)
		}
	}
}

// TestSharedTwinWritesReadOnly: every write to a twin another org reads
// through an agreement (and under it: components, relationships,
// telemetry) answers 403 SharedReadOnly and changes nothing; writes to
// the owner's hidden twins still answer 404.
func TestSharedTwinWritesReadOnly(t *testing.T) {
	tn := startTenants(t)
	tn.seedAcme()
	tn.shareAssets()
	before := tn.must("acme/reader", "GET", "/digitaltwins/a1", nil, 200)["$etag"]
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"PUT", "/digitaltwins/a1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:test:Asset;1"}, "capacity": 1.0, "gauge": map[string]any{"$metadata": map[string]any{}}}, 403},
		{"PATCH", "/digitaltwins/a1", `[{"op":"replace","path":"/capacity","value":1}]`, 403},
		{"PATCH", "/digitaltwins/a1/components/gauge", `[{"op":"replace","path":"/reading","value":1}]`, 403},
		{"DELETE", "/digitaltwins/a1", nil, 403},
		{"PUT", "/digitaltwins/a1/relationships/z", map[string]any{"$targetId": "p1", "$relationshipName": "feeds"}, 403},
		{"PATCH", "/digitaltwins/a1/relationships/f1", `[{"op":"replace","path":"/share","value":1}]`, 403},
		{"DELETE", "/digitaltwins/a1/relationships/f1", nil, 403},
		{"DELETE", "/digitaltwins/a1/relationships/ob", nil, 403}, // hidden relationship of a shared twin: no more said
		{"PATCH", "/digitaltwins/p1", `[{"op":"replace","path":"/capacity","value":1}]`, 403},
		// Hidden twins: as if missing.
		{"PATCH", "/digitaltwins/o1", `[{"op":"replace","path":"/name","value":"x"}]`, 404},
		{"DELETE", "/digitaltwins/o1", nil, 404},
		{"PUT", "/digitaltwins/o1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:globex:Site;1"}}, 404},
		{"PATCH", "/digitaltwins/nope", `[{"op":"replace","path":"/name","value":"x"}]`, 404},
	} {
		for _, who := range []string{"globex/admin", "globex/writer"} {
			st, m, raw := tn.do(who, c.method, c.path, c.body)
			if st != c.want {
				t.Errorf("%s %s as %s = %d %s, want %d", c.method, c.path, who, st, raw, c.want)
				continue
			}
			if c.want == 403 && (m["error"].(map[string]any)["code"] != "SharedReadOnly" || !strings.Contains(raw, "read-only")) {
				t.Errorf("%s %s as %s = %s, want SharedReadOnly", c.method, c.path, who, raw)
			}
		}
	}
	if st := tn.postTelemetry("globex/writer", "a1", "", "m1", time.Now(), map[string]any{"temperature": 1.0}); st != 403 {
		t.Errorf("telemetry to a shared twin = %d, want 403", st)
	}
	if st := tn.postTelemetry("globex/writer", "o1", "", "m1", time.Now(), map[string]any{"temperature": 1.0}); st != 404 {
		t.Errorf("telemetry to a hidden twin = %d, want 404", st)
	}
	if got := tn.must("acme/reader", "GET", "/digitaltwins/a1", nil, 200)["$etag"]; got != before {
		t.Errorf("a1 changed: etag %v, was %v", got, before)
	}
	tn.must("acme/reader", "GET", "/digitaltwins/a1/relationships/f1", nil, 200)
	if pts := tn.must("acme/reader", "GET", "/digitaltwins/a1/telemetry", nil, 200)["value"].([]any); len(pts) != 0 {
		t.Errorf("a1 telemetry = %v", pts)
	}
	// Once the agreement ends the twin is hidden again: 404.
	tn.must("acme/admin", "DELETE", "/sharing/s1", nil, 204)
	tn.must("globex/admin", "PATCH", "/digitaltwins/a1", `[{"op":"replace","path":"/capacity","value":1}]`, 404)
}

// TestDeleteTwinHiddenRelationships: the owner's delete of a twin that
// another org's relationship (hidden from the owner) points at answers 409
// RelationshipsNotVisible without naming it; once the other org deletes
// it, the delete succeeds. Relationships the owner sees give ADT's 400.
func TestDeleteTwinHiddenRelationships(t *testing.T) {
	tn := startTenants(t)
	tn.seedAcme()
	tn.shareAssets()
	tn.must("globex/writer", "PUT", "/digitaltwins/g1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:globex:Site;1"}, "name": "plant"}, 200)
	tn.must("globex/writer", "PUT", "/digitaltwins/g1/relationships/secret-link", map[string]any{"$targetId": "a1", "$relationshipName": "buysFrom"}, 200)
	// acme's own relationships first: ADT's answer.
	if st, m, raw := tn.do("acme/admin", "DELETE", "/digitaltwins/a1", nil); st != 400 || m["error"].(map[string]any)["code"] != "RelationshipsNotDeleted" {
		t.Errorf("delete with visible relationships = %d %s, want 400 RelationshipsNotDeleted", st, raw)
	}
	tn.must("acme/writer", "DELETE", "/digitaltwins/a1/relationships/f1", nil, 204)
	tn.must("acme/writer", "DELETE", "/digitaltwins/a1/relationships/ob", nil, 204)
	if in := tn.must("acme/reader", "GET", "/digitaltwins/a1/incomingrelationships", nil, 200)["value"].([]any); len(in) != 0 {
		t.Errorf("acme sees globex's relationship: %v", in)
	}
	for _, who := range []string{"acme/admin", "acme/writer"} {
		st, m, raw := tn.do(who, "DELETE", "/digitaltwins/a1", nil)
		if st != 409 || m["error"].(map[string]any)["code"] != "RelationshipsNotVisible" {
			t.Errorf("delete as %s with a hidden relationship = %d %s, want 409 RelationshipsNotVisible", who, st, raw)
		}
		if strings.Contains(raw, "secret-link") || strings.Contains(raw, "g1") || strings.Contains(raw, "globex") {
			t.Errorf("the refusal discloses the hidden relationship: %s", raw)
		}
	}
	tn.must("acme/reader", "GET", "/digitaltwins/a1", nil, 200)
	tn.must("globex/writer", "DELETE", "/digitaltwins/g1/relationships/secret-link", nil, 204)
	tn.must("acme/writer", "DELETE", "/digitaltwins/a1", nil, 204)
	tn.must("acme/reader", "GET", "/digitaltwins/a1", nil, 404)
}

// TestTenancyCacheConcurrent: concurrent requests while the policy is
// read again (the clock passes its life time and again) see an agreement
// put through this server at once, and never a policy past its expiry;
// run with -race it also checks the lock-free cache.
func TestTenancyCacheConcurrent(t *testing.T) {
	tn := startTenants(t)
	tn.seedAcme()
	exp := tn.clock().Add(time.Minute).Format(time.RFC3339)
	run := func(want int) {
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				for i := range 25 {
					if g == 0 && i%5 == 0 {
						tn.advance(600 * time.Millisecond)
					}
					if st, _, raw := tn.do("globex/reader", "GET", "/digitaltwins/a1", nil); st != want {
						t.Errorf("GET a1 = %d %s, want %d", st, raw, want)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	run(404)
	tn.must("acme/admin", "PUT", "/sharing/s1", map[string]any{"to_org": "globex", "models": []string{"dtmi:test:Asset;1"}, "properties": []string{"capacity"}, "expires": exp}, 200)
	run(200)
	tn.advance(time.Minute) // past the expiry
	run(404)
}
