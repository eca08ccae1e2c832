package trust_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"lodestone/store"
	"lodestone/trust"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// TestVerifyPatchWriter: the log entry of a patch covers the writer and
// signer of the version it made (its data does not name them), so a
// changed "$writer" or "$signer" of a patched twin or relationship
// version is reported, naming the entity; the untouched store verifies.
func TestVerifyPatchWriter(t *testing.T) {
	for _, tc := range []struct {
		name, query, entity string
	}{
		{"twin writer", `UPDATE twins SET meta = replace(meta, '"$writer":"bob"', '"$writer":"eve"') WHERE id = 'o1'`, "o1"},
		{"twin signer", `UPDATE twins SET meta = replace(meta, '"$signer":"plc-7"', '"$signer":"plc-8"') WHERE id = 'o1'`, "o1"},
		{"twin writer removed", `UPDATE twins SET meta = replace(meta, '"$writer":"bob",', '') WHERE id = 'o1'`, "o1"},
		{"relationship writer", `UPDATE relationships SET props = replace(props, '"$writer":"bob"', '"$writer":"eve"') WHERE rel_id = 'r'`, "o1/relationships/r"},
		{"relationship signer", `UPDATE relationships SET props = replace(props, '"$signer":"plc-7"', '"$signer":"plc-8"') WHERE rel_id = 'r'`, "o1/relationships/r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
			_, err := f.p.PutRelationship(alice, twin.Relationship{ID: "r", SourceID: "o1", TargetID: "o2", Name: "feeds", Properties: map[string]any{"share": 0.5}}, store.Condition{})
			must(err)
			_, err = f.p.PatchTwin(bob, "o1", twin.Patch{{Op: "replace", Path: "/capacity", Value: 2.0}}, store.Condition{}, "")
			must(err)
			_, err = f.p.PatchRelationship(bob, "o1", "r", twin.Patch{{Op: "replace", Path: "/share", Value: 0.25}}, store.Condition{})
			must(err)
			must(f.log.Checkpoint(ctx))
			rep, err := trust.Verify(ctx, f.st, testVKey)
			must(err)
			if !rep.OK {
				t.Fatalf("untouched store: %+v", rep.Mismatches)
			}
			db, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "lodestone.db")+"?_pragma=busy_timeout(10000)")
			must(err)
			defer db.Close()
			res, err := db.ExecContext(ctx, tc.query)
			must(err)
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("changed %d rows", n)
			}
			rep, err = trust.Verify(ctx, f.st, testVKey)
			must(err)
			found := false
			for _, m := range rep.Mismatches {
				found = found || m.Name == tc.entity
			}
			if rep.OK || !found {
				t.Errorf("verify missed the change of %s: %+v", tc.entity, rep.Mismatches)
			}
		})
	}
}

// TestPatchEntryData: a patch's entry hashes the patch alone when its
// version has no writer or signer (a server without --auth: the entries
// are those of before), and the patch with them otherwise.
func TestPatchEntryData(t *testing.T) {
	patch := []byte(`[{"op":"replace","path":"/x","value":1}]`)
	rec := store.Record{Kind: store.KindTwin, Op: store.OpPatch, Subject: "t", Key: "W/\"e\"", Data: patch}
	plain, err := trust.EntryOf("s", rec)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := trust.DataSHA256(patch); plain.DataSHA256 != want {
		t.Errorf("unsigned patch hashes %s, want the patch's %s", plain.DataSHA256, want)
	}
	seen := map[string]string{plain.DataSHA256: "none"}
	for _, ws := range [][2]string{{"bob", ""}, {"", "k"}, {"bob", "k"}, {"eve", "k"}} {
		r := rec
		r.Writer, r.Signer = ws[0], ws[1]
		e, err := trust.EntryOf("s", r)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := trust.DataSHA256(trust.PatchData(patch, ws[0], ws[1]))
		if e.DataSHA256 != want {
			t.Errorf("%v: data_sha256 %s, want %s", ws, e.DataSHA256, want)
		}
		if prev, dup := seen[e.DataSHA256]; dup {
			t.Errorf("%v hashes as %s", ws, prev)
		}
		seen[e.DataSHA256] = ws[0] + "/" + ws[1]
	}
	// Other ops are not affected by the fields.
	c := store.Record{Kind: store.KindTwin, Op: store.OpCreate, Subject: "t", Key: "e", Data: []byte(`{"$dtId":"t"}`), Writer: "bob"}
	e, _ := trust.EntryOf("s", c)
	if want, _ := trust.DataSHA256(c.Data); e.DataSHA256 != want {
		t.Errorf("create hashes %s, want its data's %s", e.DataSHA256, want)
	}
}
