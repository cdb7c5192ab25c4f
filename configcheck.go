package main

import (
	"fmt"
	"path/filepath"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// missingPaths lists the configured logs, textfile folders and quarantines
// that do not exist on this host (under root, --path.rootfs). They are
// valid, and quiet while absent, which is right for the embedded default
// on a host without amavis and wrong for a typo: --config.check says so
// without failing.
func missingPaths(cfg *config.Config, root string) []string {
	var out []string
	check := func(field, path string) {
		matches, err := filepath.Glob(filepath.Join(root, path))
		if err == nil && len(matches) == 0 {
			out = append(out, fmt.Sprintf("%s: %s does not exist on this host", field, path))
		}
	}
	for i, l := range cfg.Logs {
		if l.Path != "" {
			check(fmt.Sprintf("logs[%d].path", i), l.Path)
		}
	}
	for i, d := range cfg.Textfile.Directories {
		check(fmt.Sprintf("textfile.directories[%d]", i), d)
	}
	for i, q := range cfg.Quarantine {
		check(fmt.Sprintf("quarantine[%d].path", i), q.Path)
	}
	return out
}
