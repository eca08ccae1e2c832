package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/server"
	"lodestone/supply"
	"lodestone/world"
)

// startDemoServer runs a whole server with the default world in dir on a
// loopback port.
func startDemoServer(t *testing.T, dir string) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = dir
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func stopServer(t *testing.T, s *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestSupplyRunGraph runs `supply run --graph` against a server and a data
// directory holding the default world and checks that the result equals
// `supply run` of the world's own scenario file.
func TestSupplyRunGraph(t *testing.T) {
	dir := t.TempDir()
	s := startDemoServer(t, dir)
	doc := `{"start":"2025-01-01","days":200,"controls":[{"name":"No. 18","builtin":"CN-2025-18"}]}`
	scen := filepath.Join(t.TempDir(), "controls.json")
	if err := os.WriteFile(scen, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same scenario with the world's network in the file.
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	net, err := w.Network(nil)
	if err != nil {
		t.Fatal(err)
	}
	world.SortNetwork(net) // the canonical order of networks from the graph
	var m map[string]any
	json.Unmarshal([]byte(doc), &m)
	m["network"] = net
	m["initial_state"] = supply.InitialAtRest // what a graph run defaults to
	own := filepath.Join(t.TempDir(), "own.json")
	b, _ := json.Marshal(m)
	os.WriteFile(own, b, 0o644)
	code, wantOut, errs := runSupplyCLI(t, "", "supply", "run", own, "--json")
	if code != 0 {
		t.Fatalf("supply run own: exit %d: %s", code, errs)
	}
	var want supply.Result
	json.Unmarshal([]byte(wantOut), &want)
	if want.Nodes["oem-row"].FirstStockout == nil {
		t.Fatal("the April 2025 controls cause no stockout outside China; the comparison would be weak")
	}

	tests := []struct {
		name string
		args []string
		days int
	}{
		{"server", []string{"supply", "run", "--graph", "--server", s.URL(), scen, "--json"}, 200},
		{"as of now", []string{"supply", "run", scen, "--graph", "--as-of", time.Now().UTC().Add(time.Hour).Format(time.RFC3339), "--server", s.URL(), "--json"}, 200},
		{"stdin", []string{"supply", "run", "--graph", "--server", s.URL(), "-", "--json"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runSupplyCLI(t, doc, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if !strings.Contains(errs, "network from the twin graph as of") || !strings.Contains(errs, "25 nodes, 35 arcs") {
				t.Errorf("stderr = %q, want the network's summary", errs)
			}
			var got supply.Result
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("graph run vs own network (-own +graph):\n%s", diff)
			}
		})
	}
	// The example file.
	code, out, errs := runSupplyCLI(t, "", "supply", "run", "--graph", "--server", s.URL(), "../../examples/supply/graph-april-2025.json", "--json")
	var ex supply.Result
	if code != 0 || json.Unmarshal([]byte(out), &ex) != nil || ex.Days != 730 || ex.Nodes["oem-row"].FirstStockout == nil {
		t.Errorf("examples/supply/graph-april-2025.json: exit %d, stderr %s, days %d", code, errs, ex.Days)
	}
	// Monte Carlo with the progress bar.
	code, out, errs = runSupplyCLI(t, "", "supply", "run", "--graph", "--server", s.URL(), scen, "--runs", "8", "--progress", "--json")
	if code != 0 || !strings.Contains(errs, "8/8 runs") || !strings.Contains(errs, "[##############################] 100.0%") {
		t.Errorf("Monte Carlo: exit %d, stderr %q, want a full progress bar", code, errs)
	}
	var mc supply.MCResult
	if err := json.Unmarshal([]byte(out), &mc); err != nil || mc.Runs != 8 {
		t.Errorf("Monte Carlo output: %v, runs %d", err, mc.Runs)
	}
	// The stress test of the graph's network, sorted by REI in text.
	code, out, errs = runSupplyCLI(t, "", "supply", "stress", "--graph", "--ttr", "120", "--server", s.URL(), "--json")
	var st struct {
		Scenarios []supply.StressResult `json:"scenarios"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st.Scenarios) != len(w.Nodes) || st.Scenarios[0].TTR != 120 {
		t.Errorf("supply stress --graph: exit %d, stderr %s, %d scenarios", code, errs, len(st.Scenarios))
	}
	// The graph's network as a NETWORK document equals the world's.
	code, out, errs = runSupplyCLI(t, "", "world", "network", "--graph", "--per-year", "--server", s.URL())
	var fromGraph supply.Network
	if code != 0 || json.Unmarshal([]byte(out), &fromGraph) != nil {
		t.Fatalf("world network --graph: exit %d, stderr %s", code, errs)
	}
	perYear, err := w.Network(&world.NetworkOptions{PerYear: true})
	if err != nil {
		t.Fatal(err)
	}
	world.SortNetwork(perYear)
	if diff := cmp.Diff(perYear, &fromGraph, cmpopts.IgnoreFields(supply.Network{}, "Description"), cmpopts.IgnoreFields(supply.Node{}, "Source"), cmpopts.IgnoreFields(supply.Arc{}, "Source")); diff != "" {
		t.Errorf("world network --graph vs the world's network (-world +graph):\n%s", diff)
	}
	// A graph before the world was loaded has no facility.
	code, _, errs = runSupplyCLI(t, "", "supply", "run", "--graph", "--as-of", "2001-01-01", "--server", s.URL())
	if code != 1 || !strings.Contains(errs, "twins: no facility twin") {
		t.Errorf("as of 2001: exit %d, stderr %q, want an error naming twins", code, errs)
	}
	stopServer(t, s)

	// The data directory, opened in-process; no file is the baseline.
	code, out, errs = runSupplyCLI(t, "", "supply", "run", "--graph", "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("--data: exit %d: %s", code, errs)
	}
	var base supply.Result
	if err := json.Unmarshal([]byte(out), &base); err != nil || base.Days != 1826 || base.Start != "2025-01-01" || base.Nodes["oem-row"].FillRate != 1 {
		t.Errorf("baseline from --data: %v, %d days from %s", err, base.Days, base.Start)
	}
}

func TestSupplyRunGraphUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"as-of without graph", []string{"supply", "run", "x.json", "--as-of", "2025-01-01"}, 2, "go with --graph"},
		{"server with baseline", []string{"supply", "run", "x.json", "--server", "http://127.0.0.1:1", "--runs", "5", "--baseline", "b.json"}, 2, "--server runs one run"},
		{"two files", []string{"supply", "run", "--graph", "a.json", "b.json"}, 2, "want one SCENARIO file"},
		{"bad as-of", []string{"supply", "run", "--graph", "--as-of", "soon", "--server", "http://127.0.0.1:1"}, 2, "--as-of"},
		{"world graph and scenario", []string{"world", "network", "--graph", "--scenario", "baseline", "--server", "http://127.0.0.1:1"}, 2, "aggregate network only"},
		{"world as-of without graph", []string{"world", "network", "--as-of", "2025-01-01"}, 2, "go with --graph"},
		{"stress file and graph", []string{"supply", "stress", "--graph", "n.json"}, 2, "--graph and none"},
		{"stress ttr without graph", []string{"supply", "stress", "n.json", "--ttr", "5"}, 2, "go with --graph"},
		{"network in file", []string{"supply", "run", "--graph", "--server", "http://127.0.0.1:1", "-"}, 1, "network: not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runSupplyCLI(t, `{"network":{}}`, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.msg)
			}
		})
	}
}
