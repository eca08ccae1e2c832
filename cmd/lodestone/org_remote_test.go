package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"lodestone/server"
	"lodestone/worker"
)

// startOrgServer runs a server without the demo world on a loopback port;
// maxQueuedRuns > 0 lowers the studies' limit of queued runs.
func startOrgServer(t *testing.T, maxQueuedRuns int) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.StudiesMaxQueuedRuns = maxQueuedRuns
	o.Logger = slog.New(slog.DiscardHandler)
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
	return s
}

// TestOrgServerSameOutput: `org invest` and `org run` with --server print
// the bytes of the local command, as text and with --json, flags included.
func TestOrgServerSameOutput(t *testing.T) {
	s := startOrgServer(t, 0)
	const spec, scenario = "../../org/testdata/invest_small.json", "../../org/testdata/second_source.json"
	tests := []struct {
		name string
		args []string
	}{
		{"invest json", []string{"org", "invest", spec, "--json", "--workers", "2"}},
		{"invest text", []string{"org", "invest", spec}},
		{"invest greedy json", []string{"org", "invest", spec, "--json", "--search", "greedy"}},
		{"invest branch and bound text", []string{"org", "invest", spec, "--search", "branch_and_bound", "--workers", "3"}},
		{"run json", []string{"org", "run", scenario, "--json"}},
		{"run text moved", []string{"org", "run", scenario, "--moved", "--seed", "7"}},
		{"run json no zero latency", []string{"org", "run", scenario, "--json", "--zero-latency=false", "--seed", "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, want, errs := runLodestone(t, "", tc.args...)
			if code != 0 || want == "" {
				t.Fatalf("local: exit %d: %s", code, errs)
			}
			code, got, errs := runLodestone(t, "", append(tc.args, "--server", s.URL())...)
			if code != 0 {
				t.Fatalf("--server: exit %d: %s", code, errs)
			}
			if got != want {
				t.Errorf("--server output differs from the local command's:\n--- local\n%s\n--- server\n%s", want, got)
			}
		})
	}
}

// TestOrgServerErrors: the server's refusals are printed as the other
// remote commands print them (code, status, message, the field), exit 1.
func TestOrgServerErrors(t *testing.T) {
	s := startOrgServer(t, 0)
	small := startOrgServer(t, 10)
	// A server answering 429, as the studies' admission does when full,
	// that also records the token it was sent.
	var gotAuth string
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":{"code":"TooManyStudies","message":"3 studies under way (studies.max-concurrent 3): retry later"}}`))
	}))
	defer busy.Close()
	t.Setenv("LODESTONE_TOKEN", "tok-org-invest")
	const spec = "../../org/testdata/invest_small.json"
	tests := []struct {
		name  string
		args  []string
		code  int
		wants []string // substrings of stderr
	}{
		{"bad field", []string{"org", "invest", spec, "--search", "bogus", "--server", s.URL()}, 1, []string{"ValidationFailed (HTTP 400)", "search: "}},
		{"too large", []string{"org", "invest", spec, "--server", small.URL()}, 1, []string{"StudyTooLarge (HTTP 400)", "runs:"}},
		{"busy", []string{"org", "invest", spec, "--json", "--server", busy.URL}, 1, []string{"TooManyStudies (HTTP 429)", "retry later"}},
		{"run bad scenario", []string{"org", "run", "-", "--server", s.URL()}, 1, []string{"(HTTP 400)"}},
		{"run data without graph", []string{"org", "run", spec, "--data", t.TempDir()}, 2, []string{"--data go with --graph"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdin := ""
			if tc.args[2] == "-" {
				stdin = `{"start":"2026-01-01","days":10}`
			}
			code, out, errs := runLodestone(t, stdin, tc.args...)
			if code != tc.code || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errs)
			}
			for _, w := range tc.wants {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
	if gotAuth != "Bearer tok-org-invest" {
		t.Errorf("the request carried Authorization %q, not $LODESTONE_TOKEN", gotAuth)
	}
}

// TestOrgServerBadJSON: a SPEC that is not JSON is refused before any
// request, naming the file's line and column.
func TestOrgServerBadJSON(t *testing.T) {
	for _, extra := range [][]string{nil, {"--search", "greedy"}} {
		args := append([]string{"org", "invest", "-", "--server", "http://127.0.0.1:1"}, extra...)
		code, _, errs := runLodestone(t, "{\n  \"runs\": ,\n}", args...)
		if code != 1 || !strings.Contains(errs, "-:2:") {
			t.Errorf("%v: exit %d: %s", extra, code, errs)
		}
	}
}

// TestOrgInvestServerWorker: with --studies.workers and a worker connected
// the portfolios' runs are computed on the worker; `org invest --server`
// still prints the bytes of the local command.
func TestOrgInvestServerWorker(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.StudiesWorkers = true
	o.Logger = slog.New(slog.DiscardHandler)
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
	nc := s.Bus.(interface{ Conn() *nats.Conn }).Conn()
	w, err := worker.New(nc, worker.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	d, err := worker.NewDispatcher(context.Background(), nc, worker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, args := range [][]string{
		{"org", "invest", "../../org/testdata/invest_small.json", "--json"},
		{"org", "invest", "../../org/testdata/invest_small.json", "--search", "greedy"},
	} {
		code, want, errs := runLodestone(t, "", args...)
		if code != 0 {
			t.Fatalf("local: exit %d: %s", code, errs)
		}
		code, got, errs := runLodestone(t, "", append(args, "--server", s.URL())...)
		if code != 0 {
			t.Fatalf("%v --server: exit %d: %s", args, code, errs)
		}
		if got != want {
			t.Errorf("%v: --server output with a worker differs from the local command's:\n--- local\n%s\n--- server\n%s", args, want, got)
		}
	}
}
