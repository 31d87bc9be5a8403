// Package metrics is contactd's Prometheus instrumentation: one registry
// with the contactd_* series (calls, set-ups, queues, speech recognition
// latency, RTP quality, database latency, the post-call outbox) and the
// Go runtime's and process's own.
//
// The series come from wrappers and hooks rather than from the packages
// they measure: Store wraps a store.Store (latency per method), Recognizer
// wraps an asr.Recognizer (end of speech → final result), Metrics is a
// call.Observer (queue waits, each ended call's RTP quality), and gauges
// read the call manager and router when scraped.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/contactd/contactd/store"
)

// Metrics holds the registry and contactd's series.
type Metrics struct {
	reg *prometheus.Registry

	invites    *prometheus.CounterVec
	callsEnded *prometheus.CounterVec
	queueWait  *prometheus.HistogramVec
	asrLatency *prometheus.HistogramVec
	rtpLoss    *prometheus.HistogramVec
	rtpJitter  *prometheus.HistogramVec
	mos        *prometheus.HistogramVec
	dbLatency  *prometheus.HistogramVec
	dbErrors   *prometheus.CounterVec
}

// New returns the metrics with their registry, which also carries the
// Go runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		invites: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contactd_sip_invites_total",
			Help: "INVITEs by response code: 200 answered, 183 early media, 4xx/5xx refused before a call existed."}, []string{"code"}),
		callsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contactd_calls_ended_total",
			Help: "Calls ended, by whether an agent answered and how they left the IVR."}, []string{"answered", "ivr_outcome"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contactd_queue_wait_seconds",
			Help:    "Time a call waited in a queue, by queue and outcome (answered by an agent, or abandoned/left).",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200}}, []string{"queue", "outcome"}),
		asrLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contactd_asr_final_latency_seconds",
			Help:    "Speech recognition latency: from the end of an utterance's audio to its final result, by channel.",
			Buckets: []float64{0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10}}, []string{"channel"}),
		rtpLoss: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contactd_rtp_loss_ratio",
			Help:    "Packet loss over each ended call, per leg (caller, agent), as a fraction.",
			Buckets: []float64{0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5}}, []string{"leg"}),
		rtpJitter: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contactd_rtp_jitter_seconds",
			Help:    "Interarrival jitter over each ended call, per leg.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2}}, []string{"leg"}),
		mos: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contactd_call_mos",
			Help:    "Estimated mean opinion score (1-4.5) of each ended call, per leg.",
			Buckets: []float64{1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4}}, []string{"leg"}),
		dbLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contactd_db_operation_seconds",
			Help:    "Store operation latency, by operation (store.Store method).",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}}, []string{"op"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contactd_db_errors_total",
			Help: "Store operations that failed (not found and conflicts are answers, not failures), by operation."}, []string{"op"}),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.invites, m.callsEnded, m.queueWait, m.asrLatency, m.rtpLoss, m.rtpJitter, m.mos, m.dbLatency, m.dbErrors)
	return m
}

// Registry is where the series are registered (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// GaugeFunc registers a gauge read when scraped (calls in progress, jobs
// waiting in the outbox).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// QueueSize is one queue's state when scraped.
type QueueSize struct {
	Name        string
	Waiting     int
	LongestWait time.Duration
}

// Queues registers contactd_queue_waiting and
// contactd_queue_longest_wait_seconds per queue, read from f when scraped.
func (m *Metrics) Queues(f func() []QueueSize) {
	waiting := prometheus.NewDesc("contactd_queue_waiting", "Calls waiting in the queue now.", []string{"queue"}, nil)
	longest := prometheus.NewDesc("contactd_queue_longest_wait_seconds", "How long the queue's oldest call has waited.", []string{"queue"}, nil)
	m.reg.MustRegister(collector{
		descs: []*prometheus.Desc{waiting, longest},
		collect: func(ch chan<- prometheus.Metric) {
			for _, q := range f() {
				ch <- prometheus.MustNewConstMetric(waiting, prometheus.GaugeValue, float64(q.Waiting), q.Name)
				ch <- prometheus.MustNewConstMetric(longest, prometheus.GaugeValue, q.LongestWait.Seconds(), q.Name)
			}
		},
	})
}

type collector struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// Invite counts an INVITE answered with code (a call set up).
func (m *Metrics) Invite(code int) { m.invites.WithLabelValues(strconv.Itoa(code)).Inc() }

// QueueWait observes one wait in a queue (call.Observer).
func (m *Metrics) QueueWait(queue string, wait time.Duration, answered bool) {
	outcome := "abandoned"
	if answered {
		outcome = "answered"
	}
	m.queueWait.WithLabelValues(queue, outcome).Observe(wait.Seconds())
}

// CallEnded counts the call and observes its legs' RTP loss, jitter and
// MOS (call.Observer). Legs with no packets measured are skipped.
func (m *Metrics) CallEnded(c store.Call) {
	m.callsEnded.WithLabelValues(strconv.FormatBool(!c.AnsweredAt.IsZero()), c.IVROutcome).Inc()
	for leg, q := range c.Quality {
		if q.PacketsIn == 0 {
			continue
		}
		m.rtpLoss.WithLabelValues(leg).Observe(q.LossPct / 100)
		m.rtpJitter.WithLabelValues(leg).Observe(q.JitterMS / 1000)
		if q.MOS > 0 {
			m.mos.WithLabelValues(leg).Observe(q.MOS)
		}
	}
}
