package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"lodestone/connector"
	"lodestone/models"
	"lodestone/server"
)

// doctorServer runs an in-process server with the transparency log on
// and returns its URL and the signing key file.
func doctorServer(t *testing.T) (string, string) {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "log.key")
	if code, _, stderr := runCLI(t, "trust", "keygen", "lodestone.test/doctor", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LogKey = keyFile
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s.URL(), keyFile
}

func doctorJSON(t *testing.T, args ...string) (int, doctorReport, map[string]doctorCheck) {
	t.Helper()
	code, out, stderr := runCLI(t, append([]string{"doctor", "--json"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json: %v: %q %q", err, out, stderr)
	}
	by := map[string]doctorCheck{}
	for _, c := range rep.Checks {
		by[c.Name] = c
	}
	return code, rep, by
}

// TestDoctor checks a healthy server (exit 0), the JSON field names, a
// checkpoint altered in transit, a stopped bus, a key readable by others
// and the --data mode.
func TestDoctor(t *testing.T) {
	url0, keyFile := doctorServer(t)

	code, _, by := doctorJSON(t, "--server", url0)
	if code != 0 || by["log"].Status != docWarn {
		t.Errorf("empty log: exit %d, log %+v, want a warning", code, by["log"])
	}
	resp, err := http.Post(url0+"/models", "application/json", strings.NewReader(`[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:t:A;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"double","writable":true}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /models: %s", resp.Status)
	}
	code, rep, by := doctorJSON(t, "--server", url0, "--log-key", keyFile)
	if code != 0 || !rep.OK {
		t.Fatalf("healthy server: exit %d, report %+v", code, rep)
	}
	want := []string{"store", "bus", "workers", "connectors", "log", "clock", "keys", "readiness"}
	if len(rep.Checks) != len(want) {
		t.Fatalf("checks %+v, want %v", rep.Checks, want)
	}
	for i, name := range want {
		if rep.Checks[i].Name != name {
			t.Errorf("check %d is %q, want %q", i, rep.Checks[i].Name, name)
		}
	}
	for _, name := range []string{"store", "log", "clock", "keys", "readiness", "connectors"} {
		if by[name].Status != docOK {
			t.Errorf("%s: %+v, want ok", name, by[name])
		}
	}
	// The field names of docs/formats/doctor.md.
	_, raw, _ := runCLI(t, "doctor", "--json", "--server", url0)
	var fields map[string]any
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"target", "ok", "checks"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("--json lacks %q: %s", f, raw)
		}
	}
	first := fields["checks"].([]any)[0].(map[string]any)
	for _, f := range []string{"name", "status", "reason"} {
		if _, ok := first[f]; !ok {
			t.Errorf("a check lacks %q: %v", f, first)
		}
	}

	// The text output: one line per check.
	code, out, _ := runCLI(t, "doctor", "--server", url0)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != len(want)+2 || !strings.HasPrefix(lines[1], "ok") || !strings.HasPrefix(lines[len(lines)-1], "ok: ") {
		t.Errorf("text: exit %d\n%s", code, out)
	}

	// A proxy that alters one byte of the checkpoint's body.
	target, _ := url.Parse(url0)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Path != "/log/checkpoint" {
			return nil
		}
		b := make([]byte, 1<<16)
		n, _ := r.Body.Read(b)
		r.Body.Close()
		lines := strings.SplitN(string(b[:n]), "\n", 3)
		lines[1] = lines[1] + "0" // the tree size
		body := strings.Join(lines, "\n")
		r.Body = http.NoBody
		r.Body = readCloser{strings.NewReader(body)}
		r.ContentLength = int64(len(body))
		r.Header.Del("Content-Length")
		return nil
	}
	ts := httptest.NewServer(proxy)
	defer ts.Close()
	code, rep, by = doctorJSON(t, "--server", ts.URL)
	if code != 1 || rep.OK || by["log"].Status != docFail || !strings.Contains(by["log"].Reason, "does not verify") {
		t.Errorf("tampered checkpoint: exit %d, log %+v", code, by["log"])
	}

	// A stopped bus: nothing listens on the port.
	code, _, by = doctorJSON(t, "--server", url0, "--nats", "nats://127.0.0.1:1")
	if code != 1 || by["bus"].Status != docFail || by["bus"].Hint == "" || by["workers"].Status != docSkip {
		t.Errorf("stopped bus: exit %d, bus %+v, workers %+v", code, by["bus"], by["workers"])
	}

	// A key readable by others.
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, by = doctorJSON(t, "--server", url0, "--log-key", keyFile)
	if code != 1 || by["keys"].Status != docFail || !strings.Contains(by["keys"].Hint, "chmod 600") {
		t.Errorf("key mode 0644: exit %d, keys %+v", code, by["keys"])
	}

	// No server at all.
	code, _, by = doctorJSON(t, "--server", "http://127.0.0.1:1")
	if code != 1 || by["readiness"].Status != docFail || by["store"].Status != docFail {
		t.Errorf("no server: exit %d, %+v", code, by)
	}

	if code, _, _ := runCLI(t, "doctor", "--server", url0, "--data", "x"); code != 2 {
		t.Errorf("--server and --data: exit %d, want 2", code)
	}
}

// TestDoctorData checks a data folder: a fresh store passes the round
// trip; a missing one fails.
func TestDoctorData(t *testing.T) {
	dir := t.TempDir()
	o := server.DefaultOptions()
	o.DataDir = dir
	o.HTTPAddr = "127.0.0.1:0"
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.Shutdown(ctx)

	code, rep, by := doctorJSON(t, "--data", dir)
	if code != 0 || by["store"].Status != docOK || !strings.Contains(by["store"].Reason, "schema version") {
		t.Errorf("data: exit %d, %+v", code, rep)
	}
	code, _, by = doctorJSON(t, "--data", filepath.Join(dir, "none"))
	if code != 1 || by["store"].Status != docFail {
		t.Errorf("missing data: exit %d, %+v", code, by["store"])
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://u:secret@h:4222": "nats://…@h:4222",
		"nats://h:4222":          "nats://h:4222",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// TestDoctorNATS checks the bus and workers checks against a real NATS
// (LODESTONE_TEST_NATS): the stream a server made is found; the ping
// answers or warns (another test's worker may answer it).
func TestDoctorNATS(t *testing.T) {
	natsURL := os.Getenv("LODESTONE_TEST_NATS")
	if natsURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_NATS is not set (CI=true)")
		}
		t.Skip("LODESTONE_TEST_NATS is not set: no NATS to check")
	}
	stream := fmt.Sprintf("DOCTOR%d", time.Now().UnixNano())
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.NATSURL = natsURL
	o.NATSStream = stream
	o.NATSPrefix = strings.ToLower(stream)
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if nc, err := nats.Connect(natsURL); err == nil {
			if js, err := nc.JetStream(); err == nil {
				js.DeleteStream(stream)
			}
			nc.Close()
		}
	}()
	code, rep, by := doctorJSON(t, "--server", s.URL(), "--nats", natsURL, "--nats.stream", stream)
	if code != 0 || by["bus"].Status != docOK || (by["workers"].Status != docOK && by["workers"].Status != docWarn) {
		t.Errorf("NATS: exit %d, %+v", code, rep)
	}
	code, _, by = doctorJSON(t, "--server", s.URL(), "--nats", natsURL, "--nats.stream", stream+"X")
	if code != 1 || by["bus"].Status != docFail {
		t.Errorf("missing stream: exit %d, bus %+v", code, by["bus"])
	}
}

// TestDoctorAuth checks a server with authentication: without a token the
// read and audit checks warn (the probes are public); an auditor's token
// reads the log.
func TestDoctorAuth(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "log.key")
	if code, _, stderr := runCLI(t, "trust", "keygen", "lodestone.test/doctor", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	authFile := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(authFile, []byte(`{"tokens": [{"token": "doctor-token-0123456789", "subject": "doc", "org": "acme", "roles": ["admin", "reader"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LogKey = keyFile
	o.Auth = authFile
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	t.Setenv("LODESTONE_TOKEN", "")
	code, rep, by := doctorJSON(t, "--server", s.URL())
	if code != 0 || by["connectors"].Status != docWarn || by["log"].Status != docWarn || by["readiness"].Status != docOK {
		t.Errorf("no token: exit %d, %+v", code, rep)
	}
	code, rep, by = doctorJSON(t, "--server", s.URL(), "--token", "doctor-token-0123456789")
	if code != 0 || by["connectors"].Status != docOK || by["log"].Status == docFail {
		t.Errorf("admin token: exit %d, %+v", code, rep)
	}
}

func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"nats://u:p@h:4222", "nats://h", "@", "://@", "a@b://c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := redactURL(s)
		at, scheme := strings.LastIndex(s, "@"), strings.Index(s, "://")
		if at < 0 || scheme < 0 || scheme >= at {
			if got != s {
				t.Errorf("redactURL(%q) = %q, want it unchanged", s, got)
			}
			return
		}
		if rest := got[scheme+3:]; !strings.HasPrefix(rest, "…@") || !strings.HasSuffix(rest, s[at+1:]) || len(got) != scheme+3+len("…@")+len(s)-at-1 {
			t.Errorf("redactURL(%q) = %q: want the user part replaced", s, got)
		}
	})
}

// BenchmarkDoctorServer is one doctor run against an in-process server
// with the log on and empty (no NATS): eight checks, five HTTP requests.
func BenchmarkDoctorServer(b *testing.B) {
	keyFile := filepath.Join(b.TempDir(), "log.key")
	var out, errb strings.Builder
	if code := run(context.Background(), &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, []string{"trust", "keygen", "lodestone.test/doctor", "--out", keyFile}); code != 0 {
		b.Fatal(errb.String())
	}
	o := server.DefaultOptions()
	o.DataDir = b.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LogKey = keyFile
	s, err := server.New(o)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	opts := doctorOpts{server: s.URL(), stream: "LODESTONE", logKey: keyFile, timeout: 5 * time.Second, now: time.Now}
	for b.Loop() {
		if rep := runDoctor(b.Context(), opts); !rep.OK {
			b.Fatalf("%+v", rep)
		}
	}
}

func TestJudgeConnectors(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	d := &doctor{o: doctorOpts{now: func() time.Time { return now }}}
	up := connector.Status{ID: "mqtt-1", State: "running", Connected: true, Updated: now.Add(-5 * time.Second)}
	down := connector.Status{ID: "opc-1", State: "connecting", LastError: "dial tcp: refused", Updated: now}
	stale := up
	stale.ID, stale.Updated = "mqtt-2", now.Add(-5*time.Minute)
	slow := up
	slow.ID, slow.Latency = "mqtt-3", connector.Latency{N: 100, P95: 9000}
	off := connector.Status{ID: "mqtt-4", Kind: "mqtt", State: "disabled", Updated: now.Add(-48 * time.Hour)}
	for _, c := range []struct {
		name string
		list []connector.Status
		want string
		has  string
	}{
		{"none", nil, docOK, "no connector"},
		{"connected", []connector.Status{up}, docOK, "1 connected"},
		{"disconnected", []connector.Status{up, down}, docFail, "opc-1 not connected (state connecting, dial tcp: refused)"},
		{"stale", []connector.Status{stale}, docWarn, "mqtt-2 status last updated 5m0s ago"},
		{"slow", []connector.Status{slow}, docWarn, "mqtt-3 lag p95 9000 ms"},
		// A disabled twin's status is written once: old, not connected.
		{"disabled", []connector.Status{off}, docOK, "0 connected; mqtt-4 disabled"},
		{"connected and disabled", []connector.Status{up, off}, docOK, "1 connected; mqtt-4 disabled"},
		{"disconnected and disabled", []connector.Status{down, off}, docFail, "opc-1 not connected (state connecting, dial tcp: refused); mqtt-4 disabled"},
		{"stale and disabled", []connector.Status{stale, off}, docWarn, "mqtt-2 status last updated 5m0s ago; mqtt-4 disabled"},
	} {
		got := d.judgeConnectors(c.list)
		if got.Status != c.want || !strings.Contains(got.Reason, c.has) {
			t.Errorf("%s: %+v, want %s with %q", c.name, got, c.want, c.has)
		}
	}
}

// TestDoctorDisabledConnector: a connector twin with enabled false is a
// normal state, not a failure: the server writes its status "disabled",
// and doctor (against the server and on the data directory) reports the
// connectors check ok, naming it.
func TestDoctorDisabledConnector(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "log.key")
	if code, _, stderr := runCLI(t, "trust", "keygen", "lodestone.test/doctor", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr, o.LogKey = t.TempDir(), "127.0.0.1:0", keyFile
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	defer stop()
	var raws []json.RawMessage
	for _, f := range models.Files() {
		raws = append(raws, json.RawMessage(f.Data))
	}
	body, err := json.Marshal(raws)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string) []byte {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	do("POST", "/models", string(body))
	do("PUT", "/digitaltwins/mq-off", `{"$metadata":{"$model":"`+connector.Model+`"},"kind":"mqtt","enabled":false,"mappings":[{"topic":"x/{twin}/{telemetry}","valuePath":"v"}]}`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		var list struct{ Value []connector.Status }
		if err := json.Unmarshal(do("GET", "/plant/connectors", ""), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Value) == 1 && list.Value[0].State == "disabled" {
			break
		}
		if time.Now().After(deadline) || len(list.Value) > 1 {
			t.Fatalf("connector statuses %+v, want mq-off disabled", list.Value)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, rep, by := doctorJSON(t, "--server", s.URL())
	if code != 0 || by["connectors"].Status != docOK || by["connectors"].Reason != "0 connected; mq-off disabled" {
		t.Errorf("server: exit %d, connectors %+v (report %+v)", code, by["connectors"], rep)
	}
	stop()
	code, rep, by = doctorJSON(t, "--data", o.DataDir)
	if code != 0 || by["connectors"].Status != docOK || by["connectors"].Reason != "0 connected; mq-off disabled" {
		t.Errorf("data: exit %d, connectors %+v (report %+v)", code, by["connectors"], rep)
	}
}
