package server_test

import (
	"slices"
	"strings"
	"testing"

	"lodestone/server"
)

// TestEveryRouteDocumented: every route a server registers — the API's
// own, those the server adds (GET /demo/story with the demo loaded) — is in
// its OpenAPI document, and nothing is mounted outside the route table but
// the dashboard ("GET /", web pages, not API operations).
func TestEveryRouteDocumented(t *testing.T) {
	for _, demo := range []bool{false, true} {
		s := startServer(t, func(o *server.Options) { o.LoadDemo = demo })
		var doc struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		getJSON(t, s.URL()+"/openapi.json", &doc)
		documented := map[string]bool{}
		for p, item := range doc.Paths {
			for m := range item {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
		var patterns []string
		for _, rt := range s.API.Routes() {
			patterns = append(patterns, rt.Pattern)
		}
		for _, p := range s.API.Handled() {
			if p != "GET /" {
				patterns = append(patterns, p)
			}
		}
		for _, p := range patterns {
			if !documented[p] {
				t.Errorf("demo %v: %s is served but not in the OpenAPI document", demo, p)
			}
		}
		if has := slices.Contains(patterns, "GET /demo/story"); has != demo || documented["GET /demo/story"] != demo {
			t.Errorf("demo %v: GET /demo/story served %v, documented %v", demo, has, documented["GET /demo/story"])
		}
		if h := s.API.Handled(); !slices.Equal(h, []string{"GET /"}) {
			t.Errorf("demo %v: mounted outside the route table: %v, want only the dashboard (GET /)", demo, h)
		}
	}
}
