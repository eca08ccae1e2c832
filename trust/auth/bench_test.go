package auth_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lodestone/trust/auth"
)

// BenchmarkAuthenticate: a static token (a hash and a map lookup), a JWT
// seen before (the cache), and EdDSA JWTs never seen before (parse and
// verify: the cost of the first request of each token).
func BenchmarkAuthenticate(b *testing.B) {
	k := getKeys(b)
	cfg, err := auth.ParseConfig([]byte(`{"tokens":[{"token":"bench-token-0123456789","subject":"b","org":"acme","roles":["admin"]}],
		"jwt":{"issuer":"` + issuer + `","audience":"` + audience + `","jwks_file":"k"}}`))
	if err != nil {
		b.Fatal(err)
	}
	a, err := auth.New(cfg, jwks(k))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	mk := func(i int) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "s", "org": "acme", "roles": []string{"reader"}, "exp": now.Add(time.Hour).Unix(), "jti": i})
		tok.Header["kid"] = "ed"
		s, err := tok.SignedString(k.ed)
		if err != nil {
			b.Fatal(err)
		}
		return "Bearer " + s
	}
	run := func(name string, headers []string) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := a.Authenticate(bearer(headers[i%len(headers)]), now); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
	run("cred=token", []string{"Bearer bench-token-0123456789"})
	run("cred=jwt-cached", []string{mk(0)})
	// More distinct tokens than the cache holds, so that (almost) every
	// one is verified afresh.
	ring := make([]string, 12000)
	for i := range ring {
		ring[i] = mk(i + 1)
	}
	run("cred=jwt-eddsa-uncached", ring)
}
