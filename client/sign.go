package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"lodestone/api"
	"lodestone/twin"
)

// EnvelopeType is the Content-Type of a DSSE envelope body.
const EnvelopeType = "application/vnd.dsse.envelope.v1+json"

// signingKey is the key a client signs twin writes and telemetry with.
type signingKey struct {
	id  string
	key ed25519.PrivateKey
}

// WithSigningKey returns a copy of c that sends its twin writes (PutTwin,
// PatchTwin, component patches) and telemetry as DSSE envelopes signed by
// key, named keyID as registered with POST /keys (see [Client.AddKey]);
// a nil key signs nothing.
func (c *Client) WithSigningKey(keyID string, key ed25519.PrivateKey) *Client {
	cc := *c
	cc.signer = nil
	if key != nil {
		cc.signer = &signingKey{id: keyID, key: key}
	}
	return &cc
}

// Envelope returns the JSON of a DSSE envelope (protocol v1) of payload,
// a document of media type payloadType, signed by key, named keyID. The
// signature is over DSSE's pre-authentication encoding of the type and
// the payload, as the server's trust/dsse checks it.
func Envelope(payloadType string, payload []byte, keyID string, key ed25519.PrivateKey) ([]byte, error) {
	pae := "DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " "
	sig := ed25519.Sign(key, append([]byte(pae), payload...))
	return json.Marshal(map[string]any{
		"payloadType": payloadType,
		"payload":     base64.StdEncoding.EncodeToString(payload),
		"signatures":  []map[string]string{{"keyid": keyID, "sig": base64.StdEncoding.EncodeToString(sig)}},
	})
}

// signable reports whether the server verifies an envelope on a request:
// PUT and PATCH of a twin, PATCH of a component, POST of telemetry.
func signable(method, path string) bool {
	p, _, _ := strings.Cut(path, "?")
	rest, ok := strings.CutPrefix(p, "/digitaltwins/")
	if !ok || rest == "" {
		return false
	}
	segs := strings.Split(rest, "/")
	switch {
	case len(segs) == 1:
		return method == http.MethodPut || method == http.MethodPatch
	case len(segs) == 2 && segs[1] == "telemetry":
		return method == http.MethodPost
	case len(segs) == 3 && segs[1] == "components":
		return method == http.MethodPatch
	case len(segs) == 4 && segs[1] == "components" && segs[3] == "telemetry":
		return method == http.MethodPost
	}
	return false
}

// sign wraps a request body into an envelope when c has a signing key and
// the route takes one; otherwise it returns the body as it is.
func (c *Client) sign(method, path string, body io.Reader, contentType string) (io.Reader, string, error) {
	if c.signer == nil || body == nil || !signable(method, path) {
		return body, contentType, nil
	}
	payload, err := io.ReadAll(body)
	if err != nil {
		return nil, "", err
	}
	if contentType == "" {
		contentType = "application/json"
	}
	env, err := Envelope(contentType, payload, c.signer.id, c.signer.key)
	if err != nil {
		return nil, "", err
	}
	return bytes.NewReader(env), EnvelopeType, nil
}

// PostTelemetry sends telemetry of a twin (of one of its components when
// component is not empty). messageID makes a retry safe: the server keeps
// the first message of an id.
func (c *Client) PostTelemetry(ctx context.Context, id twin.ID, component, messageID string, values map[string]any) error {
	path := "/digitaltwins/" + esc(string(id))
	if component != "" {
		path += "/components/" + esc(component)
	}
	body, err := jsonBody(values)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPost, path+"/telemetry", body, "application/json", http.Header{"Message-Id": {messageID}}, nil)
	return err
}

// AddKey registers a signing key (POST /keys; admin).
func (c *Client) AddKey(ctx context.Context, k api.SigningKey) (api.SigningKey, error) {
	var out api.SigningKey
	err := c.Do(ctx, http.MethodPost, "/keys", k, &out)
	return out, err
}

// Keys lists the signing keys of the caller's org.
func (c *Client) Keys(ctx context.Context) ([]api.SigningKey, error) {
	var out struct {
		Value []api.SigningKey `json:"value"`
	}
	err := c.Do(ctx, http.MethodGet, "/keys", nil, &out)
	return out.Value, err
}

// DeleteKey deletes a signing key.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/keys/"+esc(id), nil, nil)
}

// RequireSignatures makes writes to twins of model require signatures, or
// stops requiring them (PUT /models/{id}/signatures; admin).
func (c *Client) RequireSignatures(ctx context.Context, model string, required bool) error {
	return c.Do(ctx, http.MethodPut, "/models/"+esc(model)+"/signatures", map[string]bool{"required": required}, nil)
}
