package event

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Webhook is an [Endpoint] that POSTs each event to URL in CloudEvents
// structured mode (HTTP protocol binding 1.0, section 3.2): the body is the
// JSON event and Content-Type is application/cloudevents+json. The event id
// is also sent as the Idempotency-Key header, so a receiver can drop the
// redeliveries that at-least-once allows.
//
// A 2xx answer is success. 408, 429 and 5xx answers and transport errors are
// retried by the router (honouring Retry-After in seconds); any other status
// is permanent and the event goes to the route's dead-letter endpoint.
type Webhook struct {
	URL string
	// Client sends the requests; nil means a client with a 30 s timeout.
	Client *http.Client
	// Header is added to every request (e.g. Authorization).
	Header http.Header
}

var _ Endpoint = (*Webhook)(nil)

var defaultWebhookClient = &http.Client{Timeout: 30 * time.Second}

// Deliver POSTs m.Event to the webhook.
func (w *Webhook) Deliver(ctx context.Context, m Message) error {
	body, err := json.Marshal(m.Event)
	if err != nil {
		return Permanent(fmt.Errorf("event: webhook: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("event: webhook: %w", err))
	}
	for k, vs := range w.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", ContentType+"; charset=utf-8")
	req.Header.Set("Idempotency-Key", m.Event.ID)
	client := w.Client
	if client == nil {
		client = defaultWebhookClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("event: webhook: %w", err)
	}
	// Drain a little of the body so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		de := &DeliveryError{Err: fmt.Errorf("event: webhook: %s", resp.Status)}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			de.RetryAfter = time.Duration(s) * time.Second
		}
		return de
	default:
		return Permanent(fmt.Errorf("event: webhook: %s", resp.Status))
	}
}
