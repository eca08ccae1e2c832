package auth_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"lodestone/trust/auth"
)

// TestCertPrincipal: over a real mutual-TLS handshake, the client
// certificate (CN=device-1) is the principal of a request without a
// token; a token still wins; a certificate the file does not name is a
// 401's error.
func TestCertPrincipal(t *testing.T) {
	pki := newPKI(t)
	cfg, err := auth.ServerTLS(pki.ServerCert, pki.ServerKey, pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	conf := func(subject string) *auth.Authenticator {
		a, err := auth.New(auth.Config{
			Tokens: []auth.TokenConfig{{Token: "certs-test-token-0123", Subject: "alice", Org: "acme", Roles: []string{"admin"}}},
			Certs:  []auth.CertConfig{{Subject: subject, Org: "plant-7", Roles: []string{"writer"}}},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	var current *auth.Authenticator
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := current.Authenticate(r, time.Now())
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(err.Error()))
			return
		}
		json.NewEncoder(w).Encode(p)
	}))
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool, Certificates: []tls.Certificate{pki.Client}}}}
	get := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	tests := []struct {
		subject, token string
		status         int
		says           string
	}{
		{"CN=device-1", "", 200, `"subject":"CN=device-1","org":"plant-7","roles":["writer"],"method":"cert"`},
		{"CN=test CA", "", 401, "maps to no principal"},
		{"CN=device-1", "certs-test-token-0123", 200, `"subject":"alice"`},
	}
	for _, tt := range tests {
		current = conf(tt.subject)
		status, body := get(tt.token)
		if status != tt.status || !strings.Contains(body, tt.says) {
			t.Errorf("certs %s, token %q: %d %s; want %d saying %s", tt.subject, tt.token, status, body, tt.status, tt.says)
		}
	}
}

func TestCertMatching(t *testing.T) {
	u, _ := url.Parse("spiffe://acme.example/pump/7")
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "pump-7", Organization: []string{"acme"}, OrganizationalUnit: []string{"plant"}}, URIs: []*url.URL{u}}
	tests := []struct {
		subject string
		match   bool
	}{
		{"CN=pump-7", true},
		{"CN=pump-8", false},
		{"URI:spiffe://acme.example/pump/7", true},
		{"URI:spiffe://acme.example/pump/8", false},
		{leaf.Subject.String(), true}, // "CN=pump-7,OU=plant,O=acme"
		{"CN=pump-7,O=other", false},
	}
	for _, tt := range tests {
		a, err := auth.New(auth.Config{Certs: []auth.CertConfig{{Subject: tt.subject, Org: "acme", Roles: []string{"reader"}}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}
		p, err := a.Authenticate(r, time.Now())
		if got := err == nil; got != tt.match {
			t.Errorf("%s: matched %v (%v), want %v", tt.subject, got, err, tt.match)
		}
		if tt.match && (p.Method != "cert" || p.Org != "acme") {
			t.Errorf("%s: principal %+v", tt.subject, p)
		}
		// A certificate that was presented but not verified never counts.
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}
		if _, err := a.Authenticate(r, time.Now()); !errors.Is(err, auth.ErrNoCredentials) {
			t.Errorf("%s: an unverified certificate: %v", tt.subject, err)
		}
	}
}

func TestCertConfigErrors(t *testing.T) {
	tests := []struct{ body, field string }{
		{`{"certs":[{"subject":"","org":"a","roles":["reader"]}]}`, "certs[0].subject"},
		{`{"certs":[{"subject":"pump-7","org":"a","roles":["reader"]}]}`, "certs[0].subject"},
		{`{"certs":[{"subject":"CN=a","org":"","roles":["reader"]}]}`, "certs[0].org"},
		{`{"certs":[{"subject":"CN=a","org":"a","roles":[]}]}`, "certs[0].roles"},
		{`{"certs":[{"subject":"CN=a","org":"a","roles":["root"]}]}`, "certs[0].roles[0]"},
		{`{"certs":[{"subject":"CN=a","org":"a","roles":["reader"]},{"subject":"CN=a","org":"b","roles":["reader"]}]}`, "certs[1].subject"},
		{`{"certs":[{"subject":"CN=a","org":"a","roles":["reader"],"role":"x"}]}`, "role"},
	}
	for _, tt := range tests {
		_, err := auth.ParseConfig([]byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: %v, want an error naming %s", tt.body, err, tt.field)
		}
	}
	if _, err := auth.ParseConfig([]byte(`{"certs":[{"subject":"URI:spiffe://a/b","org":"a","roles":["writer"]}]}`)); err != nil {
		t.Errorf("a certs-only file: %v", err)
	}
}
