package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lodestone/store"
	_ "lodestone/store/sqlite" // the sqlite: scheme
	"lodestone/trust/auth"
	"lodestone/trust/dsse"
)

const signedModel = `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Meter;1","@type":"Interface","contents":[
	{"@type":"Property","name":"reading","schema":"double","writable":true},
	{"@type":"Telemetry","name":"flow","schema":"double"}]},
	{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Free;1","@type":"Interface","contents":[
	{"@type":"Property","name":"reading","schema":"double","writable":true}]}]`

func newSignedAPI(t *testing.T) *API {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown(context.Background()); st.Close() })
	return a
}

type answer struct {
	status int
	body   string
}

func call(a *API, method, path, ct string, body []byte, hdr ...string) answer {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Body.String()}
}

func envelope(t *testing.T, payloadType, payload, keyID string, key ed25519.PrivateKey) []byte {
	t.Helper()
	b, err := json.Marshal(dsse.Sign(payloadType, []byte(payload), keyID, key))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignedIngest registers a key, requires signatures on a model, and
// checks what is accepted and what is refused, and why.
func TestSignedIngest(t *testing.T) {
	a := newSignedAPI(t)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	pub := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	must := func(got answer, want int, what string) {
		t.Helper()
		if got.status != want {
			t.Fatalf("%s = %d %s, want %d", what, got.status, got.body, want)
		}
	}
	must(call(a, "POST", "/models", "application/json", []byte(signedModel)), 201, "POST /models")
	must(call(a, "POST", "/keys", "application/json", []byte(`{"id":"pump-7","owner":"pump-7@acme","public_key":"`+pub+`"}`)), 201, "POST /keys")
	must(call(a, "POST", "/keys", "application/json", []byte(`{"id":"pump-7","owner":"x","public_key":"`+pub+`"}`)), 409, "POST /keys again")
	if got := call(a, "POST", "/keys", "application/json", []byte(`{"id":"k2","owner":"x","public_key":"AAAA"}`)); got.status != 400 || !strings.Contains(got.body, "public_key") {
		t.Errorf("a short key = %d %s, want 400 naming public_key", got.status, got.body)
	}
	if got := call(a, "GET", "/keys", "", nil); got.status != 200 || !strings.Contains(got.body, pub) {
		t.Errorf("GET /keys = %d %s", got.status, got.body)
	}
	twinBody := `{"$metadata":{"$model":"dtmi:test:Meter;1"},"reading":1.5}`
	must(call(a, "PUT", "/digitaltwins/m1", "application/json", []byte(twinBody)), 200, "unsigned PUT before signatures are required")
	must(call(a, "PUT", "/digitaltwins/f1", "application/json", []byte(`{"$metadata":{"$model":"dtmi:test:Free;1"},"reading":1}`)), 200, "PUT of a Free twin")
	must(call(a, "PUT", "/models/dtmi:test:Meter;1/signatures", "application/json", []byte(`{"required":true}`)), 200, "PUT signatures")
	if got := call(a, "GET", "/models/dtmi:test:Meter;1/signatures", "", nil); !strings.Contains(got.body, `"required":true`) {
		t.Errorf("GET signatures = %s", got.body)
	}
	must(call(a, "PUT", "/models/dtmi:test:Nope;1/signatures", "application/json", []byte(`{"required":true}`)), 404, "PUT signatures of an unknown model")

	flipped := envelope(t, "application/json", twinBody, "pump-7", key)
	var fe map[string]any
	json.Unmarshal(flipped, &fe)
	p, _ := base64.StdEncoding.DecodeString(fe["payload"].(string))
	p[len(p)-3] ^= 1
	fe["payload"] = base64.StdEncoding.EncodeToString(p)
	flipped, _ = json.Marshal(fe)

	patch := `[{"op":"replace","path":"/reading","value":7}]`
	tests := []struct {
		name, method, path, ct string
		body                   []byte
		want                   int
		says                   string
	}{
		{"unsigned PUT", "PUT", "/digitaltwins/m1", "application/json", []byte(twinBody), 403, "dtmi:test:Meter;1"},
		{"unsigned PUT creating a twin", "PUT", "/digitaltwins/m2", "application/json", []byte(twinBody), 403, "dtmi:test:Meter;1"},
		{"unsigned PATCH", "PATCH", "/digitaltwins/m1", "application/json-patch+json", []byte(patch), 403, "SignatureRequired"},
		{"unsigned telemetry", "POST", "/digitaltwins/m1/telemetry", "application/json", []byte(`{"flow":2}`), 403, "dtmi:test:Meter;1"},
		{"unsigned PATCH of another model", "PATCH", "/digitaltwins/f1", "application/json-patch+json", []byte(patch), 204, ""},
		{"signed PUT", "PUT", "/digitaltwins/m1", dsse.MediaType, envelope(t, "application/json", twinBody, "pump-7", key), 200, ""},
		{"signed PUT detected without its Content-Type", "PUT", "/digitaltwins/m2", "application/json", envelope(t, "application/json", twinBody, "pump-7", key), 200, ""},
		{"signed PATCH", "PATCH", "/digitaltwins/m1", dsse.MediaType, envelope(t, "application/json-patch+json", patch, "pump-7", key), 204, ""},
		{"signed telemetry", "POST", "/digitaltwins/m1/telemetry", dsse.MediaType, envelope(t, "application/json", `{"flow":2}`, "pump-7", key), 204, ""},
		{"flipped byte", "PUT", "/digitaltwins/m1", dsse.MediaType, flipped, 401, "signatures[0]"},
		{"unknown key", "PUT", "/digitaltwins/m1", dsse.MediaType, envelope(t, "application/json", twinBody, "nobody", key), 401, "signatures[0].keyid"},
		{"wrong key", "PUT", "/digitaltwins/m1", dsse.MediaType, envelope(t, "application/json", twinBody, "pump-7", other), 401, "SignatureInvalid"},
		{"malformed envelope", "PUT", "/digitaltwins/m1", dsse.MediaType, []byte(`{"payloadType":"application/json","payload":"e30","signatures":[]}`), 400, "signatures"},
		{"bad payload type", "PUT", "/digitaltwins/m1", dsse.MediaType, envelope(t, "text/plain", twinBody, "pump-7", key), 400, "payloadType"},
	}
	for _, tt := range tests {
		got := call(a, tt.method, tt.path, tt.ct, tt.body, "Message-Id", "msg-"+tt.name)
		if got.status != tt.want || !strings.Contains(got.body, tt.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tt.name, got.status, got.body, tt.want, tt.says)
		}
	}
	// The twin holds the signed values, and the pipeline recorded the
	// signer of the last write.
	if got := call(a, "GET", "/digitaltwins/m1", "", nil); !strings.Contains(got.body, `"reading":7`) || !strings.Contains(got.body, `"$signer":"pump-7"`) {
		t.Errorf("after the signed PATCH: %s", got.body)
	}
	// The credibility report counts the signed versions of m1: the signed
	// PUT and PATCH of the table, not the unsigned first PUT.
	if got := call(a, "GET", "/credibility/m1", "", nil); got.status != 200 || !strings.Contains(got.body, `"name":"signedWrites","value":2`) {
		t.Errorf("GET /credibility/m1 = %d %s; want signedWrites 2", got.status, got.body)
	}
	// Not required any more: unsigned writes pass again.
	must(call(a, "PUT", "/models/dtmi:test:Meter;1/signatures", "application/json", []byte(`{"required":false}`)), 200, "PUT signatures false")
	must(call(a, "PATCH", "/digitaltwins/m1", "application/json-patch+json", []byte(patch)), 204, "unsigned PATCH after the requirement is lifted")
	if got := call(a, "GET", "/digitaltwins/m1", "", nil); strings.Contains(got.body, `"$signer":"pump-7"`) {
		t.Errorf("an unsigned write kept the last signer: %s", got.body)
	}
	// A deleted key signs nothing.
	must(call(a, "DELETE", "/keys/pump-7", "", nil), 204, "DELETE /keys/pump-7")
	must(call(a, "PUT", "/digitaltwins/m1", dsse.MediaType, envelope(t, "application/json", twinBody, "pump-7", key)), 401, "signed with a deleted key")
}

// TestSignerInContext: the request that reaches the handler carries the
// payload as its body and the verified signer in its context.
func TestSignerInContext(t *testing.T) {
	a := newSignedAPI(t)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	pub := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	if got := call(a, "POST", "/keys", "application/json", []byte(`{"id":"dev-1","owner":"device dev-1","public_key":"`+pub+`"}`)); got.status != 201 {
		t.Fatalf("POST /keys = %d %s", got.status, got.body)
	}
	payload := `{"$metadata":{"$model":"dtmi:x:Y;1"}}`
	req := httptest.NewRequest("PUT", "/digitaltwins/x", bytes.NewReader(envelope(t, "application/json", payload, "dev-1", key)))
	req.Header.Set("Content-Type", dsse.MediaType)
	r2, err := a.signedBody(httptest.NewRecorder(), req, "PUT /digitaltwins/{id}")
	if err != nil {
		t.Fatal(err)
	}
	s, ok := auth.SignerFromContext(r2.Context())
	if !ok || s.KeyID != "dev-1" || s.Owner != "device dev-1" {
		t.Errorf("signer = %+v, %v", s, ok)
	}
	var body bytes.Buffer
	body.ReadFrom(r2.Body)
	if body.String() != payload || r2.Header.Get("Content-Type") != "application/json" || r2.ContentLength != int64(len(payload)) {
		t.Errorf("body %q, Content-Type %q, length %d", body.String(), r2.Header.Get("Content-Type"), r2.ContentLength)
	}
	// An unsigned request has no signer; another route is untouched.
	req = httptest.NewRequest("PUT", "/digitaltwins/x", strings.NewReader(payload))
	if r2, err := a.signedBody(httptest.NewRecorder(), req, "PUT /digitaltwins/{id}"); err != nil {
		t.Fatal(err)
	} else if _, ok := auth.SignerFromContext(r2.Context()); ok {
		t.Error("an unsigned request has a signer")
	}
	req = httptest.NewRequest("POST", "/query", strings.NewReader(`{}`))
	if r2, _ := a.signedBody(httptest.NewRecorder(), req, "POST /query"); r2 != req {
		t.Error("a request to another route was changed")
	}
	_ = http.StatusOK
}

// TestErrorTypes: every status the API answers has its own type, not the
// catch-all bad_request.
func TestErrorTypes(t *testing.T) {
	for status, want := range map[int]string{
		400: "bad_data", 401: "unauthorized", 403: "forbidden", 404: "not_found", 408: "timeout",
		409: "conflict", 412: "precondition_failed", 413: "too_large", 415: "unsupported_media_type",
		422: "execution", 429: "too_many_requests", 499: "canceled", 500: "internal", 503: "unavailable",
	} {
		if got := errorType(status); got != want {
			t.Errorf("errorType(%d) = %q, want %q", status, got, want)
		}
	}
}

// TestSigningSharedByServers: two APIs on one database verify with the
// same keys at once, and a model marked on one requires signatures on the
// other within refreshEvery.
func TestSigningSharedByServers(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + t.TempDir() + "/shared.db"
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	open := func() *API {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(ctx, Options{Store: st, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Shutdown(context.Background()); st.Close() })
		return a
	}
	a := open()
	if got := call(a, "POST", "/models", "application/json", []byte(signedModel)); got.status != 201 {
		t.Fatalf("models on A: %d %s", got.status, got.body)
	}
	b := open() // loads the stored models
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{6}, 32))
	pub := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	twinBody := `{"$metadata":{"$model":"dtmi:test:Meter;1"},"reading":1.5}`
	steps := []struct {
		name string
		api  *API
		do   func(*API) answer
		want int
	}{
		{"a twin on B before any mark", b, func(x *API) answer { return call(x, "PUT", "/digitaltwins/m1", "application/json", []byte(twinBody)) }, 200},
		{"key on A", a, func(x *API) answer {
			return call(x, "POST", "/keys", "application/json", []byte(`{"id":"k","owner":"o","public_key":"`+pub+`"}`))
		}, 201},
		{"signed on B with A's key", b, func(x *API) answer {
			return call(x, "PUT", "/digitaltwins/m1", dsse.MediaType, envelope(t, "application/json", twinBody, "k", key))
		}, 200},
		{"mark on A", a, func(x *API) answer {
			return call(x, "PUT", "/models/dtmi:test:Meter;1/signatures", "application/json", []byte(`{"required":true}`))
		}, 200},
		{"unsigned on A at once", a, func(x *API) answer { return call(x, "PUT", "/digitaltwins/m1", "application/json", []byte(twinBody)) }, 403},
	}
	for _, s := range steps {
		if got := s.do(s.api); got.status != s.want {
			t.Fatalf("%s: %d %s, want %d", s.name, got.status, got.body, s.want)
		}
	}
	clock.Add(int64(refreshEvery + time.Second))
	if got := call(b, "PUT", "/digitaltwins/m1", "application/json", []byte(twinBody)); got.status != 403 {
		t.Errorf("unsigned on B after refreshEvery: %d %s, want 403", got.status, got.body)
	}
}

// TestSigningAcrossOrgs: keys and signature marks belong to an org; another
// org neither sees nor uses nor marks them.
func TestSigningAcrossOrgs(t *testing.T) {
	a := newSignedAPI(t)
	acme := auth.Principal{Subject: "alice", Org: "acme", Roles: []auth.Role{auth.Admin}, Method: "token"}
	globex := auth.Principal{Subject: "gus", Org: "globex", Roles: []auth.Role{auth.Admin}, Method: "token"}
	as := func(p auth.Principal, method, path, ct string, body []byte) answer {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req = req.WithContext(auth.NewContext(req.Context(), p))
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		return answer{rec.Code, rec.Body.String()}
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	pub := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	twinBody := `{"$metadata":{"$model":"dtmi:test:Meter;1"},"reading":1.5}`
	tests := []struct {
		name   string
		p      auth.Principal
		method string
		path   string
		ct     string
		body   []byte
		want   int
		says   string
	}{
		{"acme's models", acme, "POST", "/models", "application/json", []byte(signedModel), 201, ""},
		{"acme's key", acme, "POST", "/keys", "application/json", []byte(`{"id":"acme-1","owner":"acme","public_key":"` + pub + `"}`), 201, ""},
		{"globex lists no keys", globex, "GET", "/keys", "", nil, 200, `{"value":[]}`},
		{"globex cannot read acme's key", globex, "GET", "/keys/acme-1", "", nil, 404, "KeyNotFound"},
		{"globex cannot delete acme's key", globex, "DELETE", "/keys/acme-1", "", nil, 404, "KeyNotFound"},
		{"globex cannot mark acme's model", globex, "PUT", "/models/dtmi:test:Meter;1/signatures", "application/json", []byte(`{"required":true}`), 404, "ModelNotFound"},
		{"globex cannot read acme's mark", globex, "GET", "/models/dtmi:test:Meter;1/signatures", "", nil, 404, "ModelNotFound"},
		{"globex cannot sign with acme's key", globex, "PUT", "/digitaltwins/g1", dsse.MediaType, envelope(t, "application/json", twinBody, "acme-1", key), 401, "SigningKeyUnknown"},
		{"acme marks its model", acme, "PUT", "/models/dtmi:test:Meter;1/signatures", "application/json", []byte(`{"required":true}`), 200, ""},
		{"acme signs with its key", acme, "PUT", "/digitaltwins/a1", dsse.MediaType, envelope(t, "application/json", twinBody, "acme-1", key), 200, `"$signer":"acme-1"`},
		{"acme's unsigned write is refused", acme, "PUT", "/digitaltwins/a1", "application/json", []byte(twinBody), 403, "SignatureRequired"},
		// The refusal of another org's write to acme's twin discloses
		// neither the twin nor its model.
		{"globex's unsigned PATCH of acme's twin is not found", globex, "PATCH", "/digitaltwins/a1", "application/json-patch+json", []byte(`[{"op":"replace","path":"/reading","value":2}]`), 404, "DigitalTwinNotFound"},
	}
	for _, tt := range tests {
		got := as(tt.p, tt.method, tt.path, tt.ct, tt.body)
		if got.status != tt.want || !strings.Contains(got.body, tt.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tt.name, got.status, got.body, tt.want, tt.says)
		}
	}
}

// TestUnsignedBodiesUntouched: what the handlers answer about a body's
// media type and size is theirs, not the signature check's.
func TestUnsignedBodiesUntouched(t *testing.T) {
	a := newSignedAPI(t)
	if got := call(a, "POST", "/models", "application/json", []byte(signedModel)); got.status != 201 {
		t.Fatal(got.body)
	}
	twinBody := `{"$metadata":{"$model":"dtmi:test:Meter;1"},"reading":1.5}`
	for _, tt := range []struct {
		name, ct, body string
		want           int
		says           string
	}{
		{"xml", "application/xml", twinBody, 415, "application/json"},
		{"too large", "application/json", `{"$metadata":{"$model":"dtmi:test:Meter;1"},"x":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "larger than"},
		{"json", "application/json", twinBody, 200, `"reading":1.5`},
	} {
		got := call(a, "PUT", "/digitaltwins/u1", tt.ct, []byte(tt.body))
		if got.status != tt.want || !strings.Contains(got.body, tt.says) {
			t.Errorf("%s: %d %.300s, want %d saying %q", tt.name, got.status, got.body, tt.want, tt.says)
		}
	}
}

// TestSignedImportRefused: an import job with a twin of a model that
// requires signatures is refused as a whole (imports are not signed), 403
// SignatureRequired naming the twin and the model, and stores nothing;
// an import of other models' twins still runs.
func TestSignedImportRefused(t *testing.T) {
	// A file: with a model marked, the pipeline reads the twins an
	// import replaces while the import's transaction is open, which an
	// in-memory SQLite database does not serve (SQLITE_BUSY).
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+t.TempDir()+"/g.db")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown(context.Background()); st.Close() })
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/models", signedModel, 201},
		{"PUT", "/models/dtmi:test:Meter;1/signatures", `{"required":true}`, 200},
	} {
		if got := call(a, c.method, c.path, "application/json", []byte(c.body)); got.status != c.want {
			t.Fatalf("%s %s = %d %s", c.method, c.path, got.status, got.body)
		}
	}
	file := func(twins ...string) []byte {
		return []byte(`{"Section":"Header"}` + "\n" + `{"fileVersion":"1.0.0","author":"test","organization":"test"}` + "\n" +
			`{"Section":"Twins"}` + "\n" + strings.Join(twins, "\n") + "\n")
	}
	free := `{"$dtId":"f5","$metadata":{"$model":"dtmi:test:Free;1"},"reading":1}`
	meter := `{"$dtId":"m5","$metadata":{"$model":"dtmi:test:Meter;1"},"reading":1}`
	tests := []struct {
		name, id string
		body     []byte
		want     int
		says     []string
	}{
		{"a marked model's twin", "j1", file(free, meter), 403, []string{`"SignatureRequired"`, "twin m5", "dtmi:test:Meter;1", `"failed"`}},
		{"other models' twins", "j2", file(free), 200, []string{`"succeeded"`}},
	}
	for _, tt := range tests {
		got := call(a, "PUT", "/jobs/imports/"+tt.id, "application/x-ndjson", tt.body)
		if got.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, got.status, got.body, tt.want)
		}
		job := call(a, "GET", "/jobs/imports/"+tt.id, "", nil)
		for _, s := range tt.says {
			if !strings.Contains(got.body, s) || !strings.Contains(job.body, s) {
				t.Errorf("%s: answer %s, job %s; want both saying %s", tt.name, got.body, job.body, s)
			}
		}
		if tt.id == "j1" {
			if got := call(a, "GET", "/digitaltwins/f5", "", nil); got.status != 404 {
				t.Errorf("after the refused import, f5: %d %s, want 404 (all or nothing)", got.status, got.body)
			}
		}
	}
}
