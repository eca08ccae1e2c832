// Package tracing holds the optional OpenTelemetry traces of a server:
// one span per HTTP request named by its route pattern, child spans for
// the write pipeline's commits, W3C traceparent taken from incoming
// requests, exported over OTLP/HTTP.
//
// Tracing is off unless an endpoint is configured. Off, a *Tracer is nil
// and every method of a nil *Tracer returns at once without allocating,
// so callers need no checks of their own and pay nothing.
package tracing
