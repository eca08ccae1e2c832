package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"lodestone/connector"
	"lodestone/ops"
	"lodestone/store"
	"lodestone/trust"
)

// Check statuses of lodestone doctor. skip marks a check that the given
// flags cannot run (no --nats, no --log-key); it does not fail.
const (
	docOK   = "ok"
	docWarn = "warn"
	docFail = "fail"
	docSkip = "skip"
)

// doctorCheck is one line of the doctor's report (docs/formats/doctor.md).
type doctorCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Hint   string `json:"hint,omitempty"`
}

// doctorReport is the --json output.
type doctorReport struct {
	Target string        `json:"target"`
	OK     bool          `json:"ok"`
	Checks []doctorCheck `json:"checks"`
}

// Thresholds of the checks. The clock limits are wide because the HTTP
// Date header has a resolution of one second.
const (
	clockWarn       = 2 * time.Second
	clockFail       = 30 * time.Second
	connectorStale  = time.Minute // a running connector rewrites its status document more often
	connectorLagP95 = 5000.0      // ms from a value's source time to its being stored
)

// connectorDisabled is the state in the status document of a connector
// twin with enabled false (connector.WatchTwins).
const connectorDisabled = "disabled"

type doctorOpts struct {
	server, data, natsURL, stream, logKey, logKeyPub, token string
	timeout                                                 time.Duration
	now                                                     func() time.Time
}

func init() {
	fs := flag.NewFlagSet("lodestone doctor", flag.ContinueOnError)
	var o doctorOpts
	fs.StringVar(&o.server, "server", "", "URL of a running server (default $LODESTONE_SERVER or http://127.0.0.1:8080); its checks are read-only")
	fs.StringVar(&o.data, "data", "", "data directory of a SQLite store to check instead of a server (the store check writes and deletes one document)")
	fs.StringVar(&o.natsURL, "nats", "", "NATS URL of the event bus (nats://user:pass@host:4222): checks the JetStream stream and asks the workers' ping")
	fs.StringVar(&o.stream, "nats.stream", "LODESTONE", "JetStream stream of the events")
	fs.StringVar(&o.logKey, "log-key", "", "the transparency log's signing key file: its permissions, and its verifier key against the served one")
	fs.StringVar(&o.logKeyPub, "log-key-pub", "", "file with the log's trusted verifier key; the checkpoint is verified with it too")
	fs.StringVar(&o.token, "token", "", "bearer token for a server with authentication (default $LODESTONE_TOKEN); the log routes need the auditor or admin role")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "bound of each check")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	register(&command{
		name:      "doctor",
		usage:     "[--server URL | --data DIR] [--nats URL] [--log-key FILE] [--json]",
		shortHelp: "check a deployment: store, bus, workers, connectors, log, clock, keys, readiness; one line per check (ok, warn, fail, skip); exit 1 when any fails",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("doctor: unexpected argument %q", args[0])}
			}
			if o.server != "" && o.data != "" {
				return usageError{"doctor: give --server URL or --data DIR, not both"}
			}
			o.now = time.Now
			if o.token == "" {
				o.token = os.Getenv("LODESTONE_TOKEN")
			}
			rep := runDoctor(ctx, o)
			if *asJSON {
				if err := printJSON(env.stdout, rep); err != nil {
					return err
				}
			} else {
				printDoctor(env.stdout, rep)
			}
			if !rep.OK {
				return exitError{1}
			}
			return nil
		},
	})
}

func printDoctor(w io.Writer, rep doctorReport) {
	fmt.Fprintf(w, "lodestone doctor: %s\n", rep.Target)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range rep.Checks {
		line := fmt.Sprintf("%s\t%s\t%s", c.Status, c.Name, c.Reason)
		if c.Hint != "" && c.Status != docOK {
			line += " (hint: " + c.Hint + ")"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	if rep.OK {
		fmt.Fprintln(w, "ok: no check failed")
	} else {
		fmt.Fprintln(w, "FAIL: at least one check failed")
	}
}

// runDoctor runs the checks in a fixed order: store, bus, workers,
// connectors, log, clock, keys, readiness.
func runDoctor(ctx context.Context, o doctorOpts) doctorReport {
	d := &doctor{o: o, http: &http.Client{Timeout: o.timeout}}
	var checks []doctorCheck
	if o.data != "" {
		d.target = "data " + o.data
		checks = d.localChecks(ctx)
	} else {
		d.base = o.server
		if d.base == "" {
			d.base = os.Getenv("LODESTONE_SERVER")
		}
		if d.base == "" {
			d.base = "http://127.0.0.1:8080"
		}
		d.base = strings.TrimRight(d.base, "/")
		d.target = "server " + d.base
		checks = d.serverChecks(ctx)
	}
	rep := doctorReport{Target: d.target, OK: true, Checks: checks}
	for _, c := range checks {
		if c.Status == docFail {
			rep.OK = false
		}
	}
	return rep
}

type doctor struct {
	o      doctorOpts
	http   *http.Client
	base   string
	target string
	ready  *ops.Report // GET /readyz, read once
	vkey   string      // the served log key
}

func (d *doctor) serverChecks(ctx context.Context) []doctorCheck {
	readiness := d.readiness(ctx)
	out := []doctorCheck{d.serverStore(), d.bus(ctx), d.workers(ctx), d.serverConnectors(ctx), d.serverLog(ctx), d.clock(ctx), d.keys(), readiness}
	return out
}

func (d *doctor) localChecks(ctx context.Context) []doctorCheck {
	skip := func(name string) doctorCheck {
		return doctorCheck{Name: name, Status: docSkip, Reason: "not checked with --data", Hint: "run doctor with --server URL against the running server"}
	}
	path := filepath.Join(d.o.data, "lodestone.db")
	storeCheck, st := d.localStore(ctx, path)
	out := []doctorCheck{storeCheck, d.bus(ctx), d.workers(ctx)}
	if st == nil {
		out = append(out, doctorCheck{Name: "connectors", Status: docSkip, Reason: "the store did not open"},
			doctorCheck{Name: "log", Status: docSkip, Reason: "the store did not open"})
	} else {
		defer st.Close()
		out = append(out, d.localConnectors(ctx, st), d.localLog(ctx, st))
	}
	return append(out, skip("clock"), d.keys(), skip("readiness"))
}

// get fetches base+path and returns the status, the body and the
// response's Date header.
func (d *doctor) get(ctx context.Context, path string) (int, []byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, d.o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", d.base+path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if d.o.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.o.token)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, b, resp.Header, err
}

func (d *doctor) readiness(ctx context.Context) doctorCheck {
	c := doctorCheck{Name: "readiness"}
	code, body, _, err := d.get(ctx, "/readyz")
	if err != nil {
		c.Status, c.Reason, c.Hint = docFail, "GET /readyz: "+err.Error(), "is the server running at "+d.base+"? (lodestone serve)"
		return c
	}
	var rep ops.Report
	if json.Unmarshal(body, &rep) == nil && rep.Status != "" {
		d.ready = &rep
	}
	if code == http.StatusOK {
		c.Status, c.Reason = docOK, "GET /readyz: 200 ready"
		return c
	}
	var bad []string
	if d.ready != nil {
		for _, r := range d.ready.Checks {
			if !r.OK {
				bad = append(bad, r.Name+": "+r.Error)
			}
		}
	}
	c.Status, c.Reason, c.Hint = docFail, fmt.Sprintf("GET /readyz: %d %s", code, strings.Join(bad, "; ")), "see the failing checks above and the server's log"
	return c
}

// readyCheck returns the named check of /readyz, or nil.
func (d *doctor) readyCheck(name string) *ops.CheckResult {
	if d.ready == nil {
		return nil
	}
	for i := range d.ready.Checks {
		if d.ready.Checks[i].Name == name {
			return &d.ready.Checks[i]
		}
	}
	return nil
}

func (d *doctor) serverStore() doctorCheck {
	c := doctorCheck{Name: "store"}
	r := d.readyCheck("store")
	switch {
	case r == nil:
		c.Status, c.Reason, c.Hint = docFail, "the server did not report its store (no /readyz answer)", "start the server, or check --server"
	case !r.OK:
		c.Status, c.Reason, c.Hint = docFail, "the server's store does not answer: "+r.Error, "check the store DSN and the database (PostgreSQL up? disk full?)"
	default:
		c.Status, c.Reason = docOK, fmt.Sprintf("the server reads its store (%.1f ms; read-only check)", r.DurationMS)
	}
	return c
}

// localStore opens the SQLite store of --data: its schema version, then a
// write-read-delete round trip of one document.
func (d *doctor) localStore(ctx context.Context, path string) (doctorCheck, store.Store) {
	c := doctorCheck{Name: "store"}
	if _, err := os.Stat(path); err != nil {
		c.Status, c.Reason, c.Hint = docFail, "no store at "+path, "give the data directory of lodestone serve --data DIR"
		return c, nil
	}
	version, err := sqliteVersion(ctx, path)
	if err != nil {
		c.Status, c.Reason, c.Hint = docFail, "read the schema version: "+err.Error(), "is the file a Lodestone SQLite store?"
		return c, nil
	}
	st, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		c.Status, c.Reason, c.Hint = docFail, "open: "+err.Error(), "a newer schema needs a newer lodestone"
		return c, nil
	}
	id := fmt.Sprintf("doctor-%d", d.o.now().UnixNano())
	body := json.RawMessage(`{"doctor":true}`)
	if _, err := st.PutDoc(ctx, store.Doc{Kind: "doctor", ID: id, Body: body}, store.Condition{}); err != nil {
		c.Status, c.Reason, c.Hint = docFail, "write a test document: "+err.Error(), "is the disk full or the file read-only?"
		return c, st
	}
	got, err := st.GetDoc(ctx, "doctor", id)
	derr := st.DeleteDoc(ctx, "doctor", id, store.Condition{})
	switch {
	case err != nil:
		c.Status, c.Reason = docFail, "read back the test document: "+err.Error()
	case !strings.Contains(string(got.Body), `"doctor":true`):
		c.Status, c.Reason = docFail, "the test document read back differs: "+string(got.Body)
	case derr != nil:
		c.Status, c.Reason = docWarn, "delete the test document: "+derr.Error()
	default:
		c.Status, c.Reason = docOK, fmt.Sprintf("opens, schema version %d, write-read-delete round trip", version)
	}
	return c, st
}

// sqliteVersion reads PRAGMA user_version without migrating the file.
func sqliteVersion(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	err = db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// bus connects to --nats and looks the stream up; without --nats it
// reports the server's own bus check.
func (d *doctor) bus(ctx context.Context) doctorCheck {
	c := doctorCheck{Name: "bus"}
	if d.o.natsURL == "" {
		if r := d.readyCheck("bus"); r != nil {
			if r.OK {
				c.Status, c.Reason = docOK, "the server's NATS connection is up (from /readyz)"
			} else {
				c.Status, c.Reason, c.Hint = docFail, "the server's bus: "+r.Error, "is NATS running? check --nats of lodestone serve"
			}
			return c
		}
		c.Status, c.Reason, c.Hint = docSkip, "not checked", "give --nats URL to check the JetStream stream"
		return c
	}
	nc, err := nats.Connect(d.o.natsURL, nats.Timeout(d.o.timeout), nats.NoReconnect())
	if err != nil {
		c.Status, c.Reason, c.Hint = docFail, "NATS "+redactURL(d.o.natsURL)+" unreachable: "+err.Error(), "start NATS (nats-server -js) or fix --nats"
		return c
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.MaxWait(d.o.timeout))
	if err != nil {
		c.Status, c.Reason = docFail, "JetStream: "+err.Error()
		return c
	}
	info, err := js.StreamInfo(d.o.stream, nats.Context(ctx))
	if err != nil {
		c.Status, c.Reason, c.Hint = docFail, fmt.Sprintf("JetStream stream %s: %v", d.o.stream, err), "the server creates the stream at start; is JetStream on (nats-server -js)? is --nats.stream right?"
		return c
	}
	c.Status, c.Reason = docOK, fmt.Sprintf("NATS reachable, stream %s holds %d messages", d.o.stream, info.State.Msgs)
	return c
}

// workers asks lodestone_work.ping (docs/formats/worker.md). No worker
// is a warning: the server then runs studies itself.
func (d *doctor) workers(ctx context.Context) doctorCheck {
	c := doctorCheck{Name: "workers"}
	if d.o.natsURL == "" {
		c.Status, c.Reason, c.Hint = docSkip, "not checked", "give --nats URL to ask the work queue's ping"
		return c
	}
	nc, err := nats.Connect(d.o.natsURL, nats.Timeout(d.o.timeout), nats.NoReconnect())
	if err != nil {
		c.Status, c.Reason = docSkip, "NATS unreachable (see bus)"
		return c
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	msg, err := nc.RequestWithContext(ctx, "lodestone_work.ping", nil)
	switch {
	case errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded):
		c.Status, c.Reason, c.Hint = docWarn, "no worker answers lodestone_work.ping: studies run in the server", "start lodestone worker --nats URL if studies should be distributed"
	case err != nil:
		c.Status, c.Reason = docFail, "ping: "+err.Error()
	default:
		c.Status, c.Reason = docOK, fmt.Sprintf("a worker answers lodestone_work.ping (%q)", string(msg.Data))
	}
	return c
}

func (d *doctor) serverConnectors(ctx context.Context) doctorCheck {
	c := doctorCheck{Name: "connectors"}
	code, body, _, err := d.get(ctx, "/plant/connectors")
	if err == nil && (code == http.StatusUnauthorized || code == http.StatusForbidden) {
		c.Status, c.Reason, c.Hint = docWarn, fmt.Sprintf("GET /plant/connectors: %d: not allowed to read", code), "give --token of a principal with the reader role"
		return c
	}
	if err != nil || code != http.StatusOK {
		c.Status, c.Reason = docFail, fmt.Sprintf("GET /plant/connectors: %d %v", code, err)
		return c
	}
	var list struct {
		Value []connector.Status `json:"value"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		c.Status, c.Reason = docFail, "GET /plant/connectors: "+err.Error()
		return c
	}
	return d.judgeConnectors(list.Value)
}

func (d *doctor) localConnectors(ctx context.Context, st store.Store) doctorCheck {
	docs, err := st.ListDocs(ctx, connector.KindStatus)
	if err != nil {
		return doctorCheck{Name: "connectors", Status: docFail, Reason: "read the status documents: " + err.Error()}
	}
	var list []connector.Status
	for _, doc := range docs {
		var s connector.Status
		if json.Unmarshal(doc.Body, &s) == nil {
			list = append(list, s)
		}
	}
	return d.judgeConnectors(list)
}

// judgeConnectors: a disconnected connector fails; a stale status or a
// p95 lag over connectorLagP95 warns. A disabled one (a connector twin with
// enabled false) is a normal state, named in the reason: its status
// document is written once, when it is stopped, so it is neither judged
// connected nor stale.
func (d *doctor) judgeConnectors(list []connector.Status) doctorCheck {
	c := doctorCheck{Name: "connectors"}
	if len(list) == 0 {
		c.Status, c.Reason = docOK, "no connector configured"
		return c
	}
	var fails, warns, disabled []string
	for _, s := range list {
		switch {
		case s.State == connectorDisabled:
			disabled = append(disabled, s.ID+" disabled")
		case !s.Connected:
			fails = append(fails, fmt.Sprintf("%s not connected (state %s%s)", s.ID, s.State, errSuffix(s.LastError)))
		case d.o.now().Sub(s.Updated) > connectorStale:
			warns = append(warns, fmt.Sprintf("%s status last updated %s ago", s.ID, d.o.now().Sub(s.Updated).Round(time.Second)))
		case s.Latency.N > 0 && s.Latency.P95 > connectorLagP95:
			warns = append(warns, fmt.Sprintf("%s lag p95 %.0f ms", s.ID, s.Latency.P95))
		}
	}
	switch {
	case len(fails) > 0:
		c.Status, c.Reason, c.Hint = docFail, strings.Join(append(append(fails, warns...), disabled...), "; "), "is the broker or OPC UA server up? see GET /plant/connectors and its dead letters"
	case len(warns) > 0:
		c.Status, c.Reason, c.Hint = docWarn, strings.Join(append(warns, disabled...), "; "), "a stale status means the serving process stopped; a long lag means a slow store or a late source clock"
	default:
		c.Status, c.Reason = docOK, strings.Join(append([]string{fmt.Sprintf("%d connected", len(list)-len(disabled))}, disabled...), "; ")
	}
	return c
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// serverLog fetches the served key and checkpoint and verifies the
// signature with it (and with --log-key-pub). A C2SP checkpoint carries
// no time, so freshness is judged by the server's /verify: entries not
// yet in a signed checkpoint give a warning.
func (d *doctor) serverLog(ctx context.Context) doctorCheck {
	c := doctorCheck{Name: "log"}
	code, key, _, err := d.get(ctx, "/log/key")
	if err != nil {
		c.Status, c.Reason = docFail, "GET /log/key: "+err.Error()
		return c
	}
	if code == http.StatusNotFound {
		c.Status, c.Reason, c.Hint = docSkip, "the server keeps no transparency log", "start it with --log-key FILE (lodestone trust keygen)"
		return c
	}
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		c.Status, c.Reason, c.Hint = docWarn, fmt.Sprintf("GET /log/key: %d: not allowed to read the log", code), "give --token of a principal with the auditor or admin role"
		return c
	}
	d.vkey = strings.TrimSpace(string(key))
	code, cp, _, err := d.get(ctx, "/log/checkpoint")
	if err == nil && code == http.StatusNotFound && strings.Contains(string(cp), "LogEmpty") {
		c.Status, c.Reason, c.Hint = docWarn, "the transparency log has no entries yet", "upload models or twins; the log signs a checkpoint of them"
		return c
	}
	if err != nil || code != http.StatusOK {
		c.Status, c.Reason, c.Hint = docFail, fmt.Sprintf("GET /log/checkpoint: %d %v %s", code, err, strings.TrimSpace(string(cp))), "the log signs a checkpoint every second; see the server's log"
		return c
	}
	size, _, err := trust.ParseCheckpoint(cp, d.vkey, "")
	if err != nil {
		c.Status, c.Reason, c.Hint = docFail, "checkpoint does not verify with the served key: "+err.Error(), "the checkpoint was altered in transit or by the server; run lodestone verify on the store"
		return c
	}
	if d.o.logKeyPub != "" {
		pub, err := trust.ReadVKey(d.o.logKeyPub)
		if err == nil {
			_, _, err = trust.ParseCheckpoint(cp, pub, "")
		}
		if err != nil {
			c.Status, c.Reason, c.Hint = docFail, "checkpoint does not verify with --log-key-pub: "+err.Error(), "the server signs with another key than the one you trust"
			return c
		}
	}
	c.Status, c.Reason = docOK, fmt.Sprintf("checkpoint of %d entries verifies with the served key", size)
	code, body, _, err := d.get(ctx, "/verify")
	var rep trust.Report
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		c.Status, c.Reason = docWarn, c.Reason+"; freshness not known (GET /verify did not answer)"
		return c
	}
	if rep.Signed < rep.TreeSize {
		c.Status, c.Reason, c.Hint = docWarn, c.Reason+fmt.Sprintf("; %d of %d entries are signed", rep.Signed, rep.TreeSize), "a checkpoint is signed every second; if this persists see the server's log"
	} else {
		c.Reason += "; it covers all entries"
	}
	if !rep.OK && rep.Signed >= rep.TreeSize {
		c.Status, c.Reason, c.Hint = docFail, c.Reason+fmt.Sprintf("; /verify reports %d mismatches", len(rep.Mismatches)), "run lodestone verify --data DIR --json for the list"
	}
	return c
}

// localLog runs trust.Verify on the store (with --log-key-pub when
// given).
func (d *doctor) localLog(ctx context.Context, st store.Store) doctorCheck {
	c := doctorCheck{Name: "log"}
	if _, err := trust.ReadConfig(ctx, st); errors.Is(err, store.ErrNotFound) {
		c.Status, c.Reason, c.Hint = docSkip, "the store holds no transparency log", "serve it with --log-key FILE"
		return c
	}
	vkey := ""
	if d.o.logKeyPub != "" {
		var err error
		if vkey, err = trust.ReadVKey(d.o.logKeyPub); err != nil {
			c.Status, c.Reason = docFail, "--log-key-pub: "+err.Error()
			return c
		}
	}
	rep, err := trust.Verify(ctx, st, vkey)
	if err != nil {
		c.Status, c.Reason = docFail, "verify: "+err.Error()
		return c
	}
	d.vkey = rep.VKey
	switch {
	case !rep.OK && len(rep.Mismatches) == 1 && rep.Mismatches[0].Kind == trust.Unsigned:
		c.Status, c.Reason, c.Hint = docWarn, fmt.Sprintf("%d of %d entries are signed", rep.Signed, rep.TreeSize), "serve the store again: the log signs the rest"
	case !rep.OK:
		c.Status, c.Reason, c.Hint = docFail, fmt.Sprintf("%d mismatches between the store and its log", len(rep.Mismatches)), "lodestone verify --data DIR lists them"
	default:
		c.Status, c.Reason = docOK, fmt.Sprintf("%d entries, all signed, the store matches its log (key from %s)", rep.TreeSize, rep.KeyFrom)
	}
	return c
}

// clock compares the server's HTTP Date with the local clock at the
// request's midpoint.
func (d *doctor) clock(ctx context.Context) doctorCheck {
	c := doctorCheck{Name: "clock"}
	t0 := d.o.now()
	_, _, h, err := d.get(ctx, "/healthz")
	t1 := d.o.now()
	if err != nil {
		c.Status, c.Reason = docFail, "GET /healthz: "+err.Error()
		return c
	}
	served, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		c.Status, c.Reason = docWarn, "no Date header in the server's answer"
		return c
	}
	skew := served.Sub(t0.Add(t1.Sub(t0) / 2)).Round(time.Second)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	reason := fmt.Sprintf("server clock %+v from local (Date header, 1 s resolution)", skew)
	switch {
	case abs >= clockFail:
		c.Status, c.Reason, c.Hint = docFail, reason, "run NTP (chrony, systemd-timesyncd) on both hosts: telemetry times and as-of queries depend on it"
	case abs >= clockWarn:
		c.Status, c.Reason, c.Hint = docWarn, reason, "run NTP on both hosts"
	default:
		c.Status, c.Reason = docOK, reason
	}
	return c
}

// keys checks the signing key file: readable by its owner only, parses,
// and signs for the key the server serves.
func (d *doctor) keys() doctorCheck {
	c := doctorCheck{Name: "keys"}
	if d.o.logKey == "" {
		c.Status, c.Reason, c.Hint = docSkip, "not checked", "give --log-key FILE to check the signing key's permissions"
		return c
	}
	fi, err := os.Stat(d.o.logKey)
	if err != nil {
		c.Status, c.Reason = docFail, "--log-key: "+err.Error()
		return c
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		c.Status, c.Reason, c.Hint = docFail, fmt.Sprintf("%s has mode %04o: others may read the signing key", d.o.logKey, perm), "chmod 600 "+d.o.logKey
		return c
	}
	signer, err := trust.LoadSigner(d.o.logKey)
	if err != nil {
		c.Status, c.Reason = docFail, "--log-key: "+err.Error()
		return c
	}
	vkey, err := trust.VerifierKey(signer)
	if err != nil {
		c.Status, c.Reason = docFail, "--log-key: "+err.Error()
		return c
	}
	if d.vkey != "" && vkey != d.vkey {
		c.Status, c.Reason, c.Hint = docFail, "the key file's verifier key differs from the log's: "+vkey, "the server runs with another --log-key"
		return c
	}
	c.Status, c.Reason = docOK, fmt.Sprintf("%s: mode %04o, key %s", d.o.logKey, fi.Mode().Perm(), signer.Name())
	if d.vkey != "" {
		c.Reason += ", the log's key"
	}
	return c
}

// redactURL drops the password of a NATS URL from messages.
func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "…@" + u[at+1:]
		}
	}
	return u
}
