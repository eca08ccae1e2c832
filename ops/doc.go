// Package ops holds what an operator watches: the Prometheus metrics of a
// server and its health and readiness checks.
//
// Metrics live in a registry of their own per server (not the global
// default one), so that several servers in one process — tests, a demo —
// never collide. Route labels are route patterns ("GET /digitaltwins/{id}"),
// never raw paths: the label set stays as small as the route table.
package ops
