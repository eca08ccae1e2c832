// Package dashauth holds the browser test of the dashboard against a
// server started with --auth: the token box in the header (web/static/api.js)
// keeps a bearer token in the tab's sessionStorage and every request of the
// pages, the event stream included, carries it.
//
// The test runs headless Chromium ($LODESTONE_CHROMIUM or the usual paths);
// it skips without one and fails instead under CI=true.
package dashauth
