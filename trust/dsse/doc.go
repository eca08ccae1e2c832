// Package dsse reads, signs and verifies DSSE envelopes (Dead Simple
// Signing Envelope, https://github.com/secure-systems-lab/dsse, protocol
// v1) with Ed25519 keys: the form in which a device or an org signs the
// twin writes and telemetry it sends to Lodestone.
//
// An envelope is the JSON object
//
//	{"payloadType": "application/json",
//	 "payload": "<base64 of the payload>",
//	 "signatures": [{"keyid": "pump-7", "sig": "<base64 of the signature>"}]}
//
// and each signature is over the pre-authentication encoding [PAE] of the
// payload type and the payload bytes, never over the JSON of the
// envelope, so that nothing a parser might normalise is signed.
//
// [Decode] is strict about the shape (it names the field at fault) and
// [Verify] requires every signature to be by a known key and to check.
// Where keys are registered and which org they belong to is the API's
// business (POST /keys); this package only needs a lookup.
package dsse
