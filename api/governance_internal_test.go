package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"lodestone/org/governance"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
)

// TestGovernanceGuardImports: while anything is governed an import made
// by a request (a principal in its context) is refused with 403
// Governed; the server's own load (no principal) and an approved change
// pass; with nothing governed every import passes.
func TestGovernanceGuardImports(t *testing.T) {
	w := &pipeline.Write{Kind: store.KindImport, Op: store.OpCreate}
	req := auth.NewContext(context.Background(), auth.Principal{Subject: "alice", Org: "acme", Roles: []auth.Role{auth.Admin}})
	g := GovernanceGuard{Config: &governance.Config{Twins: []string{"sep-cn"}}}
	var e *Error
	if err := g.Check(req, w); !errors.As(err, &e) || e.Status != http.StatusForbidden || e.Code != "Governed" {
		t.Errorf("import by a request: %v", err)
	}
	for name, ctx := range map[string]context.Context{"server load": context.Background(), "approved change": asGoverned(req)} {
		if err := g.Check(ctx, w); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := (GovernanceGuard{}).Check(req, w); err != nil {
		t.Errorf("nothing governed: %v", err)
	}
}

func TestDiffPaths(t *testing.T) {
	a := map[string]any{"x": 1.0, "s": map[string]any{"t": 1.0, "u": "a"}, "a/b": 1.0, "gone": true}
	b := map[string]any{"x": 1.0, "s": map[string]any{"t": 2.0, "u": "a"}, "a/b": 2.0, "new": "n"}
	got := diffPaths("", a, b)
	want := []string{"/a~1b", "/gone", "/new", "/s/t"}
	if !slices.Equal(got, want) {
		t.Errorf("diffPaths = %v, want %v", got, want)
	}
}
