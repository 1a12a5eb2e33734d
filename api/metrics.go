package api

import (
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is civicarchive's Prometheus registry: its own, not the global
// one, so several servers can run in one test process.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	jobs     *prometheus.CounterVec
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
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "civicarchive_build_info", Help: "Always 1; the version label says which build runs.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.jobs, build)
	return m
}

// JobRun counts one scheduled job run; the scheduler calls it.
func (m *Metrics) JobRun(job, outcome string) { m.jobs.WithLabelValues(job, outcome).Inc() }

// Registerer lets other components add their own metrics.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

func (s *Server) metrics(c *gin.Context) {
	promhttp.HandlerFor(s.Metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(c.Writer, c.Request)
}
