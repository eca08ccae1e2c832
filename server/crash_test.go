package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/api"
	"lodestone/event"
	"lodestone/pipeline"
	"lodestone/store"
)

// The crash test runs the real binary (lodestone serve), streams writes and
// telemetry into it from several goroutines, kills it with SIGKILL in the
// middle of the stream, restarts it on the same data directory and checks
// that every acknowledged write, telemetry point and event survived, and
// that nothing is half-written.

const (
	crashWriters     = 4
	crashTwinsPerW   = 3
	crashHubs        = 2
	crashModel       = "dtmi:lodestone:Warehouse;1"
	crashMinAcks     = 2000             // acknowledged operations before the kill
	crashMinAcksRace = 400              // the same under -race, which is ~10× slower
	crashMaxStream   = 15 * time.Second // kill by then whatever the count
	crashEventsWait  = 30 * time.Second
	crashStartupWait = 60 * time.Second
)

// buildLodestone builds cmd/lodestone into dir and returns the binary.
func buildLodestone(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "lodestone")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "lodestone/cmd/lodestone")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(t.Context(), goBin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build lodestone: %v\n%s", err, out)
	}
	return bin
}

// proc is a server process.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	done   chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingRE = regexp.MustCompile(`serving at (http://\S+?)/? `)

// startServe runs `lodestone serve` on a loopback port over data and waits
// until it prints its URL.
func startServe(t *testing.T, bin, data string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", "127.0.0.1:0", "--webhook-allow", "127.0.0.0/8") // the webhook receiver is on loopback
	cmd.Env = append(os.Environ(), "GORACE=halt_on_error=1")
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	select {
	case p.url = <-urls:
	case <-p.done:
		t.Fatalf("lodestone serve exited before serving: %s", p.stderr)
	case <-time.After(crashStartupWait):
		t.Fatalf("lodestone serve did not print its URL within %v: %s", crashStartupWait, p.stderr)
	}
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-p.done
}

// crashTwin is what one writer knows about one of its twins: the state
// after its last acknowledged write and, when a write was in flight at the
// kill, the state that write would have made.
type crashTwin struct {
	id               string
	acked, inflight  map[string]any
	hasInflight      bool
	relAcked         map[string]any // properties of its relationship; nil before the first ack
	relInflight      map[string]any
	relHasInflight   bool
	ackedTelemetry   []string // message ids
	expectEvents     []string // ids of the events of acknowledged changes
	expectTelemetryE []string // message ids whose telemetry events must be on the bus
}

// crashWriter streams operations on its own twins until stop is closed or
// a request fails (the kill). Every write is sequential per writer, so the
// stored state after recovery is the acknowledged one or that of the single
// write in flight.
type crashWriter struct {
	w     int
	twins []*crashTwin
	acks  *atomic.Int64
	err   error // an unexpected response before the kill
}

func (cw *crashWriter) run(ctx context.Context, c *http.Client, base string, stop <-chan struct{}) {
	created := make([]bool, len(cw.twins))
	relCreated := make([]bool, len(cw.twins))
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		k := (i / 4) % len(cw.twins)
		tw := cw.twins[k]
		var (
			method, path string
			body         []byte
			hdr          []string
			next         map[string]any
			op           store.ChangeOp
		)
		switch i % 4 {
		case 0: // replace the whole twin
			next = map[string]any{"name": fmt.Sprintf("writer %d twin %d", cw.w, k), "capacityTonnesPerYear": float64(i)}
			doc := maps.Clone(next)
			doc["$metadata"] = map[string]any{"$model": crashModel}
			method, path, body = http.MethodPut, "/digitaltwins/"+tw.id, mustJSON(doc)
			op = store.OpReplace
			if !created[k] {
				op = store.OpCreate
			}
		case 1: // validated patch
			next = maps.Clone(tw.acked)
			next["inventoryTonnes"] = float64(i)
			method, path = http.MethodPatch, "/digitaltwins/"+tw.id
			body = mustJSON([]map[string]any{{"op": "add", "path": "/inventoryTonnes", "value": i}})
			op = store.OpPatch
		case 2: // relationship create or replace
			next = map[string]any{"tonnesPerYear": float64(i), "materialCode": "NdPr-oxide"}
			rel := maps.Clone(next)
			rel["$targetId"] = fmt.Sprintf("crash-hub-%d", k%crashHubs)
			rel["$relationshipName"] = "feeds"
			method, path, body = http.MethodPut, "/digitaltwins/"+tw.id+"/relationships/feeds-hub", mustJSON(rel)
			op = store.OpReplace
			if !relCreated[k] {
				op = store.OpCreate
			}
		case 3: // telemetry
			msg := fmt.Sprintf("w%d-%d", cw.w, i)
			method, path = http.MethodPost, "/digitaltwins/"+tw.id+"/telemetry"
			body = mustJSON(map[string]any{"outputRate": float64(i)})
			hdr = []string{"Message-Id", msg}
		}
		res, err := send(ctx, c, method, base+path, body, hdr...)
		if err != nil {
			// The server is gone: this write may or may not have landed.
			switch i % 4 {
			case 0, 1:
				tw.inflight, tw.hasInflight = next, true
			case 2:
				tw.relInflight, tw.relHasInflight = next, true
			}
			return
		}
		want := http.StatusOK
		if method == http.MethodPatch || i%4 == 3 {
			want = http.StatusNoContent
		}
		if res.status != want {
			cw.err = fmt.Errorf("%s %s = %d %s, want %d", method, path, res.status, res.body, want)
			return
		}
		etag := res.header.Get("ETag")
		switch i % 4 {
		case 0, 1:
			tw.acked = next
			created[k] = true
			tw.expectEvents = append(tw.expectEvents, changeEventID(store.KindTwin, op, tw.id, etag))
		case 2:
			tw.relAcked = next
			relCreated[k] = true
			tw.expectEvents = append(tw.expectEvents, changeEventID(store.KindRelationship, op, event.RelationshipSubject(tw.id, "feeds-hub"), etag))
		case 3:
			tw.ackedTelemetry = append(tw.ackedTelemetry, hdr[1])
		}
		cw.acks.Add(1)
	}
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a server process; skipped with -short")
	}
	ctx := t.Context()
	bin := buildLodestone(t, t.TempDir())
	data := t.TempDir()
	c := fastClient()

	p := startServe(t, bin, data)
	mustStatus(t, ctx, c, http.MethodPost, p.url+"/models", ontologyBody(), http.StatusCreated)
	for h := range crashHubs {
		doc := map[string]any{"$metadata": map[string]any{"$model": crashModel}, "name": fmt.Sprintf("hub %d", h)}
		mustStatus(t, ctx, c, http.MethodPut, fmt.Sprintf("%s/digitaltwins/crash-hub-%d", p.url, h), mustJSON(doc), http.StatusOK)
	}

	// A webhook route, to check that routes survive the crash and deliver.
	var hookMu sync.Mutex
	hooked := map[string]bool{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Subject string }
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &ev)
		hookMu.Lock()
		hooked[ev.Subject] = true
		hookMu.Unlock()
	}))
	defer hook.Close()
	mustStatus(t, ctx, c, http.MethodPut, p.url+"/endpoints/hook", mustJSON(map[string]string{"kind": "webhook", "url": hook.URL}), http.StatusOK)
	mustStatus(t, ctx, c, http.MethodPut, p.url+"/eventroutes/created", []byte(`{"endpointName":"hook","filter":"type=lodestone.twin.created&subject=after-*"}`), http.StatusNoContent)

	var acks atomic.Int64
	writers := make([]*crashWriter, crashWriters)
	for w := range writers {
		cw := &crashWriter{w: w, acks: &acks}
		for k := range crashTwinsPerW {
			cw.twins = append(cw.twins, &crashTwin{id: fmt.Sprintf("crash-w%d-t%d", w, k), acked: map[string]any{}})
		}
		writers[w] = cw
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, cw := range writers {
		wg.Go(func() { cw.run(ctx, c, p.url, stop) })
	}
	// Kill in the middle of the stream, once enough writes are in.
	began := time.Now()
	deadline := began.Add(crashMaxStream)
	minAcks := int64(crashMinAcks)
	if raceEnabled {
		minAcks = crashMinAcksRace
	}
	for acks.Load() < minAcks && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.kill(t)
	wg.Wait()
	close(stop)
	for _, cw := range writers {
		if cw.err != nil {
			t.Fatalf("writer %d before the kill: %v", cw.w, cw.err)
		}
	}
	t.Logf("killed the server after %d acknowledged operations in %v", acks.Load(), time.Since(began).Round(time.Millisecond))
	if acks.Load() < crashWriters*4 {
		t.Fatalf("only %d operations were acknowledged before the kill; the server is too slow to test", acks.Load())
	}

	p2 := startServe(t, bin, data)
	var expectEvents []string
	telemetryEvents := map[string][]string{} // twin → message ids
	committed := 0
	for _, cw := range writers {
		for _, tw := range cw.twins {
			checkCrashTwin(t, ctx, c, p2.url, tw)
			expectEvents = append(expectEvents, tw.expectEvents...)
			telemetryEvents[tw.id] = tw.ackedTelemetry
			// Every committed change of the twin, acknowledged or not,
			// must have its event: the history lists them all.
			ids := committedTwinEvents(t, ctx, c, p2.url, tw.id)
			committed += len(ids)
			expectEvents = append(expectEvents, ids...)
		}
	}
	t.Logf("checked %d twins, their relationships and telemetry; waiting for the events of %d acknowledged changes and of %d committed twin changes", crashWriters*crashTwinsPerW, len(expectEvents)-committed, committed)
	checkEvents(t, ctx, p2.url, expectEvents, telemetryEvents)

	// The route survived the crash and delivers what is written now.
	doc := map[string]any{"$metadata": map[string]any{"$model": crashModel}, "name": "after the crash"}
	mustStatus(t, ctx, c, http.MethodPut, p2.url+"/digitaltwins/after-crash", mustJSON(doc), http.StatusOK)
	for deadline := time.Now().Add(30 * time.Second); ; {
		hookMu.Lock()
		ok := hooked["after-crash"]
		hookMu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Error("the webhook route made before the crash delivered nothing after the restart")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if t.Failed() {
		t.Logf("stderr of the restarted server:\n%s", p2.stderr)
	}
}

// changeEventID is the id of the event of a change, as the write pipeline
// derives it from the change's outbox record.
func changeEventID(kind store.Kind, op store.ChangeOp, subject, etag string) string {
	return pipeline.EventOf("", store.Record{Kind: kind, Op: op, Subject: subject, Key: etag}).ID
}

// committedTwinEvents returns the event ids of every change in a twin's
// history.
func committedTwinEvents(t *testing.T, ctx context.Context, c *http.Client, base, id string) []string {
	t.Helper()
	res := mustStatus(t, ctx, c, http.MethodGet, base+"/digitaltwins/"+id+"/history", nil, http.StatusOK)
	var h api.HistoryList
	if err := json.Unmarshal(res.body, &h); err != nil {
		t.Fatalf("history of %s: %v", id, err)
	}
	var ids []string
	for _, e := range h.Value {
		op := store.OpCreate
		switch {
		case e.Kind == "delete":
			continue // the crash test deletes nothing
		case e.Kind == "update" && e.Patch != nil:
			op = store.OpPatch
		case e.Kind == "update":
			op = store.OpReplace
		}
		if e.Twin == nil {
			t.Fatalf("history of %s: entry %d has no twin", id, e.Sequence)
		}
		ids = append(ids, changeEventID(store.KindTwin, op, id, string(e.Twin.ETag)))
	}
	return ids
}

func mustStatus(t *testing.T, ctx context.Context, c *http.Client, method, url string, body []byte, want int) reply {
	t.Helper()
	res, err := send(ctx, c, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if res.status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, url, res.status, res.body, want)
	}
	return res
}

// userProps drops the $-prefixed members of a twin or relationship.
func userProps(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if !strings.HasPrefix(k, "$") {
			out[k] = v
		}
	}
	return out
}

// checkCrashTwin checks one twin after the restart: its properties are the
// acknowledged state or the in-flight one, its ETag is consistent, it still
// validates against its model, its history ends in its current state, its
// relationship holds the acknowledged properties and every acknowledged
// telemetry point is stored.
func checkCrashTwin(t *testing.T, ctx context.Context, c *http.Client, base string, tw *crashTwin) {
	t.Helper()
	if len(tw.acked) == 0 && !tw.hasInflight {
		return // never written
	}
	res, err := send(ctx, c, http.MethodGet, base+"/digitaltwins/"+tw.id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.status == http.StatusNotFound && len(tw.acked) == 0 {
		return // its creation was in flight and did not land: allowed
	}
	if res.status != http.StatusOK {
		t.Errorf("GET twin %s after restart = %d %s", tw.id, res.status, res.body)
		return
	}
	var got map[string]any
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatalf("twin %s: %v", tw.id, err)
	}
	props := userProps(got)
	if d := cmp.Diff(tw.acked, props); d != "" {
		if !tw.hasInflight || !cmp.Equal(tw.inflight, props) {
			t.Errorf("twin %s after restart is neither the acknowledged state nor the in-flight one (-acked +got):\n%s", tw.id, d)
		}
	}
	if etag := res.header.Get("ETag"); etag == "" || etag != got["$etag"] {
		t.Errorf("twin %s: ETag header %q, $etag %v", tw.id, etag, got["$etag"])
	}
	// The stored twin validates: a conditional no-op patch re-validates the
	// whole twin against its model and needs the ETag to be current.
	etag := res.header.Get("ETag")
	patch := mustJSON([]map[string]any{{"op": "replace", "path": "/name", "value": props["name"]}})
	if pr, err := send(ctx, c, http.MethodPatch, base+"/digitaltwins/"+tw.id, patch, "If-Match", etag); err != nil || pr.status != http.StatusNoContent {
		t.Errorf("PATCH twin %s If-Match its ETag after restart = %d %s, %v", tw.id, pr.status, pr.body, err)
	}
	// Its history ends in the state it had before that patch.
	hres, err := send(ctx, c, http.MethodGet, base+"/digitaltwins/"+tw.id+"/history", nil)
	if err != nil || hres.status != http.StatusOK {
		t.Errorf("history of %s = %d %s, %v", tw.id, hres.status, hres.body, err)
	} else {
		var h struct {
			Value []struct {
				Kind string
				Twin map[string]any
			}
		}
		json.Unmarshal(hres.body, &h)
		if n := len(h.Value); n < 2 {
			t.Errorf("history of %s has %d entries", tw.id, n)
		} else if d := cmp.Diff(props, userProps(h.Value[n-2].Twin)); d != "" {
			t.Errorf("history of %s does not end in its state before the check (-twin +history):\n%s", tw.id, d)
		}
	}

	if tw.relAcked != nil || tw.relHasInflight {
		rres, err := send(ctx, c, http.MethodGet, base+"/digitaltwins/"+tw.id+"/relationships/feeds-hub", nil)
		switch {
		case err != nil:
			t.Fatal(err)
		case rres.status == http.StatusNotFound && tw.relAcked == nil:
		case rres.status != http.StatusOK:
			t.Errorf("GET relationship of %s = %d %s", tw.id, rres.status, rres.body)
		default:
			var rel map[string]any
			json.Unmarshal(rres.body, &rel)
			rp := userProps(rel)
			if d := cmp.Diff(tw.relAcked, rp); d != "" && (!tw.relHasInflight || !cmp.Equal(tw.relInflight, rp)) {
				t.Errorf("relationship of %s after restart (-acked +got):\n%s", tw.id, d)
			}
			if etag := rres.header.Get("ETag"); etag == "" || etag != rel["$etag"] {
				t.Errorf("relationship of %s: ETag header %q, $etag %v", tw.id, etag, rel["$etag"])
			}
		}
	}

	if len(tw.ackedTelemetry) > 0 {
		tres, err := send(ctx, c, http.MethodGet, base+"/digitaltwins/"+tw.id+"/telemetry?name=outputRate", nil)
		if err != nil || tres.status != http.StatusOK {
			t.Fatalf("telemetry of %s = %d %s, %v", tw.id, tres.status, tres.body, err)
		}
		var pts struct {
			Value []struct{ MessageID string }
		}
		json.Unmarshal(tres.body, &pts)
		stored := map[string]bool{}
		for _, p := range pts.Value {
			stored[p.MessageID] = true
		}
		for _, id := range tw.ackedTelemetry {
			if !stored[id] {
				t.Errorf("acknowledged telemetry %s of %s is not stored after restart", id, tw.id)
			}
		}
	}
}

// checkEvents reads the whole event stream from its start and waits until
// every expected event id (and every acknowledged telemetry message) is
// there.
func checkEvents(t *testing.T, ctx context.Context, base string, want []string, telemetry map[string][]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, crashEventsWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events?lastEventId=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /events = %d", res.StatusCode)
	}
	missing := map[string]string{}
	for _, id := range want {
		missing[id] = "change event " + id
	}
	pendingTelemetry := telemetry
	source := ""
	seenIDs := map[string]int{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := 0
	for len(missing) > 0 || pendingTelemetry != nil {
		if !sc.Scan() {
			break
		}
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev event.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("event stream: %v", err)
			continue
		}
		seen++
		if seenIDs[ev.ID]++; seenIDs[ev.ID] == 2 {
			t.Errorf("event %s (%s %s) is on the bus twice", ev.ID, ev.Type, ev.Subject)
		}
		delete(missing, ev.ID)
		if source == "" {
			// Telemetry ids need the instance's source, taken from the
			// first event.
			source = ev.Source
			for tw, ids := range pendingTelemetry {
				for _, m := range ids {
					id := event.TelemetryID(source, tw, m)
					missing[id] = "telemetry event " + tw + " " + m
				}
			}
			pendingTelemetry = nil
			delete(missing, ev.ID)
		}
	}
	t.Logf("read %d events from the start of the bus", seen)
	if len(missing) > 0 {
		n := 0
		for _, what := range missing {
			if n++; n <= 10 {
				t.Errorf("after restart the bus lacks the %s (read %d events)", what, seen)
			}
		}
		t.Errorf("%d acknowledged changes have no event on the bus", len(missing))
	}
}

// TestCrashDuringImport kills the server while an import job is writing:
// the job is all or nothing, so after the restart none of its twins or
// relationships may be there, and the same file then imports whole. The
// server reads the whole body before the import starts (a client cannot
// hold the import's locks), so the file is large enough for the import to
// last seconds, and the kill comes once the job has processed lines.
func TestCrashDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a server process; skipped with -short")
	}
	const n = 50000
	ctx := t.Context()
	bin := buildLodestone(t, t.TempDir())
	data := t.TempDir()
	c := fastClient()
	p := startServe(t, bin, data)
	mustStatus(t, ctx, c, http.MethodPost, p.url+"/models", ontologyBody(), http.StatusCreated)

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeImport(pw, "imp", n, true)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.url+"/jobs/imports/crash", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	sent := make(chan error, 1)
	go func() {
		res, err := c.Do(req)
		if err == nil {
			res.Body.Close()
			err = fmt.Errorf("import answered %d before the kill", res.StatusCode)
		}
		sent <- err
	}()
	deadline := time.Now().Add(crashMaxStream)
	for {
		var job struct {
			Status         string
			ProcessedLines int
		}
		if res, err := send(ctx, c, http.MethodGet, p.url+"/jobs/imports/crash", nil); err == nil && res.status == http.StatusOK {
			json.Unmarshal(res.body, &job)
		}
		if job.Status != "" && job.Status != "running" {
			t.Fatalf("the import job %s before the kill; make the file larger", job.Status)
		}
		if job.ProcessedLines > 0 {
			t.Logf("killing the server with the import job %s at line %d of %d", job.Status, job.ProcessedLines, 3*n+5)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import job processed %d lines in %v", job.ProcessedLines, crashMaxStream)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill(t)
	if err := <-sent; err == nil || strings.Contains(err.Error(), "answered") {
		t.Fatalf("import request: %v", err)
	}

	p2 := startServe(t, bin, data)
	mustStatus(t, ctx, c, http.MethodGet, p2.url+"/digitaltwins/imp-0", nil, http.StatusNotFound)
	for _, q := range []string{
		`SELECT COUNT() FROM DIGITALTWINS`,
		`SELECT COUNT() FROM RELATIONSHIPS`,
	} {
		res := mustStatus(t, ctx, c, http.MethodPost, p2.url+"/query", mustJSON(map[string]string{"query": q}), http.StatusOK)
		var out struct{ Value []map[string]any }
		json.Unmarshal(res.body, &out)
		if len(out.Value) != 1 || out.Value[0]["COUNT"] != 0.0 {
			t.Errorf("after a kill in the middle of an import, %s = %s, want 0", q, res.body)
		}
	}
	// The store is whole: the same file imports completely.
	if err := importFile(ctx, c, p2.url, "again", "imp", n, true); err != nil {
		t.Fatalf("import after the restart: %v", err)
	}
}
