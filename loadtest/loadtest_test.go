package loadtest_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"lodestone/loadtest"
	"lodestone/server"
)

func startServer(t *testing.T) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// TestRun drives an in-process server with every operation and checks
// the report's shape (never its timings) and the cleanup.
func TestRun(t *testing.T) {
	s := startServer(t)
	res, err := loadtest.Run(t.Context(), loadtest.Options{
		Server: s.URL(), Clients: 3, Duration: 1500 * time.Millisecond, Twins: 20, Cleanup: true, Seed: 1,
		Mix: loadtest.Mix{"reads": 1, "patches": 1, "creates": 1, "queries": 1, "telemetry": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Operations) != len(loadtest.Ops) {
		t.Fatalf("operations %+v", res.Operations)
	}
	total := 0
	for _, op := range res.Operations {
		if op.Requests == 0 || op.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (errors by status %v)", op.Op, op.Requests, op.Errors, res.ErrorsByStatus)
		}
		if !(op.P50Ms <= op.P90Ms && op.P90Ms <= op.P99Ms && op.P99Ms <= op.MaxMs) {
			t.Errorf("%s: percentiles out of order: %+v", op.Op, op)
		}
		total += op.Requests
	}
	if res.Overall.Requests != total {
		t.Errorf("overall %d requests, operations sum to %d", res.Overall.Requests, total)
	}
	creates := res.Operations[2].Requests
	if res.CleanedUp != creates+20 {
		t.Errorf("cleaned up %d twins, want %d creates + 20 seeds", res.CleanedUp, creates)
	}
	resp, err := http.Get(s.URL() + "/digitaltwins/" + res.Prefix + "seed-0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("seed twin after cleanup: %d", resp.StatusCode)
	}
	var b strings.Builder
	if err := res.Print(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reads", "telemetry", "overall", "P99 MS", "cleanup: deleted"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestNoServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = loadtest.Run(t.Context(), loadtest.Options{Server: "http://" + addr, Clients: 1, Duration: time.Second})
	if !errors.Is(err, loadtest.ErrUnreachable) || !strings.Contains(err.Error(), "is the server running?") || !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    loadtest.Options
		want string
	}{
		{"no scheme", loadtest.Options{Server: "localhost:8080", Clients: 1, Duration: time.Second}, "--server"},
		{"clients", loadtest.Options{Server: "http://x", Clients: 0, Duration: time.Second}, "--clients"},
		{"duration", loadtest.Options{Server: "http://x", Clients: 1}, "--duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadtest.Run(t.Context(), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"reads=60,patches=20,creates=10,queries=5,telemetry=5", "reads=60,patches=20,creates=10,queries=5,telemetry=5", ""},
		{"reads=1", "reads=1,patches=0,creates=0,queries=0,telemetry=0", ""},
		{" reads = 3 , queries=1 ", "reads=3,patches=0,creates=0,queries=1,telemetry=0", ""},
		{"reads", "", "want OP=WEIGHT"},
		{"writes=3", "", `unknown operation "writes"`},
		{"reads=-1", "", "not an integer"},
		{"reads=x", "", "not an integer"},
		{"reads=1,reads=2", "", "given twice"},
		{"reads=0", "", "every weight is 0"},
		{"", "", "every weight is 0"},
	} {
		m, err := loadtest.ParseMix(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseMix(%q) err = %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("ParseMix(%q): %v", tc.in, err)
		case tc.err == "" && m.String() != tc.want:
			t.Errorf("ParseMix(%q) = %s, want %s", tc.in, m, tc.want)
		}
	}
}

func FuzzParseMix(f *testing.F) {
	f.Add("reads=60,patches=20,creates=10,queries=5,telemetry=5")
	f.Add("reads=1,,queries=x")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := loadtest.ParseMix(s)
		if err != nil {
			return
		}
		again, err := loadtest.ParseMix(m.String())
		if err != nil || again.String() != m.String() {
			t.Errorf("round trip of %q: %v %v", s, again, err)
		}
	})
}
