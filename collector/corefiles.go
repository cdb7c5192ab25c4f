package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/corename"
)

func init() { registerCollector("corefiles", true, newCorefilesCollector) }

var (
	coreFilesDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "core", "files"),
		`Core dumps and crash reports in the folder, by the program the file name names ("unknown" when it does not, "other" beyond corefiles.max_executables).`,
		[]string{"dir", "executable"}, nil)
	coreBytesDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "core", "file_bytes"),
		"Size of the core dumps and crash reports in the folder, in bytes; 0 for a watched folder that holds none.",
		[]string{"dir"}, nil)
	coreNewestDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "core", "file_newest_timestamp_seconds"),
		"Modification time of the newest core dump or crash report in the folder, in seconds since the epoch; absent when there is none.",
		[]string{"dir"}, nil)
)

// corefilesCollector lists core folders at each scrape: they hold a
// handful of files, unlike a quarantine.
type corefilesCollector struct {
	logger      log.Logger
	root        string
	corePattern string // file the core_pattern is read from; "" when off
	dirs        []string
	maxExes     int
}

func newCorefilesCollector(d Deps) (Collector, error) {
	cfg := d.config()
	c := &corefilesCollector{logger: d.Logger, root: d.rootfs(), dirs: cfg.Corefiles.Dirs, maxExes: cfg.Corefiles.MaxExecutables}
	if c.maxExes <= 0 {
		c.maxExes = config.DefaultCorefilesMaxExecutables
	}
	if cfg.Corefiles.UseCorePattern() {
		proc := d.Paths.Proc
		if proc == "" {
			proc = "/proc"
		}
		c.corePattern = filepath.Join(proc, "sys", "kernel", "core_pattern")
	}
	return c, nil
}

// coreDir is one folder to list and how its files are named.
type coreDir struct {
	dir     string // host path
	pattern *regexp.Regexp
}

// watched lists the configured folders and the core_pattern's, each once.
func (c *corefilesCollector) watched() []coreDir {
	var out []coreDir
	seen := map[string]int{}
	for _, d := range c.dirs {
		d = filepath.Clean(d)
		if _, dup := seen[d]; !dup {
			seen[d] = len(out)
			out = append(out, coreDir{dir: d})
		}
	}
	if c.corePattern == "" {
		return out
	}
	raw, err := os.ReadFile(c.corePattern)
	if err != nil {
		_ = level.Debug(c.logger).Log("msg", "core_pattern not readable", "err", err)
		return out
	}
	dir, re, ok := corename.Pattern(string(raw))
	if !ok {
		return out
	}
	if i, dup := seen[dir]; dup {
		out[i].pattern = re
		return out
	}
	return append(out, coreDir{dir: dir, pattern: re})
}

func (c *corefilesCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	var errs []error
	for _, d := range c.watched() {
		if err := c.report(ch, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// report lists one folder; an absent one is skipped quietly.
func (c *corefilesCollector) report(ch chan<- prometheus.Metric, d coreDir) error {
	entries, err := os.ReadDir(filepath.Join(c.root, d.dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("core folder %s: %w", d.dir, err)
	}
	perExe := map[string]float64{}
	var bytes, newest float64
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !corename.Counted(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		perExe[corename.Executable(e.Name(), d.pattern)]++
		bytes += float64(info.Size())
		newest = max(newest, float64(info.ModTime().UnixNano())/1e9)
	}
	for exe, n := range capCounts(perExe, c.maxExes) {
		ch <- constMetric(coreFilesDesc, prometheus.GaugeValue, n, d.dir, exe)
	}
	ch <- constMetric(coreBytesDesc, prometheus.GaugeValue, bytes, d.dir)
	if len(perExe) > 0 {
		ch <- constMetric(coreNewestDesc, prometheus.GaugeValue, newest, d.dir)
	}
	return errors.Join(errs...)
}

// capCounts keeps the limit most frequent keys (then by name) and sums
// the rest as "other".
func capCounts(counts map[string]float64, limit int) map[string]float64 {
	if len(counts) <= limit {
		return counts
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := map[string]float64{}
	for i, k := range keys {
		if i < limit-1 && k != "other" {
			out[k] = counts[k]
		} else {
			out["other"] += counts[k]
		}
	}
	return out
}
