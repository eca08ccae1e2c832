package client_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/client"
	"lodestone/trust/dsse"
	"lodestone/twin"
)

// TestEnvelopeVerifies: the client's envelope is DSSE as the server's
// trust/dsse reads and verifies it.
func TestEnvelopeVerifies(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	b, err := client.Envelope("application/json", []byte(`{"flow":1}`), "k1", key)
	if err != nil {
		t.Fatal(err)
	}
	e, err := dsse.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	id, err := dsse.Verify(e, func(string) (ed25519.PublicKey, bool) { return key.Public().(ed25519.PublicKey), true })
	if err != nil || id != "k1" || string(e.Payload) != `{"flow":1}` {
		t.Errorf("Verify = %q, %v, payload %s", id, err, e.Payload)
	}
}

// TestSignedWrites: with a required-signature model, the unsigned client
// is refused and the signing one is served, for twin writes and telemetry.
func TestSignedWrites(t *testing.T) {
	c := startServer(t)
	ctx := t.Context()
	model := `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Meter;1","@type":"Interface","contents":[
		{"@type":"Property","name":"reading","schema":"double","writable":true},
		{"@type":"Telemetry","name":"flow","schema":"double"}]}`
	if _, err := c.UploadModels(ctx, []json.RawMessage{json.RawMessage(model)}); err != nil {
		t.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))
	if _, err := c.AddKey(ctx, api.SigningKey{ID: "meter-1", Owner: "meter-1@acme", PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))}); err != nil {
		t.Fatal(err)
	}
	if keys, err := c.Keys(ctx); err != nil || len(keys) != 1 || keys[0].ID != "meter-1" {
		t.Fatalf("Keys = %+v, %v", keys, err)
	}
	if err := c.RequireSignatures(ctx, "dtmi:test:Meter;1", true); err != nil {
		t.Fatal(err)
	}
	tw := twin.Twin{ID: "m1", Metadata: twin.Metadata{Model: "dtmi:test:Meter;1"}, Properties: map[string]any{"reading": 1.0}}
	var ce *client.Error
	if _, err := c.PutTwin(ctx, tw, false); !errors.As(err, &ce) || ce.Status != 403 || ce.Code != "SignatureRequired" {
		t.Fatalf("unsigned PutTwin = %v, want 403 SignatureRequired", err)
	}
	sc := c.WithSigningKey("meter-1", key)
	put, err := sc.PutTwin(ctx, tw, false)
	if err != nil {
		t.Fatalf("signed PutTwin: %v", err)
	}
	if _, err := sc.PatchTwin(ctx, "m1", twin.Patch{{Op: "replace", Path: "/reading", Value: 2.0}}, put.ETag); err != nil {
		t.Fatalf("signed PatchTwin: %v", err)
	}
	if err := c.PostTelemetry(ctx, "m1", "", "t-1", map[string]any{"flow": 3.0}); !errors.As(err, &ce) || ce.Status != 403 {
		t.Errorf("unsigned telemetry = %v, want 403", err)
	}
	if err := sc.PostTelemetry(ctx, "m1", "", "t-2", map[string]any{"flow": 3.0}); err != nil {
		t.Errorf("signed telemetry: %v", err)
	}
	// Reads are not signed; a deleted key signs nothing.
	if got, err := sc.GetTwin(ctx, "m1", time.Time{}); err != nil || got.Properties["reading"] != 2.0 {
		t.Errorf("GetTwin = %+v, %v", got.Properties, err)
	}
	if err := c.DeleteKey(ctx, "meter-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutTwin(ctx, tw, false); !errors.As(err, &ce) || ce.Status != 401 {
		t.Errorf("PutTwin signed with a deleted key = %v, want 401", err)
	}
}
