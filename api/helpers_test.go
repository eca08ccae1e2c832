package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// testModels are small DTDL v3 interfaces that exercise every kind of
// content: properties (with an Enum), telemetry, a component, relationships
// with a target, a maxMultiplicity and an edge property, and inheritance.
var testModels = []string{
	`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Gauge;1","@type":"Interface","contents":[
		{"@type":"Property","name":"reading","schema":"double","writable":true},
		{"@type":"Telemetry","name":"level","schema":"double"}]}`,
	`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Owner;1","@type":"Interface","displayName":"Owner","contents":[
		{"@type":"Property","name":"name","schema":"string","writable":true}]}`,
	`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Asset;1","@type":"Interface","displayName":"Asset","contents":[
		{"@type":"Property","name":"name","schema":"string","writable":true},
		{"@type":"Property","name":"capacity","schema":"double","writable":true},
		{"@type":"Property","name":"status","writable":true,"schema":{"@type":"Enum","valueSchema":"string","enumValues":[
			{"name":"on","enumValue":"on"},{"name":"off","enumValue":"off"}]}},
		{"@type":"Telemetry","name":"temperature","schema":"double"},
		{"@type":"Component","name":"gauge","schema":"dtmi:test:Gauge;1"},
		{"@type":"Relationship","name":"feeds","target":"dtmi:test:Plant;1","maxMultiplicity":2,"properties":[
			{"@type":"Property","name":"share","schema":"double","writable":true}]},
		{"@type":"Relationship","name":"ownedBy","target":"dtmi:test:Owner;1"}]}`,
	`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Plant;1","@type":"Interface","extends":"dtmi:test:Asset;1","contents":[
		{"@type":"Property","name":"throughput","schema":"double","writable":true}]}`,
}

// env is a whole Lodestone server (SQLite file, embedded NATS) on a
// loopback port, with the test models uploaded.
type env struct {
	t   testing.TB
	srv *server.Server
	url string
}

type options struct {
	demo     bool
	noModels bool
	maxBody  int64
	maxBulk  int64
	// webhookAllow is --webhook-allow: loopback receivers need it.
	webhookAllow string
}

func start(t testing.TB, o options) *env {
	t.Helper()
	so := server.DefaultOptions()
	so.DataDir = t.TempDir()
	so.HTTPAddr = "127.0.0.1:0"
	so.LoadDemo = o.demo
	if o.maxBody > 0 {
		so.MaxBodyBytes = o.maxBody
	}
	if o.maxBulk > 0 {
		so.MaxBulkBytes = o.maxBulk
	}
	so.WebhookAllow = o.webhookAllow
	s, err := server.New(so)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	e := &env{t: t, srv: s, url: s.URL()}
	if !o.noModels {
		e.mustDo("POST", "/models", "["+strings.Join(testModels, ",")+"]", 201)
	}
	return e
}

// res is an HTTP answer.
type res struct {
	status int
	header http.Header
	body   []byte
}

func (r res) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return m
}

// errCode returns the code of an error answer, checking its shape.
func (r res) errCode(t testing.TB) string {
	t.Helper()
	code, _ := checkErrorShape(t, r)
	return code
}

// checkErrorShape checks the one error shape {"error":{"code","message",
// "details"}} and returns the code and the details.
func checkErrorShape(t testing.TB, r res) (string, []any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error answer %d has Content-Type %q, want application/json; body %s", r.status, ct, r.body)
	}
	var eb struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details []any  `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error == nil {
		t.Errorf("error answer %d is not {\"error\":{…}}: %s", r.status, r.body)
		return "", nil
	}
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Errorf("error answer %d lacks code or message: %s", r.status, r.body)
	}
	return eb.Error.Code, eb.Error.Details
}

// do sends a request. body may be a string, []byte or nil; hdr holds
// header name/value pairs. A JSON content type is set for a body unless hdr
// names one.
func (e *env) do(method, path string, body any, hdr ...string) res {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/json-patch+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res{status: r.StatusCode, header: r.Header, body: b}
}

// mustDo sends a request and fails the test unless the status is want.
func (e *env) mustDo(method, path string, body any, want int, hdr ...string) res {
	e.t.Helper()
	r := e.do(method, path, body, hdr...)
	if r.status != want {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, want)
	}
	return r
}

// putTwin creates a twin of model with the given properties; twins of
// dtmi:test:Asset;1 and Plant get their required gauge component.
func (e *env) putTwin(id, model string, props map[string]any) res {
	e.t.Helper()
	doc := map[string]any{"$metadata": map[string]any{"$model": model}}
	if model == "dtmi:test:Asset;1" || model == "dtmi:test:Plant;1" {
		doc["gauge"] = map[string]any{"$metadata": map[string]any{}}
	}
	for k, v := range props {
		doc[k] = v
	}
	return e.mustDo("PUT", "/digitaltwins/"+id, doc, 200)
}

func (e *env) putRel(src, id, name, target string, props map[string]any) res {
	e.t.Helper()
	doc := map[string]any{"$targetId": target, "$relationshipName": name}
	for k, v := range props {
		doc[k] = v
	}
	return e.mustDo("PUT", "/digitaltwins/"+src+"/relationships/"+id, doc, 200)
}
