package adtsdk_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lodestone/server"
)

// token is the --auth token the SDK's TokenCredential returns.
const token = "adt-sdk-test-token-0123456789abcdef"

// sensors is how many twins the query that spans pages finds.
const sensors = 1005

// TestADTSDK runs js/drive.mjs, which uses DigitalTwinsClient from
// @azure/digital-twins-core, against a server with TLS and --auth, and
// checks that the event route the script made delivered its telemetry to
// a webhook.
func TestADTSDK(t *testing.T) {
	node, npm := tools(t)
	if testing.Short() {
		t.Skip("the ADT SDK test installs npm packages; skipped with -short")
	}
	modules := installSDK(t, npm)
	dir := t.TempDir()
	caFile := writePKI(t, dir)
	authFile := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(authFile, []byte(`{"tokens":[{"token":"`+token+`","subject":"sdk","org":"acme","roles":["admin"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := newWebhook(t)
	s := startServer(t, dir, authFile)
	c := httpsClient(t, caFile)
	// Endpoints are not part of the ADT data plane (Azure makes them with
	// its control plane), so the test makes the one the script's route uses.
	putJSON(t, c, s.URL()+"/endpoints/sdk-hook", `{"kind":"webhook","url":"`+hook.srv.URL+`"}`)
	// More sensors than a query page holds (1,000, as ADT), so that the
	// SDK's queries follow a continuation token; an import job is the
	// quick way to make them.
	importSensors(t, c, s.URL(), sensors)

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	// The script runs from a folder inside the installed one, where Node
	// finds node_modules by walking up.
	run, err := os.MkdirTemp(modules, "run-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(run)
	script, err := os.ReadFile(filepath.Join("js", "drive.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "drive.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, filepath.Join(run, "drive.mjs"))
	cmd.Dir = run
	cmd.Env = append(os.Environ(),
		"LODESTONE_URL="+s.URL(),
		"LODESTONE_TOKEN="+token,
		"LODESTONE_ENDPOINT=sdk-hook",
		"LODESTONE_SENSORS="+strconv.Itoa(sensors),
		"NODE_EXTRA_CA_CERTS="+caFile,
		"NODE_OPTIONS=",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("drive.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("drive.mjs: %v", err)
	}
	if !strings.Contains(out.String(), "\ndone\n") {
		t.Fatal("drive.mjs did not finish")
	}
	// The route was deleted at the end of the script; what it delivered
	// before then must include the telemetry of pump-05.
	if !hook.waitFor(func(e map[string]any) bool {
		sub, _ := e["subject"].(string)
		return e["type"] == "lodestone.telemetry" && strings.HasPrefix(sub, "pump-05")
	}, 20*time.Second) {
		t.Errorf("the SDK's event route delivered no telemetry of pump-05 to the webhook; got %d events", hook.count())
	}
}

// tools returns the paths of node and npm, skipping the test when either
// is missing (failing under CI=true).
func tools(t *testing.T) (node, npm string) {
	t.Helper()
	node, err1 := exec.LookPath("node")
	npm, err2 := exec.LookPath("npm")
	if err := errors.Join(err1, err2); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are required under CI (.ci/run installs them): %v", err)
		}
		t.Skipf("node or npm not found; the ADT SDK test needs both: %v", err)
	}
	return node, npm
}

// installSDK runs npm ci for js/package-lock.json in a cache folder named
// by the hash of package.json and the lock, and returns the folder. A
// folder already installed is reused.
func installSDK(t *testing.T, npm string) string {
	t.Helper()
	files := []string{"package.json", "package-lock.json"}
	h := sha256.New()
	contents := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("js", f))
		if err != nil {
			t.Fatal(err)
		}
		contents[f] = b
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "lodestone", "adtsdk-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "digital-twins-core", "package.json")); err == nil {
		return dir
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "adtsdk-install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	for f, b := range contents {
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		// Offline, the registry cannot be reached: a skip on a
		// developer's machine, a failure under CI.
		if os.Getenv("CI") == "true" {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
		t.Skipf("npm ci failed (is the npm registry reachable?): %v\n%s", err, out)
	}
	// Another test run may have installed it meanwhile; either copy will do.
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr != nil {
			t.Fatalf("install the SDK into %s: %v", dir, err)
		}
	}
	return dir
}

// writePKI writes a CA and a server certificate for 127.0.0.1 and
// localhost into dir and returns the CA's file.
func writePKI(t *testing.T, dir string) string {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "adtsdk test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("server.pem", "CERTIFICATE", der)
	write("server.key", "PRIVATE KEY", kb)
	return write("ca.pem", "CERTIFICATE", caDER)
}

func startServer(t *testing.T, dir, authFile string) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = filepath.Join(dir, "data")
	o.HTTPAddr = "127.0.0.1:0"
	o.TLSCert, o.TLSKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	o.Auth = authFile
	o.WebhookAllow = "127.0.0.0/8"
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

func httpsClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// importSensors imports n twins of dtmi:lodestone:sdktest:Sensor;1 and
// waits for the job to succeed.
func importSensors(t *testing.T, c *http.Client, base string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"Section":"Header"}` + "\n" + `{"fileVersion":"1.0.0","author":"adtsdk test","organization":"lodestone"}` + "\n")
	b.WriteString(`{"Section":"Models"}` + "\n")
	b.WriteString(`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:lodestone:sdktest:Sensor;1","@type":"Interface","contents":[{"@type":"Property","name":"n","schema":"integer","writable":true}]}` + "\n")
	b.WriteString(`{"Section":"Twins"}` + "\n")
	for i := range n {
		fmt.Fprintf(&b, `{"$dtId":"sensor-%04d","$metadata":{"$model":"dtmi:lodestone:sdktest:Sensor;1"},"n":%d}`+"\n", i, i)
	}
	req, _ := http.NewRequest("PUT", base+"/jobs/imports/sdk-sensors", strings.NewReader(b.String()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT /jobs/imports = %d %s", resp.StatusCode, body)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequest("GET", base+"/jobs/imports/sdk-sensors", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var job struct {
			Status string          `json:"status"`
			Error  json.RawMessage `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&job)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch job.Status {
		case "succeeded":
			return
		case "failed", "cancelled":
			t.Fatalf("the import job %s: %s", job.Status, job.Error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import job is still %s", job.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func putJSON(t *testing.T, c *http.Client, url, body string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT %s = %d %s", url, resp.StatusCode, b)
	}
}

// webhook records the CloudEvents posted to it.
type webhook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []map[string]any
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var e map[string]any
		if json.Unmarshal(b, &e) == nil {
			h.mu.Lock()
			h.events = append(h.events, e)
			h.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *webhook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

// waitFor polls until an event matches or the wait is over.
func (h *webhook) waitFor(match func(map[string]any) bool, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		h.mu.Lock()
		for _, e := range h.events {
			if match(e) {
				h.mu.Unlock()
				return true
			}
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
