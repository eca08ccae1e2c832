package natsbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"lodestone/event"
)

// benchEvent is a twin update of typical size (a one-property JSON Patch).
func benchEvent(i int) event.Event {
	subject := "twin-" + strconv.Itoa(i)
	return event.Event{
		ID:              event.ChangeID("lodestone://bench", uint64(i), event.TypeTwinUpdated, subject),
		Source:          "lodestone://bench",
		Type:            event.TypeTwinUpdated,
		Subject:         subject,
		Time:            time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		DataContentType: "application/json-patch+json",
		Data:            json.RawMessage(fmt.Sprintf(`[{"op":"replace","path":"/outputTonnes","value":%d}]`, i)),
	}
}

// BenchmarkPublish measures acknowledged publishes to the embedded server
// (each waits for the stream's ack, file storage).
func BenchmarkPublish(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		bus := openEmbedded(b)
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := bus.Publish(ctx, benchEvent(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		bus := openEmbedded(b)
		ctx := context.Background()
		var n atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(8) // 8 publishers per core: acks are waited for, not CPU
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := bus.Publish(ctx, benchEvent(int(n.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkPublishConsume measures end-to-end throughput: one publisher,
// one subscriber reading everything; the time includes draining the
// subscriber.
func BenchmarkPublishConsume(b *testing.B) {
	bus := openEmbedded(b)
	ctx := context.Background()
	sub, err := bus.Subscribe(ctx, event.Filter{}, event.Start{New: true})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	var got atomic.Int64
	done := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		for {
			rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_, err := sub.Next(rctx)
			cancel()
			if err == nil {
				got.Add(1)
				continue
			}
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err != context.DeadlineExceeded {
				done <- err
				return
			}
		}
	}()
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		if err := bus.Publish(ctx, benchEvent(n)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	// b.Loop has stopped the timer; the drain counts in events/s, which is
	// measured from the first publish to the last event received.
	for got.Load() < int64(n) {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	close(stop)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
}

// BenchmarkPublishBatch measures event.PublishAll in batches of 1,000
// (bulk import): one op is one event.
func BenchmarkPublishBatch(b *testing.B) {
	bus := openEmbedded(b)
	ctx := context.Background()
	const size = 1000
	batch := make([]event.Event, 0, size)
	n := 0
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		batch = append(batch, benchEvent(n))
		n++
		if len(batch) == size {
			if err := event.PublishAll(ctx, bus, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := event.PublishAll(ctx, bus, batch); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}
