package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/server"
)

// startDemo runs a whole server (SQLite, embedded NATS, demo data) on a
// loopback port for the test.
func startDemo(t *testing.T) *server.Server {
	t.Helper()
	return startServer(t, func(o *server.Options) { o.LoadDemo = true })
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

// schemaDSN returns dsn with the PostgreSQL schema set, and drops the
// schema when the test ends.
func schemaDSN(t *testing.T, dsn, schema string) string {
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

// TestPostgresServer runs the whole server on PostgreSQL (--store
// postgres://…) with the demo world, in a schema of its own.
func TestPostgresServer(t *testing.T) {
	dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES is not set; CI must run the PostgreSQL tests")
		}
		t.Skip("LODESTONE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	schema := fmt.Sprintf("lodestone_server_%d", time.Now().UnixNano())
	storeDSN := schemaDSN(t, dsn, schema)
	s := startServer(t, func(o *server.Options) {
		o.LoadDemo = true
		o.StoreDSN = storeDSN
	})
	u := s.URL()
	var q struct{ Value []map[string]any }
	json.Unmarshal(call(t, "POST", u+"/query", `{"query":"SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:lodestone:Mine;1')"}`, 200), &q)
	if n, _ := q.Value[0]["COUNT"].(float64); n < 5 {
		t.Errorf("mines on PostgreSQL = %v, want the default world's", q.Value[0]["COUNT"])
	}
	call(t, "PATCH", u+"/digitaltwins/mine-br", `[{"op":"replace","path":"/capacityTonnesPerYear","value":25}]`, 204)
	var tw map[string]any
	json.Unmarshal(call(t, "GET", u+"/digitaltwins/mine-br", "", 200), &tw)
	if tw["capacityTonnesPerYear"] != 25.0 {
		t.Errorf("after PATCH capacity = %v, want 25", tw["capacityTonnesPerYear"])
	}
}
