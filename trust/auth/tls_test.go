package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lodestone/trust/auth"
)

// PKI is a CA with a server and a client certificate, written as PEM
// files, made for one test.
type PKI struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string // file paths
	Pool                                             *x509.CertPool
	Client                                           tls.Certificate
}

func newPKI(t testing.TB) PKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte { b, _ := x509.MarshalPKCS8PrivateKey(k); return b }
	sDER, sKey := leaf(2, "server", x509.ExtKeyUsageServerAuth)
	cDER, cKey := leaf(3, "device-1", x509.ExtKeyUsageClientAuth)
	p := PKI{
		CA:         write("ca.pem", "CERTIFICATE", caDER),
		ServerCert: write("server.pem", "CERTIFICATE", sDER),
		ServerKey:  write("server.key", "PRIVATE KEY", keyDER(sKey)),
		ClientCert: write("client.pem", "CERTIFICATE", cDER),
		ClientKey:  write("client.key", "PRIVATE KEY", keyDER(cKey)),
		Pool:       x509.NewCertPool(),
	}
	p.Pool.AddCert(ca)
	p.Client, err = tls.LoadX509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServerTLS(t *testing.T) {
	pki := newPKI(t)
	for _, mutual := range []bool{false, true} {
		name := map[bool]string{false: "tls", true: "mtls"}[mutual]
		t.Run(name, func(t *testing.T) {
			clientCA := ""
			if mutual {
				clientCA = pki.CA
			}
			cfg, err := auth.ServerTLS(pki.ServerCert, pki.ServerKey, clientCA)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cn := ""
				if len(r.TLS.PeerCertificates) > 0 {
					cn = r.TLS.PeerCertificates[0].Subject.CommonName
				}
				w.Header().Set("X-Client", cn)
				w.Header().Set("X-Proto", r.Proto)
			}))
			srv.TLS = cfg
			srv.EnableHTTP2 = true
			srv.StartTLS()
			defer srv.Close()
			client := func(cert bool) *http.Client {
				tc := &tls.Config{RootCAs: pki.Pool}
				if cert {
					tc.Certificates = []tls.Certificate{pki.Client}
				}
				return &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}}
			}
			resp, err := client(false).Get(srv.URL)
			if mutual {
				if err == nil {
					resp.Body.Close()
					t.Fatal("mutual TLS: a client without a certificate was served")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.ProtoMajor != 2 {
					t.Errorf("protocol %s, want HTTP/2", resp.Proto)
				}
			}
			resp, err = client(true).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if mutual && resp.Header.Get("X-Client") != "device-1" {
				t.Errorf("client certificate CN = %q, want device-1", resp.Header.Get("X-Client"))
			}
			// An untrusting client refuses the server's certificate.
			if _, err := http.Get(srv.URL); err == nil {
				t.Error("a client without the CA trusted the server")
			}
		})
	}
}

func TestServerTLSErrors(t *testing.T) {
	pki := newPKI(t)
	if _, err := auth.ServerTLS(pki.ServerCert, "", ""); err == nil {
		t.Error("a certificate without a key accepted")
	}
	if _, err := auth.ServerTLS(pki.ServerCert, pki.ClientKey, ""); err == nil {
		t.Error("a key of another certificate accepted")
	}
	if _, err := auth.ServerTLS(pki.ServerCert, pki.ServerKey, pki.ServerKey); err == nil {
		t.Error("a client CA file without a certificate accepted")
	}
}
