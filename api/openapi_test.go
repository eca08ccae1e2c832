package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenAPI checks that /openapi.json documents exactly the routes the
// API serves, that each documented route answers (not 404 RouteNotFound,
// not 405), and that the document is structurally valid OpenAPI 3.1: the
// required keys are there, path templates and path parameters agree,
// operation ids are unique and every $ref resolves.
func TestOpenAPI(t *testing.T) {
	e := start(t, options{})
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	e.putTwin("p1", "dtmi:test:Plant;1", nil)
	e.putRel("a1", "r1", "feeds", "p1", nil)

	r := e.mustDo("GET", "/openapi.json", nil, 200)
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}

	var served []string
	for _, rt := range e.srv.API.Routes() {
		served = append(served, rt.Pattern)
	}
	var documented []string
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		for m := range item.(map[string]any) {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("routes served vs documented (-served +documented):\n%s", diff)
	}

	t.Run("structure", func(t *testing.T) {
		if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
			t.Errorf("openapi = %q, want 3.1.x", v)
		}
		info, _ := doc["info"].(map[string]any)
		if info["title"] == nil || info["version"] == nil {
			t.Errorf("info = %v, want title and version", info)
		}
		if len(paths) == 0 {
			t.Fatal("no paths")
		}
		param := regexp.MustCompile(`\{([^}]+)\}`)
		opIDs := map[string]string{}
		for p, item := range paths {
			if !strings.HasPrefix(p, "/") {
				t.Errorf("path %q does not start with /", p)
			}
			for m, op := range item.(map[string]any) {
				where := strings.ToUpper(m) + " " + p
				if !slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, m) {
					t.Errorf("%s: %q is not an HTTP method", where, m)
					continue
				}
				o, _ := op.(map[string]any)
				id, _ := o["operationId"].(string)
				if id == "" {
					t.Errorf("%s: no operationId", where)
				} else if other, dup := opIDs[id]; dup {
					t.Errorf("%s: operationId %s also used by %s", where, id, other)
				}
				opIDs[id] = where
				resp, _ := o["responses"].(map[string]any)
				if len(resp) == 0 {
					t.Errorf("%s: no responses", where)
				}
				for code, rv := range resp {
					if n, err := strconv.Atoi(code); code != "default" && (err != nil || n < 100 || n > 599) {
						t.Errorf("%s: response key %q", where, code)
					}
					if d, _ := rv.(map[string]any)["description"].(string); d == "" {
						t.Errorf("%s: response %s has no description", where, code)
					}
				}
				var declared []string
				params, _ := o["parameters"].([]any)
				seen := map[string]bool{}
				for _, pv := range params {
					pm, _ := pv.(map[string]any)
					key := fmt.Sprint(pm["in"], " ", pm["name"])
					if seen[key] {
						t.Errorf("%s: parameter %s twice", where, key)
					}
					seen[key] = true
					if pm["name"] == nil || pm["in"] == nil {
						t.Errorf("%s: parameter %v lacks name or in", where, pm)
					}
					if pm["in"] == "path" {
						if pm["required"] != true {
							t.Errorf("%s: path parameter %v is not required", where, pm["name"])
						}
						declared = append(declared, pm["name"].(string))
					}
				}
				var inPath []string
				for _, m := range param.FindAllStringSubmatch(p, -1) {
					inPath = append(inPath, m[1])
				}
				if diff := cmp.Diff(inPath, declared); diff != "" {
					t.Errorf("%s: path parameters (-template +declared):\n%s", where, diff)
				}
				if rb, ok := o["requestBody"].(map[string]any); ok {
					if c, _ := rb["content"].(map[string]any); len(c) == 0 {
						t.Errorf("%s: requestBody without content", where)
					}
				}
			}
		}
		schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
		for name, sv := range schemas {
			d, _ := sv.(map[string]any)["description"].(string)
			if strings.HasSuffix(d, "(see the api package documentation)") && !strings.HasPrefix(name, "Simulat") {
				t.Errorf("schema %s is a placeholder; describe its type in openapi.go", name)
			}
		}
		for _, want := range []struct{ op, params string }{
			{"GET /digitaltwins/{id}", "asOf"},
			{"GET /digitaltwins/{id}/telemetry", "name from to limit"},
			{"GET /models", "includeModelDefinition dependenciesFor"},
			{"PUT /jobs/imports/{id}", "dryRun"},
		} {
			m, p, _ := strings.Cut(want.op, " ")
			o, _ := paths[p].(map[string]any)[strings.ToLower(m)].(map[string]any)
			var got []string
			for _, pv := range o["parameters"].([]any) {
				if pm := pv.(map[string]any); pm["in"] == "query" && pm["name"] != "api-version" {
					got = append(got, pm["name"].(string))
				}
			}
			if diff := cmp.Diff(strings.Fields(want.params), got); diff != "" {
				t.Errorf("%s: query parameters (-want +got):\n%s", want.op, diff)
			}
		}
		refs := 0
		walkRefs(doc, func(ref string) {
			refs++
			if _, ok := resolvePointer(doc, ref); !ok {
				t.Errorf("$ref %q does not resolve", ref)
			}
		})
		if refs == 0 {
			t.Error("the document has no $ref at all")
		}
	})

	for _, rt := range e.srv.API.Routes() {
		t.Run("probe "+rt.Pattern, func(t *testing.T) {
			method, path, _ := strings.Cut(rt.Pattern, " ")
			h := http.Header{}
			var body []byte
			if rt.Body != "" {
				body = []byte(`{}`)
				h.Set("Content-Type", "application/json")
				if rt.Body == "JsonPatch" {
					body = []byte(`[]`)
					h.Set("Content-Type", "application/json-patch+json")
				}
			}
			r, err := e.raw(method, fillPath(path), body, h)
			if err != nil {
				t.Fatal(err)
			}
			if r.status == http.StatusOK && strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				checkAgainstSchema(t, doc, method, path, r.body)
			}
			if r.status == http.StatusMethodNotAllowed {
				t.Errorf("%s = 405", rt.Pattern)
			}
			if r.status == http.StatusNotFound {
				if code := r.errCode(t); code == "RouteNotFound" {
					t.Errorf("%s = 404 RouteNotFound", rt.Pattern)
				}
			}
		})
	}
}

// walkRefs calls f with every "$ref" value in v.
func walkRefs(v any, f func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				f(s)
				continue
			}
			walkRefs(c, f)
		}
	case []any:
		for _, c := range x {
			walkRefs(c, f)
		}
	}
}

// resolvePointer resolves a local reference "#/a/b" in doc.
func resolvePointer(doc any, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// checkAgainstSchema checks that the members of a JSON answer are the
// properties its documented 200 schema names (one level deep).
func checkAgainstSchema(t *testing.T, doc map[string]any, method, path string, body []byte) {
	t.Helper()
	op, _ := doc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	ok, _ := op["responses"].(map[string]any)["200"].(map[string]any)
	content, _ := ok["content"].(map[string]any)["application/json"].(map[string]any)
	sch, _ := content["schema"].(map[string]any)
	if r, isRef := sch["$ref"].(string); isRef {
		v, _ := resolvePointer(doc, r)
		sch, _ = v.(map[string]any)
	}
	props, _ := sch["properties"].(map[string]any)
	if props == nil || sch["additionalProperties"] != nil {
		return
	}
	var got map[string]any
	if json.Unmarshal(body, &got) != nil {
		return
	}
	for k := range got {
		if _, ok := props[k]; !ok {
			t.Errorf("%s %s: answer member %q is not in its schema %v", method, path, k, slices.Sorted(maps.Keys(props)))
		}
	}
}
