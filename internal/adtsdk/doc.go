// Package adtsdk holds the test that drives a Lodestone server with the
// official Azure Digital Twins SDK for JavaScript
// (@azure/digital-twins-core from the npm registry): over TLS, with a
// bearer token from --auth, through models, twins, components,
// relationships, telemetry, paged queries and event routes.
//
// The JavaScript is in js/: package.json and package-lock.json pin the
// SDK and everything it pulls in to exact versions; drive.mjs is the
// script. The Go test installs the locked packages with npm ci into a
// cache folder (never into the repository), starts a server with a
// certificate it makes, and runs the script with NODE_EXTRA_CA_CERTS. It
// skips when node or npm is missing and fails instead under CI=true
// (.ci/run installs them).
package adtsdk
