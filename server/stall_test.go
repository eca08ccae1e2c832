package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// tankModel and pumpModel are the small models of the stall tests.
const (
	tankModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Tank;1","@type":"Interface",` +
		`"contents":[{"@type":"Property","name":"level","schema":"double","writable":true}]}`
	pumpModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Pump;1","@type":"Interface",` +
		`"contents":[{"@type":"Property","name":"speed","schema":"double","writable":true}]}`
)

// startWith runs a whole server (SQLite, embedded NATS) on a loopback port
// with its options edited by edit, and uploads tankModel.
func startWith(t *testing.T, edit func(*server.Options)) *server.Server {
	t.Helper()
	s := startServer(t, edit)
	call(t, "POST", s.URL()+"/models", "["+tankModel+"]", 201)
	return s
}

// stall opens a raw connection that sends the headers of a request with a
// Content-Length of 1 MiB, and then no body. The caller closes it.
func stall(t *testing.T, s *server.Server, method, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ct := "application/json"
	if strings.HasPrefix(path, "/jobs/imports") {
		ct = "application/x-ndjson"
	}
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: lodestone\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", method, path, ct, 1<<20); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

// jobStatus returns the status and error code of an import job ("" when
// there is no such job yet).
func jobStatus(t *testing.T, s *server.Server, id string) (status, code string) {
	t.Helper()
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	r, err := send(ctx, http.DefaultClient, "GET", s.URL()+"/jobs/imports/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Status string `json:"status"`
		Error  *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if r.status != http.StatusOK {
		return "", ""
	}
	if err := json.Unmarshal(r.body, &j); err != nil {
		t.Fatal(err)
	}
	if j.Error != nil {
		code = j.Error.Code
	}
	return j.Status, code
}

// waitJob polls an import job until its status is want.
func waitJob(t *testing.T, s *server.Server, id, want string) (code string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, code := jobStatus(t, s, id)
		if status == want {
			return code
		}
		if time.Now().After(deadline) {
			t.Fatalf("import job %s is %q, want %q", id, status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStalledImportHoldsNoLock holds an import open that sent its headers
// and none of its body, and makes every kind of write while it waits:
// the import must hold no lock (models, store transaction) that they need.
// The read timeout is the default, far longer than the test, so the stall
// lasts until the test ends it.
func TestStalledImportHoldsNoLock(t *testing.T) {
	s := startWith(t, func(*server.Options) {})
	u := s.URL()
	c := stall(t, s, "PUT", "/jobs/imports/stalled")
	defer c.Close()
	waitJob(t, s, "stalled", "running")

	// A generous bound: on a noisy machine these take milliseconds; behind
	// the stall they would wait for the read timeout (a minute).
	ctx, cancel := contextWithTimeout(15 * time.Second)
	defer cancel()
	client := &http.Client{}
	writes := []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/digitaltwins/t1", `{"$metadata":{"$model":"dtmi:test:Tank;1"},"level":1}`, 200},
		{"PATCH", "/digitaltwins/t1", `[{"op":"replace","path":"/level","value":2}]`, 204},
		{"POST", "/models", "[" + pumpModel + "]", 201},
		{"PUT", "/digitaltwins/p1", `{"$metadata":{"$model":"dtmi:test:Pump;1"},"speed":3}`, 200},
	}
	for _, w := range writes {
		r, err := send(ctx, client, w.method, u+w.path, []byte(w.body))
		if err != nil {
			t.Fatalf("%s %s while an import stalls: %v", w.method, w.path, err)
		}
		if r.status != w.want {
			t.Fatalf("%s %s while an import stalls = %d %s, want %d", w.method, w.path, r.status, r.body, w.want)
		}
	}
	// The writes finished while the stall was held: the job still waits.
	if status, _ := jobStatus(t, s, "stalled"); status != "running" {
		t.Fatalf("stalled import is %q after the writes, want running", status)
	}
	// A client that goes away fails its job; nothing was imported.
	c.Close()
	waitJob(t, s, "stalled", "failed")
	var list struct{ Value []json.RawMessage }
	json.Unmarshal(call(t, "GET", u+"/models", "", 200), &list)
	if len(list.Value) != 2 {
		t.Errorf("GET /models lists %d models, want 2 (Tank, Pump)", len(list.Value))
	}
}

// TestStalledRequestsAreCutOff checks that short read and write timeouts
// cut off stalled request bodies, that they do not cut an event stream
// that stays quiet for longer than the write timeout, and that a bulk
// import whose body keeps coming may take longer than the read timeout.
func TestStalledRequestsAreCutOff(t *testing.T) {
	const timeout = 2 * time.Second
	s := startWith(t, func(o *server.Options) {
		o.HTTPReadTimeout = server.Duration(timeout)
		o.HTTPWriteTimeout = server.Duration(timeout)
	})
	u := s.URL()

	// An event stream opened now stays quiet while the stalls below are
	// cut off, which takes longer than the write timeout.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := bufio.NewReader(res.Body)
	if line, err := events.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("GET /events first line %q, %v; want the opening comment", line, err)
	}
	opened := time.Now()

	tests := []struct {
		name, method, path string
		answer             string // the status line's start, if the server must answer
		job                string // the import job the stall fails
	}{
		{name: "import", method: "PUT", path: "/jobs/imports/cut", answer: "HTTP/1.1 408 ", job: "cut"},
		{name: "import with a generated id", method: "POST", path: "/jobs/imports", answer: "HTTP/1.1 408 "},
		{name: "twin", method: "PUT", path: "/digitaltwins/t1"},
		{name: "models", method: "POST", path: "/models"},
	}
	t.Run("stalls", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				c := stall(t, s, tt.method, tt.path)
				defer c.Close()
				// The server answers (408 for an import) or closes the
				// connection; either way it stops waiting. The bound is far
				// above the timeout.
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				b, err := io.ReadAll(c)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("%s %s: the server still waits for the body after 30 s (read timeout %v)", tt.method, tt.path, timeout)
				}
				if !strings.HasPrefix(string(b), tt.answer) {
					t.Errorf("%s %s answered %q, want %q", tt.method, tt.path, firstLine(b), tt.answer)
				}
				if tt.job != "" {
					if code := waitJob(t, s, tt.job, "failed"); code != "RequestTimeout" {
						t.Errorf("job %s failed with %q, want RequestTimeout", tt.job, code)
					}
				}
			})
		}
	})

	// The event stream outlived the write timeout and still delivers.
	if quiet := time.Since(opened); quiet < timeout {
		t.Fatalf("the event stream was quiet for only %v, want longer than the write timeout %v", quiet, timeout)
	}
	call(t, "PUT", u+"/digitaltwins/t2", `{"$metadata":{"$model":"dtmi:test:Tank;1"},"level":1}`, 200)
	stop := time.AfterFunc(30*time.Second, cancel) // a bound, should the event never come
	defer stop.Stop()
	for {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream after %v: %v", time.Since(opened), err)
		}
		if strings.HasPrefix(line, "data:") && strings.Contains(line, "t2") {
			break
		}
	}

	// A bulk import whose body trickles in for longer than the read timeout
	// succeeds: on the import routes the timeout bounds each pause.
	body := importBody(`{"$dtId":"t3","$metadata":{"$model":"dtmi:test:Tank;1"},"level":3}`)
	pr, pw := io.Pipe()
	go func() {
		// Pauses of a twentieth of the timeout, for longer than it.
		pause := timeout / 20
		chunk := len(body)/30 + 1
		for i := 0; i < len(body); i += chunk {
			if _, err := io.WriteString(pw, body[i:min(i+chunk, len(body))]); err != nil {
				return
			}
			time.Sleep(pause)
		}
		pw.Close()
	}()
	ictx, icancel := contextWithTimeout(60 * time.Second)
	defer icancel()
	ireq, _ := http.NewRequestWithContext(ictx, "PUT", u+"/jobs/imports/trickle", pr)
	ireq.Header.Set("Content-Type", "application/x-ndjson")
	start := time.Now()
	ires, err := http.DefaultClient.Do(ireq)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(ires.Body)
	ires.Body.Close()
	if ires.StatusCode != 200 {
		t.Fatalf("PUT /jobs/imports/trickle = %d %s, want 200", ires.StatusCode, b)
	}
	if took := time.Since(start); took < timeout {
		t.Errorf("the trickled import took %v, not longer than the read timeout %v: the test proves nothing", took, timeout)
	}
	call(t, "GET", u+"/digitaltwins/t3", "", 200)
}

// importBody is an import file of twins of the models already uploaded.
func importBody(twins ...string) string {
	var b strings.Builder
	b.WriteString(`{"Section":"Header"}` + "\n" + `{"fileVersion":"1.0.0","author":"test","organization":"test"}` + "\n")
	b.WriteString(`{"Section":"Twins"}` + "\n")
	for _, t := range twins {
		b.WriteString(t + "\n")
	}
	return b.String()
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\r\n")
	return s
}
