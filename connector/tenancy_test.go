package connector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"lodestone/connector"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// TestConnectorTwinWritesAsItsOrg: a connector read from a twin of org
// acme writes as a writer of acme, so its values for acme's twin are
// stored and those for globex's twin are dead-lettered (the pipeline does
// not find another org's twin), never written behind globex's back.
func TestConnectorTwinWritesAsItsOrg(t *testing.T) {
	needService(t, broker, "Mosquitto")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, RelayInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	if _, err := p.PutModels(ctx, []json.RawMessage{json.RawMessage(sensorModel)}); err != nil {
		t.Fatal(err)
	}
	for id, org := range map[string]string{"a0": "acme", "g0": "globex"} {
		as := auth.NewContext(ctx, auth.Principal{Subject: org + "-admin", Org: org, Roles: []auth.Role{auth.Admin}, Method: "token"})
		tw := twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: "dtmi:test:Sensor;1"}, Properties: map[string]any{}}
		if _, _, err := p.PutTwin(as, tw, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{st: st, pipe: p}
	r, pub, prefix, stop := mqttRunSpec(t, f, 50, func(s *connector.Spec) { s.Org = "acme" })
	defer stop()
	const n = 10
	for i := range n {
		for _, tw := range []string{"a0", "g0"} {
			pub.Publish(fmt.Sprintf("%s/%s/value", prefix, tw), 1, false, fmt.Sprintf(`{"value": %d}`, i)).Wait()
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.Drain(dctx, 2*n); err != nil {
		t.Fatal(err)
	}
	if got := f.count(t, "a0", "value"); got != n {
		t.Errorf("acme's twin: %d values stored, want %d", got, n)
	}
	if got := f.count(t, "g0", "value"); got != 0 {
		t.Errorf("globex's twin: %d values stored by acme's connector, want 0", got)
	}
	if s := r.Status(); s.Stored != n || s.DeadLettered != n {
		t.Errorf("stored %d, dead-lettered %d; want %d each", s.Stored, s.DeadLettered, n)
	}
}
