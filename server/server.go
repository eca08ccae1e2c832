package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"lodestone/api"
	"lodestone/connector"
	"lodestone/connector/softsensor"
	"lodestone/event"
	"lodestone/event/natsbus"
	"lodestone/models"
	"lodestone/ops"
	"lodestone/ops/tracing"
	"lodestone/store"
	_ "lodestone/store/postgres" // registers the postgres:// scheme
	"lodestone/store/sqlgraph"
	_ "lodestone/store/sqlite" // registers the sqlite: scheme
	"lodestone/trust"
	"lodestone/twin"
	"lodestone/web"
	"lodestone/worker"
)

// defaultDocCacheMiB is the SQLite document cache the server keeps for
// the store in its data folder: some 30,000 twins of 1 KB.
const defaultDocCacheMiB = 32

// Server is a running Lodestone: store, event bus, API and dashboard.
type Server struct {
	opts Options
	log  *slog.Logger

	Store store.Store
	Bus   event.Bus
	API   *api.API

	lock *dataLock // on DataDir, held from Start to Shutdown
	// trustLog is the transparency log (with --log-key), closed after the
	// API so that its last checkpoint covers the relay's last appends.
	trustLog   *trust.Log
	connectors *connector.Manager  // with --connectors
	estimators *softsensor.Manager // with --estimators
	tracer     *tracing.Tracer     // with --otel.endpoint (tracing.go)
	dispatcher *worker.Dispatcher  // with --studies.workers
	// demoLoaded is set by Start when it loaded the demo world.
	demoLoaded bool
	ln         net.Listener
	tls        bool // serving HTTPS
	http       *http.Server
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	serveMu    sync.Mutex
	err        error
}

// New validates opts and builds a server; Start opens its resources.
func New(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("server: options: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{opts: opts, log: log}, nil
}

// Start opens the store and the bus, loads the demo data when asked, and
// starts serving HTTP. It returns once the listener is bound (see Addr).
func (s *Server) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			s.closeResources()
		}
	}()
	if err := os.MkdirAll(s.opts.DataDir, 0o755); err != nil {
		return fmt.Errorf("server: data dir: %w", err)
	}
	if s.lock, err = lockDataDir(s.opts.DataDir); err != nil {
		if !errors.As(err, new(errNoLock)) {
			return err
		}
		s.log.Warn("data folder not locked", "err", err)
		err = nil
	}
	dsn := s.opts.storeDSN()
	if s.opts.StoreDSN == "" && s.lock != nil {
		// The server is the only writer of the file in the data folder it
		// holds locked, the condition of SQLite's document cache.
		dsn += "?doccache=" + strconv.Itoa(defaultDocCacheMiB)
	}
	s.Store, err = store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	natsUser, natsPass, err := s.natsCredentials()
	if err != nil {
		return err
	}
	bus, err := natsbus.Open(ctx, natsbus.Options{
		ListenUser:     natsUser,
		ListenPassword: natsPass,
		URL:            s.opts.NATSURL,
		StoreDir:       filepath.Join(s.opts.DataDir, "nats"),
		Listen:         s.opts.NATSListen,
		Stream:         s.opts.NATSStream,
		Prefix:         s.opts.NATSPrefix,
		Replicas:       s.opts.NATSReplicas,
		MaxAge:         time.Duration(s.opts.RetainEvents),
		Logger:         s.log.With("component", "event"),
	})
	if err != nil {
		return fmt.Errorf("server: event bus: %w", err)
	}
	s.Bus = bus
	sec, tlsConf, err := s.opts.security()
	if err != nil {
		return err
	}
	s.tls = tlsConf != nil
	if s.trustLog, err = s.openTrustLog(ctx); err != nil {
		return err
	}
	aopts := api.Options{
		TrustLog:      s.trustLog,
		Security:      sec,
		Store:         s.Store,
		Bus:           bus,
		Source:        s.source(),
		InstanceID:    instanceID(s.opts.DataDir, s.log),
		TempDir:       tempDir(s.opts.DataDir, s.log),
		RetryDeadline: time.Duration(s.opts.RetryDeadline),
		MaxBodyBytes:  s.opts.MaxBodyBytes,
		MaxBulkBytes:  s.opts.MaxBulkBytes,
		Studies:       api.StudyOptions{MaxConcurrent: s.opts.StudiesMaxConcurrent, MaxPerPrincipal: s.opts.StudiesMaxPerPrincipal, MaxQueuedRuns: s.opts.StudiesMaxQueuedRuns},
		Logger:        s.log.With("component", "api"),
		SubjectEndpoint: func(subject string) (event.Endpoint, error) {
			return bus.SubjectEndpoint("lodestone.routes." + subject)
		},
	}
	if sq, ok := s.Store.(store.SQLer); ok {
		aopts.Graph = &sqlgraph.Source{S: sq}
	}
	if aopts.Governance, err = s.opts.governance(); err != nil {
		return err
	}
	if s.opts.StudiesWorkers {
		if s.dispatcher, err = worker.NewDispatcher(ctx, bus.Conn(), worker.Config{Replicas: s.opts.NATSReplicas, AckWait: time.Duration(s.opts.StudiesAckWait)}); err != nil {
			return fmt.Errorf("server: study work queue: %w", err)
		}
		aopts.Studies.Dispatcher = s.dispatcher
	}
	if s.opts.LoadDemo {
		aopts.Extra = append(aopts.Extra, demoStoryRoute()) // server/demo.go
	}
	s.API, err = api.New(ctx, aopts)
	if err != nil {
		return err
	}
	if m := s.API.Metrics(); m != nil && s.dispatcher != nil {
		d := s.dispatcher
		if err := m.WatchWorkQueue(func(ctx context.Context) (ops.QueueDepth, error) {
			p, r, err := d.Depth(ctx)
			return ops.QueueDepth{Pending: p, Running: r}, err
		}); err != nil {
			return fmt.Errorf("server: work queue metrics: %w", err)
		}
	}
	if s.opts.LoadDemo {
		if err := s.loadDemo(ctx); err != nil {
			return fmt.Errorf("server: load demo: %w", err)
		}
		if err := s.demoStory(ctx); err != nil { // server/demo.go (issue 16)
			return fmt.Errorf("server: demo story: %w", err)
		}
	}
	mux := http.NewServeMux()
	wt, rt := time.Duration(s.opts.HTTPWriteTimeout), time.Duration(s.opts.HTTPReadTimeout)
	if err := s.startTracing(ctx); err != nil { // tracing.go
		return err
	}
	guarded := s.API.Traced(s.API.Guard()) // identity, roles and the hardening checks, in a span when tracing
	mux.Handle("/", withDeadlines(guarded, wt, 0))
	for _, route := range s.API.Routes() {
		// The bulk import routes (their body is an import file) read for
		// as long as the body keeps coming; see Options.HTTPReadTimeout.
		if route.Body == "ImportFile" {
			mux.Handle(route.Pattern, withDeadlines(guarded, wt, rt))
		}
	}
	s.API.Handle("GET /", web.Handler(s.API.NotFound()))
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.API.StartRoutes(runCtx); err != nil {
		return err
	}
	// server/retention.go: the store's size in /metrics from the start,
	// then every minute, and compaction with --retain.*.
	s.storeSize(ctx)
	s.wg.Go(func() { s.retain(runCtx) })
	if s.opts.MetricsPublic {
		mux.Handle("GET /metrics", withDeadlines(s.API, wt, 0)) // unguarded
	}
	s.ln, err = net.Listen("tcp", s.opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", s.opts.HTTPAddr, err)
	}
	if err := s.startConnectors(ctx); err != nil {
		s.ln.Close()
		return err
	}
	if err := s.startEstimators(ctx); err != nil {
		s.ln.Close()
		return err
	}
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: time.Duration(s.opts.HTTPReadHeaderTimeout),
		ReadTimeout:       rt,
		IdleTimeout:       time.Duration(s.opts.HTTPIdleTimeout),
		// No WriteTimeout: net/http's runs from the end of the headers to
		// the end of the response, so it would cut every event stream and
		// every long import or export. withDeadlines bounds each write
		// instead.
		// Streams (SSE) end with the server: their contexts derive from runCtx.
		BaseContext: func(net.Listener) context.Context { return runCtx },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:   tlsConf,
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		serve := s.http.Serve
		if s.tls {
			serve = func(ln net.Listener) error { return s.http.ServeTLS(ln, "", "") }
		}
		if err := serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveMu.Lock()
			s.err = err
			s.serveMu.Unlock()
			s.log.Error("http server stopped", "err", err)
		}
	}()
	if sec.Auth == nil {
		s.log.Warn("running unauthenticated: every request may do everything (no --auth)", "addr", s.Addr(), "insecure", s.opts.Insecure)
	}
	s.log.Info("serving", "addr", s.Addr(), "tls", s.tls, "store", s.opts.storeDSN(), "nats", natsMode(s.opts))
	return nil
}

// withDeadlines serves h with the I/O deadlines net/http cannot express:
// each write of the response (and the final flush) must finish within
// write, so that a client that stops reading is cut off however long the
// response lives; and, when read > 0, each read of the request body must
// finish within read, replacing the whole-request read timeout for bodies
// that may legitimately take longer than any fixed bound. Both set the
// connection's deadlines through [http.ResponseController].
func withDeadlines(h http.Handler, write, read time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: write}
		dw.extend() // for a 100 Continue written while the body is read
		if read > 0 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: dw.rc, timeout: read}
		}
		h.ServeHTTP(dw, r)
		dw.extend() // for the flush net/http makes after h returns
	})
}

// deadlineWriter moves the write deadline forward before each write and
// flush. It keeps the optional interfaces of the writer it wraps: Flush
// here, the others through Unwrap (see [http.ResponseController]).
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController // of the wrapped writer
	timeout time.Duration
	until   time.Time // the deadline set last
}

// extend sets the write deadline to timeout from now, unless the one set
// last is still more than half a timeout away (setting it is not free,
// and a small response makes several writes). It fails only on a writer
// that cannot set one (an HTTP/1 or HTTP/2 connection always can), which
// then keeps the server's own bounds.
func (w *deadlineWriter) extend() {
	now := time.Now()
	if w.until.Sub(now) > w.timeout/2 {
		return
	}
	w.until = now.Add(w.timeout)
	w.rc.SetWriteDeadline(w.until)
}

func (w *deadlineWriter) WriteHeader(code int) {
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// Flush serves handlers that assert http.Flusher rather than use a
// ResponseController.
func (w *deadlineWriter) Flush() { w.FlushError() }

// FlushError is the flush a ResponseController calls.
func (w *deadlineWriter) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

// Unwrap gives a ResponseController the wrapped writer.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// deadlineBody moves the read deadline forward before each read of a
// request body, until the first error or EOF. After EOF net/http reads
// the connection in the background to notice a client that goes away; a
// deadline set then would end that read, and with it the request's
// context, so none is.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	done    bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
	}
	return n, err
}

func natsMode(o Options) string {
	if o.NATSURL != "" {
		return o.NATSURL
	}
	return "embedded"
}

// instanceID returns the id of this server kept in its data directory
// (made on first use), so that a restarted server is the same instance to
// the leases it held. Without a readable one it returns "" (a random id).
func instanceID(dir string, log *slog.Logger) string {
	path := filepath.Join(dir, "instance-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	var b [8]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		log.Warn("instance id", "err", err)
		return ""
	}
	return id
}

// tempDir returns the data directory's folder for spooled import bodies,
// after removing the files a crashed run left there (those not written for
// a day: another server on the same folder may be spooling now); "" (the
// system's) if it cannot be made.
func tempDir(dir string, log *slog.Logger) string {
	path := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(path, 0o755); err != nil {
		log.Warn("temp dir", "err", err)
		return ""
	}
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			os.Remove(filepath.Join(path, e.Name()))
		}
	}
	return path
}

// source is the CloudEvents source of the server's events.
func (s *Server) source() string {
	if s.opts.Source != "" {
		return s.opts.Source
	}
	return "lodestone://" + hostname()
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// Addr returns the address the HTTP server listens on.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns the base URL of the HTTP server, with a loopback host when
// it listens on all interfaces.
func (s *Server) URL() string {
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http://"
	if s.tls {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port)
}

// Shutdown stops accepting requests, waits for those in flight (bounded by
// ctx), stops the event routes and closes the bus and the store.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		if s.cancel != nil {
			s.cancel() // ends open event streams
		}
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	if s.connectors != nil {
		errs = append(errs, s.connectors.Stop(ctx))
	}
	if s.estimators != nil {
		errs = append(errs, s.estimators.Stop(ctx))
	}
	if s.API != nil {
		if err := s.API.ShutdownRoutes(ctx); err != nil {
			errs = append(errs, err)
		}
		if s.dispatcher != nil {
			s.dispatcher.HandBack() // studies stopped now leave their shards to the server resuming them
		}
		if err := s.API.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.stopTracing(ctx))
	if s.trustLog != nil {
		if err := s.trustLog.Close(ctx); err != nil {
			errs = append(errs, err)
		}
		s.trustLog = nil
	}
	errs = append(errs, s.closeResources())
	return errors.Join(errs...)
}

func (s *Server) closeResources() error {
	var errs []error
	if s.Bus != nil {
		errs = append(errs, s.Bus.Close())
		s.Bus = nil
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
		s.Store = nil
	}
	errs = append(errs, s.lock.release())
	s.lock = nil
	return errors.Join(errs...)
}

// loadDemo uploads the bundled ontology and the sample world when the store
// holds no models yet, through the same import path users have.
func (s *Server) loadDemo(ctx context.Context) error {
	ms, err := s.Store.ListModels(ctx)
	if err != nil {
		return err
	}
	if len(ms) > 0 {
		return nil
	}
	var b store.Batch
	for _, f := range models.Files() {
		b.Models = append(b.Models, twin.Model{ID: modelID(f.Data), DTDL: f.Data})
	}
	twins, rels, err := demoWorld()
	if err != nil {
		return err
	}
	b.Twins, b.Relationships = twins, rels
	if err := s.API.Import(ctx, &b); err != nil {
		return err
	}
	s.demoLoaded = true
	return nil
}

func modelID(raw []byte) string {
	var head struct {
		ID string `json:"@id"`
	}
	json.Unmarshal(raw, &head)
	return head.ID
}
