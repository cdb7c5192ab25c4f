package main

import (
	_ "embed"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
)

// versionFile is the VERSION file, the version `make build` and promu
// stamp in; a plain `go build` or `go install` gets it from here, so
// --version and heartbeat_exporter_build_info never show an empty one.
//
//go:embed VERSION
var versionFile string

func init() {
	if version.Version == "" {
		version.Version = strings.TrimSpace(versionFile)
	}
	// Without ldflags (and without VCS stamping, -buildvcs=false) the
	// revision is prometheus/common's "unknown"; the branch stays empty.
	if version.Revision == "" {
		version.Revision = "unknown"
	}
	if version.Branch == "" {
		version.Branch = "unknown"
	}
}

// buildInfo is client_golang's version collector (the same name and labels)
// with a HELP of one line: that collector's sentence was the longest
// HELP in the heartbeat (docs/benchmarks.md, "Heartbeat size").
func buildInfo() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: exporterName,
		Name:      "build_info",
		Help:      "Version and build of the exporter; always 1.",
		ConstLabels: prometheus.Labels{
			"version":   version.Version,
			"revision":  version.GetRevision(),
			"branch":    version.Branch,
			"goversion": version.GoVersion,
			"goos":      version.GoOS,
			"goarch":    version.GoArch,
			"tags":      version.GetTags(),
		},
	}, func() float64 { return 1 })
}
