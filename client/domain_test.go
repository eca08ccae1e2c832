package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/client"
	"lodestone/server"
)

// TestDomainMethods runs a supply scenario on the demo world's graph and
// reads it back, and refuses to simulate a twin that is not a cascade.
func TestDomainMethods(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	c := client.New(s.URL(), nil)
	ctx := t.Context()
	run, err := c.RunScenario(ctx, api.ScenarioRequest{Name: "baseline on the graph", Graph: true, Start: "2025-01-01", Days: 90})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "done" || run.KPIs == nil {
		t.Fatalf("RunScenario = status %q, KPIs %v; want a finished run with KPIs", run.Status, run.KPIs)
	}
	got, err := c.Scenario(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.InputHash != run.InputHash || len(got.Result) == 0 {
		t.Errorf("Scenario(%s): hash %q result %d bytes, want %q and the stored result", run.ID, got.InputHash, len(got.Result), run.InputHash)
	}
	var ce *client.Error
	if _, err := c.Simulate(ctx, "mine-cn", api.SimulateRequest{DryRun: true}); err == nil || !errors.As(err, &ce) || ce.Status != 400 {
		t.Errorf("Simulate(mine-cn) = %v, want a 400", err)
	}
}
