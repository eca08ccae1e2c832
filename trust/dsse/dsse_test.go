package dsse_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"lodestone/trust/dsse"
)

// TestPAE checks the encoding against the example of the DSSE protocol
// document (protocol.md: PAE("http://example.com/HelloWorld", "hello
// world")).
func TestPAE(t *testing.T) {
	got := string(dsse.PAE("http://example.com/HelloWorld", []byte("hello world")))
	want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	if got != want {
		t.Errorf("PAE = %q, want %q", got, want)
	}
	if got := string(dsse.PAE("", nil)); got != "DSSEv1 0  0 " {
		t.Errorf("PAE of empties = %q", got)
	}
}

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func TestSignVerify(t *testing.T) {
	key := testKey(1)
	pub := key.Public().(ed25519.PublicKey)
	keys := map[string]ed25519.PublicKey{"pump-7": pub, "other": testKey(2).Public().(ed25519.PublicKey)}
	lookup := func(id string) (ed25519.PublicKey, bool) { k, ok := keys[id]; return k, ok }
	payload := []byte(`{"pressure": 3.5}`)
	env := dsse.Sign("application/json", payload, "pump-7", key)
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edit  func(*dsse.Envelope)
		kind  error
		field string
	}{
		{"valid", func(*dsse.Envelope) {}, nil, ""},
		{"flipped payload byte", func(e *dsse.Envelope) { e.Payload[3] ^= 1 }, dsse.ErrBadSignature, "signatures[0]"},
		{"flipped signature byte", func(e *dsse.Envelope) { e.Signatures[0].Sig[10] ^= 0x80 }, dsse.ErrBadSignature, "signatures[0]"},
		{"other payload type", func(e *dsse.Envelope) { e.PayloadType = "application/json-patch+json" }, dsse.ErrBadSignature, "signatures[0]"},
		{"unknown key", func(e *dsse.Envelope) { e.Signatures[0].KeyID = "nobody" }, dsse.ErrUnknownKey, "signatures[0].keyid"},
		{"wrong key", func(e *dsse.Envelope) { e.Signatures[0].KeyID = "other" }, dsse.ErrBadSignature, "signatures[0]"},
		{"second signature bad", func(e *dsse.Envelope) {
			e.Signatures = append(e.Signatures, dsse.Signature{KeyID: "other", Sig: bytes.Repeat([]byte{1}, 64)})
		}, dsse.ErrBadSignature, "signatures[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := dsse.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(e)
			id, err := dsse.Verify(e, lookup)
			if tt.kind == nil {
				if err != nil || id != "pump-7" || !bytes.Equal(e.Payload, payload) {
					t.Fatalf("Verify = %q, %v; payload %q", id, err, e.Payload)
				}
				return
			}
			var de *dsse.Error
			if !errors.Is(err, tt.kind) || !errors.As(err, &de) || de.Field != tt.field {
				t.Fatalf("Verify = %v, want %v naming %s", err, tt.kind, tt.field)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	sig := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64))
	tests := []struct {
		name, body, field string
	}{
		{"not json", `hello`, "envelope"},
		{"unknown field", `{"payloadType":"a","payload":"","signatures":[{"keyid":"k","sig":"` + sig + `"}],"x":1}`, "envelope"},
		{"no type", `{"payload":"","signatures":[{"keyid":"k","sig":"` + sig + `"}]}`, "payloadType"},
		{"no payload", `{"payloadType":"a","signatures":[{"keyid":"k","sig":"` + sig + `"}]}`, "payload"},
		{"bad payload", `{"payloadType":"a","payload":"!!","signatures":[{"keyid":"k","sig":"` + sig + `"}]}`, "payload"},
		{"no signatures", `{"payloadType":"a","payload":"","signatures":[]}`, "signatures"},
		{"no keyid", `{"payloadType":"a","payload":"","signatures":[{"sig":"` + sig + `"}]}`, "signatures[0].keyid"},
		{"no sig", `{"payloadType":"a","payload":"","signatures":[{"keyid":"k"}]}`, "signatures[0].sig"},
		{"bad sig", `{"payloadType":"a","payload":"","signatures":[{"keyid":"k","sig":"*"}]}`, "signatures[0].sig"},
		{"trailing", `{"payloadType":"a","payload":"","signatures":[{"keyid":"k","sig":"` + sig + `"}]} {}`, "envelope"},
	}
	for _, tt := range tests {
		_, err := dsse.Decode([]byte(tt.body))
		var de *dsse.Error
		if !errors.As(err, &de) || de.Field != tt.field || !errors.Is(err, dsse.ErrMalformed) {
			t.Errorf("%s: Decode = %v, want a malformed error naming %s", tt.name, err, tt.field)
		}
	}
}

// TestDecodeBase64Forms: the protocol lets signers use standard or
// URL-safe base64, with or without padding.
func TestDecodeBase64Forms(t *testing.T) {
	key := testKey(3)
	payload := []byte{0xfb, 0xff, 0xfe, '{', '}'} // encodes with + and / (or - and _)
	e := dsse.Sign("application/octet-stream", payload, "k", key)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		body := `{"payloadType":"application/octet-stream","payload":"` + enc.EncodeToString(payload) + `","signatures":[{"keyid":"k","sig":"` + enc.EncodeToString(e.Signatures[0].Sig) + `"}]}`
		got, err := dsse.Decode([]byte(body))
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		if _, err := dsse.Verify(got, func(string) (ed25519.PublicKey, bool) { return key.Public().(ed25519.PublicKey), true }); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
}

func TestLooksLikeEnvelope(t *testing.T) {
	env, _ := json.Marshal(dsse.Sign("application/json", []byte(`{}`), "k", testKey(4)))
	tests := map[string]bool{
		string(env):                                          true,
		`{"$metadata":{"$model":"dtmi:a;1"}}`:                false,
		`[{"op":"add","path":"/a","value":1}]`:               false,
		`{"payloadType":1,"payload":2}`:                      false,
		`{"payloadType":1,"payload":2,"signatures":3,"x":4}`: false,
		``: false,
	}
	for body, want := range tests {
		if got := dsse.LooksLikeEnvelope([]byte(body)); got != want {
			t.Errorf("LooksLikeEnvelope(%q) = %v", body, got)
		}
	}
}

func TestKeys(t *testing.T) {
	key := testKey(5)
	pem, err := dsse.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := dsse.ParsePrivateKey(pem)
	if err != nil || !back.Equal(key) {
		t.Fatalf("ParsePrivateKey = %v", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	got, err := dsse.ParsePublicKey(base64.StdEncoding.EncodeToString(pub))
	if err != nil || !got.Equal(pub) {
		t.Errorf("ParsePublicKey(base64) = %v", err)
	}
	pubPEM := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n" // RFC 8410 §10.1
	if _, err := dsse.ParsePublicKey(pubPEM); err != nil {
		t.Errorf("ParsePublicKey(PEM of RFC 8410) = %v", err)
	}
	for _, bad := range []string{"", "abc", base64.StdEncoding.EncodeToString(make([]byte, 31)), "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"} {
		if _, err := dsse.ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
	if _, err := dsse.ParsePrivateKey([]byte("nope")); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Errorf("ParsePrivateKey(nope) = %v", err)
	}
}

// FuzzDecode: Decode never panics, and what it accepts encodes back to an
// envelope that decodes to the same thing.
func FuzzDecode(f *testing.F) {
	env, _ := json.Marshal(dsse.Sign("application/json", []byte(`{"a":1}`), "k", testKey(6)))
	f.Add(env)
	f.Add([]byte(`{"payloadType":"a","payload":"","signatures":[{"keyid":"k","sig":"AA"}]}`))
	f.Add([]byte(`{"payloadType":"a","payload":"_-8","signatures":[{"keyid":"k","sig":"+/8="}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := dsse.Decode(b)
		if err != nil {
			var de *dsse.Error
			if !errors.As(err, &de) || de.Field == "" {
				t.Fatalf("Decode error %v names no field", err)
			}
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := dsse.Decode(again)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", again, err)
		}
		if e2.PayloadType != e.PayloadType || !bytes.Equal(e2.Payload, e.Payload) || len(e2.Signatures) != len(e.Signatures) {
			t.Fatalf("round trip changed the envelope: %+v vs %+v", e, e2)
		}
		dsse.LooksLikeEnvelope(b)
	})
}

// TestEveryFlippedBitRefused flips each bit of the payload, the payload
// type and the signature in turn: every one is refused.
func TestEveryFlippedBitRefused(t *testing.T) {
	key := testKey(9)
	pub := key.Public().(ed25519.PublicKey)
	lookup := func(string) (ed25519.PublicKey, bool) { return pub, true }
	orig := dsse.Sign("application/json", []byte(`{"$metadata":{"$model":"dtmi:a:B;1"},"x":1}`), "k", key)
	fields := map[string]func(*dsse.Envelope) []byte{
		"payload":   func(e *dsse.Envelope) []byte { return e.Payload },
		"signature": func(e *dsse.Envelope) []byte { return e.Signatures[0].Sig },
	}
	for name, field := range fields {
		n := len(field(&orig)) * 8
		for bit := range n {
			e := orig
			e.Payload = bytes.Clone(orig.Payload)
			e.Signatures = []dsse.Signature{{KeyID: "k", Sig: bytes.Clone(orig.Signatures[0].Sig)}}
			field(&e)[bit/8] ^= 1 << (bit % 8)
			if _, err := dsse.Verify(&e, lookup); !errors.Is(err, dsse.ErrBadSignature) {
				t.Fatalf("%s bit %d flipped: Verify = %v", name, bit, err)
			}
		}
	}
	for i := range len(orig.PayloadType) * 8 {
		b := []byte(orig.PayloadType)
		b[i/8] ^= 1 << (i % 8)
		e := orig
		e.PayloadType = string(b)
		if _, err := dsse.Verify(&e, lookup); !errors.Is(err, dsse.ErrBadSignature) {
			t.Fatalf("payloadType bit %d flipped: Verify = %v", i, err)
		}
	}
}
