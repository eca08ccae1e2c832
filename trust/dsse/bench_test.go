package dsse_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"lodestone/trust/dsse"
)

// BenchmarkDecodeVerify is the cost the server adds to a signed twin
// write: decode the envelope of a 1 KiB twin and verify its signature.
func BenchmarkDecodeVerify(b *testing.B) {
	key := testKey(7)
	pub := key.Public().(ed25519.PublicKey)
	payload := append([]byte(`{"$metadata":{"$model":"dtmi:test:Meter;1"},"notes":"`), bytes.Repeat([]byte("x"), 1000)...)
	payload = append(payload, `"}`...)
	env, _ := json.Marshal(dsse.Sign("application/json", payload, "k", key))
	lookup := func(string) (ed25519.PublicKey, bool) { return pub, true }
	b.SetBytes(int64(len(env)))
	for b.Loop() {
		e, err := dsse.Decode(env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dsse.Verify(e, lookup); err != nil {
			b.Fatal(err)
		}
	}
}
