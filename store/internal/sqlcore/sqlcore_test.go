package sqlcore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		d    sqlcore.Dialect
		q    string
		want string
	}{
		{sqlcore.SQLite, `SELECT a FROM t WHERE b = $1 AND c = $12`, `SELECT a FROM t WHERE b = ?1 AND c = ?12`},
		{sqlcore.SQLite, `SELECT '$1', $2`, `SELECT '$1', ?2`},
		{sqlcore.SQLite, `SELECT json_extract(x, '$.a')`, `SELECT json_extract(x, '$.a')`},
		{sqlcore.Postgres, `SELECT $1`, `SELECT $1`},
	}
	for _, tt := range tests {
		if got := tt.d.Rebind(tt.q); got != tt.want {
			t.Errorf("%s.Rebind(%q) = %q, want %q", tt.d.Name, tt.q, got, tt.want)
		}
	}
}

// TestTelemetryData checks that points group by (twin, message id) in the
// order they came, with their values' text as given.
func TestTelemetryData(t *testing.T) {
	var d sqlcore.TelemetryData
	pts := []store.Telemetry{
		{TwinID: "a", MessageID: "1", Name: "flow", Value: json.RawMessage(`1.50`)},
		{TwinID: "b", MessageID: "1", Name: "x\"", Value: json.RawMessage(`{"c": 2}`)},
		{TwinID: "a", MessageID: "1", Name: "temp", Value: json.RawMessage(`20`)},
	}
	now := time.Date(2025, 4, 1, 0, 0, 0, 5, time.UTC).UnixNano()
	for i := range pts {
		d.Add(&pts[i], "dtmi:m;1", now)
	}
	var got []string
	for _, r := range d.Records() {
		if r.Kind != store.KindTelemetry || r.Op != store.OpCreate || r.Key != "1" || r.Model != "dtmi:m;1" || r.Time.UnixNano() != now {
			t.Errorf("record = %+v", r)
		}
		got = append(got, r.Subject+" "+string(r.Data))
	}
	want := []string{`a {"flow":1.50,"temp":20}`, `b {"x\"":{"c": 2}}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestImportRecord(t *testing.T) {
	now := time.Date(2025, 4, 1, 0, 0, 0, 5, time.UTC).UnixNano()
	r := sqlcore.ImportRecord(context.Background(), nil, 3, 1, now)
	if r.Key != "2025-04-01T00:00:00.000000005Z" || r.Org != "" || string(r.Data) != `{"models":[],"twins":3,"relationships":1}` {
		t.Errorf("ImportRecord = %+v (data %s)", r, r.Data)
	}
	// The importer's org (of the context's stamp) is the record's and is
	// in its data, from which the outbox reads it back.
	r = sqlcore.ImportRecord(store.WithStamp(context.Background(), store.Stamp{Org: "acme"}), []string{"dtmi:a;1"}, 0, 0, now)
	if r.Org != "acme" || string(r.Data) != `{"models":["dtmi:a;1"],"twins":0,"relationships":0,"org":"acme"}` {
		t.Errorf("ImportRecord of acme = %+v (data %s)", r, r.Data)
	}
}
