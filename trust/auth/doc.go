// Package auth is the identity part of the trust layer: who a request
// comes from (a [Principal], from a bearer token of the --auth file or a
// JWT verified against a JWKS), what each role may do with each class of
// route ([Allowed]), per-principal rate limits ([Limiter]) and the TLS
// configuration of the server ([ServerTLS]).
//
// Authentication and authorisation are separate steps so that a forged
// or expired credential is a 401 and a valid one on a route its roles do
// not cover is a 403. Tenancy (a principal of another org sees nothing:
// 404) is not decided here; [Principal.Org] is the seam for it.
//
// See docs/formats/auth.md for the --auth file.
package auth
