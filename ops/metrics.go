package ops

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Unrouted is the route label of requests no route matched, so that
// scans of random paths add one series, not one per path.
const Unrouted = "unrouted"

// Probe measures, at scrape time, what is cheap to ask for then and
// costly to track on every write: the store's latency and outbox lag, the
// bus's round trip. Each func may be nil.
type Probe struct {
	// Outbox returns the commit time of the oldest record not yet
	// published (zero when the outbox is empty); the call is timed as the
	// store's probe latency.
	Outbox func(ctx context.Context) (time.Time, error)
	// BusRTT returns the round trip to the event bus.
	BusRTT func() (time.Duration, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Metrics are the metrics of one server. It is safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	studies  prometheus.Gauge
	runsDone prometheus.Gauge
	runsAll  prometheus.Gauge
	conn     *prometheus.GaugeVec
	size     *prometheus.GaugeVec

	mu    sync.Mutex
	study map[string][2]int // id → done, total of running studies
}

// NewMetrics registers the metrics of a server, the Go runtime's and the
// process's in a new registry; probe's funcs are called on each scrape.
func NewMetrics(probe Probe) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), study: map[string][2]int{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lodestone_http_requests_total", Help: "HTTP requests served, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lodestone_http_request_duration_seconds", Help: "Time to serve an HTTP request (to the handler's return; streams count their whole life), by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method"})
	m.studies = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lodestone_studies_running", Help: "Monte Carlo studies running in this server."})
	m.runsDone = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lodestone_study_runs_done", Help: "Runs finished by the studies running now."})
	m.runsAll = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lodestone_study_runs_planned", Help: "Runs planned by the studies running now; planned minus done is the queue depth."})
	m.conn = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lodestone_connector_lag_seconds", Help: "Age of the newest reading a plant connector has delivered, by connector (set by the connectors through SetConnectorLag).",
	}, []string{"connector"})
	m.size = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lodestone_store_bytes", Help: "Disk use of the store (kind=file: what the file system holds; kind=used: the live part, SQLite pages not on the free list), measured every minute and after each compaction.",
	}, []string{"kind"})
	m.reg.MustRegister(m.requests, m.latency, m.studies, m.runsDone, m.runsAll, m.conn, m.size,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&probeCollector{p: probe})
	return m
}

// Registry returns the registry, for further collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest counts one request of route (a route pattern without
// its method, or Unrouted).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// StudyProgress records the progress of a study; a study that is not
// running any more (finished, failed, cancelled) leaves the gauges.
func (m *Metrics) StudyProgress(id string, running bool, done, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if running {
		m.study[id] = [2]int{done, total}
	} else {
		delete(m.study, id)
	}
	var d, t int
	for _, p := range m.study {
		d += p[0]
		t += p[1]
	}
	m.studies.Set(float64(len(m.study)))
	m.runsDone.Set(float64(d))
	m.runsAll.Set(float64(t))
}

// SetConnectorLag is for the plant connectors (OPC UA, MQTT): lag is the
// age of the newest reading connector has delivered to the twin graph.
// The server sets it after each batch a connector stores
// (connector.Options.Lag); the gauge is documented in docs/operations.md.
func (m *Metrics) SetConnectorLag(connector string, lag time.Duration) {
	m.conn.WithLabelValues(connector).Set(lag.Seconds())
}

// StoreSize sets the store's disk use (see package store/retention).
func (m *Metrics) StoreSize(file, used int64) {
	m.size.WithLabelValues("file").Set(float64(file))
	m.size.WithLabelValues("used").Set(float64(used))
}

// QueueDepth is the state of the study work queue at one moment.
type QueueDepth struct {
	// Pending is the shards on the queue not yet done: waiting for a
	// worker, or under way on one (a work-queue stream drops a shard
	// when its worker acks it).
	Pending int
	// Running is the part of Pending delivered to a worker and not yet
	// acked (or handed back).
	Running int
}

// WatchWorkQueue adds the work queue's gauges, read by depth at each
// scrape (a server with workers calls it with worker.Dispatcher.Depth):
// reading the JetStream stream then costs one request per scrape and
// nothing per shard. It fails when called twice.
func (m *Metrics) WatchWorkQueue(depth func(ctx context.Context) (QueueDepth, error)) error {
	return m.reg.Register(&queueCollector{depth: depth})
}

var (
	descQueuePending = prometheus.NewDesc("lodestone_work_queue_pending_shards", "Study shards on the JetStream work queue not yet done: waiting for a worker or under way on one (read at scrape time).", nil, nil)
	descQueueRunning = prometheus.NewDesc("lodestone_work_queue_running_shards", "Study shards delivered to a worker and not yet acked (read at scrape time).", nil, nil)
	descQueueUp      = prometheus.NewDesc("lodestone_work_queue_up", "1 when the scrape-time read of the work queue succeeded.", nil, nil)
)

// queueCollector reads the work queue on each scrape.
type queueCollector struct {
	depth func(ctx context.Context) (QueueDepth, error)
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQueuePending
	ch <- descQueueRunning
	ch <- descQueueUp
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := c.depth(ctx)
	ch <- prometheus.MustNewConstMetric(descQueueUp, prometheus.GaugeValue, up(err))
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descQueuePending, prometheus.GaugeValue, float64(d.Pending))
	ch <- prometheus.MustNewConstMetric(descQueueRunning, prometheus.GaugeValue, float64(d.Running))
}

// probeCollector runs the probes on each scrape.
type probeCollector struct{ p Probe }

var (
	descOutboxLag = prometheus.NewDesc("lodestone_outbox_lag_seconds", "Age of the oldest committed change whose event is not yet published (0 when none waits).", nil, nil)
	descStore     = prometheus.NewDesc("lodestone_store_probe_seconds", "Latency of a small store read (the oldest outbox record) made at scrape time.", nil, nil)
	descStoreUp   = prometheus.NewDesc("lodestone_store_up", "1 when the scrape-time store read succeeded.", nil, nil)
	descBusRTT    = prometheus.NewDesc("lodestone_bus_rtt_seconds", "Round trip to the NATS server at scrape time.", nil, nil)
	descBusUp     = prometheus.NewDesc("lodestone_bus_up", "1 when the event bus answered at scrape time.", nil, nil)
)

func (c *probeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descOutboxLag
	ch <- descStore
	ch <- descStoreUp
	ch <- descBusRTT
	ch <- descBusUp
}

func (c *probeCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now
	if c.p.Now != nil {
		now = c.p.Now
	}
	if c.p.Outbox != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t0 := time.Now()
		oldest, err := c.p.Outbox(ctx)
		d := time.Since(t0)
		cancel()
		ch <- prometheus.MustNewConstMetric(descStore, prometheus.GaugeValue, d.Seconds())
		ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, up(err))
		if err == nil {
			lag := 0.0
			if !oldest.IsZero() {
				lag = max(now().Sub(oldest).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(descOutboxLag, prometheus.GaugeValue, lag)
		}
	}
	if c.p.BusRTT != nil {
		rtt, err := c.p.BusRTT()
		ch <- prometheus.MustNewConstMetric(descBusUp, prometheus.GaugeValue, up(err))
		if err == nil {
			ch <- prometheus.MustNewConstMetric(descBusRTT, prometheus.GaugeValue, rtt.Seconds())
		}
	}
}

func up(err error) float64 {
	if err != nil {
		return 0
	}
	return 1
}
