package server_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/server"
	"lodestone/store"
	"lodestone/twin"
)

// /metrics is an auditor's route on a server with --auth (a reader gets
// 403, no token 401), public with --metrics-public; /healthz and /readyz
// are public either way.
func TestMetricsAccess(t *testing.T) {
	authFile := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(authFile, []byte(`{"tokens":[
		{"token":"reader-token-0123456789","subject":"rita","org":"acme","roles":["reader"]},
		{"token":"auditor-token-0123456789","subject":"aud","org":"acme","roles":["auditor"]},
		{"token":"admin-token-01234567890","subject":"adm","org":"acme","roles":["admin"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, public := range []bool{false, true} {
		s := startServer(t, func(o *server.Options) { o.Auth, o.MetricsPublic = authFile, public })
		for _, tc := range []struct {
			path, token string
			want        int
		}{
			{"/healthz", "", 200},
			{"/readyz", "", 200},
			{"/metrics", "", map[bool]int{false: 401, true: 200}[public]},
			{"/metrics", "reader-token-0123456789", map[bool]int{false: 403, true: 200}[public]},
			{"/metrics", "auditor-token-0123456789", 200},
			{"/metrics", "admin-token-01234567890", 200},
		} {
			var hdr []string
			if tc.token != "" {
				hdr = []string{"Authorization", "Bearer " + tc.token}
			}
			r, err := send(ctx, fastClient(), "GET", s.URL()+tc.path, nil, hdr...)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != tc.want {
				t.Errorf("metrics-public=%v GET %s with %q: %d, want %d", public, tc.path, tc.token, r.status, tc.want)
			}
			if tc.path == "/metrics" && r.status == 200 && !strings.Contains(string(r.body), "lodestone_store_bytes") {
				t.Errorf("metrics-public=%v: /metrics lacks lodestone_store_bytes", public)
			}
		}
	}
}

// A server with --retain.history compacts by itself: the versions of a
// twin that ended are removed while it runs, the current one stays.
func TestRetainServe(t *testing.T) {
	var dir string
	s := startServer(t, func(o *server.Options) {
		o.RetainHistory = server.Duration(time.Millisecond)
		o.RetainTelemetry = server.Duration(time.Millisecond)
		o.RetainEvery = server.Duration(50 * time.Millisecond)
		dir = o.DataDir
	})
	u := s.URL()
	call(t, "POST", u+"/models", "["+counterModel+"]", 201)
	call(t, "PUT", u+"/digitaltwins/x", `{"$metadata":{"$model":"dtmi:test:Counter;1"},"n":0}`, 200)
	for _, n := range []string{"1", "2", "3"} {
		call(t, "PATCH", u+"/digitaltwins/x", `[{"op":"replace","path":"/n","value":`+n+`}]`, 204)
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "lodestone.db"))
		if err != nil {
			t.Fatal(err)
		}
		chs, err := st.TwinChanges(ctx, twin.ID("x"), time.Time{}, time.Time{})
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(chs) == 1 {
			break // the current version only
		}
		if time.Now().After(deadline) {
			t.Fatalf("x still has %d versions 30 s after its writes", len(chs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(string(call(t, "GET", u+"/digitaltwins/x", "", 200)), `"n":3`) {
		t.Error("the current version of x is not n=3")
	}
}

// MergeOpsFlags copies exactly the flags given: serve used to drop the
// studies' flags.
func TestMergeOpsFlags(t *testing.T) {
	var f server.Options
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.RegisterFlags(fs)
	args := []string{"--studies.workers", "--studies.max-concurrent", "7", "--nats.replicas", "3", "--retain.history", "48h", "--metrics-public"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	o := server.DefaultOptions()
	o.StudiesMaxQueuedRuns = 99 // not on the command line: kept
	server.MergeOpsFlags(&o, f, set)
	if !o.StudiesWorkers || o.StudiesMaxConcurrent != 7 || o.NATSReplicas != 3 || time.Duration(o.RetainHistory) != 48*time.Hour || !o.MetricsPublic || o.StudiesMaxQueuedRuns != 99 {
		t.Errorf("merged %+v", o)
	}
}
