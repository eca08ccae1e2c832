package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/api"
	"lodestone/server"
	"lodestone/tql"
	"lodestone/trust/auth"
	"lodestone/trust/tenancy"
	"lodestone/trust/tenancy/tenancytest"
	"lodestone/world"
)

// The isolation tests build a random world of tenancytest through the
// API: org "" things while the server runs without --auth, then, with
// --auth, each org's models and twins by the org's admin, relationships
// by an admin that may write their source, agreements by the owners, and
// telemetry. Every route's answer to a reader of each org (and of an org
// that owns nothing) is compared with the reference evaluator of
// tenancytest over the full graph.

// tenantToken is the bearer token of org's principal with role.
func tenantToken(org string, role auth.Role) string {
	return "tok-" + string(role) + "-" + org + "-0123456789abcdef"
}

func bearer(org string, role auth.Role) []string {
	return []string{"Authorization", "Bearer " + tenantToken(org, role)}
}

// tenantModels are the DTDL interfaces of org's models: Base with every
// property, telemetry and relationship of tenancytest, and the kinds
// extending it.
func tenantModels(org string) string {
	var props []string
	for _, p := range tenancytest.Properties {
		schema := "double"
		if p == "name" || p == "secret" {
			schema = "string"
		}
		props = append(props, fmt.Sprintf(`{"@type":"Property","name":%q,"schema":%q,"writable":true}`, p, schema))
	}
	for _, n := range tenancytest.Telemetry {
		props = append(props, fmt.Sprintf(`{"@type":"Telemetry","name":%q,"schema":"double"}`, n))
	}
	for _, n := range tenancytest.RelNames {
		props = append(props, fmt.Sprintf(`{"@type":"Relationship","name":%q,"properties":[{"@type":"Property","name":"weight","schema":"double","writable":true},{"@type":"Property","name":"secret","schema":"string","writable":true}]}`, n))
	}
	out := []string{fmt.Sprintf(`{"@context":"dtmi:dtdl:context;3","@id":%q,"@type":"Interface","contents":[%s]}`, tenancytest.ModelID(org, "Base"), strings.Join(props, ","))}
	for _, k := range tenancytest.Kinds[1:] {
		out = append(out, fmt.Sprintf(`{"@context":"dtmi:dtdl:context;3","@id":%q,"@type":"Interface","extends":%q}`, tenancytest.ModelID(org, k), tenancytest.ModelID(org, "Base")))
	}
	return "[" + strings.Join(out, ",") + "]"
}

// tenantWorld is a random world written to a server.
type tenantWorld struct {
	*env
	w    *tenancytest.World
	live []tenancy.Agreement // the agreements stored (the expired ones deleted)
	// twins and rels are the full graph's query documents.
	twins, rels []tql.Doc
	// created are the twins and relationships that exist (a relationship
	// whose target its writer could not see was not made).
	orgOf map[string]string // twin id → org
}

// startTenantServer starts a server on dataDir (and dsn, when set), with
// --auth when withAuth.
func startTenantServer(t *testing.T, dir, dsn string, withAuth bool, edit ...func(*server.Options)) *env {
	t.Helper()
	so := server.DefaultOptions()
	so.DataDir = filepath.Join(dir, "data")
	so.HTTPAddr = "127.0.0.1:0"
	so.RateLimit = 0
	so.StoreDSN = dsn
	if withAuth {
		var toks []string
		for _, org := range append(slices.Clone(tenancytest.Orgs), tenancytest.Outsider) {
			for _, role := range []auth.Role{auth.Admin, auth.Reader} {
				toks = append(toks, fmt.Sprintf(`{"token":%q,"subject":%q,"org":%q,"roles":[%q]}`, tenantToken(org, role), string(role)+"-"+org, org, role))
			}
		}
		f := filepath.Join(dir, "auth.json")
		if err := os.WriteFile(f, []byte(`{"tokens":[`+strings.Join(toks, ",")+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		so.Auth = f
	}
	for _, f := range edit {
		f(&so)
	}
	s, err := server.New(so)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: s, url: s.URL()}
	return e
}

func stopServer(t *testing.T, e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// twinBody is the PUT body of a world twin document.
func tenantTwinBody(d tql.Doc) map[string]any {
	out := map[string]any{"$metadata": map[string]any{"$model": tql.TwinModel(d)}}
	for k, v := range d {
		if !strings.HasPrefix(k, "$") {
			out[k] = v
		}
	}
	return out
}

// buildTenantWorld writes world seed to a new server and returns it
// running with --auth.
func buildTenantWorld(t *testing.T, seed uint64, dsn string) *tenantWorld {
	t.Helper()
	w := tenancytest.Random(seed, 16, 28)
	dir := t.TempDir()
	orgOf := map[string]string{}
	for _, d := range w.Twins {
		orgOf[d["$dtId"].(string)] = tenancy.DocOrg(d)
	}
	// Org "": written without --auth, like a loaded world.
	e := startTenantServer(t, dir, dsn, false)
	e.mustDo("POST", "/models", tenantModels(""), 201)
	for _, d := range w.Twins {
		if orgOf[d["$dtId"].(string)] == "" {
			e.mustDo("PUT", "/digitaltwins/"+d["$dtId"].(string), tenantTwinBody(d), 200)
		}
	}
	stopServer(t, e)
	e = startTenantServer(t, dir, dsn, true)
	t.Cleanup(func() { stopServer(t, e) })
	tw := &tenantWorld{env: e, w: w, orgOf: orgOf}
	for _, org := range w.Orgs {
		e.mustDo("POST", "/models", tenantModels(org), 201, bearer(org, auth.Admin)...)
	}
	for _, d := range w.Twins {
		if org := orgOf[d["$dtId"].(string)]; org != "" {
			e.mustDo("PUT", "/digitaltwins/"+d["$dtId"].(string), tenantTwinBody(d), 200, bearer(org, auth.Admin)...)
		}
	}
	// The world's times are not the server's: an agreement that expires
	// after the world's now expires an hour from now here.
	for i, a := range w.Agreements {
		body := map[string]any{"to_org": a.ToOrg, "models": a.Models, "properties": a.Properties, "relationships": a.Relationships, "purpose": "test"}
		if a.Expires.After(w.Now) {
			w.Agreements[i].Expires = time.Now().Add(time.Hour).UTC().Truncate(time.Second)
			body["expires"] = w.Agreements[i].Expires.Format(time.RFC3339)
		}
		e.mustDo("PUT", "/sharing/"+a.ID, body, 200, bearer(a.Owner, auth.Admin)...)
	}
	// The relationships: by an admin of the source's org, or for a source
	// of org "" of the target's; the writer must see the target.
	rules := tenancytest.Rules{Agreements: w.Agreements, Now: w.Now}
	byID := map[string]tql.Doc{}
	for _, d := range w.Twins {
		byID[d["$dtId"].(string)] = d
	}
	for _, r := range w.Rels {
		src, dst := r["$sourceId"].(string), r["$targetId"].(string)
		writer := orgOf[src]
		if writer == "" {
			writer = orgOf[dst]
		}
		if writer == "" {
			writer = w.Orgs[0]
		}
		pr := auth.Principal{Org: writer, Method: "token"}
		if vis, _, _ := rules.Twin(pr, orgOf[dst], tql.TwinModel(byID[dst])); !vis {
			continue
		}
		body := map[string]any{"$targetId": dst, "$relationshipName": r["$relationshipName"]}
		for _, p := range tenancytest.RelProps {
			if v, ok := r[p]; ok {
				body[p] = v
			}
		}
		e.mustDo("PUT", "/digitaltwins/"+src+"/relationships/"+r["$relationshipId"].(string), body, 200, bearer(writer, auth.Admin)...)
	}
	// Expired agreements are gone: delete them.
	for _, a := range w.Agreements {
		if a.Expires.IsZero() || a.Expires.After(w.Now) {
			tw.live = append(tw.live, a)
			continue
		}
		e.mustDo("DELETE", "/sharing/"+a.ID, nil, 204, bearer(a.Owner, auth.Admin)...)
	}
	for _, d := range w.Twins {
		id := d["$dtId"].(string)
		org := orgOf[id]
		if org == "" {
			continue
		}
		e.mustDo("POST", "/digitaltwins/"+id+"/telemetry", map[string]any{"temp": 21.5, "flow": 3.25}, 204, append(bearer(org, auth.Admin), "Message-Id", "m-"+id)...)
	}
	tw.twins, tw.rels = tw.fullDocs(t, "")
	return tw
}

// fullDocs reads the full graph's query documents (AS OF clause asOf):
// each org's admin sees its own things whole.
func (tw *tenantWorld) fullDocs(t *testing.T, asOf string) (twins, rels []tql.Doc) {
	t.Helper()
	seenT, seenR := map[string]bool{}, map[string]bool{}
	for _, org := range tw.w.Orgs {
		for _, row := range tw.queryAll(t, "SELECT T FROM DIGITALTWINS T"+asOf, bearer(org, auth.Admin)) {
			d := tql.Doc(row["T"].(map[string]any))
			id := d["$dtId"].(string)
			// A shared twin comes projected, without its org: the
			// world knows whose each twin is.
			if o := tw.orgOf[id]; (o == org || o == "") && !seenT[id] {
				seenT[id] = true
				twins = append(twins, d)
			}
		}
		for _, row := range tw.queryAll(t, "SELECT R FROM RELATIONSHIPS R"+asOf, bearer(org, auth.Admin)) {
			d := tql.Doc(row["R"].(map[string]any))
			key := tql.RelKey(d)
			o, _ := d["$org"].(string)
			if (o == org || o == "" && tw.orgOf[d["$sourceId"].(string)] == "") && !seenR[key] {
				seenR[key] = true
				rels = append(rels, d)
			}
		}
	}
	return twins, rels
}

// queryAll runs a query through every page.
func (tw *tenantWorld) queryAll(t *testing.T, q string, hdr []string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	token := ""
	for {
		body := map[string]any{"query": q}
		if token != "" {
			body["continuationToken"] = token
		}
		r := tw.do("POST", "/query", body, hdr...)
		if r.status != 200 {
			t.Fatalf("POST /query %q = %d %s", q, r.status, r.body)
		}
		var out struct {
			Value             []map[string]any `json:"value"`
			ContinuationToken string           `json:"continuationToken"`
		}
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, out.Value...)
		if token = out.ContinuationToken; token == "" {
			return rows
		}
	}
}

// reference returns the reference graph pr sees of the world.
func (tw *tenantWorld) reference(pr auth.Principal, twins, rels []tql.Doc) *tql.MemGraph {
	rules := tenancytest.Rules{Agreements: tw.live, Now: time.Now()}
	return rules.Graph(pr, tw.w.Models, slices.Values(twins), slices.Values(rels))
}

// readers are the principals compared: a reader of each org and of one
// that owns nothing.
func (tw *tenantWorld) readers() []auth.Principal {
	var out []auth.Principal
	for _, org := range append(slices.Clone(tw.w.Orgs), tenancytest.Outsider) {
		out = append(out, auth.Principal{Subject: "reader-" + org, Org: org, Roles: []auth.Role{auth.Reader}, Method: "token"})
	}
	return out
}

// refRows evaluates a query over a reference graph as JSON values.
func refRows(t *testing.T, g tql.Graph, q string) []any {
	t.Helper()
	pq, err := tql.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	token := ""
	for {
		res, err := tql.Eval(context.Background(), g, pq, &tql.Options{MaxScan: -1}, token)
		if err != nil {
			t.Fatalf("reference %q: %v", q, err)
		}
		rows = append(rows, res.Rows...)
		if token = res.ContinuationToken; token == "" {
			break
		}
	}
	return jsonValues(t, rows)
}

func jsonValues(t *testing.T, v any) []any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// isolationQueries are the queries compared (tenancy's view test has the
// same kinds); AS OF is added to some.
var isolationQueries = []string{
	"SELECT * FROM DIGITALTWINS",
	"SELECT COUNT() FROM DIGITALTWINS",
	"SELECT * FROM DIGITALTWINS T WHERE T.secret = 's-1'",
	"SELECT COUNT() FROM DIGITALTWINS T WHERE T.secret = 's-0'",
	"SELECT T.$dtId AS id, T.capacity AS c FROM DIGITALTWINS T WHERE T.capacity > 40",
	"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:acme:Base;1')",
	"SELECT T.name AS name, SUM(T.capacity) AS total, COUNT() AS n, AVG(T.level) AS lv FROM DIGITALTWINS T GROUP BY T.name ORDER BY name",
	"SELECT * FROM RELATIONSHIPS",
	"SELECT COUNT() FROM RELATIONSHIPS R WHERE R.secret = 'rs-1'",
	"SELECT T, U, R FROM DIGITALTWINS T JOIN U RELATED T.feeds R",
	"SELECT a, b FROM DIGITALTWINS MATCH (a)-[:feeds*1..3]->(b)",
	"SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[*..2]-(b)",
}

func tenantDSN(t *testing.T) string {
	dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES is not set; CI must run the PostgreSQL tests")
		}
		t.Skip("LODESTONE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	schema := fmt.Sprintf("lodestone_isolation_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "schema=" + schema
}

// TestIsolationDifferential compares every graph-reading route, for
// every reader, with the reference: GET twin, relationships both ways,
// queries (rows, COUNT, aggregates, a WHERE on a hidden property, JOIN,
// MATCH, AS OF), history, telemetry, export and events.
func TestIsolationDifferential(t *testing.T) {
	seeds := []uint64{1, 2, 3, 6, 7, 8, 9, 13, 21, 22}
	if testing.Short() {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { isolationDifferential(t, seed, "") })
	}
}

// TestIsolationDifferentialPostgres is the same on PostgreSQL (the SQL
// graph of store/sqlgraph under the view).
func TestIsolationDifferentialPostgres(t *testing.T) {
	for _, seed := range []uint64{4, 10, 20} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { isolationDifferential(t, seed, tenantDSN(t)) })
	}
}

func isolationDifferential(t *testing.T, seed uint64, dsn string) {
	tw := buildTenantWorld(t, seed, dsn)
	past := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	// A change after past: AS OF past must not see it.
	for _, d := range tw.w.Twins {
		id := d["$dtId"].(string)
		if org := tw.orgOf[id]; org != "" {
			tw.mustDo("PATCH", "/digitaltwins/"+id, `[{"op":"add","path":"/secret","value":"s-after"}]`, 204, bearer(org, auth.Admin)...)
			break
		}
	}
	tw.twins, tw.rels = tw.fullDocs(t, "")
	asOf := " AS OF '" + past.Format(time.RFC3339Nano) + "'"
	pastTwins, pastRels := tw.fullDocs(t, asOf)
	t.Logf("seed %d: %d twins, %d relationships, %d agreements in force (of %d)", seed, len(tw.twins), len(tw.rels), len(tw.live), len(tw.w.Agreements))
	for _, pr := range tw.readers() {
		hdr := bearer(pr.Org, auth.Reader)
		ref := tw.reference(pr, tw.twins, tw.rels)
		refPast := tw.reference(pr, pastTwins, pastRels)
		for _, q := range isolationQueries {
			got := jsonValues(t, tw.queryAll(t, q, hdr))
			if want := refRows(t, ref, q); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s\n got %v\nwant %v", pr.Org, q, got, want)
			}
		}
		for _, q := range []string{"SELECT * FROM DIGITALTWINS", "SELECT COUNT() FROM RELATIONSHIPS", "SELECT a, b FROM DIGITALTWINS MATCH (a)-[*..2]->(b)"} {
			withAsOf := strings.Replace(q, "DIGITALTWINS", "DIGITALTWINS"+asOf, 1)
			withAsOf = strings.Replace(withAsOf, "RELATIONSHIPS", "RELATIONSHIPS"+asOf, 1)
			got := jsonValues(t, tw.queryAll(t, withAsOf, hdr))
			if want := refRows(t, refPast, q); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s\n got %v\nwant %v", pr.Org, withAsOf, got, want)
			}
		}
		tw.checkEntityRoutes(t, pr, ref)
		tw.checkExport(t, pr, ref)
		tw.checkEvents(t, pr, ref)
	}
}

// checkEntityRoutes compares GET twin, relationships both ways, history
// and telemetry with the reference.
func (tw *tenantWorld) checkEntityRoutes(t *testing.T, pr auth.Principal, ref *tql.MemGraph) {
	t.Helper()
	hdr := bearer(pr.Org, auth.Reader)
	rules := tenancytest.Rules{Agreements: tw.live, Now: time.Now()}
	for _, full := range tw.twins {
		id := full["$dtId"].(string)
		want, visible := ref.Twin(id)
		for _, path := range []string{"/digitaltwins/" + id, "/digitaltwins/" + id + "/relationships", "/digitaltwins/" + id + "/incomingrelationships", "/digitaltwins/" + id + "/history", "/digitaltwins/" + id + "/telemetry"} {
			r := tw.do("GET", path, nil, hdr...)
			if !visible {
				if r.status != 404 {
					t.Fatalf("%s: GET %s of a hidden twin = %d %s, want 404", pr.Org, path, r.status, r.body)
				}
				continue
			}
			if r.status != 200 {
				t.Fatalf("%s: GET %s = %d %s", pr.Org, path, r.status, r.body)
			}
			noHidden(t, pr, path, r.body, full, want)
		}
		if !visible {
			continue
		}
		var got map[string]any
		json.Unmarshal(tw.do("GET", "/digitaltwins/"+id, nil, hdr...).body, &got)
		if !reflect.DeepEqual(userProps(got), userProps(want)) {
			t.Fatalf("%s: GET twin %s properties %v, want %v", pr.Org, id, userProps(got), userProps(want))
		}
		for _, dir := range []string{"relationships", "incomingrelationships"} {
			var page struct {
				Value []map[string]any `json:"value"`
			}
			json.Unmarshal(tw.do("GET", "/digitaltwins/"+id+"/"+dir, nil, hdr...).body, &page)
			var gotIDs, wantIDs []string
			for _, v := range page.Value {
				gotIDs = append(gotIDs, fmt.Sprint(v["$sourceId"], "/", v["$relationshipId"]))
			}
			seq := ref.Outgoing(id, nil)
			if dir == "incomingrelationships" {
				seq = ref.Incoming(id, nil)
			}
			for d := range seq {
				wantIDs = append(wantIDs, fmt.Sprint(d["$sourceId"], "/", d["$relationshipId"]))
			}
			slices.Sort(gotIDs)
			slices.Sort(wantIDs)
			if !slices.Equal(gotIDs, wantIDs) {
				t.Fatalf("%s: %s of %s = %v, want %v", pr.Org, dir, id, gotIDs, wantIDs)
			}
		}
		var tel struct {
			Value []map[string]any `json:"value"`
		}
		json.Unmarshal(tw.do("GET", "/digitaltwins/"+id+"/telemetry", nil, hdr...).body, &tel)
		for _, p := range tel.Value {
			name, _ := p["name"].(string)
			if name != "" && !rules.Telemetry(pr, tw.orgOf[id], tql.TwinModel(full), name) {
				t.Fatalf("%s: telemetry %s of %s is not shared: %v", pr.Org, name, id, p)
			}
		}
	}
}

// userProps are a twin's properties and model.
func userProps(d map[string]any) map[string]any {
	out := map[string]any{"model": tql.TwinModel(d)}
	for k, v := range d {
		if !strings.HasPrefix(k, "$") {
			out[k] = v
		}
	}
	return out
}

// noHidden fails when body holds a value of full that the projection
// want does not show.
func noHidden(t *testing.T, pr auth.Principal, what string, body []byte, full, want tql.Doc) {
	t.Helper()
	for k, v := range full {
		if strings.HasPrefix(k, "$") {
			continue
		}
		if _, shown := want[k]; shown {
			continue
		}
		s, ok := v.(string)
		if ok && strings.Contains(string(body), `"`+s+`"`) && !shownElsewhere(want, s) {
			t.Fatalf("%s: %s shows %s = %q, which the share hides:\n%s", pr.Org, what, k, s, body)
		}
	}
}

func shownElsewhere(want tql.Doc, s string) bool {
	for _, v := range want {
		if v == s {
			return true
		}
	}
	return false
}

// checkExport compares GET /jobs/export with the reference graph.
func (tw *tenantWorld) checkExport(t *testing.T, pr auth.Principal, ref *tql.MemGraph) {
	t.Helper()
	r := tw.do("GET", "/jobs/export", nil, bearer(pr.Org, auth.Reader)...)
	if r.status != 200 {
		t.Fatalf("%s: export = %d %s", pr.Org, r.status, r.body)
	}
	var gotTwins, gotRels, wantTwins, wantRels []string
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	sc.Buffer(nil, 1<<24)
	section := ""
	for sc.Scan() {
		line := sc.Text()
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) != nil {
			continue
		}
		if s, ok := v["Section"].(string); ok {
			section = s
			continue
		}
		switch {
		case section == "Twins" || v["$dtId"] != nil:
			gotTwins = append(gotTwins, fmt.Sprint(v["$dtId"], userProps(v)))
		case section == "Relationships" || v["$relationshipId"] != nil:
			gotRels = append(gotRels, fmt.Sprint(v["$sourceId"], "/", v["$relationshipId"]))
		}
	}
	for d := range ref.Twins("") {
		wantTwins = append(wantTwins, fmt.Sprint(d["$dtId"], userProps(d)))
	}
	for d := range ref.Relationships("") {
		wantRels = append(wantRels, fmt.Sprint(d["$sourceId"], "/", d["$relationshipId"]))
	}
	slices.Sort(gotTwins)
	slices.Sort(gotRels)
	if !slices.Equal(gotTwins, wantTwins) || !slices.Equal(gotRels, wantRels) {
		t.Fatalf("%s: export\n twins %v\n want %v\n rels %v\n want %v", pr.Org, gotTwins, wantTwins, gotRels, wantRels)
	}
}

// checkEvents reads the event stream from its start and checks that it
// holds the creation of every visible twin and nothing of a hidden one.
func (tw *tenantWorld) checkEvents(t *testing.T, pr auth.Principal, ref *tql.MemGraph) {
	t.Helper()
	// A sentinel twin of the reader's org, written last, marks the end
	// of what the stream must have delivered.
	sentinel := "sentinel-" + pr.Org
	tw.mustDo("PUT", "/digitaltwins/"+sentinel, map[string]any{"$metadata": map[string]any{"$model": tenancytest.ModelID("", "Plant")}}, 200, bearer(pr.Org, auth.Admin)...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tw.url+"/events?lastEventId=0", nil)
	req.Header.Set("Authorization", "Bearer "+tenantToken(pr.Org, auth.Reader))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: GET /events = %d", pr.Org, resp.StatusCode)
	}
	want := map[string]bool{}
	for d := range ref.Twins("") {
		want[d["$dtId"].(string)] = true
	}
	created := map[string]bool{}
	hidden := map[string]tql.Doc{}
	for _, d := range tw.twins {
		if !want[d["$dtId"].(string)] {
			hidden[d["$dtId"].(string)] = d
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<24)
	wantRels, rels := map[string]bool{}, map[string]bool{}
	for d := range ref.Relationships("") {
		wantRels[d["$sourceId"].(string)+"/relationships/"+d["$relationshipId"].(string)] = true
	}
	for sc.Scan() && !created[sentinel] {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type    string          `json:"type"`
			Subject string          `json:"subject"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		twinID, _, _ := strings.Cut(ev.Subject, "/")
		if _, ok := hidden[twinID]; ok && strings.HasPrefix(ev.Type, "lodestone.twin.") || ok && ev.Type == "lodestone.telemetry" {
			t.Fatalf("%s: event %s of hidden twin %s delivered", pr.Org, ev.Type, twinID)
		}
		if ev.Type == "lodestone.relationship.created" {
			rels[ev.Subject] = true
		}
		if ev.Type == "lodestone.twin.created" {
			created[ev.Subject] = true
			d, _ := ref.Twin(ev.Subject)
			var full tql.Doc
			for _, f := range tw.twins {
				if f["$dtId"] == ev.Subject {
					full = f
				}
			}
			if full != nil {
				noHidden(t, pr, "event "+ev.Subject, ev.Data, full, d)
			}
		}
	}
	if !created[sentinel] {
		t.Fatalf("%s: the stream ended before the sentinel's event: %v", pr.Org, sc.Err())
	}
	for id := range want {
		if !created[id] {
			t.Fatalf("%s: no lodestone.twin.created event of visible twin %s", pr.Org, id)
		}
	}
	if !maps.Equal(rels, wantRels) {
		t.Fatalf("%s: relationship.created events of %v, want those of the visible relationships %v", pr.Org, slices.Sorted(maps.Keys(rels)), slices.Sorted(maps.Keys(wantRels)))
	}
}

// TestIsolationWrongOrg: a valid token of another org gets 404, not 403,
// for the owner's twin on every method.
func TestIsolationWrongOrg(t *testing.T) {
	tw := buildTenantWorld(t, 5, "")
	for _, d := range tw.twins {
		id := d["$dtId"].(string)
		org := tw.orgOf[id]
		if org == "" {
			continue
		}
		for _, m := range []struct{ method, path, body string }{
			{"GET", "/digitaltwins/" + id, ""},
			{"PATCH", "/digitaltwins/" + id, `[{"op":"add","path":"/capacity","value":1}]`},
			{"DELETE", "/digitaltwins/" + id, ""},
			{"GET", "/api/v1/graph/neighbourhood?id=" + url.QueryEscape(id), ""},
			{"POST", "/digitaltwins/" + id + "/simulate", ""},
		} {
			var body any
			if m.body != "" {
				body = m.body
			}
			r := tw.do(m.method, m.path, body, bearer(tenancytest.Outsider, auth.Admin)...)
			if r.status != 404 {
				t.Errorf("%s %s as another org = %d %s, want 404", m.method, m.path, r.status, r.body)
			}
		}
		break
	}
}

// walkParams substitutes the owner's ids into an OpenAPI path.
func walkParams(path string, ids map[string]string) string {
	seg := strings.Split(path, "/")
	for i, s := range seg {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		name := strings.Trim(s, "{}")
		v := ids[seg[1]+"."+name]
		if v == "" {
			v = ids[name]
		}
		if v == "" {
			v = ids["id"]
		}
		seg[i] = url.PathEscape(v)
	}
	return strings.Join(seg, "/")
}

// TestIsolationOpenAPIWalk calls every route of the OpenAPI document as
// an admin of an org that owns nothing and receives nothing, with the
// owner's ids in the path: nothing of the owner's comes back (its secret
// values, its ids that the request did not name), reads of the owner's
// things are 404, and nothing of the owner's changes. Then it walks again
// as an admin of the partner org that an agreement grants the owner's
// Plant model with its "name" property only: the partner reads exactly
// that (the Plant twins with $dtId, $etag, $metadata.$model and name, the
// Plant model, the agreement) and nothing beyond it (no other property,
// telemetry, relationship, model, endpoint, route, job or run), and
// changes nothing of the owner's either.
func TestIsolationOpenAPIWalk(t *testing.T) {
	dir := t.TempDir()
	e := startTenantServer(t, dir, "", true)
	t.Cleanup(func() { stopServer(t, e) })
	owner := bearer("acme", auth.Admin)
	e.mustDo("POST", "/models", tenantModels("acme"), 201, owner...)
	plant := tenancytest.ModelID("acme", "Plant")
	for i, id := range []string{"acme-walk-1", "acme-walk-2"} {
		e.mustDo("PUT", "/digitaltwins/"+id, map[string]any{"$metadata": map[string]any{"$model": plant}, "secret": fmt.Sprintf("ACME-SECRET-%d", i), "name": "acme-name-" + id}, 200, owner...)
		e.mustDo("POST", "/digitaltwins/"+id+"/telemetry", map[string]any{"temp": 987.625}, 204, append(owner, "Message-Id", "acme-msg-"+id)...)
	}
	e.mustDo("PUT", "/digitaltwins/acme-walk-1/relationships/acme-rel-1", map[string]any{"$targetId": "acme-walk-2", "$relationshipName": "feeds", "secret": "ACME-RSECRET"}, 200, owner...)
	e.mustDo("PUT", "/sharing/acme-share", map[string]any{"to_org": partnerOrg, "models": []string{plant}, "properties": []string{"name"}, "purpose": "ACME-PURPOSE"}, 200, owner...)
	e.mustDo("PUT", "/endpoints/acme-ep", map[string]any{"kind": "webhook", "url": "http://93.184.215.14/acme-hook"}, 200, owner...)
	e.mustDo("PUT", "/eventroutes/acme-route", map[string]any{"endpointName": "acme-ep", "filter": "type=acme.none"}, 204, owner...)
	imp := `{"Section":"Header"}` + "\n" + `{"fileVersion":"1.0.0","author":"acme","organization":"acme"}` + "\n" + `{"Section":"Twins"}` + "\n" +
		`{"$dtId":"acme-walk-3","$metadata":{"$model":"` + plant + `"},"secret":"ACME-SECRET-3"}` + "\n"
	e.mustDo("PUT", "/jobs/imports/acme-job", imp, 200, append(owner, "Content-Type", "application/x-ndjson")...)
	wl, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	net, err := wl.Network(nil)
	if err != nil {
		t.Fatal(err)
	}
	run := e.do("POST", "/scenarios", map[string]any{"name": "ACME-RUN", "start": "2025-01-01", "days": 5, "network": net, "initial_state": "at_rest"}, owner...)
	runID := "acme-no-run"
	if run.status != 201 {
		t.Fatalf("POST /scenarios as the owner = %d %.300s", run.status, run.body)
	}
	{
		var v api_ScenarioRunID
		json.Unmarshal(run.body, &v)
		runID = v.ID
	}
	w := &openAPIWalk{e: e, owner: owner, plant: plant, runID: runID,
		ids: map[string]string{
			"id": "acme-walk-1", "relId": "acme-rel-1", "name": "acme-ep", "index": "0", "n": "1", "key": "acme-key",
			"models.id": plant, "jobs.id": "acme-job", "eventroutes.id": "acme-route", "scenarios.id": runID,
			"sharing.id": "acme-share", "digitaltwins.name": "gauge", "api.id": plant,
		},
		secrets: []string{"admin-acme", "ACME-SECRET", "ACME-RSECRET", "ACME-PURPOSE", "acme-name-", "987.625", "acme-hook", "ACME-RUN", "acme-walk-2", "acme-walk-3", "acme-rel-1", "acme-route", "acme-ep", "acme-job", "acme-share", runID, plant, `"` + tenancytest.ModelID("acme", "Base") + `"`},
	}
	w.walk(t, tenancytest.Outsider, nil, nil)

	// The partner: the agreement grants the Plant twins' name and the
	// model (whose definition names its base, Base: the model itself is
	// still hidden, checked below); the agreement itself, with its
	// purpose, is the partner's to read, and on /sharing its signatory
	// (created_by, the owner's admin) too, on no other route (twins,
	// provenance, events); the rest stays hidden.
	granted := []string{"acme-name-", "acme-walk-2", "acme-walk-3", plant, "ACME-PURPOSE", "acme-share", `"` + tenancytest.ModelID("acme", "Base") + `"`}
	w.walk(t, partnerOrg, granted, map[string]string{"admin-acme": "/sharing"})
	pr := bearer(partnerOrg, auth.Admin)
	for _, id := range []string{"acme-walk-1", "acme-walk-2", "acme-walk-3"} {
		tw := e.mustDo("GET", "/digitaltwins/"+id, nil, 200, pr...).json(t)
		checkGrantedTwin(t, "GET /digitaltwins/"+id, tw, plant)
		if want := "acme-name-" + id; id != "acme-walk-3" && tw["name"] != want {
			t.Errorf("GET /digitaltwins/%s as the partner: name = %v, want %s", id, tw["name"], want)
		}
	}
	var q struct{ Value []map[string]any }
	if err := json.Unmarshal(e.mustDo("POST", "/query", map[string]string{"query": "SELECT * FROM DIGITALTWINS"}, 200, pr...).body, &q); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, tw := range q.Value {
		id, _ := tw["$dtId"].(string)
		if !strings.HasPrefix(id, "acme-") {
			continue // the partner's own twins, written by its walk
		}
		seen = append(seen, id)
		checkGrantedTwin(t, "POST /query", tw, plant)
	}
	slices.Sort(seen)
	if want := []string{"acme-walk-1", "acme-walk-2", "acme-walk-3"}; !slices.Equal(seen, want) {
		t.Errorf("POST /query as the partner shows the owner's twins %v, want exactly %v", seen, want)
	}
	var ms struct{ Value []struct{ ID string } }
	json.Unmarshal(e.mustDo("GET", "/models", nil, 200, pr...).body, &ms)
	var acmeModels []string
	for _, m := range ms.Value {
		if strings.Contains(m.ID, "acme") {
			acmeModels = append(acmeModels, m.ID)
		}
	}
	if !slices.Equal(acmeModels, []string{plant}) {
		t.Errorf("GET /models as the partner shows the owner's models %v, want exactly [%s]", acmeModels, plant)
	}
	e.mustDo("GET", "/sharing/acme-share", nil, 200, pr...)
	rels := e.mustDo("GET", "/digitaltwins/acme-walk-1/relationships", nil, 200, pr...)
	if strings.Contains(string(rels.body), "acme-rel-1") {
		t.Errorf("the partner sees a relationship no agreement names: %s", rels.body)
	}
}

// partnerOrg is the org the walk's agreement shares with.
const partnerOrg = "globex"

// checkGrantedTwin checks a shared twin as the partner reads it: its
// $dtId, $etag, $metadata (with $model, and metadata of name only) and
// name when it has one (acme-walk-3, imported, has none), nothing else.
func checkGrantedTwin(t *testing.T, where string, tw map[string]any, model string) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(tw))
	want := []string{"$dtId", "$etag", "$metadata", "name"}
	if _, ok := tw["name"]; !ok {
		want = want[:3]
	}
	if !slices.Equal(keys, want) {
		t.Errorf("%s: the partner reads %s with keys %v, want exactly %v", where, tw["$dtId"], keys, want)
	}
	meta, _ := tw["$metadata"].(map[string]any)
	if meta["$model"] != model {
		t.Errorf("%s: $metadata.$model = %v, want %s", where, meta["$model"], model)
	}
	for k := range meta {
		if k != "$model" && k != "name" {
			t.Errorf("%s: the partner reads %s's $metadata.%s, which no agreement grants", where, tw["$dtId"], k)
		}
	}
}

// openAPIWalk is the owner's world of TestIsolationOpenAPIWalk.
type openAPIWalk struct {
	e       *env
	owner   []string
	plant   string
	runID   string
	ids     map[string]string
	secrets []string
}

// walk calls every route of the OpenAPI document as an admin of org. The
// secrets not in granted must not come back (unless the request named
// them, or grantedOn maps the secret to a prefix of the route's path),
// reads naming the owner's things that are not granted are 404, and no
// write changes the owner's things.
func (w *openAPIWalk) walk(t *testing.T, org string, granted []string, grantedOn map[string]string) {
	e := w.e
	before := e.mustDo("GET", "/digitaltwins/acme-walk-1", nil, 200, w.owner...).json(t)["$etag"]
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(e.mustDo("GET", "/openapi.json", nil, 200).body, &doc); err != nil {
		t.Fatal(err)
	}
	who := bearer(org, auth.Admin)
	var hidden []string
	for _, s := range w.secrets {
		if !slices.Contains(granted, s) {
			hidden = append(hidden, s)
		}
	}
	// grantedPath reports whether a path names only granted things of the
	// owner: the partner may read those.
	grantedPath := func(path string) bool {
		if len(granted) == 0 {
			return false
		}
		for _, h := range []string{"acme-rel-1", "acme-route", "acme-ep", "acme-job", "acme-key", w.runID, "gauge"} {
			if strings.Contains(path, h) {
				return false
			}
		}
		return true
	}
	paths := slices.Sorted(maps.Keys(doc.Paths))
	// Reads first, then writes, deletes last: an id the walk writes is
	// then the other org's own (names are per org).
	order := map[string]int{"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
	for _, p := range paths {
		methods := slices.SortedFunc(func(yield func(string) bool) {
			for m := range doc.Paths[p] {
				if !yield(strings.ToUpper(m)) {
					return
				}
			}
		}, func(a, b string) int { return order[a] - order[b] })
		for _, method := range methods {
			if p == "/events" || p == "/log/tile/" {
				continue // the event stream is read below; the log holds hashes
			}
			path := walkParams(p, w.ids)
			switch p {
			case "/api/v1/graph/neighbourhood":
				path += "?id=acme-walk-1"
			case "/scenarios/compare":
				path += "?ids=" + w.runID + "," + w.runID
			}
			var body any
			switch method {
			case "POST", "PUT":
				body = "{}"
			case "PATCH":
				body = `[{"op":"add","path":"/capacity","value":1}]`
			}
			r := e.do(method, path, body, who...)
			for _, s := range hidden {
				if s == "" || strings.Contains(path, url.PathEscape(s)) || strings.Contains(path, s) {
					continue
				}
				if pre, ok := grantedOn[s]; ok && strings.HasPrefix(p, pre) {
					continue
				}
				if strings.Contains(string(r.body), s) {
					t.Errorf("%s %s as org %s = %d, shows the owner's %q:\n%.600s", method, path, org, r.status, s, r.body)
				}
			}
			named404 := strings.Contains(path, "acme-") || strings.Contains(path, url.PathEscape(w.plant)) || strings.Contains(path, w.runID)
			if method == "GET" && named404 && !grantedPath(path) && r.status != 404 && !strings.HasPrefix(p, "/bibliography") && !strings.HasPrefix(p, "/governance/versions") && !strings.HasPrefix(p, "/log/") && !strings.HasPrefix(p, "/plant/") && !strings.HasPrefix(p, "/keys") {
				t.Errorf("GET %s as org %s = %d %.300s, want 404", path, org, r.status, r.body)
			}
			if method != "GET" && r.status >= 200 && r.status < 300 && named404 {
				t.Errorf("%s %s as org %s = %d %.300s: a write to the owner's thing succeeded", method, path, org, r.status, r.body)
			}
		}
	}
	// Nothing of the owner's changed.
	after := e.mustDo("GET", "/digitaltwins/acme-walk-1", nil, 200, w.owner...).json(t)["$etag"]
	if before != after {
		t.Errorf("the owner's twin changed during the walk as org %s: etag %v → %v", org, before, after)
	}
	e.mustDo("GET", "/digitaltwins/acme-walk-1/relationships/acme-rel-1", nil, 200, w.owner...)
	e.mustDo("GET", "/eventroutes/acme-route", nil, 200, w.owner...)
	e.mustDo("GET", "/jobs/imports/acme-job", nil, 200, w.owner...)
	e.mustDo("GET", "/sharing/acme-share", nil, 200, w.owner...)
	// The event stream of the other org holds nothing of the owner's that
	// is not granted.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/events?lastEventId=0", nil)
	req.Header.Set("Authorization", who[1])
	if resp, err := http.DefaultClient.Do(req); err == nil {
		var sb strings.Builder
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "data:")
			if !ok {
				continue
			}
			// The walk's own refusals come back as audit events of its
			// org: they name the paths it asked for (and the answers it
			// got), which are not the owner's to hide.
			var ev struct {
				Type string `json:"type"`
				Data struct {
					Org, Subject string
				} `json:"data"`
			}
			if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == api.TypeAuditDenied {
				if ev.Data.Org != org || ev.Data.Subject != "admin-"+org {
					t.Errorf("GET /events as org %s shows an audit event of %s/%s", org, ev.Data.Org, ev.Data.Subject)
				}
				continue
			}
			sb.WriteString(line + "\n")
		}
		resp.Body.Close()
		for _, s := range hidden {
			if strings.Contains(sb.String(), s) {
				t.Errorf("GET /events as org %s shows the owner's %q", org, s)
			}
		}
	}
}

type api_ScenarioRunID struct {
	ID string `json:"id"`
}

// TestIsolationEventRoute: an org's event route delivers the events of
// its own twins and of the twins shared with it (projected), and nothing
// of another org's hidden twins.
func TestIsolationEventRoute(t *testing.T) {
	got := make(chan map[string]any, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		if json.NewDecoder(r.Body).Decode(&ev) == nil {
			got <- ev
		}
	}))
	defer hook.Close()
	e := startTenantServer(t, t.TempDir(), "", true, func(o *server.Options) { o.WebhookAllow = "127.0.0.0/8" })
	t.Cleanup(func() { stopServer(t, e) })
	acme, globex := bearer("acme", auth.Admin), bearer("globex", auth.Admin)
	e.mustDo("POST", "/models", tenantModels("acme"), 201, acme...)
	e.mustDo("POST", "/models", tenantModels("globex"), 201, globex...)
	e.mustDo("PUT", "/sharing/plants", map[string]any{"to_org": "acme", "models": []string{tenancytest.ModelID("globex", "Plant")}, "properties": []string{"name"}}, 200, globex...)
	e.mustDo("PUT", "/endpoints/hook", map[string]any{"kind": "webhook", "url": hook.URL + "/events"}, 200, acme...)
	e.mustDo("PUT", "/eventroutes/all", map[string]any{"endpointName": "hook", "filter": ""}, 204, acme...)
	// globex names a route and an endpoint the same: its own.
	e.mustDo("PUT", "/endpoints/hook", map[string]any{"kind": "webhook", "url": hook.URL + "/globex"}, 200, globex...)
	var list struct {
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/endpoints", nil, 200, acme...).body, &list)
	if len(list.Value) != 1 || !strings.HasSuffix(fmt.Sprint(list.Value[0]["url"]), "/events") {
		t.Errorf("acme's endpoints = %v, want its one", list.Value)
	}
	e.mustDo("GET", "/eventroutes/all", nil, 404, globex...)
	e.mustDo("PUT", "/digitaltwins/globex-mine", map[string]any{"$metadata": map[string]any{"$model": tenancytest.ModelID("globex", "Mine")}, "secret": "GLOBEX-MINE"}, 200, globex...)
	e.mustDo("PUT", "/digitaltwins/globex-plant", map[string]any{"$metadata": map[string]any{"$model": tenancytest.ModelID("globex", "Plant")}, "secret": "GLOBEX-PLANT", "name": "shared-name"}, 200, globex...)
	e.mustDo("PATCH", "/digitaltwins/globex-plant", `[{"op":"replace","path":"/secret","value":"GLOBEX-PATCHED"}]`, 204, globex...)
	e.mustDo("PATCH", "/digitaltwins/globex-plant", `[{"op":"replace","path":"/name","value":"renamed"}]`, 204, globex...)
	e.mustDo("PUT", "/digitaltwins/acme-1", map[string]any{"$metadata": map[string]any{"$model": tenancytest.ModelID("acme", "Plant")}, "secret": "ACME-OWN"}, 200, acme...)
	var seen []string
	deadline := time.After(20 * time.Second)
	for len(seen) < 3 {
		select {
		case ev := <-got:
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), "GLOBEX") || strings.Contains(string(b), "globex-mine") {
				t.Fatalf("acme's route delivered %s", b)
			}
			if strings.HasPrefix(fmt.Sprint(ev["type"]), "lodestone.twin.") {
				seen = append(seen, fmt.Sprint(ev["type"], " ", ev["subject"]))
			}
		case <-deadline:
			t.Fatalf("acme's route delivered %v, want the plant's create and rename and acme-1's create", seen)
		}
	}
	want := []string{"lodestone.twin.created globex-plant", "lodestone.twin.updated globex-plant", "lodestone.twin.created acme-1"}
	if !slices.Equal(seen, want) {
		t.Errorf("acme's route delivered %v, want %v", seen, want)
	}
}

// TestIsolationImport: an import sees only what its principal sees: a
// model of another org is not uploaded, a relationship to another org's
// twin has no target; import jobs are per org.
func TestIsolationImport(t *testing.T) {
	e := startTenantServer(t, t.TempDir(), "", true)
	t.Cleanup(func() { stopServer(t, e) })
	acme, globex := bearer("acme", auth.Admin), bearer("globex", auth.Admin)
	e.mustDo("POST", "/models", tenantModels("acme"), 201, acme...)
	e.mustDo("POST", "/models", tenantModels("globex"), 201, globex...)
	e.mustDo("PUT", "/digitaltwins/acme-1", map[string]any{"$metadata": map[string]any{"$model": tenancytest.ModelID("acme", "Plant")}}, 200, acme...)
	nd := func(lines ...string) string {
		return strings.Join(append([]string{`{"Section":"Header"}`, `{"fileVersion":"1.0.0","author":"t","organization":"t"}`}, lines...), "\n") + "\n"
	}
	ndjson := append(globex, "Content-Type", "application/x-ndjson")
	r := e.do("PUT", "/jobs/imports/j1", nd(`{"Section":"Twins"}`, `{"$dtId":"g-1","$metadata":{"$model":"`+tenancytest.ModelID("acme", "Plant")+`"}}`), ndjson...)
	if r.status != 400 || !strings.Contains(string(r.body), "is not uploaded") {
		t.Errorf("import of a twin of another org's model = %d %s, want 400 not uploaded", r.status, r.body)
	}
	r = e.do("PUT", "/jobs/imports/j2", nd(`{"Section":"Twins"}`, `{"$dtId":"g-1","$metadata":{"$model":"`+tenancytest.ModelID("globex", "Plant")+`"}}`,
		`{"Section":"Relationships"}`, `{"$sourceId":"g-1","$relationshipId":"r","$targetId":"acme-1","$relationshipName":"feeds"}`), ndjson...)
	if r.status != 400 || !strings.Contains(string(r.body), "target twin acme-1 not found") {
		t.Errorf("import of a relationship to another org's twin = %d %s, want 400 target not found", r.status, r.body)
	}
	// The same job id in two orgs: two jobs.
	e.mustDo("PUT", "/jobs/imports/same", nd(`{"Section":"Twins"}`, `{"$dtId":"g-2","$metadata":{"$model":"`+tenancytest.ModelID("globex", "Plant")+`"}}`), 200, ndjson...)
	e.mustDo("PUT", "/jobs/imports/same", nd(`{"Section":"Twins"}`, `{"$dtId":"a-2","$metadata":{"$model":"`+tenancytest.ModelID("acme", "Plant")+`"}}`), 200, append(acme, "Content-Type", "application/x-ndjson")...)
	var jobs struct {
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/jobs/imports", nil, 200, acme...).body, &jobs)
	if len(jobs.Value) != 1 || jobs.Value[0]["twinsCount"] != 1.0 {
		t.Errorf("acme's jobs = %v, want its one import", jobs.Value)
	}
	tw := e.mustDo("GET", "/digitaltwins/g-2", nil, 200, globex...).json(t)
	if md := tw["$metadata"].(map[string]any); md["$org"] != "globex" {
		t.Errorf("imported twin's $metadata = %v, want $org globex", md)
	}
	e.mustDo("GET", "/digitaltwins/g-2", nil, 404, acme...)
}

// TestIsolationGraphNetwork: stress tests and scenario runs on the twin
// graph are built from what the principal sees: another org's facility
// is in its own org's network and in no one else's.
func TestIsolationGraphNetwork(t *testing.T) {
	dir := t.TempDir()
	e := startTenantServer(t, dir, "", false, func(o *server.Options) { o.LoadDemo = true })
	mine := e.mustDo("GET", "/digitaltwins/mine-cn", nil, 200).json(t)
	out := e.mustDo("GET", "/digitaltwins/mine-cn/relationships", nil, 200).json(t)
	stopServer(t, e)
	e = startTenantServer(t, dir, "", true)
	t.Cleanup(func() { stopServer(t, e) })
	acme, globex := bearer("acme", auth.Admin), bearer("globex", auth.Admin)
	// acme's own mine, a copy of the world's, supplying what it supplies.
	body := map[string]any{}
	for k, v := range mine {
		if !strings.HasPrefix(k, "$") || k == "$metadata" {
			body[k] = v
		}
	}
	body["$metadata"] = map[string]any{"$model": tql.TwinModel(mine)}
	e.mustDo("PUT", "/digitaltwins/acme-secret-mine", body, 200, acme...)
	for i, rel := range out["value"].([]any) {
		r := rel.(map[string]any)
		rb := map[string]any{"$targetId": r["$targetId"], "$relationshipName": r["$relationshipName"]}
		for k, v := range r {
			if !strings.HasPrefix(k, "$") {
				rb[k] = v
			}
		}
		e.mustDo("PUT", fmt.Sprintf("/digitaltwins/acme-secret-mine/relationships/acme-r%d", i), rb, 200, acme...)
	}
	for _, c := range []struct {
		hdr  []string
		want bool
	}{{acme, true}, {globex, false}} {
		stress := e.mustDo("POST", "/scenarios/stress", map[string]any{"ttrPeriods": 120}, 200, c.hdr...)
		run := e.mustDo("POST", "/scenarios", map[string]any{"graph": true, "days": 10}, 201, c.hdr...)
		for what, b := range map[string][]byte{"stress": stress.body, "run": run.body} {
			if has := strings.Contains(string(b), "acme-secret-mine"); has != c.want {
				t.Errorf("%s %s: acme-secret-mine in the network = %v, want %v", c.hdr[1], what, has, c.want)
			}
		}
	}
}
