package auth_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// TestMTLSPrincipalThroughServer starts a whole server with --tls-cert,
// --tls-client-ca and an --auth file whose certs name the client
// certificate (CN=device-1) as a writer of plant-7: without a token the
// device reads (200) and may not manage models (403 naming its subject).
func TestMTLSPrincipalThroughServer(t *testing.T) {
	pki := newPKI(t)
	dir := t.TempDir()
	authFile := filepath.Join(dir, "auth.json")
	os.WriteFile(authFile, []byte(`{"tokens":[{"token":"mtls-admin-token-0123","subject":"alice","org":"plant-7","roles":["admin"]}],
		"certs":[{"subject":"CN=device-1","org":"plant-7","roles":["writer"]}]}`), 0o600)
	o := server.DefaultOptions()
	o.DataDir = filepath.Join(dir, "data")
	o.HTTPAddr = "127.0.0.1:0"
	o.TLSCert, o.TLSKey, o.TLSClientCA = pki.ServerCert, pki.ServerKey, pki.CA
	o.Auth = authFile
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool, Certificates: []tls.Certificate{pki.Client}}}}
	do := func(method, path, token string) (int, string) {
		req, _ := http.NewRequest(method, s.URL()+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := do("GET", "/models", ""); status != 200 {
		t.Errorf("GET /models with the certificate = %d %s, want 200", status, body)
	}
	if status, body := do("DELETE", "/models/dtmi:x:Y;1", ""); status != 403 || !strings.Contains(body, "CN=device-1") || !strings.Contains(body, `"type":"forbidden"`) {
		t.Errorf("DELETE /models as the device = %d %s, want 403 naming CN=device-1", status, body)
	}
	if status, body := do("DELETE", "/models/dtmi:x:Y;1", "mtls-admin-token-0123"); status != 404 {
		t.Errorf("DELETE /models with the admin token = %d %s, want 404 (no such model)", status, body)
	}
}
