// Package web is the Lodestone dashboard: plain HTML, CSS and ES modules
// embedded in the binary, so `lodestone demo` serves it with no Node build.
//
// The pages talk only to the public HTTP API (the ADT-shaped twin routes,
// /query, /events and the domain endpoints), so everything the dashboard
// shows is also reachable by scripts and the CLI.
package web
