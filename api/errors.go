package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"lodestone/pipeline"
	"lodestone/trust/dsse"
)

// Error is an API error with the HTTP status and the ADT error code to send.
// Handlers return it (or any error; see [writeError] for the mapping).
type Error struct {
	Status  int
	Code    string // ADT error code where ADT has one, e.g. "DigitalTwinNotFound"
	Message string
	Details []ErrorDetail
	Err     error // cause; logged, never sent
	// RetryAfter, when positive, is sent as the Retry-After header (503s).
	RetryAfter time.Duration
}

// ErrorDetail is one item of an error's details, e.g. one failed validation
// rule. Path is a JSON pointer into a twin or a JSON path into a DTDL
// document; Target names the entity the detail is about (the model of a
// DTDL error, as in the Azure REST error shape).
type ErrorDetail struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Target  string `json:"target,omitempty"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("api: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("api: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// errorBody is the one JSON error shape: {"error":{"code","message","details"}}.
// "type" repeats the class of the status (Prometheus style) for clients that
// branch on it rather than on ADT codes.
type errorBody struct {
	Error struct {
		Code    string        `json:"code"`
		Type    string        `json:"type"`
		Message string        `json:"message"`
		Details []ErrorDetail `json:"details,omitempty"`
	} `json:"error"`
}

func errorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_data"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	case http.StatusRequestTimeout:
		return "timeout"
	case 499: // the client went away (nginx's code; see classifyDomain)
		return "canceled"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusPreconditionFailed:
		return "precondition_failed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusUnprocessableEntity:
		return "execution"
	default:
		if status >= 500 {
			return "internal"
		}
		return "bad_request"
	}
}

// denial reports whether err (answered as e) refuses the request for who
// sent it or what it may reach, rather than for a fault of the request or
// the server: every 401 and 403 (roles, signatures required, governed
// subjects, shared read-only twins), a write to another org's entity
// (404, pipeline.ErrNotYours), a DSSE envelope that does not decode (400,
// dsse.ErrMalformed) and a webhook address that is not allowed (400,
// ErrWebhookAddress).
func denial(err error, e *Error) bool {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return true
	case e.Status >= 500:
		return false
	}
	return errors.Is(err, pipeline.ErrNotYours) || errors.Is(err, dsse.ErrMalformed) || errors.Is(err, ErrWebhookAddress)
}

func badRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// classify maps any error to an *Error. classifiers add the mappings of the
// domain packages (store sentinels, validation errors); the first that
// recognises the error wins.
func classify(err error, classifiers []func(error) *Error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "RequestTooLarge", Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	}
	for _, c := range classifiers {
		if e := c(err); e != nil {
			return e
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: "internal error; see the server log", Err: err}
}

// writeError sends err in the one JSON error shape. Internal details are
// logged, not sent.
//
// It is also where the refusals of handlers become audit events: a denial
// (see [denial]) of a request that passed the guard is logged and
// published as lodestone.audit.denied, like the guard's own refusals.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, classifiers []func(error) *Error) {
	e := classify(err, classifiers)
	if e.Status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if denial(err, e) {
		if s, ok := r.Context().Value(auditKey{}).(auditSink); ok {
			s.denied(r, e)
		}
	}
	var body errorBody
	body.Error.Code = e.Code
	body.Error.Type = errorType(e.Status)
	body.Error.Message = e.Message
	body.Error.Details = e.Details
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(e.RetryAfter.Round(time.Second), time.Second)/time.Second)))
	}
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(body)
}
