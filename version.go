package main

import (
	_ "embed"
	"strings"

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
