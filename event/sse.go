package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sseHeartbeat is how often an idle stream sends a comment line, so that
// proxies and browsers keep the connection open.
const sseHeartbeat = 15 * time.Second

// SSEHandler returns a handler that streams the events of bus to a browser
// as Server-Sent Events (text/event-stream; WHATWG HTML, section 9.2).
//
// Each event is sent as "id: <seq>" and "data: <CloudEvent JSON>", with no
// event name, so EventSource.onmessage sees every event. The query selects
// events: filter=<a Filter in ParseFilter syntax>, and the keys type,
// source, subject and dataschema may also be given directly (they add to the
// filter).
// A client that reconnects sends the last id it saw in the Last-Event-ID
// header (EventSource does this by itself) or the lastEventId query
// parameter, and the stream resumes right after it; without one the stream
// starts with new events.
//
// The handler returns when the client goes away or the bus closes. A
// stream lasts as long as its request: an http.Server whose Shutdown should
// not wait for open streams cancels the request contexts, e.g. through
// BaseContext.
func SSEHandler(bus Bus) http.Handler {
	return sseHandler{bus: bus, heartbeat: sseHeartbeat}
}

type sseHandler struct {
	bus       Bus
	heartbeat time.Duration
}

func (h sseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		sseError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "event: use GET")
		return
	}
	q := r.URL.Query()
	f, err := ParseFilter(q.Get("filter"))
	if err != nil {
		sseError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	f.Types = append(f.Types, nonEmpty(q["type"])...)
	f.Sources = append(f.Sources, nonEmpty(q["source"])...)
	f.Subjects = append(f.Subjects, nonEmpty(q["subject"])...)
	f.DataSchemas = append(f.DataSchemas, nonEmpty(q["dataschema"])...)
	from := Start{New: true}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = q.Get("lastEventId")
	}
	if last = strings.TrimSpace(last); last != "" {
		seq, err := strconv.ParseUint(last, 10, 64)
		if err != nil {
			sseError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("event: Last-Event-ID %q is not a sequence number", last))
			return
		}
		from = Start{After: seq}
	}
	ctx := r.Context()
	sub, err := h.bus.Subscribe(ctx, f, from)
	if err != nil {
		sseError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "event: subscribe: "+err.Error())
		return
	}
	defer sub.Close()

	rc := http.NewResponseController(w)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // tell nginx-like proxies not to buffer
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A comment first, so the client sees the stream open at once.
	if _, err := w.Write([]byte(": lodestone events\n\n")); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	var buf []byte
	for {
		wait, cancel := context.WithTimeout(ctx, h.heartbeat)
		m, err := sub.Next(wait)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil || errors.Is(err, ErrClosed):
			return
		case errors.Is(err, context.DeadlineExceeded):
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
			continue
		default:
			// The bus failed under the stream: end it; the browser
			// reconnects with Last-Event-ID and misses nothing.
			return
		}
		data, err := json.Marshal(m.Event)
		if err != nil {
			continue // cannot happen for an event the bus accepted
		}
		buf = buf[:0]
		buf = append(buf, "id: "...)
		buf = strconv.AppendUint(buf, m.Seq, 10)
		buf = append(buf, "\ndata: "...)
		buf = append(buf, data...) // compact JSON: no newlines
		buf = append(buf, "\n\n"...)
		if _, err := w.Write(buf); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// nonEmpty drops empty strings.
func nonEmpty(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sseError writes the API's error shape, {"error":{"code","message"}}, before
// the stream starts.
func sseError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
