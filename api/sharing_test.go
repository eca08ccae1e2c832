package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/store/sqlite"
	"lodestone/trust/auth"
)

// tenants is an API with --auth-style security for three orgs (acme,
// globex, initech) and a clock the test moves.
type tenants struct {
	t   *testing.T
	url string
	mu  sync.Mutex
	now time.Time
}

// The principals: org/role → token.
var tenantTokens = map[string]string{
	"acme/admin":     "acme-admin-token-000001",
	"acme/writer":    "acme-writer-token-00001",
	"acme/reader":    "acme-reader-token-00001",
	"globex/admin":   "globex-admin-token-0001",
	"globex/writer":  "globex-writer-token-001",
	"globex/reader":  "globex-reader-token-001",
	"initech/reader": "initech-reader-token-01",
}

func startTenants(t *testing.T) *tenants {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var toks []string
	for k, tok := range tenantTokens {
		org, role, _ := strings.Cut(k, "/")
		toks = append(toks, fmt.Sprintf(`{"token":%q,"subject":%q,"org":%q,"roles":[%q]}`, tok, org+"-"+role, org, role))
	}
	cfg, err := auth.ParseConfig([]byte(`{"tokens":[` + strings.Join(toks, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tn := &tenants{t: t, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, err := api.New(ctx, api.Options{Store: st, Security: &api.Security{Auth: authn, Loopback: true}, Now: tn.clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Guard())
	t.Cleanup(func() {
		srv.Close()
		a.Shutdown(context.Background())
	})
	tn.url = srv.URL
	tn.must("acme/admin", "POST", "/models", "["+strings.Join(testModels, ",")+"]", 201)
	tn.must("globex/admin", "POST", "/models", `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:globex:Site;1","@type":"Interface","contents":[
		{"@type":"Property","name":"name","schema":"string","writable":true},
		{"@type":"Relationship","name":"buysFrom"}]}]`, 201)
	return tn
}

func (tn *tenants) clock() time.Time {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.now
}

func (tn *tenants) advance(d time.Duration) {
	tn.mu.Lock()
	tn.now = tn.now.Add(d)
	tn.mu.Unlock()
}

// do sends a request as the principal who ("org/role"); the body is JSON
// (a JSON Patch for PATCH).
func (tn *tenants) do(who, method, path string, body any) (int, map[string]any, string) {
	tn.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			enc, _ := json.Marshal(body)
			b = string(enc)
		}
		rd = bytes.NewReader([]byte(b))
	}
	req, _ := http.NewRequest(method, tn.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
		if method == "PATCH" {
			req.Header.Set("Content-Type", "application/json-patch+json")
		}
	}
	req.Header.Set("Authorization", "Bearer "+tenantTokens[who])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

func (tn *tenants) must(who, method, path string, body any, want int) map[string]any {
	tn.t.Helper()
	st, m, raw := tn.do(who, method, path, body)
	if st != want {
		tn.t.Fatalf("%s %s as %s = %d %s, want %d", method, path, who, st, raw, want)
	}
	return m
}

// seedAcme writes acme's graph: asset a1 (name, capacity, a gauge) that
// feeds plant p1 and is owned by owner o1.
func (tn *tenants) seedAcme() {
	tn.must("acme/writer", "PUT", "/digitaltwins/a1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:test:Asset;1"},
		"name": "crusher", "capacity": 12.5, "gauge": map[string]any{"$metadata": map[string]any{}, "reading": 3.0}}, 200)
	tn.must("acme/writer", "PUT", "/digitaltwins/p1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:test:Plant;1"},
		"name": "mill", "capacity": 40.0, "throughput": 7.0, "gauge": map[string]any{"$metadata": map[string]any{}}}, 200)
	tn.must("acme/writer", "PUT", "/digitaltwins/o1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:test:Owner;1"}, "name": "Acme Ltd"}, 200)
	tn.must("acme/writer", "PUT", "/digitaltwins/a1/relationships/f1", map[string]any{"$targetId": "p1", "$relationshipName": "feeds", "share": 0.5}, 200)
	tn.must("acme/writer", "PUT", "/digitaltwins/a1/relationships/ob", map[string]any{"$targetId": "o1", "$relationshipName": "ownedBy"}, 200)
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestTenantIsolation: the owner sees its twins whole with their owner
// fields; another org gets 404 on every read and write of them, sees none
// of the owner's models, and cannot forge an owner.
func TestTenantIsolation(t *testing.T) {
	tn := startTenants(t)
	tn.seedAcme()
	got := tn.must("acme/reader", "GET", "/digitaltwins/a1", nil, 200)
	md := got["$metadata"].(map[string]any)
	if md["$org"] != "acme" || md["$writer"] != "acme-writer" || got["name"] != "crusher" {
		t.Errorf("owner's view = %v", got)
	}
	if _, ok := md["$signer"]; ok {
		t.Errorf("unsigned write has a $signer: %v", md)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/digitaltwins/a1", nil},
		{"GET", "/digitaltwins/a1?asOf=2030-01-01T00:00:00Z", nil},
		{"GET", "/digitaltwins/a1/components/gauge", nil},
		{"GET", "/digitaltwins/a1/relationships", nil},
		{"GET", "/digitaltwins/a1/relationships/f1", nil},
		{"GET", "/digitaltwins/p1/incomingrelationships", nil},
		{"GET", "/digitaltwins/a1/history", nil},
		{"GET", "/digitaltwins/a1/telemetry", nil},
		{"GET", "/models/dtmi:test:Asset;1", nil},
		{"GET", "/api/v1/models/dtmi:test:Asset;1/properties", nil},
		{"PATCH", "/digitaltwins/a1", `[{"op":"replace","path":"/name","value":"x"}]`},
		{"PATCH", "/digitaltwins/a1/components/gauge", `[{"op":"replace","path":"/reading","value":1}]`},
		{"PUT", "/digitaltwins/a1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:globex:Site;1"}}},
		{"DELETE", "/digitaltwins/o1", nil},
		{"PATCH", "/digitaltwins/a1/relationships/f1", `[{"op":"replace","path":"/share","value":1}]`},
		{"DELETE", "/digitaltwins/a1/relationships/f1", nil},
		{"POST", "/digitaltwins/a1/telemetry", map[string]any{"temperature": 20.0}},
		{"PATCH", "/models/dtmi:test:Owner;1", `[{"op":"replace","path":"/decommissioned","value":true}]`},
		{"DELETE", "/models/dtmi:test:Gauge;1", nil},
	} {
		who := "globex/admin"
		st, m, raw := tn.do(who, c.method, c.path, c.body)
		if c.method == "POST" {
			req, _ := http.NewRequest("POST", tn.url+c.path, strings.NewReader(`{"temperature":20}`))
			req.Header.Set("Authorization", "Bearer "+tenantTokens[who])
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Message-Id", "m1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			st, raw = resp.StatusCode, "(telemetry)"
		}
		if st != http.StatusNotFound {
			t.Errorf("%s %s as %s = %d %s, want 404", c.method, c.path, who, st, raw)
		}
		_ = m
	}
	// Nothing changed.
	if got := tn.must("acme/reader", "GET", "/digitaltwins/a1", nil, 200); got["name"] != "crusher" || got["$metadata"].(map[string]any)["$model"] != "dtmi:test:Asset;1" {
		t.Errorf("a1 changed: %v", got)
	}
	models := tn.must("globex/reader", "GET", "/models", nil, 200)["value"].([]any)
	if len(models) != 1 || models[0].(map[string]any)["id"] != "dtmi:globex:Site;1" || models[0].(map[string]any)["org"] != "globex" {
		t.Errorf("globex's models = %v", models)
	}
	// A model of globex may not build on one of acme's.
	if st, _, raw := tn.do("globex/admin", "POST", "/models", `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:globex:Sub;1","@type":"Interface","extends":"dtmi:test:Asset;1"}]`); st != 400 || !strings.Contains(raw, "ModelNotFound") {
		t.Errorf("a model extending a hidden one = %d %s", st, raw)
	}
	// A twin of a model globex does not see is as if the model were missing.
	if st, m, raw := tn.do("globex/writer", "PUT", "/digitaltwins/g9", map[string]any{"$metadata": map[string]any{"$model": "dtmi:test:Owner;1"}, "name": "x"}); st != 400 || m["error"].(map[string]any)["code"] != "ModelNotFound" {
		t.Errorf("create with a hidden model = %d %s", st, raw)
	}
	// $org, $writer and $signer cannot be forged: ignored in a PUT body,
	// refused in a patch.
	tn.must("globex/writer", "PUT", "/digitaltwins/g1", map[string]any{"$metadata": map[string]any{"$model": "dtmi:globex:Site;1", "$org": "acme", "$writer": "mallory", "$signer": "k9"}, "name": "g"}, 200)
	g1 := tn.must("globex/reader", "GET", "/digitaltwins/g1", nil, 200)["$metadata"].(map[string]any)
	if g1["$org"] != "globex" || g1["$writer"] != "globex-writer" || g1["$signer"] != nil {
		t.Errorf("forged owner stored: %v", g1)
	}
	tn.must("acme/reader", "GET", "/digitaltwins/g1", nil, 404)
	for _, path := range []string{"/$metadata/$org", "/$metadata/$writer", "/$metadata/$signer"} {
		st, _, raw := tn.do("globex/writer", "PATCH", "/digitaltwins/g1", `[{"op":"add","path":"`+path+`","value":"acme"}]`)
		if st != 400 || !strings.Contains(raw, "read-only") {
			t.Errorf("patch of %s = %d %s, want 400 read-only", path, st, raw)
		}
	}
	// A patch records its writer and keeps the org.
	tn.must("globex/admin", "PATCH", "/digitaltwins/g1", `[{"op":"replace","path":"/name","value":"h"}]`, 204)
	g1 = tn.must("globex/reader", "GET", "/digitaltwins/g1", nil, 200)["$metadata"].(map[string]any)
	if g1["$org"] != "globex" || g1["$writer"] != "globex-admin" {
		t.Errorf("after patch: %v", g1)
	}
	// A reader writes nothing, even in its own org (the route guard);
	// a writer may not relate its twin to a twin it does not see.
	tn.must("globex/reader", "PATCH", "/digitaltwins/g1", `[{"op":"replace","path":"/name","value":"r"}]`, 403)
	if st, _, raw := tn.do("globex/writer", "PUT", "/digitaltwins/g1/relationships/x", map[string]any{"$targetId": "a1", "$relationshipName": "buysFrom"}); st != 400 || !strings.Contains(raw, "$targetId") {
		t.Errorf("relationship to a hidden twin = %d %s", st, raw)
	}
	// The snapshot holds only what the principal sees.
	snap := tn.must("globex/reader", "GET", "/snapshot", nil, 200)
	if tw := snap["twins"].([]any); len(tw) != 1 || tw[0].(map[string]any)["$dtId"] != "g1" {
		t.Errorf("globex's snapshot twins = %v", tw)
	}
}

// TestSharingAgreement: an agreement shows exactly the listed models'
// twins with the listed properties and relationship names; deleting it or
// its expiry ends that; an agreement can name only the owner's models.
func TestSharingAgreement(t *testing.T) {
	tn := startTenants(t)
	tn.seedAcme()
	exp := tn.clock().Add(time.Hour).Format(time.RFC3339)
	body := map[string]any{"to_org": "globex", "models": []string{"dtmi:test:Asset;1", "dtmi:test:Plant;1"}, "properties": []string{"capacity", "share", "temperature"},
		"relationships": []string{"feeds"}, "purpose": "supply planning", "expires": exp}
	// Bad agreements, each naming its field.
	for _, c := range []struct {
		who   string
		body  map[string]any
		field string
		want  int
	}{
		{"globex/admin", map[string]any{"to_org": "initech", "models": []string{"dtmi:test:Asset;1"}}, `models[0]: model \"dtmi:test:Asset;1\" is not owned by org \"globex\"`, 400},
		{"acme/admin", map[string]any{"to_org": "acme", "models": []string{"dtmi:test:Asset;1"}}, "to_org", 400},
		{"acme/admin", map[string]any{"to_org": "globex", "models": []string{"dtmi:test:Asset;1", "dtmi:globex:Site;1"}}, "models[1]", 400},
		{"acme/admin", map[string]any{"to_org": "globex", "models": []string{"dtmi:test:Asset;1"}, "expires": "2020-01-01T00:00:00Z"}, "expires", 400},
		{"acme/admin", map[string]any{"to_org": "globex", "models": []string{"dtmi:test:Asset;1"}, "colour": "red"}, "colour", 400},
		{"acme/writer", body, "", 403},
	} {
		st, _, raw := tn.do(c.who, "PUT", "/sharing/s1", c.body)
		if st != c.want || !strings.Contains(raw, c.field) {
			t.Errorf("PUT /sharing/s1 as %s %v = %d %s; want %d naming %q", c.who, c.body, st, raw, c.want, c.field)
		}
	}
	ag := tn.must("acme/admin", "PUT", "/sharing/s1", body, 200)
	if ag["owner"] != "acme" || ag["to_org"] != "globex" || ag["created_by"] != "acme-admin" || ag["id"] != "s1" {
		t.Errorf("stored agreement = %v", ag)
	}
	// The receiver sees exactly the listed properties.
	a1 := tn.must("globex/reader", "GET", "/digitaltwins/a1", nil, 200)
	if got := keys(a1); !slices.Equal(got, []string{"$dtId", "$etag", "$metadata", "capacity"}) {
		t.Errorf("shared a1 keys = %v (%v)", got, a1)
	}
	if md := keys(a1["$metadata"].(map[string]any)); !slices.Equal(md, []string{"$model", "capacity"}) {
		t.Errorf("shared a1 metadata = %v", md)
	}
	// Relationships: only "feeds", with only "share", in both directions.
	rels := tn.must("globex/reader", "GET", "/digitaltwins/a1/relationships", nil, 200)["value"].([]any)
	if len(rels) != 1 || rels[0].(map[string]any)["$relationshipId"] != "f1" || rels[0].(map[string]any)["share"] != 0.5 {
		t.Errorf("shared relationships = %v", rels)
	}
	if _, ok := rels[0].(map[string]any)["$writer"]; ok {
		t.Errorf("shared relationship shows its writer: %v", rels[0])
	}
	in := tn.must("globex/reader", "GET", "/digitaltwins/p1/incomingrelationships", nil, 200)["value"].([]any)
	if len(in) != 1 || in[0].(map[string]any)["$relationshipId"] != "f1" {
		t.Errorf("shared incoming = %v", in)
	}
	tn.must("globex/reader", "GET", "/digitaltwins/a1/relationships/ob", nil, 404)
	tn.must("globex/reader", "GET", "/digitaltwins/o1", nil, 404)
	tn.must("globex/reader", "GET", "/digitaltwins/a1/components/gauge", nil, 404)
	// The shared models are visible, the others not.
	models := tn.must("globex/reader", "GET", "/models", nil, 200)["value"].([]any)
	var ids []string
	for _, m := range models {
		ids = append(ids, m.(map[string]any)["id"].(string))
	}
	if !slices.Equal(ids, []string{"dtmi:globex:Site;1", "dtmi:test:Asset;1", "dtmi:test:Plant;1"}) {
		t.Errorf("globex's models = %v", ids)
	}
	// Sharing grants no writes: a shared twin is read-only (403; see
	// TestSharedTwinWritesReadOnly).
	tn.must("globex/admin", "PATCH", "/digitaltwins/a1", `[{"op":"replace","path":"/capacity","value":1}]`, 403)
	// Telemetry: only listed names.
	for i, v := range []map[string]any{{"temperature": 20.0}} {
		req, _ := http.NewRequest("POST", tn.url+"/digitaltwins/a1/telemetry", strings.NewReader(mustJSON(v)))
		req.Header.Set("Authorization", "Bearer "+tenantTokens["acme/writer"])
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Message-Id", fmt.Sprint("m", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 204 {
			t.Fatalf("telemetry: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	if pts := tn.must("globex/reader", "GET", "/digitaltwins/a1/telemetry", nil, 200)["value"].([]any); len(pts) != 1 {
		t.Errorf("shared telemetry = %v", pts)
	}
	// The agreements each side sees.
	for who, want := range map[string]int{"acme/reader": 1, "globex/reader": 1, "initech/reader": 0} {
		if got := tn.must(who, "GET", "/sharing", nil, 200)["value"].([]any); len(got) != want {
			t.Errorf("GET /sharing as %s = %v, want %d", who, got, want)
		}
	}
	tn.must("initech/reader", "GET", "/sharing/s1", nil, 404)
	tn.must("initech/reader", "GET", "/digitaltwins/a1", nil, 404)
	tn.must("globex/admin", "DELETE", "/sharing/s1", nil, 403)
	// Expiry ends it (the clock passes expires and the cache's life).
	tn.advance(time.Hour + 2*time.Second)
	tn.must("globex/reader", "GET", "/digitaltwins/a1", nil, 404)
	tn.must("globex/reader", "GET", "/digitaltwins/a1/relationships/f1", nil, 404)
	// A new agreement, then its deletion ends it at once.
	delete(body, "expires")
	tn.must("acme/admin", "PUT", "/sharing/s2", body, 200)
	tn.must("globex/reader", "GET", "/digitaltwins/a1", nil, 200)
	tn.must("acme/admin", "DELETE", "/sharing/s2", nil, 204)
	tn.must("globex/reader", "GET", "/digitaltwins/a1", nil, 404)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTenantProvenance: provenance names the principal and org stored with
// each version, and answers only the owner's principals (another org's
// auditor gets 404, even with the twin shared); so does credibility.
func TestTenantProvenance(t *testing.T) {
	tn := startTenants(t)
	tn.seedAcme()
	tn.must("acme/admin", "PATCH", "/digitaltwins/a1", `[{"op":"replace","path":"/capacity","value":13}]`, 204)
	doc := tn.must("acme/admin", "GET", "/digitaltwins/a1/provenance", nil, 200)
	agents := doc["agent"].(map[string]any)
	w, ok := agents["agent:acme/acme-writer"].(map[string]any)
	if !ok || w["lodestone:org"] != "acme" || w["lodestone:subject"] != "acme-writer" || w["lodestone:signer"] != "none" {
		t.Errorf("agents = %v", agents)
	}
	if _, ok := agents["agent:acme/acme-admin"]; !ok {
		t.Errorf("the patch's writer is not an agent: %v", agents)
	}
	// The patched value is attributed to the admin, the name to the writer.
	attr := map[string]string{}
	for _, r := range doc["wasAttributedTo"].(map[string]any) {
		m := r.(map[string]any)
		attr[m["prov:entity"].(string)] = m["prov:agent"].(string)
	}
	if attr["twin:a1/capacity/v2"] != "agent:acme/acme-admin" || attr["twin:a1/name/v1"] != "agent:acme/acme-writer" {
		t.Errorf("attributions = %v", attr)
	}
	tn.must("acme/admin", "PUT", "/sharing/s1", map[string]any{"to_org": "globex", "models": []string{"dtmi:test:Asset;1"}, "properties": []string{"capacity"}}, 200)
	tn.must("globex/reader", "GET", "/digitaltwins/a1", nil, 200)
	tn.must("globex/admin", "GET", "/digitaltwins/a1/provenance", nil, 404)
	tn.must("globex/admin", "GET", "/credibility/a1", nil, 404)
	tn.must("acme/reader", "GET", "/credibility/a1", nil, 200)
}
