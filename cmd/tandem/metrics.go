package main

import (
	"fmt"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry is a process's Prometheus registry, holding the Go runtime
// and process collectors; the web app adds its HTTP series to it.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// listenMetrics opens the private metrics listener, TANDEM_METRICS_ADDR.
// Metrics never share the public web port: they name routes, counts and
// the runtime's state, for the operator's scraper only.
func listenMetrics(c config) (net.Listener, error) {
	ln, err := net.Listen("tcp", c.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w (set TANDEM_METRICS_ADDR to a free HOST:PORT)", c.MetricsAddr, err)
	}
	return ln, nil
}

// metricsHandler serves reg in Prometheus' text format at /metrics, and
// nothing else.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
