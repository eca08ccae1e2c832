package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"lodestone/models"
	"lodestone/server"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// startServer runs a whole server on a loopback port in a fresh data
// directory (SQLite and embedded NATS unless edit says otherwise) and shuts
// it down when the test ends.
func startServer(t testing.TB, edit func(*server.Options)) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	if edit != nil {
		edit(&o)
	}
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := contextWithTimeout(30 * time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// reply is an HTTP response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request with a JSON (or JSON Patch, for PATCH) body and
// reads the whole response. hdr adds headers as name, value pairs.
func send(ctx context.Context, c *http.Client, method, url string, body []byte, hdr ...string) (reply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/json-patch+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}, nil
}

// ontologyBody is the bundled ontology as the body of POST /models.
func ontologyBody() []byte {
	var raws []json.RawMessage
	for _, f := range models.Files() {
		raws = append(raws, json.RawMessage(f.Data))
	}
	b, err := json.Marshal(raws)
	if err != nil {
		panic(err) // the bundled files are valid JSON
	}
	return b
}

// mustJSON marshals v, which the tests build from plain maps and slices.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// fastClient is an HTTP client that keeps enough idle connections for the
// parallel clients of the benchmarks and the crash test.
func fastClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
