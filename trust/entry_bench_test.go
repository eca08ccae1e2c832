package trust_test

import (
	"testing"
	"time"

	"lodestone/store"
	"lodestone/trust"
)

// BenchmarkEntryOf measures what Committed does per record before the
// append: the entry of a twin create (data: the whole twin) and of a
// patch by a named writer (data: PatchData), as a server's writes make
// them.
func BenchmarkEntryOf(b *testing.B) {
	at := time.Date(2026, 12, 7, 3, 0, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		name string
		rec  store.Record
	}{
		{"create", store.Record{Seq: 7, Kind: store.KindTwin, Op: store.OpCreate, Subject: "new-1234", Key: `W/"a1b2c3d4e5f6"`,
			Model: "dtmi:lodestone:bench:Warehouse;1", Org: "acme", Writer: "bench", Time: at,
			Data: []byte(`{"$dtId":"new-1234","$etag":"W/\"a1b2c3d4e5f6\"","$metadata":{"$model":"dtmi:lodestone:bench:Warehouse;1","$org":"acme","$writer":"bench","name":{"lastUpdateTime":"2026-12-07T03:00:00.123456789Z"},"capacityTonnesPerYear":{"lastUpdateTime":"2026-12-07T03:00:00.123456789Z"},"inventoryTonnes":{"lastUpdateTime":"2026-12-07T03:00:00.123456789Z"}},"name":"new warehouse","capacityTonnesPerYear":2500,"inventoryTonnes":417}`)}},
		{"patch", store.Record{Seq: 8, Kind: store.KindTwin, Op: store.OpPatch, Subject: "pool-17", Key: `W/"f6e5d4c3b2a1"`,
			Model: "dtmi:lodestone:bench:Warehouse;1", Org: "acme", Writer: "bench", Time: at,
			Data: []byte(`[{"op":"replace","path":"/inventoryTonnes","value":12345.5}]`)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, err := trust.EntryOf("lodestone://localhost", tc.rec)
				if err != nil {
					b.Fatal(err)
				}
				_ = e.Bytes()
			}
		})
	}
}
