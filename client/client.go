package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"lodestone/api"
	"lodestone/twin"
)

// Client talks to one Lodestone server. It is safe for concurrent use.
type Client struct {
	base  string
	hc    *http.Client
	token string // bearer token of every request, when set
	// signer signs twin writes and telemetry as DSSE envelopes, when set
	// (sign.go).
	signer *signingKey
}

// WithToken returns a copy of c that sends token as a bearer token (the
// identities of lodestone serve --auth); "" sends none.
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.token = token
	return &cc
}

// authorize adds the bearer token to req.
func (c *Client) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}

// New returns a client of the server at baseURL ("http://127.0.0.1:8080").
// A nil hc means a client with a 60 s timeout.
func New(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

// Error is an error answer of the API.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []api.ErrorDetail
}

// Error formats the error with its code, status, message and details.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (HTTP %d): %s", e.Code, e.Status, e.Message)
	for _, d := range e.Details {
		b.WriteString("\n  ")
		if d.Target != "" {
			b.WriteString(d.Target + ": ")
		}
		if d.Path != "" {
			b.WriteString(d.Path + ": ")
		}
		b.WriteString(d.Message)
		if d.Rule != "" {
			b.WriteString(" [" + d.Rule + "]")
		}
	}
	return b.String()
}

func esc(s string) string { return url.PathEscape(s) }

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, header http.Header, out any) (http.Header, error) {
	body, contentType, err := c.sign(method, path, body, contentType)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c.authorize(req)
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return res.Header, errorOf(res.StatusCode, b)
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, res.Body)
		return res.Header, nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, res.Body)
		return res.Header, err
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return res.Header, fmt.Errorf("client: %s %s: decode answer: %w", method, path, err)
	}
	return res.Header, nil
}

// errorOf maps an error answer to an *Error: the API's JSON shape
// {"error":{"code","message","details"}}, or, from anything else on the
// way (a proxy), the status text and the body as the message.
func errorOf(status int, body []byte) *Error {
	var eb struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Details []api.ErrorDetail `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) != nil || eb.Error.Code == "" {
		return &Error{Status: status, Code: http.StatusText(status), Message: strings.TrimSpace(string(body))}
	}
	return &Error{Status: status, Code: eb.Error.Code, Message: eb.Error.Message, Details: eb.Error.Details}
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// GetTwin returns a twin; a non-zero asOf reads it as it was then.
func (c *Client) GetTwin(ctx context.Context, id twin.ID, asOf time.Time) (twin.Twin, error) {
	path := "/digitaltwins/" + esc(string(id))
	if !asOf.IsZero() {
		path += "?asOf=" + url.QueryEscape(asOf.UTC().Format(time.RFC3339Nano))
	}
	var t twin.Twin
	_, err := c.do(ctx, http.MethodGet, path, nil, "", nil, &t)
	return t, err
}

// PutTwin creates or replaces a twin. With createOnly it sends
// If-None-Match: * so an existing twin is never replaced.
func (c *Client) PutTwin(ctx context.Context, t twin.Twin, createOnly bool) (twin.Twin, error) {
	body, err := jsonBody(t)
	if err != nil {
		return twin.Twin{}, err
	}
	h := http.Header{}
	if createOnly {
		h.Set("If-None-Match", "*")
	}
	var out twin.Twin
	_, err = c.do(ctx, http.MethodPut, "/digitaltwins/"+esc(string(t.ID)), body, "application/json", h, &out)
	return out, err
}

// PatchTwin applies a JSON Patch; a non-empty ifMatch makes it conditional.
// It returns the new ETag.
func (c *Client) PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, ifMatch twin.ETag) (twin.ETag, error) {
	body, err := jsonBody(p)
	if err != nil {
		return "", err
	}
	h := http.Header{}
	if ifMatch != "" {
		h.Set("If-Match", string(ifMatch))
	}
	rh, err := c.do(ctx, http.MethodPatch, "/digitaltwins/"+esc(string(id)), body, "application/json-patch+json", h, nil)
	if err != nil {
		return "", err
	}
	return twin.ETag(rh.Get("ETag")), nil
}

// DeleteTwin deletes a twin.
func (c *Client) DeleteTwin(ctx context.Context, id twin.ID) error {
	_, err := c.do(ctx, http.MethodDelete, "/digitaltwins/"+esc(string(id)), nil, "", nil, nil)
	return err
}

// History returns the change list of a twin.
func (c *Client) History(ctx context.Context, id twin.ID) ([]api.HistoryEntry, error) {
	var out api.HistoryList
	_, err := c.do(ctx, http.MethodGet, "/digitaltwins/"+esc(string(id))+"/history", nil, "", nil, &out)
	return out.Value, err
}

// Query runs one page of a query.
func (c *Client) Query(ctx context.Context, query, continuationToken string) (api.QueryResponse, error) {
	body, err := jsonBody(api.QueryRequest{Query: query, ContinuationToken: continuationToken})
	if err != nil {
		return api.QueryResponse{}, err
	}
	var out api.QueryResponse
	_, err = c.do(ctx, http.MethodPost, "/query", body, "application/json", nil, &out)
	return out, err
}

// QueryAll runs a query and follows continuation tokens, calling page for
// each page; it stops at the first error.
func (c *Client) QueryAll(ctx context.Context, query string, page func(api.QueryResponse) error) error {
	token := ""
	for {
		res, err := c.Query(ctx, query, token)
		if err != nil {
			return err
		}
		if err := page(res); err != nil {
			return err
		}
		if res.ContinuationToken == "" {
			return nil
		}
		token = res.ContinuationToken
	}
}

// Models lists the models, with their DTDL when full.
func (c *Client) Models(ctx context.Context, full bool) ([]api.ModelData, error) {
	var out api.ModelList
	_, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/models?includeModelDefinition=%t", full), nil, "", nil, &out)
	return out.Value, err
}

// UploadModels uploads DTDL interfaces atomically.
func (c *Client) UploadModels(ctx context.Context, dtdl []json.RawMessage) ([]api.ModelData, error) {
	body, err := jsonBody(dtdl)
	if err != nil {
		return nil, err
	}
	var out []api.ModelData
	_, err = c.do(ctx, http.MethodPost, "/models", body, "application/json", nil, &out)
	return out, err
}

// Import runs an import job with the ADT import file read from r (size is
// its length when known, for progress, or -1).
func (c *Client) Import(ctx context.Context, r io.Reader, size int64, dryRun bool) (api.ImportJob, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+fmt.Sprintf("/jobs/imports?dryRun=%t", dryRun), r)
	if err != nil {
		return api.ImportJob{}, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/x-ndjson")
	c.authorize(req)
	hc := *c.hc
	hc.Timeout = 0 // imports of millions of twins take minutes
	res, err := hc.Do(req)
	if err != nil {
		return api.ImportJob{}, err
	}
	defer res.Body.Close()
	// A job that ran answers with the job (its error inside when it
	// failed); a request refused before the job ran answers with the error
	// shape.
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return api.ImportJob{}, fmt.Errorf("client: import: %w", err)
	}
	var job api.ImportJob
	if json.Unmarshal(b, &job) != nil || job.ID == "" {
		if res.StatusCode >= 400 {
			return api.ImportJob{}, errorOf(res.StatusCode, b)
		}
		return api.ImportJob{}, fmt.Errorf("client: import: HTTP %d: the answer is not an import job", res.StatusCode)
	}
	if job.Status == "failed" {
		if job.Error == nil {
			return job, &Error{Status: res.StatusCode, Code: "ImportFailed", Message: "import job " + job.ID + " failed"}
		}
		return job, &Error{Status: res.StatusCode, Code: job.Error.Code, Message: job.Error.Message, Details: job.Error.Details}
	}
	return job, nil
}

// ImportJob returns the status of an import job.
func (c *Client) ImportJob(ctx context.Context, id string) (api.ImportJob, error) {
	var job api.ImportJob
	_, err := c.do(ctx, http.MethodGet, "/jobs/imports/"+esc(id), nil, "", nil, &job)
	return job, err
}

// Export writes the graph (as of asOf when not zero) as an ADT import file.
func (c *Client) Export(ctx context.Context, w io.Writer, asOf time.Time) error {
	path := "/jobs/export"
	if !asOf.IsZero() {
		path += "?asOf=" + url.QueryEscape(asOf.UTC().Format(time.RFC3339Nano))
	}
	hc := *c.hc
	hc.Timeout = 0
	cc := &Client{base: c.base, hc: &hc, token: c.token}
	_, err := cc.do(ctx, http.MethodGet, path, nil, "", nil, w)
	return err
}

// Do sends a request to any route and decodes the JSON answer into out; it
// serves the domain endpoints that have no method of their own.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := jsonBody(in)
		if err != nil {
			return err
		}
		body, ct = b, "application/json"
	}
	_, err := c.do(ctx, method, path, body, ct, nil, out)
	return err
}

// Simulate runs the steady-state simulation of an SXCascade twin (its own
// spec, or req.Spec) and, unless req.DryRun, writes the results back to the
// cascade and its separation plant.
func (c *Client) Simulate(ctx context.Context, id twin.ID, req api.SimulateRequest) (api.SimulateResponse, error) {
	var out api.SimulateResponse
	err := c.Do(ctx, http.MethodPost, "/digitaltwins/"+esc(string(id))+"/simulate", req, &out)
	return out, err
}

// RunScenario runs a supply scenario on the server and stores it as a
// ScenarioRun twin; a Monte Carlo study (runs > 1) answers at once with its
// id while it runs in the background (see Scenario).
func (c *Client) RunScenario(ctx context.Context, req api.ScenarioRequest) (api.ScenarioRun, error) {
	var out api.ScenarioRun
	err := c.Do(ctx, http.MethodPost, "/scenarios", req, &out)
	return out, err
}

// Scenario returns a stored scenario run with its result.
func (c *Client) Scenario(ctx context.Context, id string) (api.ScenarioRun, error) {
	var out api.ScenarioRun
	err := c.Do(ctx, http.MethodGet, "/scenarios/"+esc(id), nil, &out)
	return out, err
}

// GetRelationship returns a relationship of the twin src; a non-zero asOf
// reads it as it was then.
func (c *Client) GetRelationship(ctx context.Context, src twin.ID, relID string, asOf time.Time) (twin.Relationship, error) {
	path := "/digitaltwins/" + esc(string(src)) + "/relationships/" + esc(relID)
	if !asOf.IsZero() {
		path += "?asOf=" + url.QueryEscape(asOf.UTC().Format(time.RFC3339Nano))
	}
	var r twin.Relationship
	_, err := c.do(ctx, http.MethodGet, path, nil, "", nil, &r)
	return r, err
}

// PutRelationship creates or replaces the relationship r.ID of r.SourceID.
// With createOnly it sends If-None-Match: * so an existing one is never
// replaced.
func (c *Client) PutRelationship(ctx context.Context, r twin.Relationship, createOnly bool) (twin.Relationship, error) {
	body, err := jsonBody(r)
	if err != nil {
		return twin.Relationship{}, err
	}
	h := http.Header{}
	if createOnly {
		h.Set("If-None-Match", "*")
	}
	var out twin.Relationship
	_, err = c.do(ctx, http.MethodPut, "/digitaltwins/"+esc(string(r.SourceID))+"/relationships/"+esc(r.ID), body, "application/json", h, &out)
	return out, err
}

// DeleteRelationship deletes a relationship of the twin src; a non-empty
// ifMatch makes it conditional.
func (c *Client) DeleteRelationship(ctx context.Context, src twin.ID, relID string, ifMatch twin.ETag) error {
	h := http.Header{}
	if ifMatch != "" {
		h.Set("If-Match", string(ifMatch))
	}
	_, err := c.do(ctx, http.MethodDelete, "/digitaltwins/"+esc(string(src))+"/relationships/"+esc(relID), nil, "", h, nil)
	return err
}

// Relationships lists the outgoing relationships of src, only those named
// name when it is not empty.
func (c *Client) Relationships(ctx context.Context, src twin.ID, name string) ([]twin.Relationship, error) {
	path := "/digitaltwins/" + esc(string(src)) + "/relationships"
	if name != "" {
		path += "?relationshipName=" + url.QueryEscape(name)
	}
	var out api.RelationshipList
	_, err := c.do(ctx, http.MethodGet, path, nil, "", nil, &out)
	return out.Value, err
}

// IncomingRelationships lists the relationships that point to dst.
func (c *Client) IncomingRelationships(ctx context.Context, dst twin.ID) ([]api.IncomingRelationship, error) {
	var out api.IncomingRelationshipList
	_, err := c.do(ctx, http.MethodGet, "/digitaltwins/"+esc(string(dst))+"/incomingrelationships", nil, "", nil, &out)
	return out.Value, err
}
