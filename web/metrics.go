package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the HTTP server's Prometheus series. Routes are labelled by
// their pattern ("/staff/tenants/:id"), never the raw path, and methods
// outside HTTP's standard set as OTHER, so the number of series stays
// bounded whatever clients send. They are served by the caller on a
// private listener (tandem's TANDEM_METRICS_ADDR), never on the web port.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tandem_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			// The caller's registry may already hold the runtime
			// collectors; that is fine, the series are the same.
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) && c != m.requests && c != m.duration {
				continue
			}
			return nil, fmt.Errorf("web: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(route, method string, status int, elapsed time.Duration) {
	if status == http.StatusNotFound {
		// Labelled like an unknown path: a 404 from a route that exists
		// only for some (the staff console) must not tell that it does.
		route = "unmatched"
	}
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// methodLabel is method if it is one of HTTP's standard methods, and OTHER
// for anything a client made up.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "OTHER"
}
