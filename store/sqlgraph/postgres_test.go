package sqlgraph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/store/postgres"
	"lodestone/tql"
)

// TestPushdownPostgres compares the SQL path with the reference evaluator
// on PostgreSQL (the jsonb dialect of the compiler). It needs
// LODESTONE_TEST_POSTGRES (e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and skips
// without it, except under CI=true, where it fails.
func TestPushdownPostgres(t *testing.T) {
	base := os.Getenv("LODESTONE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES is not set, and CI=true requires the PostgreSQL tests to run")
		}
		t.Skip("LODESTONE_TEST_POSTGRES is not set; skipping the PostgreSQL pushdown test")
	}
	ctx := t.Context()
	schema := fmt.Sprintf("sqlgraph_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	v := u.Query()
	v.Set("schema", schema)
	u.RawQuery = v.Encode()
	db, err := postgres.Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	asOf := " AS OF '" + fillSmall(t, ctx, db).UTC().Format(time.RFC3339Nano) + "'"
	n := 400
	if testing.Short() {
		n = 100
	}
	r := rand.New(rand.NewPCG(7, 11))
	for range n {
		q := randQuery(r)
		if r.IntN(4) == 0 {
			q = withAsOf(q, asOf)
		}
		opts := tql.Options{PageSize: 1 + r.IntN(12), MaxScan: []int{0, 0, -1, 25, 50}[r.IntN(5)]}
		if r.IntN(3) == 0 {
			opts.OnLimit = tql.Page
		}
		comparePushdown(t, ctx, db, q, opts)
	}
}
