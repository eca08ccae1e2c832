package trust_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// entries collects the log entries of every committed record.
type entries struct{ got []trust.Entry }

func (e *entries) Check(context.Context, *pipeline.Write) error { return nil }
func (e *entries) Committed(_ context.Context, recs []store.Record) error {
	for _, r := range recs {
		en, err := trust.EntryOf("", r)
		if err != nil {
			return err
		}
		e.got = append(e.got, en)
	}
	return nil
}

// TestVerifyOwners: writes by principals record their org in the log
// entries, and verify recomputes it from the owners stored in the
// entities: no mismatch, also where a patch changed the writer and signer.
// A changed stored owner is reported.
func TestVerifyOwners(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	alice := auth.NewContext(ctx, auth.Principal{Subject: "alice", Org: "acme", Roles: []auth.Role{auth.Writer}, Method: "token"})
	bob := auth.WithSigner(auth.NewContext(ctx, auth.Principal{Subject: "bob", Org: "acme", Roles: []auth.Role{auth.Writer}, Method: "token"}), auth.Signer{KeyID: "plc-7"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"o1", "o2"} {
		_, _, err := f.p.PutTwin(alice, asset(id, 1), store.Condition{})
		must(err)
	}
	_, err := f.p.PatchTwin(bob, "o1", twin.Patch{{Op: "replace", Path: "/capacity", Value: 2.0}}, store.Condition{}, "")
	must(err)
	_, err = f.p.PutRelationship(alice, twin.Relationship{ID: "r", SourceID: "o1", TargetID: "o2", Name: "feeds", Properties: map[string]any{"share": 0.5}}, store.Condition{})
	must(err)
	_, err = f.p.PatchRelationship(bob, "o1", "r", twin.Patch{{Op: "replace", Path: "/share", Value: 0.25}}, store.Condition{})
	must(err)
	must(f.p.AppendTelemetry(bob, pipeline.Telemetry{TwinID: "o2", MessageID: "m", Values: map[string]any{"temperature": 3.0}}))
	must(f.p.DeleteRelationship(alice, "o1", "r", store.Condition{}))
	must(f.p.DeleteTwin(alice, "o2", store.Condition{}))
	must(f.log.Checkpoint(ctx))
	rep, err := trust.Verify(ctx, f.st, testVKey)
	must(err)
	if !rep.OK {
		for _, m := range rep.Mismatches {
			t.Errorf("%+v", m)
		}
	}
	// The entries name the org.
	rec := &entries{}
	p2, err := pipeline.New(ctx, pipeline.Options{Store: f.st, Hooks: []pipeline.Hook{f.log, rec}})
	must(err)
	_, _, err = p2.PutTwin(alice, asset("o3", 1), store.Condition{})
	must(err)
	must(p2.AppendTelemetry(alice, pipeline.Telemetry{TwinID: "o3", MessageID: "m", Values: map[string]any{"temperature": 3.0}}))
	if len(rec.got) != 2 || rec.got[0].Org != "acme" || rec.got[1].Org != "acme" {
		t.Errorf("entries = %+v, want org acme", rec.got)
	}
	p2.Shutdown(ctx)
	must(f.log.Checkpoint(ctx))
	if rep, err := trust.Verify(ctx, f.st, testVKey); err != nil || !rep.OK {
		t.Fatalf("verify before the change: %v %+v", err, rep.Mismatches)
	}
	// A stored owner changed afterwards is an altered version.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "lodestone.db")+"?_pragma=busy_timeout(10000)")
	must(err)
	defer db.Close()
	res, err := db.ExecContext(ctx, `UPDATE twins SET meta = replace(meta, '"$org":"acme"', '"$org":"globex"') WHERE id = 'o1'`)
	must(err)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("changed %d rows", n)
	}
	rep, err = trust.Verify(ctx, f.st, testVKey)
	must(err)
	found := false
	for _, m := range rep.Mismatches {
		found = found || m.Name == "o1"
	}
	if rep.OK || !found {
		t.Errorf("verify missed a changed $org: %+v", rep.Mismatches)
	}
}
