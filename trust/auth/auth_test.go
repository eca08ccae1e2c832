package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lodestone/trust/auth"
)

// TestAllowedMatrix checks every role against every route class: the
// contract of issue 12 (readers GET and POST /query; writers also write;
// admins also models, routes, endpoints; auditors the log, /verify and
// provenance).
func TestAllowedMatrix(t *testing.T) {
	classes := []auth.Class{auth.Public, auth.Read, auth.Write, auth.Manage, auth.Audit, auth.OwnProof}
	want := map[auth.Role][]bool{ // in the order of classes
		auth.Reader:  {true, true, false, false, false, true},
		auth.Writer:  {true, true, true, false, false, true},
		auth.Admin:   {true, true, true, true, true, true},
		auth.Auditor: {true, false, false, false, true, true},
		"":           {true, false, false, false, false, false},
	}
	for role, w := range want {
		p := auth.Principal{Subject: "s", Org: "o"}
		if role != "" {
			p.Roles = []auth.Role{role}
		}
		for i, c := range classes {
			if got := auth.Allowed(p, c); got != w[i] {
				t.Errorf("Allowed(%q, %v) = %v, want %v", role, c, got, w[i])
			}
		}
	}
	// Roles add up: reader+auditor reads data and the log, writes nothing.
	p := auth.Principal{Roles: []auth.Role{auth.Reader, auth.Auditor}}
	if !auth.Allowed(p, auth.Read) || !auth.Allowed(p, auth.Audit) || auth.Allowed(p, auth.Write) {
		t.Errorf("reader+auditor: read %v audit %v write %v", auth.Allowed(p, auth.Read), auth.Allowed(p, auth.Audit), auth.Allowed(p, auth.Write))
	}
	if !auth.Allowed(auth.Anonymous, auth.Manage) || !auth.Allowed(auth.Anonymous, auth.Audit) {
		t.Error("Anonymous (a server without --auth) must be allowed everything")
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		method, pattern string
		want            auth.Class
	}{
		{"GET", "GET /openapi.json", auth.Public},
		{"GET", "GET /healthz", auth.Public},
		{"GET", "GET /readyz", auth.Public},
		{"GET", "GET /metrics", auth.Audit},
		{"GET", "GET /digitaltwins/{id}", auth.Read},
		{"GET", "GET /digitaltwins/{id}/relationships", auth.Read},
		{"GET", "GET /models", auth.Read},
		{"GET", "GET /endpoints", auth.Read},
		{"GET", "GET /events", auth.Read},
		{"GET", "GET /jobs/export", auth.Read},
		{"POST", "POST /query", auth.Read},
		{"PUT", "PUT /digitaltwins/{id}", auth.Write},
		{"PATCH", "PATCH /digitaltwins/{id}", auth.Write},
		{"DELETE", "DELETE /digitaltwins/{id}/relationships/{relId}", auth.Write},
		{"POST", "POST /digitaltwins/{id}/telemetry", auth.Write},
		{"POST", "POST /jobs/imports", auth.Write},
		{"PUT", "PUT /jobs/imports/{id}", auth.Write},
		{"POST", "POST /scenarios", auth.Write},
		{"POST", "POST /plant/oee", auth.Write},
		{"POST", "POST /models", auth.Manage},
		{"PATCH", "PATCH /models/{id}", auth.Manage},
		{"DELETE", "DELETE /models/{id}", auth.Manage},
		{"PUT", "PUT /eventroutes/{id}", auth.Manage},
		{"DELETE", "DELETE /endpoints/{name}", auth.Manage},
		{"GET", "GET /log/checkpoint", auth.Audit},
		{"GET", "GET /log/tile/", auth.Audit},
		{"GET", "GET /log/proof/{index}", auth.OwnProof},
		{"GET", "GET /verify", auth.Audit},
		{"GET", "GET /digitaltwins/{id}/provenance", auth.Audit},
		// Unrouted paths and patterns without a method.
		{"DELETE", "/anything/new", auth.Write},
		{"GET", "/anything/new", auth.Read},
		{"POST", "/models", auth.Manage},
		{"POST", "/keys", auth.Manage},
		{"DELETE", "/keys/{id}", auth.Manage},
		{"GET", "/keys", auth.Read},
		{"PUT", "/models/{id}/signatures", auth.Manage},
		{"GET", "/models/{id}/signatures", auth.Read},
	}
	for _, tt := range tests {
		if got := auth.ClassOf(tt.method, tt.pattern); got != tt.want {
			t.Errorf("ClassOf(%s, %q) = %v, want %v", tt.method, tt.pattern, got, tt.want)
		}
	}
}

func TestContext(t *testing.T) {
	if _, ok := auth.FromContext(context.Background()); ok {
		t.Error("FromContext of an empty context: ok")
	}
	p := auth.Principal{Subject: "alice", Org: "acme", Roles: []auth.Role{auth.Writer}, Method: "token"}
	got, ok := auth.FromContext(auth.NewContext(context.Background(), p))
	if !ok || got.Subject != "alice" || got.Org != "acme" || !got.Has(auth.Reader) {
		t.Errorf("FromContext = %+v, %v", got, ok)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"empty", `{}`, "tokens, jwt"},
		{"unknown key", `{"tokens":[],"jwks":{}}`, "unknown field"},
		{"short token", `{"tokens":[{"token":"abc","subject":"a","org":"o","roles":["reader"]}]}`, "tokens[0].token"},
		{"no subject", `{"tokens":[{"token":"0123456789abcdef0123","org":"o","roles":["reader"]}]}`, "tokens[0].subject"},
		{"no org", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","roles":["reader"]}]}`, "tokens[0].org"},
		{"no roles", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o"}]}`, "tokens[0].roles"},
		{"bad role", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["root"]}]}`, "tokens[0].roles[0]"},
		{"twice", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["reader"]},{"token":"0123456789abcdef0123","subject":"b","org":"o","roles":["reader"]}]}`, "tokens[1].token"},
		{"jwt no issuer", `{"jwt":{"audience":"x","jwks_file":"k"}}`, "jwt.issuer"},
		{"jwt no audience", `{"jwt":{"issuer":"x","jwks_file":"k"}}`, "jwt.audience"},
		{"jwt no jwks", `{"jwt":{"issuer":"x","audience":"y"}}`, "jwt.jwks_file"},
		{"jwt leeway", `{"jwt":{"issuer":"x","audience":"y","jwks_file":"k","leeway":"1h"}}`, "jwt.leeway"},
		{"trailing", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["reader"]}]} {}`, "trailing"},
		{"anonymous alone", `{"anonymous":{"subject":"local","org":"o","roles":["reader"]}}`, "tokens, jwt"},
		{"anonymous no org", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["reader"]}],"anonymous":{"subject":"local","roles":["reader"]}}`, "anonymous.org"},
		{"anonymous no subject", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["reader"]}],"anonymous":{"org":"o","roles":["reader"]}}`, "anonymous.subject"},
		{"anonymous bad role", `{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["reader"]}],"anonymous":{"subject":"l","org":"o","roles":["god"]}}`, "anonymous.roles[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.ParseConfig([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("ParseConfig = %v, want an error naming %q", err, tt.field)
			}
		})
	}
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if tok != "" {
		r.Header.Set("Authorization", tok)
	}
	return r
}

func TestTokens(t *testing.T) {
	cfg, err := auth.ParseConfig([]byte(`{"tokens":[
		{"token":"alice-0123456789abcdef","subject":"alice","org":"acme","roles":["admin"]},
		{"token":"bob-0123456789abcdef00","subject":"bob","org":"globex","roles":["reader","auditor"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		header  string
		subject string
		err     error
	}{
		{"Bearer alice-0123456789abcdef", "alice", nil},
		{"bearer bob-0123456789abcdef00", "bob", nil},
		{"Bearer  bob-0123456789abcdef00 ", "bob", nil},
		{"", "", auth.ErrNoCredentials},
		{"Bearer alice-0123456789abcdeF", "", auth.ErrInvalid},
		{"Basic YWxpY2U6eA==", "", auth.ErrInvalid},
		{"Bearer", "", auth.ErrInvalid},
		{"Bearer a.b.c", "", auth.ErrInvalid}, // a JWT shape without a jwt section
	}
	for _, tt := range tests {
		p, err := a.Authenticate(bearer(tt.header), now)
		if tt.err != nil {
			if !errorsIs(err, tt.err) {
				t.Errorf("%q: err = %v, want %v", tt.header, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "alice-") {
				t.Errorf("%q: the error echoes the credential: %v", tt.header, err)
			}
			continue
		}
		if err != nil || p.Subject != tt.subject || p.Method != "token" {
			t.Errorf("%q: %+v, %v; want subject %s", tt.header, p, err, tt.subject)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := auth.NewLimiter(2, 3) // 2/s, bursts of 3
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := l.Allow("a", t0); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.Allow("a", t0)
	if ok || wait != 500*time.Millisecond {
		t.Errorf("4th request: %v, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.Allow("b", t0); !ok {
		t.Error("another key shares the bucket")
	}
	if ok, _ := l.Allow("a", t0.Add(500*time.Millisecond)); !ok {
		t.Error("a token is not back after 1/rate")
	}
	// After a long pause the bucket is full again, and no fuller.
	t1 := t0.Add(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow("a", t1); !ok {
			t.Fatalf("after a pause, request %d refused", i)
		}
	}
	if ok, _ := l.Allow("a", t1); ok {
		t.Error("the bucket holds more than its burst")
	}
	var none *auth.Limiter = auth.NewLimiter(0, 0)
	if ok, _ := none.Allow("a", t0); !ok {
		t.Error("no limiter refused")
	}
}

// TestAnonymous: with an anonymous entry, a request without credentials is
// that principal (restricted to its org like any token, never the
// unrestricted principal of a server without --auth), while a wrong token
// is still refused.
func TestAnonymous(t *testing.T) {
	cfg, err := auth.ParseConfig([]byte(`{"tokens":[
		{"token":"alice-0123456789abcdef","subject":"alice","org":"acme","roles":["admin"]}],
		"anonymous":{"subject":"local-user","org":"demo","roles":["admin"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p, err := a.Authenticate(bearer(""), now)
	if err != nil || p.Subject != "local-user" || p.Org != "demo" || p.Method == "anonymous" || len(p.Roles) != 1 || p.Roles[0] != auth.Admin {
		t.Errorf("no credentials: %+v, %v; want local-user of org demo, not the unrestricted principal", p, err)
	}
	if a.Anonymous() == nil {
		t.Error("Anonymous() = nil with an anonymous entry")
	}
	if p, err := a.Authenticate(bearer("Bearer alice-0123456789abcdef"), now); err != nil || p.Subject != "alice" {
		t.Errorf("a token still wins: %+v, %v", p, err)
	}
	if _, err := a.Authenticate(bearer("Bearer wrong-0123456789abcdef"), now); !errorsIs(err, auth.ErrInvalid) {
		t.Errorf("a wrong token: %v, want ErrInvalid", err)
	}
}
