package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"lodestone/pipeline"
)

// TestClassifyPublishCanceled: a publish that failed because the client
// went away is a cancelled request (499), not a server failure; one that
// failed otherwise stays a 503 with Retry-After.
func TestClassifyPublishCanceled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"canceled", &pipeline.Error{Code: "EventPublishFailed", Message: "m", Err: errors.Join(pipeline.ErrPublish, fmt.Errorf("natsbus: publish: %w", context.Canceled))}, 499},
		{"bus down", &pipeline.Error{Code: "EventPublishFailed", Message: "m", Err: errors.Join(pipeline.ErrPublish, errors.New("nats: connection closed"))}, http.StatusServiceUnavailable},
	} {
		e := classifyDomain(tc.err)
		if e == nil || e.Status != tc.status {
			t.Errorf("%s: %+v, want status %d", tc.name, e, tc.status)
		}
	}
}
