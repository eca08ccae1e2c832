// Package client is the Go client of the Lodestone HTTP API. The CLI's
// remote commands use it, and so can any Go program: it reuses the request
// and response types of package api, and returns API errors as *Error with
// the status and ADT error code.
package client
