package trust

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

// TestLegacyModelEntries: a model's entry as logs made before model events
// carried the DTDL is accepted and counted; the current entry is accepted
// and not counted; an entry of another DTDL is altered.
func TestLegacyModelEntries(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dtdl := `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:M;1","@type":"Interface","displayName":"M","contents":[{"@type":"Property","name":"x","schema":"double"}]}`
	ms, err := st.PutModels(ctx, []twin.Model{{ID: "dtmi:test:M;1", DTDL: []byte(dtdl)}}, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	entry := func(data []byte) []byte {
		rec := store.Record{Kind: store.KindModel, Op: store.OpCreate, Subject: m.ID, Key: m.UploadTime.UTC().Format(time.RFC3339Nano), Time: m.UploadTime}
		rec.Data = data
		ev := pipeline.EventOf("test", rec)
		e, err := entryOfEvent(ev, "", ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		return e.Bytes()
	}
	full, _ := twinModelJSON(m)
	other := m
	other.DTDL = []byte(`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:M;1","@type":"Interface","displayName":"M","contents":[{"@type":"Property","name":"y","schema":"double"}]}`)
	changed, _ := twinModelJSON(other)
	legacy := func() []byte {
		rec := store.Record{Kind: store.KindModel, Op: store.OpCreate, Subject: m.ID, Key: m.UploadTime.UTC().Format(time.RFC3339Nano), Time: m.UploadTime, Data: full}
		ev := pipeline.EventOf("test", rec)
		e, err := entryOfEvent(ev, "", pipeline.LegacyModelEventData(full))
		if err != nil {
			t.Fatal(err)
		}
		return e.Bytes()
	}()
	for _, tc := range []struct {
		name            string
		logged          []byte
		ok              bool
		legacy, altered int
	}{
		{"current", entry(full), true, 0, 0},
		{"legacy", legacy, true, 1, 0},
		{"another DTDL", entry(changed), false, 0, 1},
	} {
		rep := &Report{Mismatches: []Mismatch{}}
		if err := compareStore(ctx, st, "test", time.Time{}, [][]byte{tc.logged}, horizons{}, rep); err != nil {
			t.Fatal(err)
		}
		altered := 0
		for _, mm := range rep.Mismatches {
			if mm.Kind == Altered && mm.Entity == "model" {
				altered++
			}
		}
		if ok := len(rep.Mismatches) == 0; ok != tc.ok || rep.LegacyModelEntries != tc.legacy || altered != tc.altered {
			t.Errorf("%s: ok %v, legacy %d, altered %d (%+v); want %v, %d, %d", tc.name, ok, rep.LegacyModelEntries, altered, rep.Mismatches, tc.ok, tc.legacy, tc.altered)
		}
	}
}

// twinModelJSON is a model record's data as the store writes it (the model
// as uploaded, not decommissioned).
func twinModelJSON(m twin.Model) ([]byte, error) {
	m.Decommissioned = false
	return json.Marshal(m)
}
