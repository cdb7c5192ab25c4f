package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/labelvalue"
)

// constMetric is prometheus.MustNewConstMetric with every label value made
// valid UTF-8 and at most labelvalue.MaxBytes long. Every collector builds
// its metrics through it: label values come from files, logs and status
// documents, and one value that is not valid UTF-8 would make the Must
// constructor panic and cost the collector's whole output.
func constMetric(desc *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(desc, t, v, labelvalue.CleanAll(labels)...)
}

// sendGauge and sendCounter send a metric built by constMetric: the one
// way collectors send their gauges and counters.
func sendGauge(ch chan<- prometheus.Metric, desc *prometheus.Desc, v float64, labels ...string) {
	ch <- constMetric(desc, prometheus.GaugeValue, v, labels...)
}

func sendCounter(ch chan<- prometheus.Metric, desc *prometheus.Desc, v float64, labels ...string) {
	ch <- constMetric(desc, prometheus.CounterValue, v, labels...)
}
