package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

// Metrics is civicarchive's Prometheus registry: its own, not the global
// one, so several servers can run in one test process.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	jobs     *prometheus.CounterVec
	captures *prometheus.CounterVec
}

// NewMetrics registers the Go and process collectors and civicarchive's own.
func NewMetrics(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civicarchive_http_requests_total", Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "civicarchive_http_request_duration_seconds", Help: "HTTP request latency by method and route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civicarchive_scheduled_job_runs_total", Help: "Scheduled job runs by job and outcome.",
		}, []string{"job", "outcome"}),
	}
	m.captures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "civicarchive_capture_runs_total", Help: "Finished capture runs by platform and status (succeeded, partial, failed).",
	}, []string{"platform", "status"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "civicarchive_build_info", Help: "Always 1; the version label says which build runs.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.jobs, m.captures, build)
	return m
}

// JobRun counts one scheduled job run; the scheduler calls it.
func (m *Metrics) JobRun(job, outcome string) { m.jobs.WithLabelValues(job, outcome).Inc() }

// CaptureRun counts one finished capture run; the archiver calls it.
func (m *Metrics) CaptureRun(platform, status string) {
	m.captures.WithLabelValues(platform, status).Inc()
}

// accountHealth reports each account's capture health at scrape time.
type accountHealth struct {
	cat     *storage.Catalog
	healthy *prometheus.Desc
	fails   *prometheus.Desc
}

func newAccountHealth(cat *storage.Catalog) *accountHealth {
	labels := []string{"account_id", "platform", "handle"}
	return &accountHealth{cat: cat,
		healthy: prometheus.NewDesc("civicarchive_account_healthy", "1 when the account's captures work, 0 when it needs attention (auth error or repeated failures).", labels, nil),
		fails:   prometheus.NewDesc("civicarchive_account_consecutive_failures", "Capture runs in a row that failed.", labels, nil),
	}
}

func (h *accountHealth) Describe(ch chan<- *prometheus.Desc) { ch <- h.healthy; ch <- h.fails }

func (h *accountHealth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	as, err := h.cat.ListAccounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(h.healthy, err)
		return
	}
	for _, a := range as {
		v := 1.0
		if a.Health == storage.HealthUnhealthy {
			v = 0
		}
		id := strconv.FormatUint(a.ID, 10)
		ch <- prometheus.MustNewConstMetric(h.healthy, prometheus.GaugeValue, v, id, a.Platform, a.Handle)
		ch <- prometheus.MustNewConstMetric(h.fails, prometheus.GaugeValue, float64(a.ConsecutiveFailures), id, a.Platform, a.Handle)
	}
}

// indexLag reports how far the search index trails the catalog, at
// scrape time: both change sequences, so an alert can fire on the gap.
type indexLag struct {
	cat     *storage.Catalog
	idx     interface{ Watermark() (uint64, error) }
	catalog *prometheus.Desc
	indexed *prometheus.Desc
}

func newIndexLag(cat *storage.Catalog, idx interface{ Watermark() (uint64, error) }) *indexLag {
	return &indexLag{cat: cat, idx: idx,
		catalog: prometheus.NewDesc("civicarchive_catalog_change_seq", "The catalog's newest change sequence number.", nil, nil),
		indexed: prometheus.NewDesc("civicarchive_search_indexed_seq", "The newest change sequence number the search index holds.", nil, nil),
	}
}

func (l *indexLag) Describe(ch chan<- *prometheus.Desc) { ch <- l.catalog; ch <- l.indexed }

func (l *indexLag) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, err := l.cat.MaxChangeSeq(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(l.catalog, prometheus.GaugeValue, float64(n))
	}
	if n, err := l.idx.Watermark(); err == nil {
		ch <- prometheus.MustNewConstMetric(l.indexed, prometheus.GaugeValue, float64(n))
	}
}

// Registerer lets other components add their own metrics.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

func (s *Server) metrics(c *gin.Context) {
	promhttp.HandlerFor(s.Metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(c.Writer, c.Request)
}

// requestGauges reports the records requests by status and how many are
// past their due date, at scrape time, so an alert can fire on overdue.
type requestGauges struct {
	office  *records.Office
	cat     *storage.Catalog
	status  *prometheus.Desc
	overdue *prometheus.Desc
}

func newRequestGauges(cat *storage.Catalog, office *records.Office) *requestGauges {
	return &requestGauges{office: office, cat: cat,
		status:  prometheus.NewDesc("civicarchive_records_requests", "Records requests by status.", []string{"status"}, nil),
		overdue: prometheus.NewDesc("civicarchive_records_requests_overdue", "Requests still waiting for a response after their due date (a deemed denial, 63G-2-401(1)).", nil, nil),
	}
}

func (g *requestGauges) Describe(ch chan<- *prometheus.Desc) { ch <- g.status; ch <- g.overdue }

func (g *requestGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, overdue, err := g.cat.RequestCounts(ctx, records.Pending, g.office.Today().Format("2006-01-02"))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(g.status, err)
		return
	}
	for _, st := range records.Statuses {
		ch <- prometheus.MustNewConstMetric(g.status, prometheus.GaugeValue, float64(counts[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(g.overdue, prometheus.GaugeValue, float64(overdue))
}
