package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/api"
	"lodestone/client"
	"lodestone/server"
	"lodestone/twin"
)

// TestErrorMapping checks how answers of a server (or of a proxy in front
// of it) become errors.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		call    func(c *client.Client) error
		want    *client.Error // nil: no *client.Error
		wantErr bool
	}{
		{
			name: "API error with details", status: 400, ctype: "application/json",
			body: `{"error":{"code":"ValidationFailed","type":"bad_data","message":"/capacity: not a double","details":[{"code":"ValidationFailed","message":"not a double","path":"/capacity","rule":"schema-type"}]}}`,
			call: func(c *client.Client) error {
				_, err := c.PatchTwin(context.Background(), "a", twin.Patch{{Op: "add", Path: "/capacity", Value: "x"}}, "")
				return err
			},
			want:    &client.Error{Status: 400, Code: "ValidationFailed", Message: "/capacity: not a double", Details: []api.ErrorDetail{{Code: "ValidationFailed", Message: "not a double", Path: "/capacity", Rule: "schema-type"}}},
			wantErr: true,
		},
		{
			name: "not found", status: 404, ctype: "application/json",
			body: `{"error":{"code":"DigitalTwinNotFound","message":"there is no digital twin with id a"}}`,
			call: func(c *client.Client) error {
				_, err := c.GetTwin(context.Background(), "a", time.Time{})
				return err
			},
			want:    &client.Error{Status: 404, Code: "DigitalTwinNotFound", Message: "there is no digital twin with id a"},
			wantErr: true,
		},
		{
			name: "a proxy's plain-text error", status: 502, ctype: "text/plain", body: "upstream down\n",
			call: func(c *client.Client) error {
				_, err := c.Models(context.Background(), false)
				return err
			},
			want:    &client.Error{Status: 502, Code: "Bad Gateway", Message: "upstream down"},
			wantErr: true,
		},
		{
			name: "JSON without the error shape", status: 500, ctype: "application/json", body: `{"oops":1}`,
			call: func(c *client.Client) error {
				_, err := c.Query(context.Background(), "SELECT * FROM DIGITALTWINS", "")
				return err
			},
			want:    &client.Error{Status: 500, Code: "Internal Server Error", Message: `{"oops":1}`},
			wantErr: true,
		},
		{
			name: "204 into a value", status: 204,
			call: func(c *client.Client) error {
				var out map[string]any
				return c.Do(context.Background(), "PATCH", "/digitaltwins/a", []any{}, &out)
			},
		},
		{
			name: "a success that is not JSON", status: 200, ctype: "text/html", body: "<html>",
			call: func(c *client.Client) error {
				_, err := c.GetTwin(context.Background(), "a", time.Time{})
				return err
			},
			wantErr: true,
		},
		{
			name: "import refused before it ran", status: 409, ctype: "application/json",
			body: `{"error":{"code":"JobAlreadyRunning","message":"import job j is running"}}`,
			call: func(c *client.Client) error {
				_, err := c.Import(context.Background(), strings.NewReader("{}"), 2, false)
				return err
			},
			want:    &client.Error{Status: 409, Code: "JobAlreadyRunning", Message: "import job j is running"},
			wantErr: true,
		},
		{
			name: "import that failed", status: 400, ctype: "application/json",
			body: `{"id":"j","status":"failed","error":{"code":"ValidationFailed","message":"line 3: bad"}}`,
			call: func(c *client.Client) error {
				_, err := c.Import(context.Background(), strings.NewReader("{}"), 2, false)
				return err
			},
			want:    &client.Error{Status: 400, Code: "ValidationFailed", Message: "line 3: bad"},
			wantErr: true,
		},
		{
			name: "import behind a proxy that failed", status: 504, ctype: "text/plain", body: "timeout",
			call: func(c *client.Client) error {
				_, err := c.Import(context.Background(), strings.NewReader("{}"), 2, false)
				return err
			},
			want:    &client.Error{Status: 504, Code: "Gateway Timeout", Message: "timeout"},
			wantErr: true,
		},
		{
			name: "import that succeeded", status: 200, ctype: "application/json",
			body: `{"id":"j","status":"succeeded","twinsCount":3}`,
			call: func(c *client.Client) error {
				job, err := c.Import(context.Background(), strings.NewReader("{}"), 2, false)
				if err == nil && job.TwinsCount != 3 {
					return fmt.Errorf("job %+v", job)
				}
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			err := tt.call(client.New(srv.URL+"/", nil))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			}
			var ce *client.Error
			if got := errors.As(err, &ce); got != (tt.want != nil) {
				t.Fatalf("errors.As(%v, *client.Error) = %v, want %v", err, got, tt.want != nil)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, ce); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				if !strings.Contains(ce.Error(), tt.want.Code) {
					t.Errorf("Error() = %q does not name the code", ce.Error())
				}
			}
		})
	}
}

const ownerModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Owner;1","@type":"Interface","contents":[
	{"@type":"Property","name":"name","schema":"string","writable":true},
	{"@type":"Property","name":"shares","schema":"double","writable":true}]}`

// startServer runs a whole server on a loopback port.
func startServer(t *testing.T) *client.Client {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
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
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return client.New(s.URL(), nil)
}

// TestClientAgainstServer runs the client's methods against a real server
// and checks the errors the API's answers map to.
func TestClientAgainstServer(t *testing.T) {
	c := startServer(t)
	ctx := t.Context()
	if _, err := c.UploadModels(ctx, []json.RawMessage{json.RawMessage(ownerModel)}); err != nil {
		t.Fatal(err)
	}
	code := func(err error) string {
		var ce *client.Error
		if errors.As(err, &ce) {
			return fmt.Sprintf("%d %s", ce.Status, ce.Code)
		}
		return fmt.Sprint(err)
	}
	tw := twin.Twin{ID: "o1", Metadata: twin.Metadata{Model: "dtmi:test:Owner;1"}, Properties: map[string]any{"name": "a"}}
	put, err := c.PutTwin(ctx, tw, true)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		call func() error
		want string // "" for success, else "status code"
	}{
		{"create-only again", func() error { _, err := c.PutTwin(ctx, tw, true); return err }, "412 PreconditionFailed"},
		{"upload the model again", func() error {
			_, err := c.UploadModels(ctx, []json.RawMessage{json.RawMessage(ownerModel)})
			return err
		}, "409 ModelIdAlreadyExists"},
		{"get a missing twin", func() error { _, err := c.GetTwin(ctx, "nope", time.Time{}); return err }, "404 DigitalTwinNotFound"},
		{"invalid patch", func() error {
			_, err := c.PatchTwin(ctx, "o1", twin.Patch{{Op: "add", Path: "/shares", Value: "many"}}, "")
			return err
		}, "400 ValidationFailed"},
		{"stale If-Match", func() error {
			_, err := c.PatchTwin(ctx, "o1", twin.Patch{{Op: "add", Path: "/shares", Value: 1}}, `W/"stale"`)
			return err
		}, "412 PreconditionFailed"},
		{"patch under the current ETag", func() error {
			etag, err := c.PatchTwin(ctx, "o1", twin.Patch{{Op: "add", Path: "/shares", Value: 1}}, put.ETag)
			if err == nil && (etag == "" || etag == put.ETag) {
				return fmt.Errorf("ETag after patch %q, before %q", etag, put.ETag)
			}
			return err
		}, ""},
		{"bad query", func() error { _, err := c.Query(ctx, "SELEKT", ""); return err }, "400 QueryParseError"},
		{"missing job", func() error { _, err := c.ImportJob(ctx, "nope"); return err }, "404 JobNotFound"},
		{"failed import", func() error {
			_, err := c.Import(ctx, strings.NewReader(`{"Section":"Twins"}`+"\n"+`{"$dtId":"x","$metadata":{"$model":"dtmi:nope:X;1"}}`+"\n"), -1, false)
			return err
		}, "400 ValidationFailed"},
		{"delete a missing twin", func() error { return c.DeleteTwin(ctx, "nope") }, "404 DigitalTwinNotFound"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := s.call()
			got := ""
			if err != nil {
				got = code(err)
			}
			if got != s.want {
				t.Errorf("error = %q (%v), want %q", got, err, s.want)
			}
		})
	}

	got, err := c.GetTwin(ctx, "o1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties["shares"] != 1.0 || got.Properties["name"] != "a" {
		t.Errorf("GetTwin = %+v", got.Properties)
	}
	old, err := c.GetTwin(ctx, "o1", put.Metadata.LastUpdateTime)
	if err != nil || old.Properties["shares"] != nil {
		t.Errorf("GetTwin as of the create = %+v, %v; want no shares", old.Properties, err)
	}
	hist, err := c.History(ctx, "o1")
	if err != nil || len(hist) != 2 {
		t.Errorf("History = %d entries, %v; want 2", len(hist), err)
	}
	for i := range 5 {
		if _, err := c.PutTwin(ctx, twin.Twin{ID: twin.ID(fmt.Sprintf("q%d", i)), Metadata: twin.Metadata{Model: "dtmi:test:Owner;1"}}, false); err != nil {
			t.Fatal(err)
		}
	}
	rows := 0
	if err := c.QueryAll(ctx, "SELECT T.$dtId FROM DIGITALTWINS T", func(p api.QueryResponse) error {
		rows += len(p.Value)
		return nil
	}); err != nil || rows != 6 {
		t.Errorf("QueryAll = %d rows, %v; want 6", rows, err)
	}
	var exp strings.Builder
	if err := c.Export(ctx, &exp, time.Time{}); err != nil {
		t.Fatal(err)
	}
	c2 := startServer(t)
	job, err := c2.Import(ctx, strings.NewReader(exp.String()), int64(exp.Len()), false)
	if err != nil || job.TwinsCount != 6 || job.ModelsCount != 1 {
		t.Errorf("Import of the export = %+v, %v", job, err)
	}
	if j, err := c2.ImportJob(ctx, job.ID); err != nil || j.Status != "succeeded" {
		t.Errorf("ImportJob(%s) = %+v, %v", job.ID, j, err)
	}
	if err := c.DeleteTwin(ctx, "o1"); err != nil {
		t.Error(err)
	}
}
