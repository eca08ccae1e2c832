package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lodestone/api"
	"lodestone/event"
	"lodestone/event/natsbus"
	"lodestone/models"
	"lodestone/store"
	_ "lodestone/store/postgres" // registers the postgres:// scheme
	"lodestone/store/sqlgraph"
	_ "lodestone/store/sqlite" // registers the sqlite: scheme
	"lodestone/twin"
	"lodestone/web"
)

// Server is a running Lodestone: store, event bus, API and dashboard.
type Server struct {
	opts Options
	log  *slog.Logger

	Store store.Store
	Bus   event.Bus
	API   *api.API

	ln      net.Listener
	http    *http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	serveMu sync.Mutex
	err     error
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
	s.Store, err = store.Open(ctx, s.opts.storeDSN())
	if err != nil {
		return err
	}
	bus, err := natsbus.Open(ctx, natsbus.Options{
		URL:      s.opts.NATSURL,
		StoreDir: filepath.Join(s.opts.DataDir, "nats"),
		Listen:   s.opts.NATSListen,
		Logger:   s.log.With("component", "event"),
	})
	if err != nil {
		return fmt.Errorf("server: event bus: %w", err)
	}
	s.Bus = bus
	aopts := api.Options{
		Store:        s.Store,
		Bus:          bus,
		Source:       "lodestone://" + hostname(),
		MaxBodyBytes: s.opts.MaxBodyBytes,
		MaxBulkBytes: s.opts.MaxBulkBytes,
		Logger:       s.log.With("component", "api"),
		SubjectEndpoint: func(subject string) (event.Endpoint, error) {
			return bus.SubjectEndpoint("lodestone.routes." + subject)
		},
		Checkpoints: &event.FileCheckpoints{Dir: filepath.Join(s.opts.DataDir, "routes")},
	}
	if sq, ok := s.Store.(store.SQLer); ok {
		aopts.Graph = &sqlgraph.Source{S: sq}
	}
	s.API, err = api.New(ctx, aopts)
	if err != nil {
		return err
	}
	if s.opts.LoadDemo {
		if err := s.loadDemo(ctx); err != nil {
			return fmt.Errorf("server: load demo: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.API)
	s.API.Handle("GET /", web.Handler(s.API.NotFound()))
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.API.StartRoutes(runCtx); err != nil {
		return err
	}
	s.ln, err = net.Listen("tcp", s.opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", s.opts.HTTPAddr, err)
	}
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// Streams (SSE) end with the server: their contexts derive from runCtx.
		BaseContext: func(net.Listener) context.Context { return runCtx },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveMu.Lock()
			s.err = err
			s.serveMu.Unlock()
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("serving", "addr", s.Addr(), "store", s.opts.storeDSN(), "nats", natsMode(s.opts))
	return nil
}

func natsMode(o Options) string {
	if o.NATSURL != "" {
		return o.NATSURL
	}
	return "embedded"
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
	return "http://" + net.JoinHostPort(host, port)
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
	if s.API != nil {
		if err := s.API.ShutdownRoutes(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := s.API.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
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
	return s.API.Import(ctx, &b)
}

func modelID(raw []byte) string {
	var head struct {
		ID string `json:"@id"`
	}
	json.Unmarshal(raw, &head)
	return head.ID
}
