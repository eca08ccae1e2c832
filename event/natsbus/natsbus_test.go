package natsbus_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"lodestone/event"
	"lodestone/event/eventtest"
	"lodestone/event/natsbus"
)

// openEmbedded opens a bus on an embedded server in a fresh directory.
func openEmbedded(t testing.TB) *natsbus.Bus {
	t.Helper()
	b, err := natsbus.Open(t.Context(), natsbus.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open(embedded) = %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformanceEmbedded(t *testing.T) {
	eventtest.Run(t, func(t *testing.T) event.Bus { return openEmbedded(t) })
}

// externalURL returns LODESTONE_TEST_NATS, or skips (fails under CI=true).
func externalURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("LODESTONE_TEST_NATS")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_NATS is not set; CI must run the external NATS tests (e.g. LODESTONE_TEST_NATS=nats://127.0.0.1:4222)")
		}
		t.Skip("set LODESTONE_TEST_NATS=nats://host:port to run the suite against an external NATS JetStream server")
	}
	return url
}

// openExternal opens a bus on the external server with a stream and prefix
// of its own, deleted at cleanup, so runs never collide.
func openExternal(t *testing.T, url string) *natsbus.Bus {
	t.Helper()
	id := strings.ToLower(nuid.Next())
	stream := "LODESTONE_TEST_" + strings.ToUpper(id)
	b, err := natsbus.Open(t.Context(), natsbus.Options{
		URL:    url,
		Stream: stream,
		Prefix: "lodestonetest." + id,
		MaxAge: time.Hour, // a leftover from a crashed run expires
	})
	if err != nil {
		t.Fatalf("Open(%s) = %v", url, err)
	}
	t.Cleanup(func() {
		b.Close()
		nc, err := nats.Connect(url)
		if err != nil {
			t.Errorf("cleanup: connect: %v", err)
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil {
			t.Errorf("cleanup: delete stream %s: %v", stream, err)
		}
	})
	return b
}

func TestConformanceExternal(t *testing.T) {
	url := externalURL(t)
	eventtest.Run(t, func(t *testing.T) event.Bus { return openExternal(t, url) })
}

// TestSubscribeTypeFamily: a filter on one family of types ("a.b.*") is
// served by a subject filter and still sees every type of the family,
// however many tokens it has, and nothing else.
func TestSubscribeTypeFamily(t *testing.T) {
	ctx := t.Context()
	b, err := natsbus.Open(ctx, natsbus.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub, err := b.Subscribe(ctx, event.Filter{Types: []string{"a.b.*"}}, event.Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i, typ := range []string{"a.b.c", "a.c.d", "a.b.c.d", "a.bx.c", "a.b.e"} {
		if err := b.Publish(ctx, event.Event{ID: fmt.Sprint(i), Source: "s", Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 3 {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Event.Type)
	}
	if want := []string{"a.b.c", "a.b.c.d", "a.b.e"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("family subscription got %v, want %v", got, want)
	}
}
