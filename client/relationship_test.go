package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"lodestone/client"
	"lodestone/twin"
)

// TestRelationshipRequests checks the method, path, query and headers each
// relationship call sends, and that it decodes the answer.
func TestRelationshipRequests(t *testing.T) {
	at := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		call     func(c *client.Client) error
		method   string
		uri      string
		header   string // "Name: value" the request must carry
		answer   string
		wantBody bool
	}{
		{
			name: "get as of",
			call: func(c *client.Client) error {
				_, err := c.GetRelationship(context.Background(), "a b", "r/1", at)
				return err
			},
			method: "GET", uri: "/digitaltwins/a%20b/relationships/r%2F1?asOf=2025-04-01T00%3A00%3A00Z",
			answer: `{"$relationshipId":"r/1","$sourceId":"a b","$targetId":"t","$relationshipName":"n"}`,
		},
		{
			name: "put create only",
			call: func(c *client.Client) error {
				r, err := c.PutRelationship(context.Background(), twin.Relationship{ID: "r", SourceID: "a", TargetID: "t", Name: "n"}, true)
				if err == nil && r.TargetID != "t" {
					t.Errorf("PutRelationship answer decoded as %+v", r)
				}
				return err
			},
			method: "PUT", uri: "/digitaltwins/a/relationships/r", header: "If-None-Match: *", wantBody: true,
			answer: `{"$relationshipId":"r","$sourceId":"a","$targetId":"t","$relationshipName":"n"}`,
		},
		{
			name:   "delete if match",
			call:   func(c *client.Client) error { return c.DeleteRelationship(context.Background(), "a", "r", `W/"1"`) },
			method: "DELETE", uri: "/digitaltwins/a/relationships/r", header: `If-Match: W/"1"`,
		},
		{
			name: "list by name",
			call: func(c *client.Client) error {
				rs, err := c.Relationships(context.Background(), "a", "feeds")
				if err == nil && len(rs) != 1 {
					t.Errorf("Relationships = %+v, want one", rs)
				}
				return err
			},
			method: "GET", uri: "/digitaltwins/a/relationships?relationshipName=feeds",
			answer: `{"value":[{"$relationshipId":"r","$sourceId":"a","$targetId":"t","$relationshipName":"feeds"}]}`,
		},
		{
			name: "incoming",
			call: func(c *client.Client) error {
				rs, err := c.IncomingRelationships(context.Background(), "t")
				if err == nil && (len(rs) != 1 || rs[0].SourceID != "a") {
					t.Errorf("IncomingRelationships = %+v", rs)
				}
				return err
			},
			method: "GET", uri: "/digitaltwins/t/incomingrelationships",
			answer: `{"value":[{"$relationshipId":"r","$sourceId":"a","$relationshipName":"feeds","$relationshipLink":"/digitaltwins/a/relationships/r"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != tt.method || r.URL.RequestURI() != tt.uri {
					t.Errorf("request %s %s, want %s %s", r.Method, r.URL.RequestURI(), tt.method, tt.uri)
				}
				if tt.header != "" {
					name, value, _ := cut(tt.header)
					if got := r.Header.Get(name); got != value {
						t.Errorf("header %s = %q, want %q", name, got, value)
					}
				}
				if b, _ := io.ReadAll(r.Body); (len(b) > 0) != tt.wantBody {
					t.Errorf("request body %q, want one: %v", b, tt.wantBody)
				}
				if tt.answer == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			if err := tt.call(client.New(srv.URL, nil)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func cut(h string) (string, string, bool) {
	for i := 0; i+1 < len(h); i++ {
		if h[i] == ':' && h[i+1] == ' ' {
			return h[:i], h[i+2:], true
		}
	}
	return h, "", false
}
