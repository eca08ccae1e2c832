package jsretry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestTransient(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"client timeout", fmt.Errorf("stream X: %w", context.DeadlineExceeded), true},
		{"nats timeout", nats.ErrTimeout, true},
		{"no meta leader", &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}, true},
		{"no peers yet", &jetstream.APIError{Code: 400, ErrorCode: 10005, Description: "no suitable peers for placement"}, true},
		{"JetStream off", jetstream.ErrJetStreamNotEnabled, false},
		{"JetStream off for account", jetstream.ErrJetStreamNotEnabledForAccount, false},
		{"bad config", &jetstream.APIError{Code: 400, ErrorCode: 10058, Description: "stream name already in use"}, false},
		{"cancelled", context.Canceled, false},
		{"other", errors.New("boom"), false},
	} {
		if got := Transient(c.err); got != c.want {
			t.Errorf("%s: Transient(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func TestDo(t *testing.T) {
	unavailable := &jetstream.APIError{Code: 503, ErrorCode: 10008}
	t.Run("retries until success", func(t *testing.T) {
		calls := 0
		err := Do(context.Background(), func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("an attempt has no deadline")
			}
			if calls++; calls < 3 {
				return unavailable
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Fatalf("err %v after %d calls, want nil after 3", err, calls)
		}
	})
	t.Run("stops at a lasting error", func(t *testing.T) {
		calls := 0
		bad := &jetstream.APIError{Code: 400, ErrorCode: 10058}
		err := Do(context.Background(), func(context.Context) error { calls++; return bad })
		if !errors.Is(err, bad) || calls != 1 {
			t.Fatalf("err %v after %d calls, want the lasting error after 1", err, calls)
		}
	})
	t.Run("ends with the caller's context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		calls := 0
		t0 := time.Now()
		err := Do(ctx, func(context.Context) error { calls++; return unavailable })
		if !errors.Is(err, unavailable) || calls < 2 {
			t.Fatalf("err %v after %d calls, want the last transient error after several", err, calls)
		}
		if d := time.Since(t0); d > 10*time.Second {
			t.Fatalf("Do returned %v after its context ended", d)
		}
	})
}
