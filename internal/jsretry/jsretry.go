package jsretry

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Budget is how long Do keeps trying when ctx has no earlier deadline.
const Budget = 60 * time.Second

// firstAttempt bounds the first call, so a lost request is asked again: a
// request sent before the cluster has a meta leader gets no answer at all.
// Each later attempt may take twice as long as the one before (up to
// lastAttempt), for a loaded machine whose answers are merely slow.
const (
	firstAttempt = 2 * time.Second
	lastAttempt  = 16 * time.Second
)

// noPeers is JetStream's "no suitable peers for placement": a replicated
// stream asked for before every node of the cluster has joined.
const noPeers jetstream.ErrorCode = 10005

// Do calls op until it succeeds, fails with an error that waiting cannot
// cure, or the budget (or ctx) ends; it then returns op's last error. op must
// be idempotent: a call that timed out on the client may have taken effect.
func Do(ctx context.Context, op func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	wait, attempt := 100*time.Millisecond, firstAttempt
	for {
		actx, acancel := context.WithTimeout(ctx, attempt)
		err := op(actx)
		acancel()
		if err == nil || !Transient(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait, attempt = min(2*wait, 2*time.Second), min(2*attempt, lastAttempt)
	}
}

// Transient says whether err is one a forming or electing cluster gives.
func Transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		return true
	}
	var api *jetstream.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode {
	case jetstream.JSErrCodeJetStreamNotEnabled, jetstream.JSErrCodeJetStreamNotEnabledForAccount:
		return false // a server without JetStream: waiting does not help
	case noPeers:
		return true
	}
	return api.Code == 503 // "JetStream system temporarily unavailable"
}
