package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lodestone/api"
	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/trust/auth"
)

// BenchmarkAuth measures what the guard adds to a twin read and a twin
// patch (as BenchmarkHandler, without network or bus): auth=off is the
// API alone, auth=anonymous the guard without --auth (Host, Origin and
// media type checks), auth=token a static bearer token, auth=jwt an
// EdDSA JWT verified on every request (no cache).
func BenchmarkAuth(b *testing.B) {
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwks := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":%q}]}`, base64.RawURLEncoding.EncodeToString(pub))
	cfg, err := auth.ParseConfig([]byte(`{"tokens":[{"token":"bench-token-0123456789","subject":"b","org":"acme","roles":["admin"]}],
		"jwt":{"issuer":"i","audience":"a","jwks_file":"k"}}`))
	if err != nil {
		b.Fatal(err)
	}
	authn, err := auth.New(cfg, []byte(jwks))
	if err != nil {
		b.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "i", "aud": "a", "sub": "b", "org": "acme", "roles": []string{"admin"}, "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k"
	jwtString, err := tok.SignedString(priv)
	if err != nil {
		b.Fatal(err)
	}
	modes := []struct {
		name   string
		sec    *api.Security
		header string
	}{
		{"off", nil, ""},
		{"anonymous", &api.Security{Hosts: []string{"example.com"}}, ""},
		{"token", &api.Security{Hosts: []string{"example.com"}, Auth: authn}, "Bearer bench-token-0123456789"},
		{"jwt", &api.Security{Hosts: []string{"example.com"}, Auth: authn}, "Bearer " + jwtString},
	}
	for _, m := range modes {
		b.Run("auth="+m.name, func(b *testing.B) {
			st, err := store.Open(ctx, "sqlite:"+b.TempDir()+"/bench.db")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			opts := api.Options{Store: st, Security: m.sec}
			if sq, ok := st.(store.SQLer); ok {
				opts.Graph = &sqlgraph.Source{S: sq}
			}
			a, err := api.New(ctx, opts)
			if err != nil {
				b.Fatal(err)
			}
			h := a.Guard()
			call := func(method, path, body string, want int) {
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if method == http.MethodPatch {
					req.Header.Set("Content-Type", "application/json-patch+json")
				}
				if m.header != "" {
					req.Header.Set("Authorization", m.header)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != want {
					b.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
				}
			}
			call("POST", "/models", "["+strings.Join(testModels, ",")+"]", 201)
			call("PUT", "/digitaltwins/b1", `{"$metadata":{"$model":"dtmi:test:Asset;1"},"name":"a","capacity":1,"status":"on","gauge":{"$metadata":{},"reading":2}}`, 200)
			b.Run("op=get", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					call("GET", "/digitaltwins/b1", "", 200)
				}
			})
			b.Run("op=patch", func(b *testing.B) {
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					n++
					call("PATCH", "/digitaltwins/b1", fmt.Sprintf(`[{"op":"replace","path":"/capacity","value":%d}]`, n), 204)
				}
			})
		})
	}
}
