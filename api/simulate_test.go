package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
)

func startSimServer(t *testing.T) string {
	t.Helper()
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
	return s.URL()
}

func send(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, url, err, b)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s = %d %s", method, url, res.StatusCode, b)
	}
	return res.StatusCode
}

// TestSimulateWritesBack runs a cascade twin's spec and checks that the
// results land on the cascade and its separation plant with the model
// version and input hash, and that recovery is a fraction.
func TestSimulateWritesBack(t *testing.T) {
	u := startSimServer(t)
	spec := map[string]any{
		"stages": 6, "temperature_K": 298.15, "media": "chloride",
		"inlets": []any{
			map[string]any{"phase": "aqueous", "stage": 6, "flow_L_per_h": 100.0, "mg_per_L": map[string]any{"Nd": 1000.0, "Pr": 500.0, "H": 1.0, "Cl": 1100.0}},
			map[string]any{"phase": "organic", "stage": 1, "flow_L_per_h": 100.0, "mg_per_L": map[string]any{"DEHPA": 48790.0}},
		},
		"equilibrium": map[string]any{"model": "constant", "parametersJson": `{"D": {"Nd": 2.0, "Pr": 0.8}}`},
	}
	cascade := map[string]any{"$metadata": map[string]any{"$model": "dtmi:lodestone:SXCascade;1"}, "name": "Pr/Nd test cascade", "spec": spec}
	if st := send(t, "PUT", u+"/digitaltwins/cascade-test", cascade, nil); st != 200 {
		t.Fatalf("PUT cascade = %d", st)
	}
	rel := map[string]any{"$targetId": "cascade-test", "$relationshipName": "hasUnit"}
	if st := send(t, "PUT", u+"/digitaltwins/sep-my-lynas/relationships/sep-my-lynas-hasUnit-cascade-test", rel, nil); st != 200 {
		t.Fatalf("PUT hasUnit = %d", st)
	}
	var res api.SimulateResponse
	if st := send(t, "POST", u+"/digitaltwins/cascade-test/simulate", nil, &res); st != 200 {
		t.Fatalf("POST simulate = %d", st)
	}
	if !res.Result.Converged {
		t.Fatalf("simulation did not converge: %+v", res.Result.Status)
	}
	if len(res.Written) != 2 || res.Written[1] != "sep-my-lynas" {
		t.Errorf("written = %v, want the cascade and sep-my-lynas", res.Written)
	}
	// Constant D with equal flows: Kremser gives the Nd recovery to the
	// organic; check it against the closed form (extraction factor E = D·O/A).
	e := 2.0
	n := 6.0
	kremser := (math.Pow(e, n+1) - e) / (math.Pow(e, n+1) - 1)
	if got := res.Recovery["organic_Nd"]; math.Abs(got-kremser) > 1e-6 {
		t.Errorf("recovery organic_Nd = %v, want Kremser %v", got, kremser)
	}
	// The feed carries 100 L/h × (1000 mg/L Nd + 500 mg/L Pr) of metal;
	// as Nd2O3 (×1.1664) and Pr6O11 (×1.2082) over 8,760 h that is
	// (0.1 kg/h × 1.1664 + 0.05 kg/h × 1.2082) × 8.76 = 1.5509 t REO a year.
	if got, want := res.Summary.ThroughputTonnesREOPerYear, (0.1*1.1664+0.05*1.2082)*8.76; math.Abs(got-want) > 1e-3 {
		t.Errorf("throughput = %v t REO/yr, want %v", got, want)
	}
	for _, id := range []string{"cascade-test", "sep-my-lynas"} {
		var tw map[string]any
		send(t, "GET", u+"/digitaltwins/"+id, nil, &tw)
		if tw["inputHash"] != res.InputHash || tw["modelVersion"] != api.SXModelVersion || tw["converged"] != true {
			t.Errorf("%s: inputHash=%v modelVersion=%v converged=%v, want the simulation's", id, tw["inputHash"], tw["modelVersion"], tw["converged"])
		}
	}
	// The same spec hashes the same; a non-cascade twin is refused.
	var again api.SimulateResponse
	send(t, "POST", u+"/digitaltwins/cascade-test/simulate", map[string]any{"dryRun": true}, &again)
	if again.InputHash != res.InputHash || len(again.Written) != 0 {
		t.Errorf("dry run: hash %s written %v, want %s and nothing", again.InputHash, again.Written, res.InputHash)
	}
	if st := send(t, "POST", u+"/digitaltwins/mine-cn/simulate", nil, nil); st != 400 {
		t.Errorf("simulate a mine = %d, want 400", st)
	}
}
