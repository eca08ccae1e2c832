package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// ADT's SDKs page lists with the max-items-per-page header and follow the
// answer's nextLink; GET /models and POST /query honour both.
func TestPagingHeader(t *testing.T) {
	e := start(t, options{})
	var ids []string
	next := "/models"
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("GET /models pages never end")
		}
		r := e.mustDo("GET", next, nil, 200, "max-items-per-page", "3")
		var page struct {
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Value) > 3 {
			t.Fatalf("page of %d models, asked for 3", len(page.Value))
		}
		for _, m := range page.Value {
			ids = append(ids, m.ID)
		}
		next = ""
		if page.NextLink != "" {
			u, err := url.Parse(page.NextLink)
			if err != nil || !u.IsAbs() {
				t.Fatalf("nextLink %q is not an absolute address", page.NextLink)
			}
			next = u.RequestURI()
		}
	}
	all := e.mustDo("GET", "/models", nil, 200).json(t)["value"].([]any)
	if len(ids) != len(all) || len(ids) != len(testModels) {
		t.Fatalf("paged models %v, unpaged %d, uploaded %d", ids, len(all), len(testModels))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			t.Fatalf("paged models out of order or repeated: %v", ids)
		}
	}

	for i := range 5 {
		e.putTwin(fmt.Sprintf("o%d", i), "dtmi:test:Owner;1", map[string]any{"name": "x"})
	}
	r := e.mustDo("POST", "/query", `{"query":"SELECT * FROM digitaltwins"}`, 200, "max-items-per-page", "2")
	m := r.json(t)
	if rows := m["value"].([]any); len(rows) != 2 || m["continuationToken"] == nil {
		t.Fatalf("query with max-items-per-page 2 = %d rows, token %v", len(rows), m["continuationToken"])
	}

	for _, bad := range []string{"0", "-1", "many"} {
		r := e.mustDo("GET", "/models", nil, 400, "max-items-per-page", bad)
		if !strings.Contains(string(r.body), "max-items-per-page") {
			t.Errorf("max-items-per-page %q: error %s does not name the header", bad, r.body)
		}
	}
	if r := e.mustDo("GET", "/models?continuationToken=%25%25", nil, 400); !strings.Contains(string(r.body), "continuationToken") {
		t.Errorf("bad token: %s", r.body)
	}
}
