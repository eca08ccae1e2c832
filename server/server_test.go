package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// startDemo runs a whole server (SQLite, embedded NATS, demo data) on a
// loopback port for the test.
func startDemo(t *testing.T) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := contextWithTimeout(10 * time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

func call(t *testing.T, method, url, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		if method == http.MethodPatch {
			req.Header.Set("Content-Type", "application/json-patch+json")
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, url, res.StatusCode, b, want)
	}
	return b
}

func TestDemoServer(t *testing.T) {
	s := startDemo(t)
	u := s.URL()

	var models struct{ Value []map[string]any }
	json.Unmarshal(call(t, "GET", u+"/models", "", 200), &models)
	if len(models.Value) < 20 {
		t.Errorf("GET /models has %d models, want the bundled ontology", len(models.Value))
	}
	var q struct {
		Value []map[string]any
	}
	json.Unmarshal(call(t, "POST", u+"/query", `{"query":"SELECT COUNT() FROM DIGITALTWINS"}`, 200), &q)
	if n, _ := q.Value[0]["COUNT"].(float64); n < 10 {
		t.Errorf("demo world has %v twins, want the default world", q.Value[0]["COUNT"])
	}
	// The dashboard and the OpenAPI document are served by the same binary.
	if b := call(t, "GET", u+"/", "", 200); !strings.Contains(string(b), "Lodestone") {
		t.Errorf("GET / does not serve the dashboard")
	}
	call(t, "GET", u+"/openapi.json", "", 200)
	call(t, "GET", u+"/app.js", "", 200)
	// A mistyped API path is a JSON 404, not the dashboard with 200.
	if b := call(t, "GET", u+"/digitaltwin/mine-cn", "", 404); !strings.Contains(string(b), `"RouteNotFound"`) {
		t.Errorf("GET of an unknown path = %s, want the JSON RouteNotFound error", b)
	}
}
