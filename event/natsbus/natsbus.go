package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/event"
	"lodestone/internal/jsretry"
)

// Defaults of [Options].
const (
	DefaultStream     = "LODESTONE"
	DefaultPrefix     = "lodestone"
	DefaultDuplicates = 2 * time.Minute // JetStream's own default window
)

// standardPort is the IANA-registered NATS client port. The embedded server
// never listens on it: a NATS service may already run there.
const standardPort = 4222

// Options holds the knobs of [Open].
type Options struct {
	// URL of an external NATS server or cluster ("nats://host:4222", comma
	// separated for several). Empty starts an embedded server.
	URL string
	// StoreDir is where the embedded server keeps JetStream files; required
	// when URL is empty.
	StoreDir string
	// Listen, for the embedded server only, is a host:port on which it also
	// accepts NATS clients (port 0 picks a free one). Empty means no
	// listener: the bus connects in-process. Port 4222 is refused.
	Listen string
	// ListenUser and ListenPassword, when set, are the credentials every
	// client of the embedded server must present (the bus's own
	// in-process connection too), so that nobody who reaches Listen can
	// publish forged events.
	ListenUser, ListenPassword string
	// Stream is the JetStream stream name (default "LODESTONE").
	Stream string
	// Prefix is the first subject token (default "lodestone"); the stream
	// holds Prefix+".>". Events go to Prefix+".events.<type>".
	Prefix string
	// Duplicates is the stream's deduplication window (default 2 minutes).
	Duplicates time.Duration
	// MaxAge limits how long events are kept; zero keeps them for ever.
	MaxAge time.Duration
	// Replicas of the stream on a clustered external server (default 1).
	Replicas int
	// SyncAlways makes the embedded server fsync every message before it
	// acknowledges it. By default it writes each message to the file before
	// the ack (so an acknowledged event survives kill -9 of the process) and
	// fsyncs every two minutes (nats-server's default), so a power loss can
	// lose the last acknowledged events.
	SyncAlways bool
	// ConnectOptions are added to the nats.go options (credentials, TLS) for
	// an external server.
	ConnectOptions []nats.Option
	// Logger receives the bus's and the embedded server's messages; nil
	// discards them.
	Logger *slog.Logger
}

// Bus is an [event.Bus] on a JetStream stream. It is safe for concurrent use.
type Bus struct {
	opts   Options
	log    *slog.Logger
	ns     *server.Server // nil for an external server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	events string // subject prefix of events: Prefix + ".events."

	mu     sync.Mutex // guards closed and subs
	closed bool
	subs   map[*subscription]struct{}
}

var (
	_ event.SubjectBus     = (*Bus)(nil)
	_ event.BatchPublisher = (*Bus)(nil)
)

// Open connects to the server of opts (starting an embedded one when
// opts.URL is empty), and creates or updates the stream. The same JetStream
// code serves both cases. The caller must Close the bus.
func Open(ctx context.Context, opts Options) (*Bus, error) {
	if opts.Stream == "" {
		opts.Stream = DefaultStream
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Duplicates <= 0 {
		opts.Duplicates = DefaultDuplicates
	}
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	if err := checkToken(opts.Prefix); err != nil {
		return nil, fmt.Errorf("natsbus: prefix: %w", err)
	}
	b := &Bus{opts: opts, log: opts.Logger, events: opts.Prefix + ".events.", subs: map[*subscription]struct{}{}}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.log = b.log.With("component", "natsbus")

	var err error
	if opts.URL == "" {
		err = b.startEmbedded()
	} else {
		if opts.Listen != "" {
			return nil, errors.New("natsbus: Listen applies to the embedded server only")
		}
		b.nc, err = nats.Connect(opts.URL, append([]nats.Option{
			nats.Name("lodestone"),
			nats.MaxReconnects(-1),
		}, opts.ConnectOptions...)...)
		if err != nil {
			err = fmt.Errorf("natsbus: connect %s: %w", redact(opts.URL), err)
		}
	}
	if err != nil {
		b.shutdown()
		return nil, err
	}
	// From here on both modes share the code.
	if err := b.setupStream(ctx); err != nil {
		b.shutdown()
		return nil, err
	}
	return b, nil
}

// startEmbedded starts the in-process server and connects to it.
func (b *Bus) startEmbedded() error {
	if b.opts.StoreDir == "" {
		return errors.New("natsbus: StoreDir is required for the embedded server")
	}
	so := &server.Options{
		ServerName: "lodestone-embedded",
		JetStream:  true,
		StoreDir:   b.opts.StoreDir,
		DontListen: true,
		// Never the standard port, even where the server only uses the
		// port to describe itself.
		Port:       server.RANDOM_PORT,
		NoSigs:     true,
		SyncAlways: b.opts.SyncAlways,
	}
	if b.opts.Listen != "" {
		host, port, err := net.SplitHostPort(b.opts.Listen)
		if err != nil {
			return fmt.Errorf("natsbus: listen %q: %w", b.opts.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("natsbus: listen %q: bad port", b.opts.Listen)
		}
		if p == standardPort {
			return fmt.Errorf("natsbus: listen %q: port %d is reserved for a standalone NATS server", b.opts.Listen, standardPort)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		so.DontListen, so.Host, so.Port = false, host, p
	}
	if b.opts.ListenUser != "" {
		so.Username, so.Password = b.opts.ListenUser, b.opts.ListenPassword
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return fmt.Errorf("natsbus: embedded server: %w", err)
	}
	ns.SetLoggerV2(serverLogger{b.log.With("component", "nats-server")}, false, false, false)
	b.ns = ns
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		return errors.New("natsbus: embedded server did not start")
	}
	copts := []nats.Option{nats.InProcessServer(ns), nats.Name("lodestone"), nats.NoReconnect()}
	if b.opts.ListenUser != "" {
		copts = append(copts, nats.UserInfo(b.opts.ListenUser, b.opts.ListenPassword))
	}
	b.nc, err = nats.Connect("", copts...)
	if err != nil {
		return fmt.Errorf("natsbus: connect in-process: %w", err)
	}
	return nil
}

// setupStream creates the stream, or updates it to the wanted config.
func (b *Bus) setupStream(ctx context.Context) error {
	// An asynchronous publish whose ack has not come within ackPatience
	// fails, and PublishBatch sends it again (see there).
	js, err := jetstream.New(b.nc, jetstream.WithPublishAsyncTimeout(ackPatience))
	if err != nil {
		return fmt.Errorf("natsbus: jetstream: %w", err)
	}
	b.js = js
	cfg := jetstream.StreamConfig{
		Name:        b.opts.Stream,
		Description: "Lodestone events (CloudEvents 1.0, JSON structured mode)",
		Subjects:    []string{b.opts.Prefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Duplicates:  b.opts.Duplicates,
		MaxAge:      b.opts.MaxAge,
		Replicas:    b.opts.Replicas,
		AllowDirect: true,
	}
	// A cluster that has just started may not place a replicated stream
	// yet: wait for it (jsretry) rather than fail the server's start.
	err = jsretry.Do(ctx, func(ctx context.Context) (err error) {
		b.stream, err = js.CreateOrUpdateStream(ctx, cfg)
		return err
	})
	if err != nil {
		return fmt.Errorf("natsbus: stream %s: %w", cfg.Name, err)
	}
	return nil
}

// Server returns the embedded server, or nil when the bus uses an external
// one. Other components (a job queue) may connect to it in-process.
func (b *Bus) Server() *server.Server { return b.ns }

// Conn returns the bus's NATS connection. It is closed by Close.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// ClientURL returns the URL on which the embedded server accepts clients,
// or "" when it does not listen (or the server is external).
func (b *Bus) ClientURL() string {
	if b.ns == nil || b.opts.Listen == "" {
		return ""
	}
	return b.ns.ClientURL()
}

// Subject returns the NATS subject of events of type typ:
// Prefix.events.<type>, with every character outside [A-Za-z0-9_-] of each
// dot-separated token replaced by '_' (and empty tokens written "_"), so any
// type gives a valid subject. Different types may share a subject; the bus
// filters on the decoded event, so that only costs a little bandwidth.
func (b *Bus) Subject(typ string) string {
	var s strings.Builder
	s.Grow(len(b.events) + len(typ))
	s.WriteString(b.events)
	for i, tok := range strings.Split(typ, ".") {
		if i > 0 {
			s.WriteByte('.')
		}
		if tok == "" {
			s.WriteByte('_')
			continue
		}
		for j := 0; j < len(tok); j++ {
			c := tok[j]
			if c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				s.WriteByte(c)
			} else {
				s.WriteByte('_')
			}
		}
	}
	return s.String()
}

// msgID is the Nats-Msg-Id of an event on subject: CloudEvents ids are
// unique per source, and the stream deduplicates across all its subjects, so
// the id is derived from the subject, the source and the event id (and a
// hash keeps header-hostile characters out).
func msgID(subject string, e *event.Event) string {
	return event.StableID("nats-msg-id", subject, e.Source, e.ID)
}

// Publish stores e on the stream and returns after the server acknowledged
// it. A duplicate id within the window is acknowledged and dropped.
func (b *Bus) Publish(ctx context.Context, e event.Event) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("natsbus: publish: %w", err)
	}
	return b.publish(ctx, b.Subject(e.Type), &e)
}

func (b *Bus) publish(ctx context.Context, subject string, e *event.Event) error {
	if b.isClosed() {
		return event.ErrClosed
	}
	data, err := e.MarshalJSON()
	if err != nil {
		return fmt.Errorf("natsbus: publish: %w", err)
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{"Content-Type": contentType}}
	_, err = b.js.PublishMsg(ctx, msg,
		jetstream.WithMsgID(msgID(subject, e)),
		jetstream.WithExpectStream(b.opts.Stream))
	if err != nil {
		if b.isClosed() || errors.Is(err, nats.ErrConnectionClosed) {
			return event.ErrClosed
		}
		return fmt.Errorf("natsbus: publish %s: %w", subject, err)
	}
	return nil
}

// contentType is the Content-Type header value of every message; nats.go
// only reads it.
var contentType = []string{event.ContentType}

// batchWindow is how many asynchronous publishes PublishBatch keeps in
// flight before it waits for their acknowledgements.
const batchWindow = 256

// ackPatience is how long PublishBatch waits for one acknowledgement
// before it sends the events not yet acknowledged again. A message sent to
// a stream leader that dies is never answered: before 2026-12-08 the
// batch waited for it for a minute (the asynchronous publish timeout), and
// with it the write that published it (TestNATSCluster saw writes and a
// study stall for 60 s after the leader of the event stream was killed).
const ackPatience = 5 * time.Second

// publishBudget bounds the time PublishBatch spends sending events again
// while the stream elects a leader or is unreachable.
const publishBudget = time.Minute

// PublishBatch publishes es in order, with up to batchWindow unacknowledged
// at any time, and returns once the stream has acknowledged every one. Invalid
// events are reported before anything is published. (nats.go retries an
// asynchronous publish that found no stream, which could reorder a batch
// published while the stream is being created; Open creates it first.)
//
// An acknowledgement that does not come within ackPatience, or an answer
// that the stream has no leader, has the events from the first one not
// acknowledged sent again, with their ids, until publishBudget has passed
// or ctx ends: the stream's duplicate window drops those it has already.
// An event sent again may then follow, in the stream, one published after
// it; that is so already when the relay publishes what a failed batch left.
func (b *Bus) PublishBatch(ctx context.Context, es []event.Event) error {
	// Encoding validates: every event is encoded before the first is
	// published.
	data := make([][]byte, len(es))
	for i := range es {
		d, err := es[i].MarshalJSON()
		if err != nil {
			return fmt.Errorf("natsbus: publish batch: event %d: %w", i, err)
		}
		data[i] = d
	}
	deadline := time.Now().Add(publishBudget)
	pause := 100 * time.Millisecond
	for done := 0; ; {
		if b.isClosed() {
			return event.ErrClosed
		}
		n, err := b.publishFrom(ctx, es[done:], data[done:])
		done += n
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !resendable(err) || time.Now().After(deadline) {
			return b.mapErr("publish batch", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// publishFrom publishes es (encoded as data) in order, with up to
// batchWindow unacknowledged, and returns how many of them, from the
// first, were acknowledged before the first failure.
func (b *Bus) publishFrom(ctx context.Context, es []event.Event, data [][]byte) (int, error) {
	// A sliding window: before each publish beyond the window, wait for
	// the oldest acknowledgement, so the pipe never drains.
	window := make([]jetstream.PubAckFuture, 0, min(len(es), batchWindow))
	acked := 0
	wait := func(f jetstream.PubAckFuture) error {
		select {
		case <-f.Ok():
			acked++
			return nil
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i := range es {
		if len(window) == batchWindow {
			if err := wait(window[0]); err != nil {
				return acked, err
			}
			window = append(window[:0], window[1:]...)
		}
		e := &es[i]
		subject := b.Subject(e.Type)
		msg := &nats.Msg{Subject: subject, Data: data[i], Header: nats.Header{"Content-Type": contentType}}
		f, err := b.js.PublishMsgAsync(msg, jetstream.WithMsgID(msgID(subject, e)), jetstream.WithExpectStream(b.opts.Stream))
		if err != nil {
			return acked, err
		}
		window = append(window, f)
	}
	for _, f := range window {
		if err := wait(f); err != nil {
			return acked, err
		}
	}
	return acked, nil
}

// resendable reports whether a batch publish that failed with err may
// succeed if sent again: its ack did not come, the connection dropped
// (the client reconnects to another node), the stream had no leader or
// no responder, or the client's queue of unacknowledged publishes was
// full.
func resendable(err error) bool {
	return errors.Is(err, jetstream.ErrAsyncPublishTimeout) || errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrTooManyStalledMsgs) ||
		jsretry.Transient(err)
}

// Subscribe reads the events matching f from the stream with an ordered
// consumer (ephemeral, recreated by nats.go after a gap or a reconnect).
// When f names one exact type, the server filters by its subject too (one
// filter subject only: servers before 2.10 do not take several).
func (b *Bus) Subscribe(ctx context.Context, f event.Filter, from event.Start) (event.Subscription, error) {
	subject := b.events + ">"
	if len(f.Types) == 1 {
		// One type, or one family of types ("lodestone.model.*"), is
		// filtered by the server: the subscriber then decodes only the
		// events it wants.
		t := f.Types[0]
		if !strings.ContainsAny(t, "*?") {
			subject = b.Subject(t)
		} else if fam, ok := strings.CutSuffix(t, ".*"); ok && fam != "" && !strings.ContainsAny(fam, "*?") {
			subject = b.Subject(fam) + ".>"
		}
	}
	return b.subscribe(ctx, []string{subject}, f, from)
}

// SubscribeSubject reads the events on subject (which may end in ".>"),
// such as the target of a [Bus.SubjectEndpoint] or a dead-letter queue.
func (b *Bus) SubscribeSubject(ctx context.Context, subject string, f event.Filter, from event.Start) (event.Subscription, error) {
	if !strings.HasPrefix(subject, b.opts.Prefix+".") {
		return nil, fmt.Errorf("natsbus: subject %q is not in the stream (%s.>)", subject, b.opts.Prefix)
	}
	return b.subscribe(ctx, []string{subject}, f, from)
}

func (b *Bus) subscribe(ctx context.Context, subjects []string, f event.Filter, from event.Start) (event.Subscription, error) {
	if b.isClosed() {
		return nil, event.ErrClosed
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy}
	start := from.After + 1
	if from.After == 0 && from.New {
		// Start right after the last stored event rather than with
		// DeliverNew: a consumer recreated later must not skip what was
		// published in between.
		info, err := b.stream.Info(ctx)
		if err != nil {
			return nil, b.mapErr("subscribe", err)
		}
		start = info.State.LastSeq + 1
	}
	if start > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := b.js.OrderedConsumer(ctx, b.opts.Stream, cfg)
	if err != nil {
		return nil, b.mapErr("subscribe", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, b.mapErr("subscribe", err)
	}
	s := &subscription{bus: b, it: it, filter: f}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		it.Stop()
		return nil, event.ErrClosed
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	s.stop = context.AfterFunc(ctx, s.end)
	return s, nil
}

func (b *Bus) mapErr(op string, err error) error {
	if b.isClosed() || errors.Is(err, nats.ErrConnectionClosed) {
		return event.ErrClosed
	}
	return fmt.Errorf("natsbus: %s: %w", op, err)
}

func (b *Bus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Close ends every subscription, closes the connection and stops the
// embedded server (waiting for it to flush its files).
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	for s := range subs {
		s.end()
	}
	b.shutdown()
	return nil
}

func (b *Bus) shutdown() {
	if b.nc != nil {
		b.nc.Close()
	}
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
	}
}

// subscription wraps a JetStream message iterator.
type subscription struct {
	bus    *Bus
	it     jetstream.MessagesContext
	filter event.Filter
	once   sync.Once
	stop   func() bool // stops the context's AfterFunc
}

func (s *subscription) Next(ctx context.Context) (event.Message, error) {
	for {
		msg, err := s.it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				return event.Message{}, ctx.Err()
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, nats.ErrConnectionClosed) || s.bus.isClosed() {
				return event.Message{}, event.ErrClosed
			}
			return event.Message{}, fmt.Errorf("natsbus: next: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return event.Message{}, fmt.Errorf("natsbus: next: %w", err)
		}
		if s.filter.Where != nil {
			// Refuse what the filter refuses before decoding the data.
			if attrs, ok := event.DecodeAttributes(msg.Data()); ok && !s.filter.Match(&attrs) {
				continue
			}
		}
		e, err := event.Decode(msg.Data())
		if err != nil {
			// Not ours (someone else published on our subjects): skip it
			// rather than wedge every consumer on it.
			s.bus.log.Warn("skip undecodable message", "seq", meta.Sequence.Stream, "subject", msg.Subject(), "err", err)
			continue
		}
		if !s.filter.Match(&e) {
			continue
		}
		return event.Message{Seq: meta.Sequence.Stream, Event: e}, nil
	}
}

// end stops the iterator; Next then returns ErrClosed.
func (s *subscription) end() {
	s.once.Do(func() {
		s.it.Stop()
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		s.bus.mu.Unlock()
	})
}

func (s *subscription) Close() error {
	s.end()
	s.stop()
	return nil
}

// redact hides the passwords of a comma-separated list of server URLs, for
// error messages.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "<unparsable URL>"
			continue
		}
		parts[i] = u.Redacted()
	}
	return strings.Join(parts, ",")
}

// checkToken checks that s is usable as literal subject tokens.
func checkToken(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("%q is not a literal subject", s)
		}
	}
	return nil
}
