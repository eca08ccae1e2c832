package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestWebhookAllowed(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}
	tests := []struct {
		ip   string
		want bool
	}{
		{"93.184.215.14", true},
		{"2606:4700::1111", true},
		{"10.9.1.1", true}, // allow-listed
		{"10.8.1.1", false},
		{"127.0.0.1", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.9.0.1", true},
		{"169.254.169.254", false},
		{"fe80::1", false},
		{"fd00::1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"100.100.100.100", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"198.18.0.1", false},
		{"2002:7f00:1::", false},  // 6to4 of 127.0.0.1
		{"64:ff9b::a00:1", false}, // NAT64 of 10.0.0.1
	}
	for _, tt := range tests {
		if got := webhookAllowed(netip.MustParseAddr(tt.ip), allow); got != tt.want {
			t.Errorf("webhookAllowed(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

// TestWebhookDialCheck: the check at dial time refuses what the resolver
// returned, so a name that pointed at a public address when the webhook
// was registered and now points at a private one reaches nothing.
func TestWebhookDialCheck(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hook.Close()
	u, _ := url.Parse(hook.URL)
	u.Host = "localhost:" + u.Port() // a name, resolved at dial time
	a := &API{opts: Options{Security: &Security{}}}
	_, err := a.webhookClient().Get(u.String())
	if !errors.Is(err, ErrWebhookAddress) {
		t.Errorf("dial to %s = %v, want ErrWebhookAddress", u, err)
	}
	a.opts.Security.WebhookAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	resp, err := a.webhookClient().Get(hook.URL)
	if err != nil {
		t.Fatalf("allow-listed dial: %v", err)
	}
	resp.Body.Close()
	if (&API{}).webhookClient() != nil {
		t.Error("an API without Security has a webhook client of its own")
	}
}

func TestRedactEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.example/x", "https://hooks.example/x"},
		{"https://u:p@hooks.example/x", "https://REDACTED@hooks.example/x"},
		{"https://hooks.example/x?code=abc&name=n", "https://hooks.example/x?code=REDACTED&name=n"},
		{"https://hooks.example/x?sig=1&api_key=2", "https://hooks.example/x?api_key=REDACTED&sig=REDACTED"},
		{"https://hooks.example/x?b=1&a=2", "https://hooks.example/x?b=1&a=2"}, // untouched, order kept
	}
	for _, tt := range tests {
		if got := redactEndpoint(Endpoint{Kind: "webhook", URL: tt.in}).URL; got != tt.want {
			t.Errorf("redact(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzRedactEndpoint(f *testing.F) {
	f.Add("https://user:secret@h.example/p?token=secret")
	f.Add("http://h/%zz")
	f.Add("https://:secret@h")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		out := redactEndpoint(Endpoint{URL: s}).URL
		if err != nil || u.User == nil {
			return
		}
		// A password that appears once in the input must not be in the
		// output (REDACTED itself aside).
		if p, ok := u.User.Password(); ok && len(p) > 3 && strings.Count(s, p) == 1 && strings.Contains(strings.ReplaceAll(out, "REDACTED", ""), p) {
			t.Errorf("redact(%q) = %q keeps the password", s, out)
		}
	})
}

func TestCheckContentType(t *testing.T) {
	req := func(ct, body string) *http.Request {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	tests := []struct {
		ct, body, route string
		refused         bool
	}{
		{"text/plain", "{}", "", true},
		{"TEXT/PLAIN; charset=utf-8", "{}", "", true},
		{"application/json", "{}", "", false},
		{"", "{}", "", false},
		{"text/plain", "", "", false}, // no body
		{"application/x-ndjson", "{}", "ImportFile", false},
		{"application/xml", "{}", "ImportFile", true},
		{"application/xml", "{}", "Twin", false}, // the handler refuses it
	}
	for _, tt := range tests {
		if got := checkContentType(req(tt.ct, tt.body), tt.route) != nil; got != tt.refused {
			t.Errorf("checkContentType(%q, %q) refused = %v, want %v", tt.ct, tt.route, got, tt.refused)
		}
	}
}
