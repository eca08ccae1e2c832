package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/pipeline"
	"lodestone/store"
	_ "lodestone/store/postgres" // registers postgres:// for store.Open
	"lodestone/trust/auth"
	"lodestone/twin"
)

// sameTwin reports whether a and b are the same stored version: the same
// document (ADT JSON) and the same owner fields.
func sameTwin(t *testing.T, what string, got, want twin.Twin) {
	t.Helper()
	gj, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wj, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	gm, wm := got.Metadata, want.Metadata
	if string(gj) != string(wj) || gm.Org != wm.Org || gm.Writer != wm.Writer || gm.Signer != wm.Signer ||
		!gm.LastUpdateTime.Equal(wm.LastUpdateTime) || len(gm.Properties) != len(wm.Properties) {
		t.Fatalf("%s:\ncached %s %+v\nstored %s %+v", what, gj, gm, wj, wm)
	}
	for k, pm := range wm.Properties {
		g := gm.Properties[k]
		if !g.LastUpdateTime.Equal(pm.LastUpdateTime) || !g.SourceTime.Equal(pm.SourceTime) {
			t.Fatalf("%s: metadata of %s: cached %+v, stored %+v", what, k, g, pm)
		}
	}
}

// TestTwinCacheHoldsTheStoredVersion: after every kind of twin write the
// version the pipeline keeps for the next patch is the one the store
// returns, so that a patch from the cache stores what a patch from a read
// would.
func TestTwinCacheHoldsTheStoredVersion(t *testing.T) {
	t.Run("store=sqlite", func(t *testing.T) { testTwinCacheHolds(t, openStore(t)) })
	t.Run("store=postgres", func(t *testing.T) {
		base := os.Getenv("LODESTONE_TEST_POSTGRES")
		if base == "" {
			t.Skip("LODESTONE_TEST_POSTGRES is not set")
		}
		testTwinCacheHolds(t, openPostgres(t, base))
	})
}

// openPostgres opens a PostgreSQL store in a schema of its own, dropped
// when the test ends.
func openPostgres(t *testing.T, base string) store.Store {
	t.Helper()
	name := fmt.Sprintf("lodestone_pipeline_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", name)
	u.RawQuery = q.Encode()
	st, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return st
}

// withModels is a pipeline on st (without a bus) with the test models.
func withModels(t *testing.T, st store.Store) *fixture {
	t.Helper()
	f := &fixture{p: newPipeline(t, st, nil)}
	raws := make([]json.RawMessage, len(testModels))
	for i, m := range testModels {
		raws[i] = json.RawMessage(m)
	}
	if _, err := f.p.PutModels(context.Background(), raws); err != nil {
		t.Fatal(err)
	}
	return f
}

func testTwinCacheHolds(t *testing.T, st store.Store) {
	f := withModels(t, st)
	ctx := auth.NewContext(context.Background(), auth.Principal{Subject: "ann", Org: "acme", Roles: []auth.Role{auth.Writer}, Method: "token"})
	check := func(what string) {
		t.Helper()
		got, ok := pipeline.CachedTwin(f.p, "c1")
		if !ok {
			t.Fatalf("%s: twin not cached", what)
		}
		want, err := st.GetTwin(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		sameTwin(t, what, got, want)
	}
	if _, _, err := f.p.PutTwin(ctx, asset("c1", 1), store.Condition{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	check("create")
	src := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC).Format(time.RFC3339Nano)
	for _, p := range []twin.Patch{
		{{Op: "replace", Path: "/capacity", Value: 2.5}},
		{{Op: "add", Path: "/gauge/reading", Value: 7.0}},
		{{Op: "add", Path: "/$metadata/capacity/sourceTime", Value: src}},
		{{Op: "remove", Path: "/name"}},
		{{Op: "add", Path: "/name", Value: "again"}, {Op: "replace", Path: "/capacity", Value: 3.0}},
	} {
		time.Sleep(time.Millisecond) // a new lastUpdateTime
		if _, err := f.p.PatchTwin(ctx, "c1", p, store.Condition{}, ""); err != nil {
			t.Fatalf("patch %+v: %v", p, err)
		}
		pj, _ := json.Marshal(p)
		check("patch " + string(pj))
	}
	if _, _, err := f.p.PutTwin(ctx, asset("c1", 9), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	check("replace")
	if err := f.p.DeleteTwin(ctx, "c1", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := pipeline.CachedTwin(f.p, "c1"); ok {
		t.Fatal("deleted twin still cached")
	}
}

// TestTwinCacheTwoServers: two pipelines on one store, each with its own
// cache of the versions it wrote. A version that the other server has
// replaced, or a twin it deleted and another org created again, never
// decides a patch: the answers are those of a pipeline without a cache.
func TestTwinCacheTwoServers(t *testing.T) {
	t.Run("store=sqlite", func(t *testing.T) { testTwinCacheTwoServers(t, openStore(t)) })
	t.Run("store=postgres", func(t *testing.T) {
		base := os.Getenv("LODESTONE_TEST_POSTGRES")
		if base == "" {
			t.Skip("LODESTONE_TEST_POSTGRES is not set")
		}
		testTwinCacheTwoServers(t, openPostgres(t, base))
	})
}

func testTwinCacheTwoServers(t *testing.T, st store.Store) {
	f := withModels(t, st)
	b := newPipeline(t, st, nil)
	acme := auth.NewContext(context.Background(), auth.Principal{Subject: "ann", Org: "acme", Roles: []auth.Role{auth.Writer}, Method: "token"})
	other := auth.NewContext(context.Background(), auth.Principal{Subject: "bob", Org: "other", Roles: []auth.Role{auth.Writer}, Method: "token"})
	set := func(p *pipeline.Pipeline, ctx context.Context, v float64, cond store.Condition) (twin.Twin, error) {
		return p.PatchTwin(ctx, "t1", twin.Patch{{Op: "replace", Path: "/capacity", Value: v}}, cond, "")
	}
	if _, _, err := f.p.PutTwin(acme, asset("t1", 1), store.Condition{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	v1, err := set(f.p, acme, 2, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	// B moves the twin on; A's cache still holds v1.
	v2, err := set(b, acme, 3, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	// If-Match of the current version succeeds on A, a stale one fails.
	if _, err := set(f.p, acme, 4, store.Condition{IfMatch: v2.ETag}); err != nil {
		t.Fatalf("patch with If-Match of the other server's version: %v", err)
	}
	if _, err := set(b, acme, 5, store.Condition{IfMatch: v1.ETag}); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("patch with a stale If-Match = %v, want ErrPreconditionFailed", err)
	}
	// Without If-Match A patches the version B wrote: a JSON Patch that
	// needs B's property applies.
	if _, err := b.PatchTwin(acme, "t1", twin.Patch{{Op: "add", Path: "/gauge/reading", Value: 1.0}}, store.Condition{}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.PatchTwin(acme, "t1", twin.Patch{{Op: "replace", Path: "/gauge/reading", Value: 2.0}}, store.Condition{}, ""); err != nil {
		t.Fatalf("patch of a property the other server added: %v", err)
	}
	// A replace through A of the version B wrote keeps the owner.
	if _, err := set(b, acme, 5.5, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if put, _, err := f.p.PutTwin(acme, asset("t1", 5.75), store.Condition{IfMatch: twin.AnyETag}); err != nil || put.Metadata.Org != "acme" {
		t.Fatalf("replace through A after a write through B = %+v, %v", put.Metadata, err)
	}
	// B deletes the twin and org other creates it again: A's cache still
	// says acme's twin, but acme may not write it.
	if _, err := set(f.p, acme, 6, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteTwin(acme, "t1", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.PutTwin(other, asset("t1", 1), store.Condition{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := set(f.p, acme, 7, store.Condition{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("acme patches org other's twin through a stale cache: %v, want ErrNotFound", err)
	}
	if _, _, err := f.p.PutTwin(acme, asset("t1", 7), store.Condition{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("acme replaces org other's twin through a stale cache: %v, want ErrNotFound", err)
	}
	got, err := st.GetTwin(acme, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata.Org != "other" || got.Properties["capacity"] != 1.0 {
		t.Fatalf("twin after the refused patch: %+v", got)
	}
	// And the other way: org other's principal on A, whose cache says
	// acme, may write its twin.
	if _, err := set(f.p, other, 8, store.Condition{}); err != nil {
		t.Fatalf("org other patches its twin through A: %v", err)
	}
}
