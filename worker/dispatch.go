package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/supply"
)

// Dispatcher runs studies on the workers of a work queue. It implements
// the API's StudyDispatcher.
type Dispatcher struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	cfg    Config
	work   jetstream.Stream
	result jetstream.Stream
	// handBack is set by HandBack (a graceful shutdown).
	handBack atomic.Bool
}

// HandBack makes the studies stopped from now on by their context leave
// their shards on the queue and their results on the results stream, for
// the server that resumes them (the shards' message ids and the results'
// shard numbers make the resumed study's republished shards and repeated
// results harmless). A server calls it when it shuts down gracefully.
func (d *Dispatcher) HandBack() { d.handBack.Store(true) }

// NewDispatcher sets the streams up on nc.
func NewDispatcher(ctx context.Context, nc *nats.Conn, cfg Config) (*Dispatcher, error) {
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("worker: jetstream: %w", err)
	}
	if _, err := Setup(ctx, js, cfg); err != nil {
		return nil, err
	}
	d := &Dispatcher{nc: nc, js: js, cfg: cfg}
	if d.work, err = js.Stream(ctx, cfg.WorkStream); err != nil {
		return nil, fmt.Errorf("worker: stream %s: %w", cfg.WorkStream, err)
	}
	if d.result, err = js.Stream(ctx, cfg.ResultStream); err != nil {
		return nil, fmt.Errorf("worker: stream %s: %w", cfg.ResultStream, err)
	}
	return d, nil
}

// Available says whether a worker answers the presence ping (at once "no"
// when none listens: NATS answers no responders).
func (d *Dispatcher) Available(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err := d.nc.RequestWithContext(ctx, d.cfg.Prefix+".ping", nil)
	return err == nil
}

// Depth reads the work queue: pending is the shards not yet done (the
// work-queue stream drops a shard when it is acked), running those of
// them delivered to a worker and not yet acked. The server's /metrics
// reads it at each scrape (lodestone_work_queue_pending_shards).
func (d *Dispatcher) Depth(ctx context.Context) (pending, running int, err error) {
	si, err := d.work.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("worker: stream %s: %w", d.cfg.WorkStream, err)
	}
	cons, err := d.js.Consumer(ctx, d.cfg.WorkStream, d.cfg.Consumer)
	if err != nil {
		return 0, 0, fmt.Errorf("worker: consumer %s: %w", d.cfg.Consumer, err)
	}
	ci := cons.CachedInfo() // fetched just now by js.Consumer
	return int(si.State.Msgs), ci.NumAckPending, nil
}

// shardRuns is the number of runs per shard: as many whole blocks as fit
// in MaxShardBytes of result, at most MaxBlocks; 0 when one block does not
// fit (the caller then runs the study itself).
func (d *Dispatcher) shardRuns(sc *supply.SimScenario) int {
	n := len(sc.Network.Nodes)
	months := sc.Days/28 + 2 // an upper bound of the calendar months spanned
	perRun := n*8*7 + 5*8
	perBlock := supply.MCBlock*perRun + n*months*6*8
	blocks := min(d.cfg.MaxBlocks, d.cfg.MaxShardBytes/max(perBlock, 1))
	return blocks * supply.MCBlock
}

// advisory is the part of a JetStream consumer advisory used here.
type advisory struct {
	StreamSeq uint64 `json:"stream_seq"`
	Reason    string `json:"reason"`
}

// Run runs a study of runs replications on the workers and merges their
// shards in run order. Cancelling ctx withdraws the study's shards from
// the queue and stops them on every worker.
func (d *Dispatcher) Run(ctx context.Context, study string, sc *supply.SimScenario, runs int, seed uint64, progress func(done, total int)) (*supply.MCResult, error) {
	opts := supply.MCOptions{Runs: runs, Seed: seed}
	if strings.ContainsAny(study, ".*> \t") || study == "" {
		return nil, fmt.Errorf("worker: study id %q is not a subject token", study)
	}
	per := d.shardRuns(sc)
	if per == 0 {
		return supply.MonteCarlo(ctx, sc, supply.MCOptions{Runs: runs, Seed: seed, Progress: progress})
	}
	scJSON, err := json.Marshal(sc)
	if err != nil {
		return nil, err
	}
	defer func() {
		if !d.handBack.Load() || ctx.Err() == nil {
			d.cleanup(study)
		}
	}()
	got, err := d.dispatch(ctx, study, runs, per, func(from, to int) Shard {
		return Shard{Study: study, Runs: runs, Seed: seed, From: from, To: to, Scenario: scJSON}
	}, progress)
	if errors.Is(err, errNoWorkers) {
		// The workers are gone: withdraw the shards and run the missing
		// ones here (the same bits).
		d.cleanup(study)
		done := 0
		for from := 0; from < runs; from += per {
			if got[from] != nil {
				done += got[from].To - from
				continue
			}
			sh, err := supply.MonteCarloShard(ctx, sc, opts, from, min(runs, from+per))
			if err != nil {
				return nil, err
			}
			got[from] = &Result{From: from, To: sh.To, Shard: sh}
			done += sh.To - from
			if progress != nil {
				progress(done, runs)
			}
		}
	} else if err != nil {
		return nil, err
	}
	shards := make([]*supply.MCShard, 0, len(got))
	for _, r := range got {
		shards = append(shards, r.Shard)
	}
	return supply.MergeMC(sc, opts, shards)
}

// dispatch publishes the shards of runs [0, runs) in pieces of per runs
// (shard makes each one's message), and collects their results by first
// run. On errNoWorkers it returns the results that came. The caller
// withdraws the shards (cleanup) when it is done.
func (d *Dispatcher) dispatch(ctx context.Context, study string, runs, per int, shard func(from, to int) Shard, progress func(done, total int)) (map[int]*Result, error) {
	rsub := d.cfg.resultSubject(study)
	// The consumer has the stream's replicas (an ephemeral one would
	// otherwise live on one node of a cluster, and die with it), and its
	// results are acked: a result the consumer's leader delivered as it
	// died is delivered again by the next one after AckWait. (With no
	// acks it counted as delivered: CI saw a study wait for a result that
	// never came after the node leading the work queue was killed.)
	results, err := d.result.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: rsub, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: d.cfg.AckWait, DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 10 * time.Minute, Replicas: d.cfg.Replicas})
	if err != nil {
		return nil, fmt.Errorf("worker: results of %s: %w", study, err)
	}
	defer d.result.DeleteConsumer(context.WithoutCancel(ctx), results.CachedInfo().Name)
	// Shards that end badly (terminated, or out of deliveries) fail the
	// study: the advisories name their stream sequence.
	var mu sync.Mutex
	seqs := map[uint64]int{}
	dead := make(chan string, 1)
	onAdvisory := func(m *nats.Msg) {
		var a advisory
		if json.Unmarshal(m.Data, &a) != nil {
			return
		}
		mu.Lock()
		from, ok := seqs[a.StreamSeq]
		mu.Unlock()
		if ok {
			select {
			case dead <- fmt.Sprintf("shard from run %d: %s", from, cmpOr(a.Reason, "delivered the maximum number of times without an ack")):
			default:
			}
		}
	}
	for _, kind := range []string{"MAX_DELIVERIES", "MSG_TERMINATED"} {
		sub, err := d.nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER."+kind+"."+d.cfg.WorkStream+"."+d.cfg.Consumer, onAdvisory)
		if err != nil {
			return nil, err
		}
		defer sub.Unsubscribe()
	}
	nshards := 0
	for from := 0; from < runs; from += per {
		to := min(runs, from+per)
		b, _ := json.Marshal(shard(from, to))
		ack, err := publish(ctx, d.js, d.cfg.shardSubject(study), b, fmt.Sprintf("%s-%d", study, from), d.cfg.AckWait)
		if err != nil {
			return nil, fmt.Errorf("worker: publish shard %d of %s: %w", from, study, err)
		}
		mu.Lock()
		seqs[ack.Sequence] = from
		mu.Unlock()
		nshards++
	}
	return d.collect(ctx, results, nshards, runs, progress, dead)
}

// errNoWorkers says that no worker answered while the study's results
// stalled.
var errNoWorkers = errors.New("worker: no worker answers")

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// collect reads the study's results until every shard is in, keeping one
// result per shard (a redelivered shard may be computed twice: same bits).
func (d *Dispatcher) collect(ctx context.Context, results jetstream.Consumer, nshards, runs int, progress func(done, total int), dead <-chan string) (map[int]*Result, error) {
	got := map[int]*Result{}
	done := 0
	it, err := results.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return nil, fmt.Errorf("worker: read results: %w", err)
	}
	defer it.Stop()
	last := time.Now()
	for len(got) < nshards {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case why := <-dead:
			return nil, lastWord(it, why)
		default:
		}
		m, err := it.Next(jetstream.NextMaxWait(250 * time.Millisecond))
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			if time.Since(last) > d.cfg.AckWait {
				if !d.Available(ctx) && ctx.Err() == nil {
					return got, errNoWorkers
				}
				last = time.Now()
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("worker: read results: %w", err)
		}
		_ = m.Ack() // a lost ack only has the result delivered again
		r, err := DecodeResult(m.Data())
		if err != nil {
			return nil, err
		}
		if r.Err != "" {
			return nil, r.failure()
		}
		if got[r.From] == nil {
			got[r.From], last = r, time.Now()
			done += r.To - r.From
			if progress != nil {
				progress(done, runs)
			}
		}
	}
	return got, nil
}

// cleanup withdraws a study's shards left in the queue, stops those under
// way on the workers and drops its results.
func (d *Dispatcher) cleanup(study string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.nc.Publish(d.cfg.Prefix+".cancel", []byte(study))
	_ = d.work.Purge(ctx, jetstream.WithPurgeSubject(d.cfg.shardSubject(study)))
	_ = d.result.Purge(ctx, jetstream.WithPurgeSubject(d.cfg.resultSubject(study)))
}

// publish publishes data on subject with a message id, retrying for up to
// patience while the stream has no leader (a node of a cluster died and
// the others elect a new one) or the connection is reconnecting: the
// stream's duplicate window drops a message published twice.
func publish(ctx context.Context, js jetstream.JetStream, subject string, data []byte, id string, patience time.Duration) (*jetstream.PubAck, error) {
	deadline := time.Now().Add(max(patience, 5*time.Second))
	wait := 50 * time.Millisecond
	for {
		ack, err := js.Publish(ctx, subject, data, jetstream.WithMsgID(id))
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return ack, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
