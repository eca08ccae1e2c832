package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lodestone/api"
	"lodestone/event"
	"lodestone/server"
	"lodestone/trust/auth"
)

// The tokens of the test --auth file: one principal per role, all of org
// acme.
var roleTokens = map[auth.Role]string{
	auth.Reader:  "reader-token-0123456789",
	auth.Writer:  "writer-token-0123456789",
	auth.Admin:   "admin-token-01234567890",
	auth.Auditor: "auditor-token-012345678",
}

// secureEnv is a server started with --auth (tokens of roleTokens and a
// JWT issuer whose Ed25519 key is jwtKey), with the test models.
type secureEnv struct {
	*env
	jwtKey ed25519.PrivateKey
}

const (
	testIssuer   = "https://idp.test"
	testAudience = "lodestone-test"
)

func startSecure(t testing.TB, edit func(*server.Options)) *secureEnv {
	t.Helper()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":%q}]}`, base64.RawURLEncoding.EncodeToString(pub))
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	var toks []string
	for role, tok := range roleTokens {
		toks = append(toks, fmt.Sprintf(`{"token":%q,"subject":%q,"org":"acme","roles":[%q]}`, tok, role+"-user", role))
	}
	cfg := fmt.Sprintf(`{"tokens":[%s],"jwt":{"issuer":%q,"audience":%q,"jwks_file":"jwks.json"}}`, strings.Join(toks, ","), testIssuer, testAudience)
	authFile := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(authFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	so := server.DefaultOptions()
	so.DataDir = filepath.Join(dir, "data")
	so.HTTPAddr = "127.0.0.1:0"
	so.Auth = authFile
	so.RateLimit = 0 // tests that want one set it
	if edit != nil {
		edit(&so)
	}
	s, err := server.New(so)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	e := &secureEnv{env: &env{t: t, srv: s, url: s.URL()}, jwtKey: priv}
	e.mustDo("POST", "/models", "["+strings.Join(testModels, ",")+"]", 201, "Authorization", "Bearer "+roleTokens[auth.Admin])
	return e
}

func (e *secureEnv) as(role auth.Role) []string {
	return []string{"Authorization", "Bearer " + roleTokens[role]}
}

func (e *secureEnv) jwt(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(e.jwtKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestGuardEveryRoute walks every route of the API as each role and
// without credentials: no credentials is 401 (except the public
// OpenAPI document); a role that does not cover the route's class is 403;
// the request never reaches the handler then, so nothing changes.
func TestGuardEveryRoute(t *testing.T) {
	e := startSecure(t, nil)
	routes := e.srv.API.Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes", len(routes))
	}
	seen := map[auth.Class]int{}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = pathParam.ReplaceAllString(path, "x")
		path = strings.TrimSuffix(path, "/") + map[bool]string{true: "/", false: ""}[strings.HasSuffix(rt.Pattern, "/")]
		class := auth.ClassOf(method, rt.Pattern)
		seen[class]++
		var body any
		if method != "GET" && method != "DELETE" {
			body = "{}"
		}
		r := e.do(method, path, body)
		if class == auth.Public {
			if r.status == 401 || r.status == 403 {
				t.Errorf("%s (public) without credentials = %d", rt.Pattern, r.status)
			}
			continue
		}
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s without credentials = %d %s, want 401", rt.Pattern, r.status, r.body)
		} else if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", rt.Pattern)
		}
		for role := range roleTokens {
			p := auth.Principal{Roles: []auth.Role{role}}
			if auth.Allowed(p, class) {
				continue // allowed requests would run; the handlers' own tests cover them
			}
			r := e.do(method, path, body, e.as(role)...)
			if r.status != http.StatusForbidden || r.errCode(t) != "Forbidden" {
				t.Errorf("%s as %s = %d %s, want 403", rt.Pattern, role, r.status, r.body)
			}
		}
	}
	for _, c := range []auth.Class{auth.Public, auth.Read, auth.Write, auth.Manage, auth.Audit} {
		if seen[c] == 0 {
			t.Errorf("no route of class %v", c)
		}
	}
}

// TestGuardRoles runs one request of each class as each role and checks
// the allowed ones pass the guard (their status is the handler's, never
// 401 or 403) and the others are 403.
func TestGuardRoles(t *testing.T) {
	e := startSecure(t, nil)
	e.mustDo("PUT", "/digitaltwins/o1", `{"$metadata":{"$model":"dtmi:test:Owner;1"},"name":"a"}`, 200, e.as(auth.Writer)...)
	tests := []struct {
		class        auth.Class
		method, path string
		body         any
	}{
		{auth.Read, "GET", "/digitaltwins/o1", nil},
		{auth.Read, "GET", "/models", nil},
		{auth.Read, "POST", "/query", `{"query":"SELECT * FROM DIGITALTWINS"}`},
		{auth.Write, "PATCH", "/digitaltwins/o1", `[{"op":"replace","path":"/name","value":"b"}]`},
		{auth.Write, "POST", "/digitaltwins/o1/telemetry", `{}`},
		{auth.Manage, "DELETE", "/eventroutes/none", nil},
		{auth.Manage, "POST", "/models", "[" + testModels[1] + "]"}, // exists: 409, no change
		{auth.Audit, "GET", "/verify", nil},
		{auth.Audit, "GET", "/log/checkpoint", nil},
		{auth.Public, "GET", "/openapi.json", nil},
	}
	for _, tt := range tests {
		for role := range roleTokens {
			r := e.do(tt.method, tt.path, tt.body, e.as(role)...)
			allowed := auth.Allowed(auth.Principal{Roles: []auth.Role{role}}, tt.class)
			denied := r.status == 401 || r.status == 403
			if allowed == denied {
				t.Errorf("%s %s (%v) as %s = %d %s; allowed %v", tt.method, tt.path, tt.class, role, r.status, r.body, allowed)
			}
		}
	}
}

// TestGuardCredentials: a forged or expired token is 401; a valid JWT of
// a role is served as that role.
func TestGuardCredentials(t *testing.T) {
	e := startSecure(t, nil)
	now := time.Now()
	claims := func(exp time.Time, roles ...string) jwt.MapClaims {
		return jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "dev-1", "org": "acme", "roles": roles, "exp": exp.Unix()}
	}
	valid := e.jwt(t, claims(now.Add(time.Hour), "reader"))
	expired := e.jwt(t, claims(now.Add(-time.Hour), "admin"))
	parts := strings.Split(valid, ".")
	payload, _ := json.Marshal(claims(now.Add(time.Hour), "admin"))
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	wrongKey, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(now.Add(time.Hour), "admin")).SignedString(other)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(now.Add(time.Hour), "admin")).SignedString(jwt.UnsafeAllowNoneSignatureType)
	tests := []struct {
		name, header string
		want         int
	}{
		{"valid jwt", "Bearer " + valid, 200},
		{"expired jwt", "Bearer " + expired, 401},
		{"forged jwt", "Bearer " + forged, 401},
		{"jwt of another key", "Bearer " + wrongKey, 401},
		{"alg none", "Bearer " + none, 401},
		{"unknown token", "Bearer not-a-token-of-this-server", 401},
		{"basic", "Basic YWRtaW46YWRtaW4=", 401},
	}
	for _, tt := range tests {
		r := e.do("GET", "/models", nil, "Authorization", tt.header)
		if r.status != tt.want {
			t.Errorf("%s: GET /models = %d %s, want %d", tt.name, r.status, r.body, tt.want)
		}
		if strings.Contains(string(r.body), strings.TrimPrefix(tt.header, "Bearer ")) {
			t.Errorf("%s: the answer echoes the credential", tt.name)
		}
	}
	// The reader JWT may read but not write.
	r := e.do("PUT", "/digitaltwins/j1", `{"$metadata":{"$model":"dtmi:test:Owner;1"}}`, "Authorization", "Bearer "+valid)
	if r.status != 403 {
		t.Errorf("reader JWT writes: %d %s, want 403", r.status, r.body)
	}
}

// TestAuditDenied: a refused request is published as a
// lodestone.audit.denied CloudEvent naming who, what and why, never the
// credential.
func TestAuditDenied(t *testing.T) {
	e := startSecure(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := e.srv.Bus.Subscribe(ctx, event.Filter{Types: []string{api.TypeAuditDenied}}, event.Start{New: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	e.mustDo("DELETE", "/models/dtmi:test:Owner;1", nil, 403, e.as(auth.Reader)...)
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var d api.Denied
	if err := json.Unmarshal(m.Event.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Status != 403 || d.Subject != "reader-user" || d.Org != "acme" || d.Method != "DELETE" || d.Class != "manage" || !strings.HasPrefix(d.Path, "/models/") {
		t.Errorf("audit event data = %+v", d)
	}
	if strings.Contains(string(m.Event.Data), roleTokens[auth.Reader]) {
		t.Error("the audit event holds the token")
	}
	e.mustDo("GET", "/models", nil, 401, "Authorization", "Bearer forged-forged-forged")
	m, err = sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(m.Event.Data, &d)
	if d.Status != 401 || strings.Contains(string(m.Event.Data), "forged-forged") {
		t.Errorf("401 audit event = %s", m.Event.Data)
	}
}

// TestAuditDeniedByHandlers: the refusals handlers answer past the guard
// are published as lodestone.audit.denied too (issue 12: audit events for
// every denied request): a write to another org's twin (404), an unsigned
// write to a twin of a model that requires signatures (403, in the API's
// check and in the pipeline's), a DSSE envelope that does not decode and
// a webhook address that is not allowed (400). The event names the caller
// and the answer it got, never the org that owns the hidden twin. A 404
// for what does not exist, and a 400 for a bad body, are no denials.
func TestAuditDeniedByHandlers(t *testing.T) {
	e := startSecure(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wr, adm := e.as(auth.Writer), e.as(auth.Admin)
	e.mustDo("PUT", "/digitaltwins/h1", `{"$metadata":{"$model":"dtmi:test:Owner;1"},"name":"a"}`, 200, wr...)
	e.mustDo("PUT", "/digitaltwins/g1", `{"$metadata":{"$model":"dtmi:test:Gauge;1"},"reading":1}`, 200, wr...)
	e.mustDo("PUT", "/models/dtmi:test:Gauge;1/signatures", `{"required":true}`, 200, adm...)
	beta := []string{"Authorization", "Bearer " + e.jwt(t, jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "bob", "org": "beta", "roles": []string{"writer"}, "exp": time.Now().Add(time.Hour).Unix()})}
	sub, err := e.srv.Bus.Subscribe(ctx, event.Filter{Types: []string{api.TypeAuditDenied}}, event.Start{New: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	tests := []struct {
		name         string
		method, path string
		body         any
		hdr          []string
		status       int
		code         string // the denial's code; "" for no denial
		org, subject string
	}{
		{"not found (no denial)", "PATCH", "/digitaltwins/none", `[{"op":"replace","path":"/name","value":"b"}]`, wr, 404, "", "", ""},
		{"bad body (no denial)", "PUT", "/digitaltwins/x", `{"$metadata":`, wr, 400, "", "", ""},
		{"another org's twin", "PATCH", "/digitaltwins/h1", `[{"op":"replace","path":"/name","value":"b"}]`, beta, 404, "DigitalTwinNotFound", "beta", "bob"},
		{"another org's twin, delete", "DELETE", "/digitaltwins/h1", nil, beta, 404, "DigitalTwinNotFound", "beta", "bob"},
		{"signature required (api)", "PUT", "/digitaltwins/g2", `{"$metadata":{"$model":"dtmi:test:Gauge;1"},"reading":1}`, wr, 403, "SignatureRequired", "acme", "writer-user"},
		{"signature required (pipeline)", "PATCH", "/digitaltwins/g1", `[{"op":"replace","path":"/reading","value":2}]`, wr, 403, "SignatureRequired", "acme", "writer-user"},
		{"bad envelope", "PUT", "/digitaltwins/o9", `{"payload":"%%%","payloadType":"application/json","signatures":[]}`, append([]string{"Content-Type", "application/vnd.dsse.envelope.v1+json"}, wr...), 400, "EnvelopeInvalid", "acme", "writer-user"},
		{"webhook address", "PUT", "/endpoints/h", map[string]string{"kind": "webhook", "url": "http://127.0.0.1:5432/"}, adm, 400, "WebhookAddressNotAllowed", "acme", "admin-user"},
	}
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, tt.body, tt.hdr...)
		if r.status != tt.status {
			t.Fatalf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, r.status, r.body, tt.status)
		}
		if tt.code == "" {
			continue // the next denial's event must come first: none is published for this one
		}
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("%s: no audit event: %v", tt.name, err)
		}
		var d api.Denied
		if err := json.Unmarshal(m.Event.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Status != tt.status || d.Code != tt.code || d.Org != tt.org || d.Subject != tt.subject || d.Method != tt.method || d.Path != tt.path {
			t.Errorf("%s: audit event %+v, want status %d code %s org %s subject %s %s %s", tt.name, d, tt.status, tt.code, tt.org, tt.subject, tt.method, tt.path)
		}
		if tt.org == "beta" && strings.Contains(string(m.Event.Data), "acme") {
			t.Errorf("%s: the event tells the hidden twin's org: %s", tt.name, m.Event.Data)
		}
	}
}

// TestNonLoopbackNeedsAuth: a server on every interface without --auth is
// refused unless --insecure; with --auth it starts.
func TestNonLoopbackNeedsAuth(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "0.0.0.0:0"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--auth") {
		t.Errorf("Validate of 0.0.0.0 without --auth = %v, want a refusal naming --auth", err)
	}
	o.HTTPAddr = ":0"
	if err := o.Validate(); err == nil {
		t.Error("Validate of :0 without --auth passed")
	}
	o.Insecure = true
	if err := o.Validate(); err != nil {
		t.Errorf("with --insecure: %v", err)
	}
	o.Insecure, o.Auth = false, "auth.json"
	if err := o.Validate(); err != nil {
		t.Errorf("with --auth: %v", err)
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		o := server.DefaultOptions()
		o.HTTPAddr = addr
		if err := o.Validate(); err != nil {
			t.Errorf("loopback %s without --auth: %v", addr, err)
		}
	}
}
