package api_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"lodestone/server"
	"lodestone/trust/auth"
)

// rawDo sends a request with a chosen Host header.
func (e *env) rawDo(method, path, host string, body string, hdr ...string) res {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return res{status: r.StatusCode, header: r.Header, body: b}
}

// TestHardeningContentType: a body of a type a web page can send without
// a CORS preflight is refused on every route (415), with or without
// --auth; the import route takes ndjson.
func TestHardeningContentType(t *testing.T) {
	open := start(t, options{})
	sec := startSecure(t, nil)
	const imp = `{"Section":"Header"}` + "\n" + `{"fileVersion":"1.0.0","author":"t","organization":"t"}` + "\n"
	for _, e := range []*env{open, sec.env} {
		w := sec.as(auth.Admin)
		for _, tt := range []struct {
			method, path, ct string
			want             int
		}{
			{"POST", "/jobs/imports", "text/plain", 415},
			{"POST", "/jobs/imports", "text/plain; charset=utf-8", 415},
			{"PUT", "/jobs/imports/j1", "application/x-www-form-urlencoded", 415},
			{"PUT", "/jobs/imports/j2", "multipart/form-data; boundary=x", 415},
			{"PUT", "/jobs/imports/j3", "image/png", 415},
			{"PUT", "/digitaltwins/t1", "text/plain", 415},
			{"POST", "/query", "application/x-www-form-urlencoded", 415},
			{"POST", "/models", "text/plain", 415},
			{"POST", "/plant/reliability/fit", "text/plain", 415},
			{"PUT", "/digitaltwins/t1", "bad/", 415},
		} {
			r := e.rawDo(tt.method, tt.path, "", imp, append([]string{"Content-Type", tt.ct}, w...)...)
			if r.status != tt.want {
				t.Errorf("%s %s as %s = %d %s, want %d", tt.method, tt.path, tt.ct, r.status, r.body, tt.want)
			}
		}
		r := e.rawDo("PUT", "/jobs/imports/ok", "", imp, append([]string{"Content-Type", "application/x-ndjson"}, w...)...)
		if r.status == 415 || r.status == 401 || r.status == 403 {
			t.Errorf("ndjson import = %d %s", r.status, r.body)
		}
	}
}

// TestHardeningHostOrigin: a rebound Host and a foreign Origin are
// refused; the server's own names and origin, and configured CORS
// origins, pass.
func TestHardeningHostOrigin(t *testing.T) {
	e := start(t, options{}) // loopback, no --auth
	tests := []struct {
		name, host, origin string
		want               int
	}{
		{"ip literal", "", "", 200},
		{"localhost", "localhost:8080", "", 200},
		{"sub.localhost", "app.localhost", "", 200},
		{"single label", "lodestone", "", 200},
		{"rebound name", "attacker.example:8080", "", 403},
		{"rebound name, trailing dot", "attacker.example.", "", 403},
		{"same origin", "", e.url, 200},
		{"foreign origin", "", "https://evil.example", 403},
		{"null origin", "", "null", 403},
	}
	for _, tt := range tests {
		var hdr []string
		if tt.origin != "" {
			hdr = []string{"Origin", tt.origin}
		}
		r := e.rawDo("GET", "/models", tt.host, "", hdr...)
		if r.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, r.status, r.body, tt.want)
		}
		if r.status == 403 && r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: refused with CORS headers", tt.name)
		}
	}
	// A foreign page's write is refused before it runs.
	r := e.rawDo("PUT", "/digitaltwins/csrf", "", `{"$metadata":{"$model":"dtmi:test:Owner;1"}}`, "Origin", "https://evil.example", "Content-Type", "application/json")
	if r.status != 403 {
		t.Errorf("cross-site PUT = %d", r.status)
	}
	e.mustDo("GET", "/digitaltwins/csrf", nil, 404)

	// Configured names and origins.
	s := startSecure(t, func(o *server.Options) {
		o.Hostnames = "twin.example.com"
		o.CORSOrigins = "https://app.example.com"
	})
	adm := s.as(auth.Admin)
	if r := s.rawDo("GET", "/models", "twin.example.com", "", adm...); r.status != 200 {
		t.Errorf("configured host: %d %s", r.status, r.body)
	}
	if r := s.rawDo("GET", "/models", "other.example.com", "", adm...); r.status != 403 {
		t.Errorf("unconfigured host: %d, want 403", r.status)
	}
	r = s.rawDo("GET", "/models", "", "", append([]string{"Origin", "https://app.example.com"}, adm...)...)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("configured origin: %d, ACAO %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
	// The preflight is answered without credentials (browsers send none).
	r = s.rawDo("OPTIONS", "/digitaltwins/x", "", "", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type")
	if r.status != 204 || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	if r := s.rawDo("OPTIONS", "/digitaltwins/x", "", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "PUT"); r.status != 403 {
		t.Errorf("foreign preflight: %d", r.status)
	}
}

// TestHardeningWebhooks: webhooks to loopback, private, link-local and
// reserved addresses are refused unless allow-listed; URL credentials
// are never echoed.
func TestHardeningWebhooks(t *testing.T) {
	e := startSecure(t, nil)
	adm := e.as(auth.Admin)
	for _, u := range []string{
		"http://127.0.0.1:5432/", "http://[::1]:8080/", "http://localhost:6379/", "http://10.1.2.3/",
		"http://192.168.0.10/", "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data/",
		"http://[fe80::1]/", "http://[fc00::1]/", "http://100.64.0.1/", "http://0.0.0.0:5432/", "http://[::ffff:127.0.0.1]/",
	} {
		r := e.do("PUT", "/endpoints/h", map[string]string{"kind": "webhook", "url": u}, adm...)
		if r.status != 400 || r.errCode(t) != "WebhookAddressNotAllowed" {
			t.Errorf("webhook %s = %d %s, want 400 WebhookAddressNotAllowed", u, r.status, r.body)
		}
	}
	// A public address with credentials: accepted, never echoed.
	const secret = "https://svc:s3cr3t-pass@93.184.215.14/hook?token=t0k3n-value&team=a"
	r := e.mustDo("PUT", "/endpoints/pub", map[string]string{"kind": "webhook", "url": secret}, 200, adm...)
	list := e.mustDo("GET", "/endpoints", nil, 200, e.as(auth.Reader)...)
	for _, b := range [][]byte{r.body, list.body} {
		for _, s := range []string{"s3cr3t-pass", "t0k3n-value"} {
			if strings.Contains(string(b), s) {
				t.Errorf("a secret of the webhook URL is echoed: %s", b)
			}
		}
	}
	if !strings.Contains(string(list.body), "93.184.215.14/hook") || !strings.Contains(string(list.body), "team=a") {
		t.Errorf("redaction removed more than the secrets: %s", list.body)
	}

	// With --webhook-allow the range is reachable.
	a := startSecure(t, func(o *server.Options) { o.WebhookAllow = "127.0.0.0/8, 10.0.0.0/8" })
	for _, u := range []string{"http://127.0.0.1:5432/", "http://10.1.2.3/"} {
		a.mustDo("PUT", "/endpoints/h", map[string]string{"kind": "webhook", "url": u}, 200, a.as(auth.Admin)...)
	}
	a.mustDo("PUT", "/endpoints/h", map[string]string{"kind": "webhook", "url": "http://192.168.1.1/"}, 400, a.as(auth.Admin)...)

	// The default configuration, a loopback server without --auth, refuses
	// loopback too (the audit's POST reached 127.0.0.1:5432 there); only
	// --webhook-allow opens it.
	open := start(t, options{noModels: true})
	for _, u := range []string{"http://127.0.0.1:5432/", "http://[::1]:8080/", "http://localhost:6379/"} {
		r := open.do("PUT", "/endpoints/h", map[string]string{"kind": "webhook", "url": u})
		if r.status != 400 || r.errCode(t) != "WebhookAddressNotAllowed" {
			t.Errorf("without --auth on loopback: webhook %s = %d %s, want 400 WebhookAddressNotAllowed", u, r.status, r.body)
		}
	}
	allowed := start(t, options{noModels: true, webhookAllow: "127.0.0.0/8"})
	allowed.mustDo("PUT", "/endpoints/h", map[string]string{"kind": "webhook", "url": "http://127.0.0.1:5432/"}, 200)
}

// TestHardeningRateLimit: past its burst a principal gets 429 with
// Retry-After, and another principal is unaffected.
func TestHardeningRateLimit(t *testing.T) {
	// 0.001 per second: no token comes back during the test, however slow
	// the machine.
	e := startSecure(t, func(o *server.Options) { o.RateLimit, o.RateBurst = 0.001, 3 })
	rd := e.as(auth.Reader)
	for i := range 3 {
		e.mustDo("GET", "/models", nil, 200, rd...)
		_ = i
	}
	r := e.do("GET", "/models", nil, rd...)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("4th request = %d, want 429", r.status)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	e.mustDo("GET", "/models", nil, 200, e.as(auth.Writer)...)
}
