package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir and returns the CA pool and the client pair.
func testPKI(t *testing.T, dir string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalPKCS8PrivateKey(k)
		write(name+".pem", "CERTIFICATE", der)
		write(name+".key", "PRIVATE KEY", kb)
	}
	write("ca.pem", "CERTIFICATE", caDER)
	leaf(2, "server", x509.ExtKeyUsageServerAuth)
	leaf(3, "client", x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	return pool, cert
}

// TestServeTLS starts the server with --tls-cert/--tls-key (and then
// --tls-client-ca) and --auth, and talks HTTP/2 to it with a token.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	pool, clientCert := testPKI(t, dir)
	authFile := filepath.Join(dir, "auth.json")
	os.WriteFile(authFile, []byte(`{"tokens":[{"token":"tls-test-token-0123456","subject":"alice","org":"acme","roles":["admin"]}]}`), 0o600)
	for _, mutual := range []bool{false, true} {
		t.Run(map[bool]string{false: "tls", true: "mtls"}[mutual], func(t *testing.T) {
			s := startServer(t, func(o *server.Options) {
				o.TLSCert, o.TLSKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
				if mutual {
					o.TLSClientCA = filepath.Join(dir, "ca.pem")
				}
				o.Auth = authFile
			})
			if !strings.HasPrefix(s.URL(), "https://") {
				t.Fatalf("URL() = %s, want https", s.URL())
			}
			get := func(cert bool, token string) (*http.Response, error) {
				tc := &tls.Config{RootCAs: pool}
				if cert {
					tc.Certificates = []tls.Certificate{clientCert}
				}
				c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}, Timeout: 20 * time.Second}
				req, _ := http.NewRequest("GET", s.URL()+"/models", nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := c.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				return resp, err
			}
			resp, err := get(true, "tls-test-token-0123456")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
				t.Errorf("GET /models = %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
			}
			if resp, err := get(true, ""); err != nil || resp.StatusCode != 401 {
				t.Errorf("without a token: %v %v, want 401", resp, err)
			}
			resp, err = get(false, "tls-test-token-0123456")
			if mutual && err == nil {
				t.Errorf("mutual TLS served a client without a certificate: %d", resp.StatusCode)
			}
			if !mutual && err != nil {
				t.Errorf("TLS without client certificates: %v", err)
			}
			// Plain HTTP on the TLS port is not served.
			if r, err := http.Get("http" + strings.TrimPrefix(s.URL(), "https") + "/models"); err == nil && r.StatusCode == 200 {
				t.Error("plain HTTP served on the TLS port")
			}
		})
	}
}

func TestSecurityOptionErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*server.Options)
		field string
	}{
		{"cert without key", func(o *server.Options) { o.TLSCert = "c.pem" }, "tls_key"},
		{"client CA without cert", func(o *server.Options) { o.TLSClientCA = "ca.pem" }, "tls_client_ca"},
		{"every interface without auth", func(o *server.Options) { o.HTTPAddr = ":8080" }, "http_addr"},
		{"bad origin", func(o *server.Options) { o.CORSOrigins = "app.example" }, "cors_origins"},
		{"origin with path", func(o *server.Options) { o.CORSOrigins = "https://app.example/x" }, "cors_origins"},
		{"bad cidr", func(o *server.Options) { o.WebhookAllow = "10.0.0.0" }, "webhook_allow"},
		{"host with port", func(o *server.Options) { o.Hostnames = "twin.example:443" }, "hostnames"},
		{"negative rate", func(o *server.Options) { o.RateLimit = -1 }, "rate_limit"},
		{"zero burst", func(o *server.Options) { o.RateBurst = 0 }, "rate_burst"},
	}
	for _, tt := range tests {
		o := server.DefaultOptions()
		tt.edit(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: Validate = %v, want an error naming %s", tt.name, err, tt.field)
		}
	}
	// A bad --auth file stops Start with its reason.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "auth.json"), []byte(`{"tokens":[{"token":"short","subject":"a","org":"o","roles":["reader"]}]}`), 0o600)
	o := server.DefaultOptions()
	o.DataDir = filepath.Join(dir, "data")
	o.HTTPAddr = "127.0.0.1:0"
	o.Auth = filepath.Join(dir, "auth.json")
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "tokens[0].token") {
		t.Errorf("Start with a bad --auth file = %v", err)
		if err == nil {
			s.Shutdown(t.Context())
		}
	}
	// Requests without credentials are let in on loopback only.
	os.WriteFile(o.Auth, []byte(`{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["reader"]}],
		"anonymous":{"subject":"local","org":"o","roles":["reader"]}}`), 0o600)
	o.HTTPAddr = "0.0.0.0:0"
	if s, err = server.New(o); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "anonymous") {
		t.Errorf("Start with an anonymous entry on every interface = %v, want an error naming anonymous", err)
		if err == nil {
			s.Shutdown(t.Context())
		}
	}
}
