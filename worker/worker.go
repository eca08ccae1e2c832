package worker

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/internal/jsretry"
	"lodestone/supply"
)

// Config names the streams and subjects of the work queue and sets its
// timing. Zero values take the defaults of [Config.withDefaults].
type Config struct {
	// Prefix is the first subject tokens (default "lodestone_work", not under the events' "lodestone.>"):
	// shards on Prefix.shard.STUDY, results on Prefix.result.STUDY,
	// cancellations on Prefix.cancel, the presence ping on Prefix.ping.
	Prefix string
	// WorkStream and ResultStream name the streams (default
	// LODESTONE_WORK and LODESTONE_RESULTS); Consumer the durable pull
	// consumer the workers share (default lodestone-workers).
	WorkStream, ResultStream, Consumer string
	// AckWait is how long a shard may go without an ack or a heartbeat
	// before it is redelivered (default 30 s); workers send a heartbeat
	// every AckWait/3.
	AckWait time.Duration
	// MaxDeliver bounds the deliveries of one shard (default 5).
	MaxDeliver int
	// MaxShardBytes bounds the encoded result of one shard (default
	// 512 KiB, half the default NATS max_payload); shards hold as many
	// blocks as fit, at most MaxBlocks (default 8, 256 runs).
	MaxShardBytes int
	MaxBlocks     int
	// Replicas of the work and result streams and of the workers'
	// consumer (default 1; 3 on a three-node JetStream cluster, so that
	// losing one node loses no shard and no result).
	Replicas int
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "lodestone_work"
	}
	if c.WorkStream == "" {
		c.WorkStream = "LODESTONE_WORK"
	}
	if c.ResultStream == "" {
		c.ResultStream = "LODESTONE_RESULTS"
	}
	if c.Consumer == "" {
		c.Consumer = "lodestone-workers"
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = 5
	}
	if c.MaxShardBytes <= 0 {
		c.MaxShardBytes = 512 << 10
	}
	if c.MaxBlocks <= 0 {
		c.MaxBlocks = 8
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	return c
}

func (c Config) shardSubject(study string) string  { return c.Prefix + ".shard." + study }
func (c Config) resultSubject(study string) string { return c.Prefix + ".result." + study }

// Shard is the message of one shard on the work queue (JSON).
type Shard struct {
	// Kind is KindInvest for a portfolio evaluation of an investment
	// search, KindRun for a single supply run; absent for a Monte Carlo
	// study's shard.
	Kind  string `json:"kind,omitempty"`
	Study string `json:"study"`
	Runs  int    `json:"runs"`
	Seed  uint64 `json:"seed"`
	From  int    `json:"from"`
	To    int    `json:"to"`
	// Scenario is the supply.SimScenario, as encoding/json writes it.
	Scenario json.RawMessage `json:"scenario"`
	// Objective and Org (the org scenario's organisation, may be
	// absent) are those of an invest shard.
	Objective string          `json:"objective,omitempty"`
	Org       json.RawMessage `json:"org,omitempty"`
}

// Result is the message of one shard's outcome on the results stream
// (encoding/gob: the samples hold NaN, which JSON cannot carry).
type Result struct {
	// Kind is the shard's kind when it is KindRun (a run's failure is
	// its error word for word).
	Kind     string
	Study    string
	From, To int
	Shard    *supply.MCShard
	// Samples are an invest shard's measures of runs From..To-1.
	Samples []float64
	// Run is a run shard's supply.Result, as encoding/json writes it.
	Run json.RawMessage
	// Err says why the shard cannot be run (the same on every worker:
	// the study fails); Field names the field of an org field error.
	Err, Field string
}

// DecodeShard reads a shard message, naming the field at fault.
func DecodeShard(data []byte) (*Shard, *supply.SimScenario, error) {
	var sh Shard
	if err := json.Unmarshal(data, &sh); err != nil {
		return nil, nil, fmt.Errorf("worker: shard: %w", err)
	}
	switch {
	case sh.Kind != "" && sh.Kind != KindInvest && sh.Kind != KindRun:
		return nil, nil, fmt.Errorf("worker: shard: kind: %q, want %q, %q or none", sh.Kind, KindInvest, KindRun)
	case sh.Study == "":
		return nil, nil, errors.New("worker: shard: study: missing")
	case sh.Runs <= 0:
		return nil, nil, fmt.Errorf("worker: shard: runs: %d, want > 0", sh.Runs)
	case sh.From < 0 || sh.To <= sh.From || sh.To > sh.Runs:
		return nil, nil, fmt.Errorf("worker: shard: from, to: [%d, %d) is not within the %d runs", sh.From, sh.To, sh.Runs)
	case len(sh.Scenario) == 0:
		return nil, nil, errors.New("worker: shard: scenario: missing")
	}
	var sc supply.SimScenario
	if err := json.Unmarshal(sh.Scenario, &sc); err != nil {
		return nil, nil, fmt.Errorf("worker: shard: scenario: %w", err)
	}
	if sh.Kind == KindInvest {
		if err := checkInvest(&sh); err != nil {
			return nil, nil, err
		}
	}
	if sh.Kind == KindRun {
		if err := checkRun(&sh); err != nil {
			return nil, nil, err
		}
	}
	return &sh, &sc, nil
}

func encodeResult(r *Result) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DecodeResult reads a result message.
func DecodeResult(data []byte) (*Result, error) {
	var r Result
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&r); err != nil {
		return nil, fmt.Errorf("worker: result: %w", err)
	}
	if r.Err == "" && !r.complete() {
		return nil, fmt.Errorf("worker: result: shard, samples or run: missing or not [%d, %d)", r.From, r.To)
	}
	return &r, nil
}

// Setup creates or updates the streams and the workers' consumer.
func Setup(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Consumer, error) {
	cfg = cfg.withDefaults()
	// Each call waits for a cluster that is still forming (jsretry).
	var ws jetstream.Stream
	err := jsretry.Do(ctx, func(ctx context.Context) (err error) {
		ws, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: cfg.WorkStream, Subjects: []string{cfg.Prefix + ".shard.>"}, Retention: jetstream.WorkQueuePolicy,
			Storage: jetstream.FileStorage, Description: "Lodestone study shards (package worker)", Replicas: cfg.Replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("worker: stream %s: %w", cfg.WorkStream, err)
	}
	if err := jsretry.Do(ctx, func(ctx context.Context) error {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: cfg.ResultStream, Subjects: []string{cfg.Prefix + ".result.>"}, Retention: jetstream.LimitsPolicy,
			Storage: jetstream.FileStorage, MaxAge: 24 * time.Hour, Description: "Lodestone study shard results (package worker)", Replicas: cfg.Replicas,
		})
		return err
	}); err != nil {
		return nil, fmt.Errorf("worker: stream %s: %w", cfg.ResultStream, err)
	}
	var cons jetstream.Consumer
	err = jsretry.Do(ctx, func(ctx context.Context) (err error) {
		cons, err = ws.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable: cfg.Consumer, FilterSubject: cfg.Prefix + ".shard.>", AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver, MaxAckPending: 10000, Replicas: cfg.Replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("worker: consumer %s: %w", cfg.Consumer, err)
	}
	return cons, nil
}

// Worker takes shards from the work queue and runs them.
type Worker struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	cfg Config
	log *slog.Logger
	// Concurrency is the number of shards run at once (default 1).
	Concurrency int

	mu        sync.Mutex
	cancelled map[string]time.Time            // studies cancelled, with when
	running   map[string][]context.CancelFunc // shards under way, per study
}

// New makes a worker on a NATS connection.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) (*Worker, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("worker: jetstream: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{nc: nc, js: js, cfg: cfg.withDefaults(), log: log, Concurrency: 1,
		cancelled: map[string]time.Time{}, running: map[string][]context.CancelFunc{}}, nil
}

// Run takes shards until ctx ends. A shard under way when ctx ends is
// handed back (a Nak without delay): the queue gives it to another worker
// at once, instead of after AckWait as it does the shards of a worker
// that was killed. Run returns once the hand-backs reached the server.
func (w *Worker) Run(ctx context.Context) error {
	cons, err := Setup(ctx, w.js, w.cfg)
	if err != nil {
		return err
	}
	ping, err := w.nc.Subscribe(w.cfg.Prefix+".ping", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
	if err != nil {
		return fmt.Errorf("worker: subscribe: %w", err)
	}
	defer ping.Unsubscribe()
	cancel, err := w.nc.Subscribe(w.cfg.Prefix+".cancel", func(m *nats.Msg) { w.cancelStudy(string(m.Data)) })
	if err != nil {
		return fmt.Errorf("worker: subscribe: %w", err)
	}
	defer cancel.Unsubscribe()
	var wg sync.WaitGroup
	for range max(1, w.Concurrency) {
		wg.Go(func() { w.loop(ctx, cons) })
	}
	wg.Wait()
	// The Naks of the shards handed back are plain publishes: flush them
	// before the caller closes the connection.
	if err := w.nc.FlushTimeout(5 * time.Second); err != nil && w.nc.IsConnected() {
		w.log.Warn("flush the shards handed back", "err", err)
	}
	return nil
}

func (w *Worker) loop(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("fetch a shard", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		for msg := range batch.Messages() {
			w.handle(ctx, msg)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// cancelStudy stops the shards of a study under way here and drops those
// that arrive later.
func (w *Worker) cancelStudy(study string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for s, at := range w.cancelled {
		if now.Sub(at) > 24*time.Hour {
			delete(w.cancelled, s)
		}
	}
	w.cancelled[study] = now
	for _, c := range w.running[study] {
		c()
	}
}

// track registers a shard under way; it returns false for a cancelled
// study.
func (w *Worker) track(study string, cancel context.CancelFunc) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.cancelled[study]; ok {
		return false
	}
	w.running[study] = append(w.running[study], cancel)
	return true
}

func (w *Worker) untrack(study string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rs := w.running[study]; len(rs) > 1 {
		w.running[study] = rs[1:]
	} else {
		delete(w.running, study)
	}
}

// handle runs one shard: undecodable ones are terminated (the queue moves
// on; the server sees the advisory), those of cancelled studies acked and
// dropped, the one under way when the worker stops handed back.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	sh, sc, err := DecodeShard(msg.Data())
	if err != nil {
		w.log.Error("terminate an undecodable shard", "subject", msg.Subject(), "err", err)
		_ = msg.TermWithReason(err.Error())
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !w.track(sh.Study, cancel) {
		_ = msg.Ack()
		return
	}
	defer w.untrack(sh.Study)
	hb := make(chan struct{})
	defer close(hb)
	go func() {
		t := time.NewTicker(w.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-hb:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	res := compute(sctx, sh, sc)
	if sctx.Err() != nil {
		if ctx.Err() == nil {
			_ = msg.Ack() // the study was cancelled
			return
		}
		w.handBack(msg, sh)
		return
	}
	data, err := encodeResult(res)
	if err == nil {
		_, err = publish(ctx, w.js, w.cfg.resultSubject(sh.Study), data, fmt.Sprintf("%s-%d", sh.Study, sh.From), w.cfg.AckWait)
	}
	if err != nil {
		w.log.Error("publish a shard result", "study", sh.Study, "from", sh.From, "err", err)
		if ctx.Err() != nil {
			w.handBack(msg, sh) // stopping: another worker recomputes it (same bits)
		}
		return // otherwise redelivered after AckWait
	}
	if res.Err != "" {
		_ = msg.TermWithReason(res.Err)
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		w.log.Warn("ack a shard", "study", sh.Study, "from", sh.From, "err", err)
	}
}

// handBack returns a shard to the queue for another worker at once (the
// worker is stopping). Should the Nak be lost, the queue still redelivers
// the shard after AckWait.
func (w *Worker) handBack(msg jetstream.Msg, sh *Shard) {
	if err := msg.Nak(); err != nil {
		w.log.Warn("hand a shard back", "study", sh.Study, "from", sh.From, "err", err)
		return
	}
	w.log.Info("handed a shard back", "study", sh.Study, "from", sh.From)
}

// Connect dials the NATS server of the work queue, failing at once with
// the URL named when there is none.
func Connect(url, name string) (*nats.Conn, error) {
	if url == "" {
		return nil, errors.New("worker: --nats: a NATS URL is required (nats://host:4222)")
	}
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(3*time.Second), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("worker: connect to NATS at %s: %w", url, err)
	}
	return nc, nil
}
