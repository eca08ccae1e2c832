package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/store"
	"lodestone/twin"
)

// The cases of the outbox, the model-set version and documents.

// recView is a record as the tests compare it: Data decoded, Seq left out
// (checked on its own).
type recView struct {
	Kind    store.Kind
	Op      store.ChangeOp
	Subject string
	Key     string
	Model   string
	Time    time.Time
	Data    any
}

func view(t *testing.T, r store.Record) recView {
	t.Helper()
	v := recView{Kind: r.Kind, Op: r.Op, Subject: r.Subject, Key: r.Key, Model: r.Model, Time: r.Time}
	if err := json.Unmarshal(r.Data, &v.Data); err != nil {
		t.Errorf("record %d (%s %s %s): data %q is not JSON: %v", r.Seq, r.Kind, r.Op, r.Subject, r.Data, err)
	}
	return v
}

// decoded returns the JSON text b decoded.
func decoded(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s is not JSON: %v", b, err)
	}
	return v
}

// marshal returns json.Marshal(v) decoded.
func marshal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return decoded(t, b)
}

// pending returns every record in the outbox.
func pending(t *testing.T, s store.Store) []store.Record {
	t.Helper()
	recs, err := s.PendingRecords(t.Context(), 0, 0)
	if err != nil {
		t.Fatalf("PendingRecords: %v", err)
	}
	return recs
}

func lastSeq(recs []store.Record) int64 {
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

// recorded runs write with a store.Recorder in its context and returns the
// records it added. It checks that they are exactly the records the outbox
// gained, with Seqs greater than every earlier one, and that a write that
// failed added none.
func recorded(t *testing.T, s store.Store, what string, write func(ctx context.Context) error) ([]store.Record, error) {
	t.Helper()
	before := pending(t, s)
	rec := &store.Recorder{}
	err := write(store.WithRecorder(t.Context(), rec))
	got := rec.Records()
	added, perr := s.PendingRecords(t.Context(), lastSeq(before), 0)
	if perr != nil {
		t.Fatalf("PendingRecords: %v", perr)
	}
	if err != nil && (len(got) > 0 || len(added) > 0) {
		t.Errorf("%s failed (%v) but recorded %d records and added %d to the outbox", what, err, len(got), len(added))
	}
	if diff := cmp.Diff(added, got, timeCmp); diff != "" {
		t.Errorf("%s: recorder (+) differs from the outbox's new records (-):\n%s", what, diff)
	}
	checkSeqs(t, what, append(before, added...))
	return got, err
}

// checkSeqs checks that Seqs strictly increase and Times never decrease
// along the outbox.
func checkSeqs(t *testing.T, what string, recs []store.Record) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		a, b := recs[i-1], recs[i]
		if b.Seq <= a.Seq {
			t.Errorf("%s: seq %d follows seq %d", what, b.Seq, a.Seq)
		}
		if b.Time.Before(a.Time) {
			t.Errorf("%s: record %d at %v follows record %d at %v (commit order is time order)", what, b.Seq, b.Time, a.Seq, a.Time)
		}
	}
}

// mustRecord runs a write that must succeed and returns its records.
func mustRecord(t *testing.T, s store.Store, what string, write func(ctx context.Context) error) []store.Record {
	t.Helper()
	recs, err := recorded(t, s, what, write)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return recs
}

// wantRecords compares records with the expected views.
func wantRecords(t *testing.T, what string, got []store.Record, want ...recView) {
	t.Helper()
	var views []recView
	for _, r := range got {
		views = append(views, view(t, r))
	}
	if diff := cmp.Diff(want, views, timeCmp); diff != "" {
		t.Errorf("%s records (-want +got):\n%s", what, diff)
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// testRecords checks the exact record of every write of every kind.
func testRecords(t *testing.T, s store.Store) {
	// Models.
	var ms []twin.Model
	recs := mustRecord(t, s, "PutModels", func(ctx context.Context) (err error) {
		ms, err = s.PutModels(ctx, []twin.Model{model(siteModel), model(mineModel, siteModel), model(plantModel, siteModel)}, store.Condition{})
		return err
	})
	var want []recView
	for _, m := range ms {
		want = append(want, recView{store.KindModel, store.OpCreate, m.ID, rfc3339(m.UploadTime), "", m.UploadTime, marshal(t, m)})
	}
	wantRecords(t, "PutModels", recs, want...)
	if recs[0].Seq <= 0 {
		t.Errorf("first seq = %d, want > 0", recs[0].Seq)
	}

	// Twins.
	var v1 twin.Twin
	recs = mustRecord(t, s, "PutTwin(create)", func(ctx context.Context) (err error) {
		v1, err = s.PutTwin(ctx, newTwin("m", mineModel, map[string]any{"output": 10.0, "name": "x<y"}), store.Condition{})
		return err
	})
	raw, _, err := s.GetTwinJSON(t.Context(), "m")
	if err != nil {
		t.Fatal(err)
	}
	wantRecords(t, "PutTwin(create)", recs, recView{store.KindTwin, store.OpCreate, "m", string(v1.ETag), mineModel, v1.Metadata.LastUpdateTime, decoded(t, raw)})
	if b, _ := json.Marshal(v1); len(recs) == 1 && string(recs[0].Data) != string(b) {
		t.Errorf("PutTwin record data =\n%s\nwant the twin's document\n%s", recs[0].Data, b)
	}
	var v2 twin.Twin
	recs = mustRecord(t, s, "PutTwin(replace)", func(ctx context.Context) (err error) {
		v2, err = s.PutTwin(ctx, newTwin("m", plantModel, map[string]any{"output": 11.0}), store.Condition{IfMatch: v1.ETag})
		return err
	})
	wantRecords(t, "PutTwin(replace)", recs, recView{store.KindTwin, store.OpReplace, "m", string(v2.ETag), plantModel, v2.Metadata.LastUpdateTime, marshal(t, v2)})
	patch := mustPatch(t, `[{"op":"replace","path":"/output","value":12},{"op":"add","path":"/grade","value":0.06}]`)
	var v3 twin.Twin
	recs = mustRecord(t, s, "PatchTwin", func(ctx context.Context) (err error) {
		v3, err = s.PatchTwin(ctx, "m", patch, store.Condition{})
		return err
	})
	wantRecords(t, "PatchTwin", recs, recView{store.KindTwin, store.OpPatch, "m", string(v3.ETag), plantModel, v3.Metadata.LastUpdateTime, marshal(t, patch)})
	if tp, ok := s.(store.TwinPatcher); ok {
		var v4 twin.Twin
		p := mustPatch(t, `[{"op":"replace","path":"/$metadata/$model","value":"`+mineModel+`"}]`)
		recs = mustRecord(t, s, "PatchTwinFrom", func(ctx context.Context) (err error) {
			v4, err = tp.PatchTwinFrom(ctx, v3, p, store.Condition{})
			return err
		})
		wantRecords(t, "PatchTwinFrom", recs, recView{store.KindTwin, store.OpPatch, "m", string(v4.ETag), mineModel, v4.Metadata.LastUpdateTime, marshal(t, p)})
		v3 = v4
	}
	mustPut(t, s, newTwin("gone", siteModel, map[string]any{"v": "é"}))
	gone, _, err := s.GetTwinJSON(t.Context(), "gone")
	if err != nil {
		t.Fatal(err)
	}
	goneTwin, _ := s.GetTwin(t.Context(), "gone")
	recs = mustRecord(t, s, "DeleteTwin", func(ctx context.Context) error { return s.DeleteTwin(ctx, "gone", store.Condition{}) })
	changes, err := s.TwinChanges(t.Context(), "gone", time.Time{}, time.Time{})
	if err != nil || len(changes) != 2 {
		t.Fatalf("TwinChanges(gone) = %v, %v", changes, err)
	}
	wantRecords(t, "DeleteTwin", recs, recView{store.KindTwin, store.OpDelete, "gone", string(goneTwin.ETag), siteModel, changes[1].Time, decoded(t, gone)})

	// Relationships: the model is the source twin's.
	mustPut(t, s, newTwin("p", plantModel, nil))
	var r1, r2, r3 twin.Relationship
	recs = mustRecord(t, s, "PutRelationship(create)", func(ctx context.Context) (err error) {
		r1, err = s.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: "m", TargetID: "p", Name: "supplies", Properties: map[string]any{"t": 5.0}}, store.Condition{IfNoneMatch: true})
		return err
	})
	sub := "m/relationships/r"
	wantRecords(t, "PutRelationship(create)", recs, recView{store.KindRelationship, store.OpCreate, sub, string(r1.ETag), mineModel, recTime(recs), marshal(t, r1)})
	if b, _ := json.Marshal(r1); len(recs) == 1 && string(recs[0].Data) != string(b) {
		t.Errorf("PutRelationship record data =\n%s\nwant the relationship's JSON\n%s", recs[0].Data, b)
	}
	recs = mustRecord(t, s, "PutRelationship(replace)", func(ctx context.Context) (err error) {
		r2, err = s.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: "m", TargetID: "m", Name: "supplies"}, store.Condition{})
		return err
	})
	wantRecords(t, "PutRelationship(replace)", recs, recView{store.KindRelationship, store.OpReplace, sub, string(r2.ETag), mineModel, recTime(recs), marshal(t, r2)})
	rp := mustPatch(t, `[{"op":"add","path":"/t","value":6}]`)
	recs = mustRecord(t, s, "PatchRelationship", func(ctx context.Context) (err error) {
		r3, err = s.PatchRelationship(ctx, "m", "r", rp, store.Condition{})
		return err
	})
	wantRecords(t, "PatchRelationship", recs, recView{store.KindRelationship, store.OpPatch, sub, string(r3.ETag), mineModel, recTime(recs), marshal(t, rp)})
	recs = mustRecord(t, s, "DeleteRelationship", func(ctx context.Context) error { return s.DeleteRelationship(ctx, "m", "r", store.Condition{}) })
	wantRecords(t, "DeleteRelationship", recs, recView{store.KindRelationship, store.OpDelete, sub, string(r3.ETag), mineModel, recTime(recs), marshal(t, r3)})

	// Telemetry: one record per (twin, message id) with the new points.
	pt := func(id twin.ID, msg, name, value string) store.Telemetry {
		return store.Telemetry{TwinID: id, Name: name, MessageID: msg, Value: json.RawMessage(value)}
	}
	batch := []store.Telemetry{pt("m", "1", "flow", "1.5"), pt("p", "1", "flow", `{"c":2}`), pt("m", "1", "temp", "20"), pt("m", "2", "flow", "1.6")}
	recs = mustRecord(t, s, "AppendTelemetry", func(ctx context.Context) error {
		n, err := s.AppendTelemetry(ctx, batch)
		if err == nil && n != 4 {
			t.Errorf("AppendTelemetry = %d, want 4", n)
		}
		return err
	})
	at := recTime(recs)
	wantRecords(t, "AppendTelemetry", recs,
		recView{store.KindTelemetry, store.OpCreate, "m", "1", mineModel, at, map[string]any{"flow": 1.5, "temp": 20.0}},
		recView{store.KindTelemetry, store.OpCreate, "p", "1", plantModel, at, map[string]any{"flow": map[string]any{"c": 2.0}}},
		recView{store.KindTelemetry, store.OpCreate, "m", "2", mineModel, at, map[string]any{"flow": 1.6}})
	if pts, _ := s.QueryTelemetry(t.Context(), store.TelemetryQuery{TwinID: "m", Name: "flow", Limit: 1}); len(pts) == 1 && !pts[0].EnqueuedTime.Equal(at) {
		t.Errorf("telemetry record time %v, want the enqueued time %v", at, pts[0].EnqueuedTime)
	}
	recs = mustRecord(t, s, "AppendTelemetry(all duplicates)", func(ctx context.Context) error {
		_, err := s.AppendTelemetry(ctx, batch[:3])
		return err
	})
	wantRecords(t, "AppendTelemetry(all duplicates)", recs)
	recs = mustRecord(t, s, "AppendTelemetry(some duplicates)", func(ctx context.Context) error {
		n, err := s.AppendTelemetry(ctx, []store.Telemetry{pt("m", "1", "flow", "9"), pt("m", "1", "level", "true"), pt("m", "1", "level", "false")})
		if err == nil && n != 1 {
			t.Errorf("AppendTelemetry(some duplicates) = %d, want 1", n)
		}
		return err
	})
	wantRecords(t, "AppendTelemetry(some duplicates)", recs, recView{store.KindTelemetry, store.OpCreate, "m", "1", mineModel, recTime(recs), map[string]any{"level": true}})

	// Model changes after upload.
	recs = mustRecord(t, s, "DecommissionModel", func(ctx context.Context) error { return s.DecommissionModel(ctx, siteModel) })
	site, _ := s.GetModel(t.Context(), siteModel)
	at = recTime(recs)
	wantRecords(t, "DecommissionModel", recs, recView{store.KindModel, store.OpDecommission, siteModel, rfc3339(at), "", at, marshal(t, site)})
	if !site.Decommissioned {
		t.Error("model not decommissioned")
	}
	recs = mustRecord(t, s, "DecommissionModel(again)", func(ctx context.Context) error { return s.DecommissionModel(ctx, siteModel) })
	wantRecords(t, "DecommissionModel(again)", recs)
	if err := s.DeleteTwin(t.Context(), "p", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	plant, _ := s.GetModel(t.Context(), plantModel)
	recs = mustRecord(t, s, "DeleteModel", func(ctx context.Context) error { return s.DeleteModel(ctx, plantModel) })
	at = recTime(recs)
	wantRecords(t, "DeleteModel", recs, recView{store.KindModel, store.OpDelete, plantModel, rfc3339(at), "", at, marshal(t, plant)})

	// An import records one summary; an empty one and a dry run nothing.
	b := &store.Batch{
		Models:        []twin.Model{model("dtmi:lodestone:test:A;1"), model("dtmi:lodestone:test:B;1")},
		Twins:         []twin.Twin{newTwin("i1", mineModel, nil), newTwin("i2", mineModel, nil), newTwin("m", mineModel, nil)},
		Relationships: []twin.Relationship{{ID: "x", SourceID: "i1", TargetID: "i2", Name: "n"}},
	}
	recs = mustRecord(t, s, "Import(dry run)", func(ctx context.Context) error {
		_, err := s.Import(ctx, b.Entities(), store.ImportOptions{DryRun: true})
		return err
	})
	wantRecords(t, "Import(dry run)", recs)
	recs = mustRecord(t, s, "Import", func(ctx context.Context) error {
		_, err := s.Import(ctx, b.Entities(), store.ImportOptions{})
		return err
	})
	i1, _ := s.GetTwin(t.Context(), "i1")
	at = i1.Metadata.LastUpdateTime
	wantRecords(t, "Import", recs, recView{store.KindImport, store.OpCreate, "", rfc3339(at), "", at,
		map[string]any{"models": []any{"dtmi:lodestone:test:A;1", "dtmi:lodestone:test:B;1"}, "twins": 3.0, "relationships": 1.0}})
	recs = mustRecord(t, s, "Import(empty)", func(ctx context.Context) error {
		_, err := s.Import(ctx, (&store.Batch{}).Entities(), store.ImportOptions{})
		return err
	})
	wantRecords(t, "Import(empty)", recs)

	// The outbox still holds each version's document after the twin was
	// replaced or deleted.
	for _, r := range pending(t, s) {
		if r.Kind == store.KindTwin && r.Key == string(v1.ETag) {
			if b, _ := json.Marshal(v1); string(r.Data) != string(b) {
				t.Errorf("outbox record of a replaced version: data =\n%s\nwant\n%s", r.Data, b)
			}
		}
		if r.Kind == store.KindTwin && r.Subject == "gone" && r.Op == store.OpCreate {
			if b, _ := json.Marshal(goneTwin); string(r.Data) != string(b) {
				t.Errorf("outbox record of a deleted twin's version: data =\n%s\nwant\n%s", r.Data, b)
			}
		}
	}

	// Writes that change nothing of the graph record nothing.
	recs = mustRecord(t, s, "PutDoc", func(ctx context.Context) error {
		_, err := s.PutDoc(ctx, store.Doc{Kind: "job", ID: "1", Body: json.RawMessage(`{}`)}, store.Condition{})
		return err
	})
	wantRecords(t, "PutDoc", recs)
}

// recTime returns the time of the first record, to compare the others
// with (relationships and telemetry carry no time of their own).
func recTime(recs []store.Record) time.Time {
	if len(recs) == 0 {
		return time.Time{}
	}
	return recs[0].Time
}

// testRecordsFailedWrites checks that writes that fail record nothing and
// change nothing.
func testRecordsFailedWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	a := mustPut(t, s, newTwin("a", siteModel, map[string]any{"v": 1.0}))
	mustPut(t, s, newTwin("b", siteModel, nil))
	r := mustRel(t, s, "a", "r", "n", "b", nil)
	// A version made stale by a model change.
	v0, err := s.ModelsVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stale := store.Condition{Models: v0}
	if err := s.DecommissionModel(ctx, plantModel); err != nil {
		t.Fatal(err)
	}
	snapBefore, err := s.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	modelsBefore, _ := s.ListModels(ctx)
	p := mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`)
	tests := []struct {
		name  string
		write func(ctx context.Context) error
		want  error
	}{
		{"PutTwin(If-None-Match on existing)", func(ctx context.Context) error {
			_, err := s.PutTwin(ctx, newTwin("a", siteModel, nil), store.Condition{IfNoneMatch: true})
			return err
		}, store.ErrPreconditionFailed},
		{"PutTwin(unknown model)", func(ctx context.Context) error {
			_, err := s.PutTwin(ctx, newTwin("c", "dtmi:unknown;1", nil), store.Condition{})
			return err
		}, store.ErrInvalid},
		{"PutTwin(models changed)", func(ctx context.Context) error {
			_, err := s.PutTwin(ctx, newTwin("c", siteModel, nil), stale)
			return err
		}, store.ErrModelsChanged},
		{"PatchTwin(stale If-Match)", func(ctx context.Context) error {
			_, err := s.PatchTwin(ctx, "a", p, store.Condition{IfMatch: `W/"stale"`})
			return err
		}, store.ErrPreconditionFailed},
		{"PatchTwin(bad patch)", func(ctx context.Context) error {
			_, err := s.PatchTwin(ctx, "a", mustPatch(t, `[{"op":"replace","path":"/nope","value":1}]`), store.Condition{})
			return err
		}, store.ErrInvalid},
		{"PatchTwin(models changed)", func(ctx context.Context) error {
			_, err := s.PatchTwin(ctx, "a", p, stale)
			return err
		}, store.ErrModelsChanged},
		{"PatchTwin(missing)", func(ctx context.Context) error {
			_, err := s.PatchTwin(ctx, "zz", p, store.Condition{})
			return err
		}, store.ErrNotFound},
		{"DeleteTwin(has relationships)", func(ctx context.Context) error { return s.DeleteTwin(ctx, "a", store.Condition{}) }, store.ErrConflict},
		{"DeleteTwin(stale If-Match)", func(ctx context.Context) error {
			return s.DeleteTwin(ctx, "b", store.Condition{IfMatch: `W/"stale"`})
		}, store.ErrPreconditionFailed},
		{"PutRelationship(missing target)", func(ctx context.Context) error {
			_, err := s.PutRelationship(ctx, twin.Relationship{ID: "x", SourceID: "a", TargetID: "zz", Name: "n"}, store.Condition{})
			return err
		}, store.ErrInvalid},
		{"PutRelationship(models changed)", func(ctx context.Context) error {
			_, err := s.PutRelationship(ctx, twin.Relationship{ID: "x", SourceID: "a", TargetID: "b", Name: "n"}, stale)
			return err
		}, store.ErrModelsChanged},
		{"PatchRelationship(stale If-Match)", func(ctx context.Context) error {
			_, err := s.PatchRelationship(ctx, "a", "r", p, store.Condition{IfMatch: `W/"stale"`})
			return err
		}, store.ErrPreconditionFailed},
		{"PatchRelationship(models changed)", func(ctx context.Context) error {
			_, err := s.PatchRelationship(ctx, "a", "r", mustPatch(t, `[{"op":"add","path":"/w","value":1}]`), stale)
			return err
		}, store.ErrModelsChanged},
		{"DeleteRelationship(stale If-Match)", func(ctx context.Context) error {
			return s.DeleteRelationship(ctx, "a", "r", store.Condition{IfMatch: `W/"stale"`})
		}, store.ErrPreconditionFailed},
		{"PutModels(duplicate)", func(ctx context.Context) error {
			_, err := s.PutModels(ctx, []twin.Model{model("dtmi:lodestone:test:New;1"), model(siteModel)}, store.Condition{})
			return err
		}, store.ErrConflict},
		{"PutModels(models changed)", func(ctx context.Context) error {
			_, err := s.PutModels(ctx, []twin.Model{model("dtmi:lodestone:test:New;1")}, stale)
			return err
		}, store.ErrModelsChanged},
		{"DeleteModel(used)", func(ctx context.Context) error { return s.DeleteModel(ctx, siteModel) }, store.ErrConflict},
		{"DecommissionModel(missing)", func(ctx context.Context) error { return s.DecommissionModel(ctx, "dtmi:nope;1") }, store.ErrNotFound},
		{"AppendTelemetry(missing twin)", func(ctx context.Context) error {
			_, err := s.AppendTelemetry(ctx, []store.Telemetry{{TwinID: "a", Name: "x", MessageID: "1", Value: json.RawMessage(`1`)},
				{TwinID: "zz", Name: "x", MessageID: "1", Value: json.RawMessage(`1`)}})
			return err
		}, store.ErrNotFound},
		{"Import(bad relationship)", func(ctx context.Context) error {
			b := &store.Batch{Models: []twin.Model{model("dtmi:lodestone:test:New;1")}, Twins: []twin.Twin{newTwin("c", siteModel, nil)},
				Relationships: []twin.Relationship{{ID: "x", SourceID: "c", TargetID: "zz", Name: "n"}}}
			_, err := s.Import(ctx, b.Entities(), store.ImportOptions{})
			return err
		}, store.ErrInvalid},
	}
	if tp, ok := s.(store.TwinPatcher); ok {
		tests = append(tests, struct {
			name  string
			write func(ctx context.Context) error
			want  error
		}{"PatchTwinFrom(models changed)", func(ctx context.Context) error {
			_, err := tp.PatchTwinFrom(ctx, a, p, stale)
			return err
		}, store.ErrModelsChanged})
	}
	vBefore, _ := s.ModelsVersion(ctx)
	for _, tt := range tests {
		_, err := recorded(t, s, tt.name, tt.write)
		wantErr(t, tt.name, err, tt.want)
	}
	snapAfter, err := s.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snapBefore.Twins, snapAfter.Twins, timeCmp); diff != "" {
		t.Errorf("failed writes changed twins:\n%s", diff)
	}
	if diff := cmp.Diff(snapBefore.Relationships, snapAfter.Relationships); diff != "" {
		t.Errorf("failed writes changed relationships:\n%s", diff)
	}
	modelsAfter, _ := s.ListModels(ctx)
	if diff := cmp.Diff(modelsBefore, modelsAfter, timeCmp); diff != "" {
		t.Errorf("failed writes changed models:\n%s", diff)
	}
	if pts, _ := s.QueryTelemetry(ctx, store.TelemetryQuery{TwinID: "a"}); len(pts) != 0 {
		t.Errorf("failed telemetry append stored %d points", len(pts))
	}
	if v, _ := s.ModelsVersion(ctx); v != vBefore {
		t.Errorf("failed writes moved the model-set version from %d to %d", vBefore, v)
	}
	if r2, _ := s.GetRelationship(ctx, "a", "r"); r2.ETag != r.ETag {
		t.Errorf("failed writes changed the relationship")
	}
}

// testOutbox checks paging through the outbox and acknowledging records.
func testOutbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got := pending(t, s); len(got) != 0 {
		t.Fatalf("a new store has %d records", len(got))
	}
	seedModels(t, s) // 3 records
	for i := range 5 {
		mustPut(t, s, newTwin(twin.ID(fmt.Sprint("t", i)), siteModel, nil))
	}
	all := pending(t, s)
	if len(all) != 8 {
		t.Fatalf("outbox has %d records, want 8", len(all))
	}
	checkSeqs(t, "outbox", all)
	var seqs []int64
	for _, r := range all {
		seqs = append(seqs, r.Seq)
	}
	page, err := s.PendingRecords(ctx, seqs[2], 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all[3:6], page, timeCmp); diff != "" {
		t.Errorf("PendingRecords(after %d, limit 3) (-want +got):\n%s", seqs[2], diff)
	}
	if err := s.AckRecords(ctx, nil); err != nil {
		t.Errorf("AckRecords(none): %v", err)
	}
	// Ack some, among them seqs no longer (or never) in the outbox.
	if err := s.AckRecords(ctx, []int64{seqs[0], seqs[4], seqs[7] + 1000}); err != nil {
		t.Fatalf("AckRecords: %v", err)
	}
	if err := s.AckRecords(ctx, []int64{seqs[0]}); err != nil {
		t.Fatalf("AckRecords(again): %v", err)
	}
	left := pending(t, s)
	want := slices.Concat(all[1:4], all[5:])
	if diff := cmp.Diff(want, left, timeCmp); diff != "" {
		t.Errorf("outbox after ack (-want +got):\n%s", diff)
	}
	// Acking the newest records does not make their seqs reusable.
	if err := s.AckRecords(ctx, seqs); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, newTwin("t9", siteModel, nil))
	if got := pending(t, s); len(got) != 1 || got[0].Seq <= seqs[7] {
		t.Errorf("after acking all, a new write's records = %+v; want one with seq > %d", got, seqs[7])
	}
}

// testModelsVersion checks the model-set version and that every checked
// write refuses a stale one.
func testModelsVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	version := func() int64 {
		t.Helper()
		v, err := s.ModelsVersion(ctx)
		if err != nil {
			t.Fatalf("ModelsVersion: %v", err)
		}
		return v
	}
	if v := version(); v != 0 {
		t.Errorf("ModelsVersion of an empty store = %d, want 0", v)
	}
	last := version()
	bumped := func(what string, want bool) {
		t.Helper()
		v := version()
		if want && v <= last {
			t.Errorf("%s: ModelsVersion = %d, want > %d", what, v, last)
		}
		if !want && v != last {
			t.Errorf("%s: ModelsVersion = %d, want %d", what, v, last)
		}
		last = v
	}
	if _, err := s.PutModels(ctx, []twin.Model{model(siteModel)}, store.Condition{Models: last}); err != nil {
		t.Fatalf("PutModels(current version 0): %v", err)
	}
	bumped("PutModels", true)
	v1 := last
	if _, err := s.PutModels(ctx, []twin.Model{model(mineModel, siteModel), model(plantModel, siteModel)}, store.Condition{Models: last}); err != nil {
		t.Fatalf("PutModels(current version): %v", err)
	}
	bumped("PutModels", true)
	_, err := s.PutModels(ctx, []twin.Model{model("dtmi:lodestone:test:X;1")}, store.Condition{Models: v1})
	wantErr(t, "PutModels(stale version)", err, store.ErrModelsChanged)
	bumped("PutModels(stale version)", false)
	_, err = s.PutModels(ctx, []twin.Model{model(siteModel)}, store.Condition{})
	wantErr(t, "PutModels(duplicate)", err, store.ErrConflict)
	bumped("PutModels(duplicate)", false)

	// Every checked write: stale refused, current and zero accepted.
	cur := store.Condition{Models: last}
	a, err := s.PutTwin(ctx, newTwin("a", siteModel, nil), cur)
	if err != nil {
		t.Fatalf("PutTwin(current version): %v", err)
	}
	if _, err := s.PutTwin(ctx, newTwin("b", siteModel, nil), store.Condition{}); err != nil {
		t.Fatalf("PutTwin(no version): %v", err)
	}
	p := mustPatch(t, `[{"op":"add","path":"/v","value":1}]`)
	if a, err = s.PatchTwin(ctx, "a", p, cur); err != nil {
		t.Fatalf("PatchTwin(current version): %v", err)
	}
	if _, err := s.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "n"}, cur); err != nil {
		t.Fatalf("PutRelationship(current version): %v", err)
	}
	if _, err := s.PatchRelationship(ctx, "a", "r", p, cur); err != nil {
		t.Fatalf("PatchRelationship(current version): %v", err)
	}
	tp, hasFrom := s.(store.TwinPatcher)
	if hasFrom {
		if a, err = tp.PatchTwinFrom(ctx, a, mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`), cur); err != nil {
			t.Fatalf("PatchTwinFrom(current version): %v", err)
		}
	}
	if err := s.DecommissionModel(ctx, plantModel); err != nil {
		t.Fatal(err)
	}
	bumped("DecommissionModel", true)
	if err := s.DecommissionModel(ctx, plantModel); err != nil {
		t.Fatal(err)
	}
	bumped("DecommissionModel(again)", false)
	stale := cur
	checked := []struct {
		name  string
		write func() error
	}{
		{"PutTwin", func() error { _, err := s.PutTwin(ctx, newTwin("c", siteModel, nil), stale); return err }},
		{"PatchTwin", func() error { _, err := s.PatchTwin(ctx, "a", p, stale); return err }},
		{"PutRelationship", func() error {
			_, err := s.PutRelationship(ctx, twin.Relationship{ID: "r2", SourceID: "a", TargetID: "b", Name: "n"}, stale)
			return err
		}},
		{"PatchRelationship", func() error { _, err := s.PatchRelationship(ctx, "a", "r", p, stale); return err }},
		{"PutModels", func() error {
			_, err := s.PutModels(ctx, []twin.Model{model("dtmi:lodestone:test:X;1")}, stale)
			return err
		}},
	}
	if hasFrom {
		checked = append(checked, struct {
			name  string
			write func() error
		}{"PatchTwinFrom", func() error { _, err := tp.PatchTwinFrom(ctx, a, p, stale); return err }})
	}
	for _, tt := range checked {
		wantErr(t, tt.name+"(stale version)", tt.write(), store.ErrModelsChanged)
	}
	if _, err := s.GetTwin(ctx, "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutTwin(stale version) stored the twin: %v", err)
	}
	if _, err := s.PutTwin(ctx, newTwin("c", siteModel, nil), store.Condition{Models: last}); err != nil {
		t.Errorf("PutTwin(version after decommission): %v", err)
	}
	md, condDelete := s.(store.ModelDeleterIf)
	if condDelete {
		wantErr(t, "DeleteModelIf(stale version)", md.DeleteModelIf(ctx, plantModel, stale), store.ErrModelsChanged)
		bumped("DeleteModelIf(stale version)", false)
		if _, err := s.GetModel(ctx, plantModel); err != nil {
			t.Errorf("DeleteModelIf(stale version) deleted the model: %v", err)
		}
		err = md.DeleteModelIf(ctx, plantModel, store.Condition{Models: last})
	} else {
		err = s.DeleteModel(ctx, plantModel)
	}
	if err != nil {
		t.Fatal(err)
	}
	bumped("DeleteModel", true)
	wantErr(t, "DeleteModel(missing)", s.DeleteModel(ctx, plantModel), store.ErrNotFound)
	bumped("DeleteModel(missing)", false)
	wantErr(t, "DeleteModel(used)", s.DeleteModel(ctx, siteModel), store.ErrConflict)
	bumped("DeleteModel(used)", false)

	// Imports bump it only when they store models.
	if _, err := s.Import(ctx, (&store.Batch{Twins: []twin.Twin{newTwin("d", siteModel, nil)}}).Entities(), store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	bumped("Import(twins only)", false)
	withModel := &store.Batch{Models: []twin.Model{model("dtmi:lodestone:test:Y;1")}}
	if _, err := s.Import(ctx, withModel.Entities(), store.ImportOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	bumped("Import(dry run)", false)
	if _, err := s.Import(ctx, withModel.Entities(), store.ImportOptions{Models: stale.Models}); !errors.Is(err, store.ErrModelsChanged) {
		t.Errorf("Import(stale version) = %v, want ErrModelsChanged", err)
	}
	bumped("Import(stale version)", false)
	if _, err := s.GetModel(ctx, "dtmi:lodestone:test:Y;1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Import(stale version) stored its model: %v", err)
	}
	if _, err := s.Import(ctx, withModel.Entities(), store.ImportOptions{Models: last}); err != nil {
		t.Fatal(err)
	}
	bumped("Import(models)", true)
	// A version from before the import is stale now.
	_, err = s.PutTwin(ctx, newTwin("e", siteModel, nil), stale)
	wantErr(t, "PutTwin(version from before the import)", err, store.ErrModelsChanged)

	// Writes racing a model change in the same group of commits: each
	// write sees the version as of its place in commit order.
	var wg sync.WaitGroup
	results := make([]error, 20)
	v := last
	for i := range results {
		wg.Go(func() {
			_, results[i] = s.PatchTwin(ctx, "a", p, store.Condition{Models: v})
		})
	}
	wg.Go(func() {
		_, err := s.PutModels(ctx, []twin.Model{model("dtmi:lodestone:test:Z;1")}, store.Condition{Models: v})
		if err != nil {
			t.Errorf("PutModels during patches: %v", err)
		}
	})
	wg.Wait()
	bumped("PutModels during patches", true)
	after := version()
	ch, err := s.TwinChanges(ctx, "a", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	z, err := s.GetModel(ctx, "dtmi:lodestone:test:Z;1")
	if err != nil {
		t.Fatal(err)
	}
	late := 0
	for _, c := range ch {
		if c.Time.After(z.UploadTime) {
			late++
		}
	}
	if late > 0 {
		t.Errorf("%d patches validated against version %d were stored after the model set became %d", late, v, after)
	}
	for i, err := range results {
		if err != nil && !errors.Is(err, store.ErrModelsChanged) {
			t.Errorf("patch %d: %v", i, err)
		}
	}
}

// testDocuments checks document CRUD and conditions.
func testDocuments(t *testing.T, s store.Store) {
	ctx := t.Context()
	body := func(s string) json.RawMessage { return json.RawMessage(s) }
	d1, err := s.PutDoc(ctx, store.Doc{Kind: "job", ID: "b", Body: body(`{"state":"queued","n":1}`)}, store.Condition{IfNoneMatch: true})
	if err != nil {
		t.Fatalf("PutDoc(create): %v", err)
	}
	if d1.ETag == "" || d1.Updated.IsZero() || d1.Kind != "job" || d1.ID != "b" {
		t.Errorf("PutDoc = %+v, want etag and time set", d1)
	}
	got, err := s.GetDoc(ctx, "job", "b")
	if err != nil {
		t.Fatalf("GetDoc: %v", err)
	}
	if diff := cmp.Diff(d1, got, timeCmp, cmp.Transformer("json", func(m json.RawMessage) any { return decoded(t, m) })); diff != "" {
		t.Errorf("GetDoc (-put +get):\n%s", diff)
	}
	_, err = s.PutDoc(ctx, store.Doc{Kind: "job", ID: "b", Body: body(`{}`)}, store.Condition{IfNoneMatch: true})
	wantErr(t, "PutDoc(If-None-Match on existing)", err, store.ErrPreconditionFailed)
	_, err = s.PutDoc(ctx, store.Doc{Kind: "job", ID: "c", Body: body(`{}`)}, store.Condition{IfMatch: twin.AnyETag})
	wantErr(t, "PutDoc(If-Match * on missing)", err, store.ErrPreconditionFailed)
	d2, err := s.PutDoc(ctx, store.Doc{Kind: "job", ID: "b", Body: body(`{"state":"running"}`)}, store.Condition{IfMatch: d1.ETag})
	if err != nil {
		t.Fatalf("PutDoc(matching If-Match): %v", err)
	}
	if d2.ETag == d1.ETag || d2.Updated.Before(d1.Updated) {
		t.Errorf("PutDoc(replace) = %+v, want a new etag and a later time than %+v", d2, d1)
	}
	_, err = s.PutDoc(ctx, store.Doc{Kind: "job", ID: "b", Body: body(`{}`)}, store.Condition{IfMatch: d1.ETag})
	wantErr(t, "PutDoc(stale If-Match)", err, store.ErrPreconditionFailed)
	if _, err := s.PutDoc(ctx, store.Doc{Kind: "job", ID: "a", Body: body(`[1,2]`)}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutDoc(ctx, store.Doc{Kind: "route", ID: "a", Body: body(`"x"`)}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		d    store.Doc
	}{
		{"no kind", store.Doc{ID: "x", Body: body(`{}`)}},
		{"no id", store.Doc{Kind: "job", Body: body(`{}`)}},
		{"bad body", store.Doc{Kind: "job", ID: "x", Body: body(`{`)}},
		{"no body", store.Doc{Kind: "job", ID: "x"}},
	} {
		_, err := s.PutDoc(ctx, tt.d, store.Condition{})
		wantErr(t, "PutDoc("+tt.name+")", err, store.ErrInvalid)
	}
	list, err := s.ListDocs(ctx, "job")
	if err != nil {
		t.Fatalf("ListDocs: %v", err)
	}
	var ids, bodies []string
	for _, d := range list {
		ids = append(ids, d.ID)
		bodies = append(bodies, strings.ReplaceAll(string(d.Body), " ", ""))
	}
	if diff := cmp.Diff([]string{"a", "b"}, ids); diff != "" {
		t.Errorf("ListDocs(job) ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`[1,2]`, `{"state":"running"}`}, bodies); diff != "" {
		t.Errorf("ListDocs(job) bodies (-want +got):\n%s", diff)
	}
	if list, err := s.ListDocs(ctx, "none"); err != nil || len(list) != 0 {
		t.Errorf("ListDocs(none) = %v, %v; want empty", list, err)
	}
	_, err = s.GetDoc(ctx, "route", "b")
	wantErr(t, "GetDoc(missing)", err, store.ErrNotFound)
	wantErr(t, "DeleteDoc(stale If-Match)", s.DeleteDoc(ctx, "job", "b", store.Condition{IfMatch: d1.ETag}), store.ErrPreconditionFailed)
	if err := s.DeleteDoc(ctx, "job", "b", store.Condition{IfMatch: d2.ETag}); err != nil {
		t.Fatalf("DeleteDoc(matching If-Match): %v", err)
	}
	wantErr(t, "DeleteDoc(missing)", s.DeleteDoc(ctx, "job", "b", store.Condition{}), store.ErrNotFound)
	_, err = s.GetDoc(ctx, "job", "b")
	wantErr(t, "GetDoc(deleted)", err, store.ErrNotFound)
	if got := pending(t, s); len(got) != 0 {
		t.Errorf("documents recorded %d records", len(got))
	}
}

// testRecordsConcurrency runs many writers, some of whose writes fail,
// each with a recorder of its own, and checks that every committed change
// has exactly one record: the recorders together hold the outbox, and
// each twin's change list is its records.
func testRecordsConcurrency(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	const writers, perWriter, twins = 8, 30, 5
	for i := range twins {
		mustPut(t, s, newTwin(twin.ID(fmt.Sprint("c", i)), siteModel, map[string]any{"n": 0.0}))
	}
	start := lastSeq(pending(t, s))
	var mu sync.Mutex
	var got []store.Record
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				rec := &store.Recorder{}
				wctx := store.WithRecorder(ctx, rec)
				id := twin.ID(fmt.Sprint("c", (w+i)%twins))
				var err error
				switch i % 5 {
				case 0: // may fail: another writer may have patched it since
					var cur twin.Twin
					if cur, err = s.GetTwin(ctx, id); err == nil {
						_, err = s.PatchTwin(wctx, id, twin.Patch{{Op: twin.OpReplace, Path: "/n", Value: float64(i)}}, store.Condition{IfMatch: cur.ETag})
					}
				case 1: // fails
					_, err = s.PatchTwin(wctx, id, twin.Patch{{Op: twin.OpReplace, Path: "/nope", Value: 1}}, store.Condition{})
				case 2:
					_, err = s.PutTwin(wctx, newTwin(id, siteModel, map[string]any{"n": float64(i)}), store.Condition{})
				case 3: // always fails: the id is taken
					_, err = s.PutTwin(wctx, newTwin(id, siteModel, nil), store.Condition{IfNoneMatch: true})
				case 4:
					own := twin.ID(fmt.Sprintf("w%d-%d", w, i))
					if _, err = s.PutTwin(wctx, newTwin(own, siteModel, nil), store.Condition{}); err == nil {
						err = s.DeleteTwin(wctx, own, store.Condition{})
					}
				}
				recs := rec.Records()
				if err != nil && i%5 != 4 && len(recs) > 0 {
					t.Errorf("failed write %d of writer %d (%v) recorded %+v", i, w, err, recs)
				}
				if err != nil && !errors.Is(err, store.ErrPreconditionFailed) && !errors.Is(err, store.ErrInvalid) {
					t.Errorf("write %d of writer %d: %v", i, w, err)
				}
				mu.Lock()
				got = append(got, recs...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	all, err := s.PendingRecords(ctx, start, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkSeqs(t, "concurrent writes", all)
	slices.SortFunc(got, func(a, b store.Record) int { return int(a.Seq - b.Seq) })
	if diff := cmp.Diff(all, got, timeCmp); diff != "" {
		t.Errorf("the recorders (+) hold other records than the outbox (-):\n%s", diff)
	}
	// Each twin's committed changes and its records name the same
	// changes, in the same order.
	type change struct {
		Op   store.ChangeOp
		Time time.Time
	}
	bySubject := map[string][]change{}
	for _, r := range all {
		bySubject[r.Subject] = append(bySubject[r.Subject], change{r.Op, r.Time})
	}
	n := 0
	for subject, recs := range bySubject {
		ch, err := s.TwinChanges(ctx, twin.ID(subject), time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var want []change
		for _, c := range ch {
			if !c.Time.Before(all[0].Time) {
				want = append(want, change{c.Op, c.Time})
			}
		}
		if diff := cmp.Diff(want, recs, timeCmp); diff != "" {
			t.Errorf("twin %s: changes (-) and records (+) differ:\n%s", subject, diff)
		}
		n += len(recs)
	}
	if n != len(all) {
		t.Errorf("%d of %d records are of twins", n, len(all))
	}
}
