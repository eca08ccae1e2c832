package sqlite_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

func TestInjectedClock(t *testing.T) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	now := base
	db, err := sqlite.Open(t.Context(), ":memory:", &sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	putModel(t, db, testModel)
	put := func(v float64) twin.Twin {
		t.Helper()
		got, err := db.PutTwin(t.Context(), twin.Twin{ID: "a", Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"v": v}}, store.Condition{})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	tests := []struct {
		name  string
		clock time.Time
		want  time.Time
	}{
		{name: "at the clock", clock: base.Add(time.Hour), want: base.Add(time.Hour)},
		{name: "later", clock: base.Add(48 * time.Hour), want: base.Add(48 * time.Hour)},
		{name: "clock stands still", clock: base.Add(48 * time.Hour), want: base.Add(48*time.Hour + time.Nanosecond)},
		{name: "clock goes back", clock: base, want: base.Add(48*time.Hour + 2*time.Nanosecond)},
	}
	for i, tt := range tests {
		now = tt.clock
		got := put(float64(i))
		if !got.Metadata.LastUpdateTime.Equal(tt.want) {
			t.Errorf("%s: $lastUpdateTime = %v, want %v", tt.name, got.Metadata.LastUpdateTime, tt.want)
		}
	}
	old, err := db.TwinAsOf(t.Context(), "a", base.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"v": 0.0}, old.Properties); diff != "" {
		t.Errorf("TwinAsOf(base+2h) properties (-want +got):\n%s", diff)
	}
	if _, err := db.TwinAsOf(t.Context(), "a", base.Add(30*time.Minute)); err == nil {
		t.Error("TwinAsOf before the first write succeeded, want ErrNotFound")
	}
}
