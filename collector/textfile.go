package collector

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/textfile"
)

func init() {
	registerKeeping("textfile", true, newTextfileCollector)
	registerFlags(func(app *kingpin.Application, p *Paths) {
		app.Flag("collector.textfile.directory",
			"Folder of *.prom files to serve, besides the config's textfile.directories; a glob pattern is allowed (repeatable). Read under --path.rootfs.").
			StringsVar(&p.Textfile)
	})
}

var (
	textfileMtimeDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "textfile", "mtime_seconds"),
		"Modification time of each *.prom file, in Unix time.",
		[]string{"file"}, nil)
	textfileErrorDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "textfile", "scrape_error"),
		"1 if a *.prom file or folder was unreadable or refused.",
		nil, nil)
)

// textfileCollector serves node_exporter-style *.prom files. The parsed and
// merged families live in a textfile.Cache and are handed to the Scrape
// as they are (FamilyCollector): an unchanged folder costs a few stat
// calls per scrape, not a parse.
type textfileCollector struct {
	logger   log.Logger
	root     string
	patterns []string // host paths or globs, absolute, deduplicated
	cache    *textfile.Cache
	// setup and reserved are what the cache's content depends on: a
	// reload that leaves them alone keeps the parsed files.
	setup    textfileSetup
	reserved map[string]bool

	mu       sync.Mutex
	lastSnap *textfile.Snapshot
	logged   map[string]errorLog // file or folder -> error last logged (failing ones only)
}

// textfileSetup is the configuration a textfile.Cache was built for.
type textfileSetup struct {
	root, patterns string
	maxSize        int64
	followOutside  bool
	maxSeries      int
}

// newTextfileCollector builds the collector; from a predecessor with the
// same folders and limits it takes the parsed files over (a reload then
// costs a stat per file, not a parse: 300,000 series took 7.5 times a
// scrape's CPU to parse again).
func newTextfileCollector(d Deps, prev *textfileCollector) (Collector, error) {
	cfg := d.config()
	maxSize := int64(cfg.Textfile.MaxFileSize)
	if maxSize <= 0 {
		maxSize = int64(config.DefaultTextfileMaxSize)
	}
	var patterns []string
	seen := map[string]bool{}
	for _, p := range append(append([]string(nil), cfg.Textfile.Directories...), d.Paths.Textfile...) {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) { // a relative flag value: relative to the working folder
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, fmt.Errorf("--collector.textfile.directory %q: %w", p, err)
			}
			p = abs
		}
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			patterns = append(patterns, p)
		}
	}
	reserved := d.Reserved
	root := d.rootfs()
	setup := textfileSetup{root: root, patterns: strings.Join(patterns, "\x00"), maxSize: maxSize,
		followOutside: cfg.Textfile.FollowSymlinksOutside, maxSeries: cfg.Textfile.MaxSeries}
	if prev != nil && prev.setup == setup && maps.Equal(prev.reserved, reserved) {
		return &textfileCollector{logger: d.Logger, root: root, patterns: patterns, cache: prev.cache,
			setup: setup, reserved: reserved, logged: map[string]errorLog{}}, nil
	}
	return &textfileCollector{
		logger:   d.Logger,
		root:     root,
		patterns: patterns,
		setup:    setup,
		reserved: reserved,
		cache: textfile.NewCache(textfile.Options{
			MaxFileSize:           maxSize,
			FollowSymlinksOutside: cfg.Textfile.FollowSymlinksOutside,
			MaxSeries:             cfg.Textfile.MaxSeries,
			Reserved: func(name string) bool {
				return strings.HasPrefix(name, Namespace+"_") || reserved[name]
			},
		}),
		logged: map[string]errorLog{},
	}, nil
}

// Update serves the collector's own metrics only; the files' families
// reach /metrics through Scrape.Gatherer, which calls UpdateFamilies.
func (c *textfileCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	_, err := c.UpdateFamilies(ctx, ch)
	return err
}

// UpdateFamilies rescans the folders, sends the mtime and error metrics and
// returns the merged families of the files. A bad file or folder makes it
// return an error naming them (the details are logged once per change,
// per file), but the good files are served all the same.
func (c *textfileCollector) UpdateFamilies(_ context.Context, ch chan<- prometheus.Metric) ([]*dto.MetricFamily, error) {
	if len(c.patterns) == 0 {
		return nil, ErrNoData
	}
	snap := c.cache.Scan(textfile.Expand(c.root, c.patterns))
	c.logChanges(snap)

	for _, f := range snap.Files {
		if f.Served {
			sendGauge(ch, textfileMtimeDesc, float64(f.MTime.Unix()), f.Path)
		}
	}
	failed := 0.0
	var bad []string
	if snap.Failed() {
		failed = 1
		for _, err := range snap.Errors {
			bad = append(bad, err.Error())
		}
		for _, f := range snap.Files {
			if f.Err != nil {
				bad = append(bad, f.Path)
			}
		}
	}
	sendGauge(ch, textfileErrorDesc, failed)
	if len(bad) > 0 {
		return snap.Families, fmt.Errorf("textfiles refused in whole or in part: %s", strings.Join(bad, "; "))
	}
	return snap.Families, nil
}

// logChanges logs each file's and folder's problem when it appears or
// changes, and its recovery, not at every scrape.
func (c *textfileCollector) logChanges(snap *textfile.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if snap == c.lastSnap {
		return
	}
	c.lastSnap = snap
	current := map[string]errorLog{}
	for _, err := range snap.Errors {
		msg := err.Error()
		e := c.logged[msg] // a folder's error is its own key
		if report, _ := e.ObserveText(msg); report {
			_ = level.Error(c.logger).Log("msg", "textfile folder unreadable", "err", msg)
		}
		current[msg] = e
	}
	for _, f := range snap.Files {
		e := c.logged[f.Path]
		report, recovered := e.Observe(f.Err)
		switch {
		case recovered:
			_ = level.Info(c.logger).Log("msg", "textfile served again", "file", f.Path)
		case !report:
		case f.Served:
			_ = level.Error(c.logger).Log("msg", "textfile partly refused, its other families are served", "file", f.Path, "err", e.Text())
		default:
			_ = level.Error(c.logger).Log("msg", "textfile refused", "file", f.Path, "err", e.Text())
		}
		if f.Err != nil {
			current[f.Path] = e
		}
	}
	c.logged = current
}
