package pipeline

import (
	"errors"
	"fmt"

	"lodestone/store"
)

// Sentinels of the pipeline, checked with errors.Is.
var (
	// ErrBusy means a write without If-Match kept meeting concurrent
	// writes of the same entity until the retry deadline passed, or a
	// lock could not be had in time: the client retries later.
	ErrBusy = errors.New("pipeline: busy")
	// ErrPublish means the change is committed but its event could not be
	// published yet; the relay publishes it later, and a retry of the
	// same request is harmless.
	ErrPublish = errors.New("pipeline: event not published")
	// ErrForbidden means the principal of a write may see the entity but
	// its roles do not let it write there (a reader of its own org; a
	// writer that is not an admin changing things of org ""); the API
	// answers 403.
	ErrForbidden = errors.New("pipeline: forbidden")
	// ErrNotYours is a write refused because the entity belongs to an
	// org the principal may not write (a hidden tenant's): a
	// store.ErrNotFound to the client, so that the write discloses no
	// more than a read; the API publishes it as an audit event.
	ErrNotYours = fmt.Errorf("pipeline: not the principal's to write: %w", store.ErrNotFound)
)

// Error is a write refused for a reason the client can act on. Code is the
// Azure Digital Twins error code that names the reason; Err is the store
// sentinel (store.ErrNotFound, store.ErrInvalid, …) or pipeline sentinel
// that says what kind of failure it is.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func refuse(kind error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: kind}
}
