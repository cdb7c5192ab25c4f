package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/mounts"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/statfs"
)

func init() { registerKeeping("filesystem", true, newFilesystemCollector) }

var (
	fsLabels = []string{"mountpoint", "device", "fstype"}

	fsAvailDesc     = fsDesc("avail_bytes", "Space available to non-root users, in bytes.", fsLabels...)
	fsSizeDesc      = fsDesc("size_bytes", "Size of the file system in bytes.", fsLabels...)
	fsFreeDesc      = fsDesc("free_bytes", "Free space in bytes, root's reserve included.", fsLabels...)
	fsFilesDesc     = fsDesc("files", "Inodes of the file system.", fsLabels...)
	fsFilesFreeDesc = fsDesc("files_free", "Free inodes of the file system.", fsLabels...)
	fsReadonlyDesc  = fsDesc("readonly", "1 if the file system is mounted read-only.", fsLabels...)
	fsStuckDesc     = fsDesc("stuck", "1 if statfs timed out (other metrics are then left out).", fsLabels...)
	fsPathInfoDesc  = fsDesc("path_info", "Mount point holding each configured path; always 1.", "path", "mountpoint")
)

func fsDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "filesystem", name), help, labels, nil)
}

// filesystemCollector reports space and inodes of the mounts holding the
// configured paths, each mount once.
type filesystemCollector struct {
	logger  log.Logger
	paths   []string // host paths, clean and absolute
	timeout time.Duration
	proc    string
	root    string
	checker *statfs.Checker // the predecessor's: it knows the mounts still hung
	// mountTable re-reads the table each scrape, parsing it only when changed
	mountTable mounts.Reader
}

func newFilesystemCollector(d Deps, prev *filesystemCollector) (Collector, error) {
	cfg := d.config()
	timeout := cfg.Filesystem.StatTimeout
	if timeout <= 0 {
		timeout = config.DefaultStatTimeout
	}
	return &filesystemCollector{
		logger:  d.Logger,
		paths:   cfg.FilesystemPaths(),
		timeout: timeout,
		proc:    d.Paths.Proc,
		root:    d.rootfs(),
		checker: keepChecker(prev),
	}, nil
}

// keepChecker hands the predecessor's Checker on (a mount hung before the
// reload is not probed again), or makes the first one.
func keepChecker(prev *filesystemCollector) *statfs.Checker {
	if prev != nil {
		return prev.checker
	}
	return statfs.New()
}

// fsMount is one mount and the configured paths it holds.
type fsMount struct {
	m      mounts.Mount
	paths  []string // host paths
	result statfs.Result
}

func (c *filesystemCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	// PID 1's table is the host's when --path.procfs is the host's /proc
	// seen from a container; ours is the fallback.
	table, from, err := c.mountTable.ReadFirst(
		filepath.Join(c.proc, "1", "mountinfo"), filepath.Join(c.proc, "self", "mountinfo"))
	if len(table) == 0 {
		if err == nil {
			err = fmt.Errorf("%s lists no mounts", from)
		}
		return err
	}
	var errs []error
	if err != nil {
		errs = append(errs, err) // some lines malformed: report the rest
	}

	// Group the paths by mount, so each mount is measured and reported once.
	var order []*fsMount
	byMountpoint := map[string]*fsMount{}
	for _, p := range c.paths {
		m, ok := mounts.Lookup(table, p)
		if !ok {
			errs = append(errs, fmt.Errorf("no mount in %s holds %s", from, p))
			continue
		}
		g := byMountpoint[m.Mountpoint]
		if g == nil {
			g = &fsMount{m: m}
			byMountpoint[m.Mountpoint] = g
			order = append(order, g)
		}
		g.paths = append(g.paths, p)
	}

	// Probe the mounts concurrently: several hung ones cost one timeout.
	var wg sync.WaitGroup
	for _, g := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hostPaths := make([]string, len(g.paths))
			for i, p := range g.paths {
				hostPaths[i] = c.onRoot(p)
			}
			g.result = c.checker.Check(ctx, c.onRoot(g.m.Mountpoint), hostPaths, c.timeout)
		}()
	}
	wg.Wait()

	for _, g := range order {
		if err := c.report(ch, g); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// onRoot turns a host path into the path this process reads it at.
func (c *filesystemCollector) onRoot(p string) string {
	return filepath.Join(c.root, p)
}

// report sends one mount's metrics and returns its error, if broken.
func (c *filesystemCollector) report(ch chan<- prometheus.Metric, g *fsMount) error {
	labels := []string{g.m.Mountpoint, g.m.Source, g.m.FSType}
	r := g.result
	logger := log.With(c.logger, "mountpoint", g.m.Mountpoint, "device", g.m.Source)
	switch {
	case r.BecameStuck:
		_ = level.Warn(logger).Log("msg", "file system does not answer statfs, reporting it stuck", "timeout", c.timeout)
	case r.Recovered:
		_ = level.Info(logger).Log("msg", "file system answers statfs again")
	}
	if r.Stuck {
		sendGauge(ch, fsStuckDesc, 1, labels...)
		if r.Err != nil {
			return fmt.Errorf("%s: scrape ended before the file system answered: %w", g.m.Mountpoint, r.Err)
		}
		return nil
	}

	var errs []error
	var present []string
	for _, p := range g.paths {
		err, looked := r.Lstat[c.onRoot(p)]
		switch {
		case !looked: // joined a probe started for another configuration
			_ = level.Debug(logger).Log("msg", "path not probed yet, reported at the next scrape", "path", p)
		case err == nil:
			present = append(present, p)
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			_ = level.Debug(logger).Log("msg", "configured path does not exist, skipped", "path", p)
		default:
			errs = append(errs, err)
		}
	}
	switch {
	case !r.Measured:
		return errors.Join(errs...)
	case errors.Is(r.Err, fs.ErrNotExist):
		// Unmounted between reading the table and statfs.
		_ = level.Debug(logger).Log("msg", "mount point vanished, skipped", "err", r.Err)
		return errors.Join(errs...)
	case r.Err != nil:
		return errors.Join(append(errs, r.Err)...)
	}

	s := r.Stats
	readonly := 0.0
	if s.ReadOnly || g.m.ReadOnly() {
		readonly = 1
	}
	for _, v := range []struct {
		desc  *prometheus.Desc
		value float64
	}{
		{fsAvailDesc, float64(s.AvailBytes)},
		{fsSizeDesc, float64(s.SizeBytes)},
		{fsFreeDesc, float64(s.FreeBytes)},
		{fsFilesDesc, float64(s.Files)},
		{fsFilesFreeDesc, float64(s.FilesFree)},
		{fsReadonlyDesc, readonly},
		{fsStuckDesc, 0},
	} {
		sendGauge(ch, v.desc, v.value, labels...)
	}
	for _, p := range present {
		sendGauge(ch, fsPathInfoDesc, 1, p, g.m.Mountpoint)
	}
	return errors.Join(errs...)
}

// Close releases the mount table's descriptor (the statfs checker is
// handed to the successor, not closed).
func (c *filesystemCollector) Close() { c.mountTable.Close() }
