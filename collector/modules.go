package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/clamd"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/cvd"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/dpkg"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/freshclam"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/spamassassin"
)

func init() { registerCollector("modules", true, newModulesCollector) }

func moduleDesc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, subsystem, name), help, labels, nil)
}

var (
	moduleDBVersionDesc = moduleDesc("module", "database_version",
		"Version number in a ClamAV database header.", "module", "database")
	moduleDBBuildDesc = moduleDesc("module", "database_build_timestamp_seconds",
		"ClamAV database build time, in Unix time.", "module", "database")
	moduleSignaturesDesc = moduleDesc("module", "signatures",
		"Signatures in a ClamAV database.", "module", "database")
	moduleFLevelDesc = moduleDesc("module", "functionality_level",
		"Engine functionality level a ClamAV database needs.", "module", "database")
	modulePackageInfoDesc = moduleDesc("module", "package_info",
		"Installed version of a Debian package; always 1.", "module", "package", "version")
	modulePackageUpdateDesc = moduleDesc("module", "package_last_update_timestamp_seconds",
		"Last install or upgrade of the package, in Unix time.", "module", "package")
	moduleUpdateSuccessDesc = moduleDesc("module", "update_last_success_timestamp_seconds",
		"Last successful freshclam update check, in Unix time.", "module")
	moduleUpdateFailureDesc = moduleDesc("module", "update_last_failure_timestamp_seconds",
		"Last failed freshclam update, in Unix time.", "module")

	clamdUpDesc = moduleDesc("clamd", "up",
		"1 if clamd answered VERSION within clamd_timeout.", "module")
	clamdInfoDesc = moduleDesc("clamd", "info",
		"Engine and daily database versions clamd reports; always 1.", "module", "engine_version", "database_version")
	clamdDBTimeDesc = moduleDesc("clamd", "database_timestamp_seconds",
		"Build time of clamd's daily database, in Unix time.", "module")
	clamdQueueDesc = moduleDesc("clamd", "queue_length",
		"Jobs waiting for a clamd thread.", "module")
	clamdThreadsDesc = moduleDesc("clamd", "threads",
		"clamd threads by state (live, idle, max).", "module", "state")
	clamdMemoryDesc = moduleDesc("clamd", "memory_bytes",
		"clamd memory by kind, from STATS, in bytes.", "module", "kind")
)

// modulesCollector reports versions and update times of the configured
// modules. Its caches keep what was read from files that have not changed
// since, so a scrape costs a few stat calls.
type modulesCollector struct {
	logger  log.Logger
	root    string
	modules []moduleSpec
	loc     *time.Location // clamd's and freshclam's times: the host's local time

	mu    sync.Mutex // one scrape at a time works the caches
	cache *moduleFileCache
}

func newModulesCollector(d Deps) (Collector, error) {
	cfg := d.config()
	root := d.rootfs()
	specs := make([]moduleSpec, 0, len(cfg.Modules))
	for i, m := range cfg.Modules {
		spec, err := newModuleSpec(m)
		if err != nil {
			return nil, fmt.Errorf("modules[%d]: %w", i, err)
		}
		specs = append(specs, spec)
	}
	return &modulesCollector{
		logger:  d.Logger,
		root:    root,
		modules: specs,
		loc:     time.Local,
		cache:   newModuleFileCache(),
	}, nil
}

func (c *modulesCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	if len(c.modules) == 0 {
		return ErrNoData
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cache.begin()
	defer c.cache.end()
	out := moduleSink{ch}
	var errs []error
	for _, m := range c.modules {
		var err error
		switch m.Kind {
		case config.ModuleClamAV:
			err = c.clamav(ctx, m, out)
		case config.ModuleSpamAssassin:
			err = c.spamassassin(m, out)
		case config.ModuleFile:
			err = c.file(m, out)
		case config.ModuleDpkg:
			err = c.dpkg(m, out)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("module %s: %w", m.Name, err))
		}
	}
	return errors.Join(errs...)
}

// onRoot turns a host path into the path this process reads it at.
func (c *modulesCollector) onRoot(p string) string { return filepath.Join(c.root, p) }

// moduleSink sends a module's gauges (and timestamps) through sendGauge.
type moduleSink struct{ ch chan<- prometheus.Metric }

func (s moduleSink) gauge(d *prometheus.Desc, v float64, labels ...string) {
	sendGauge(s.ch, d, v, labels...)
}

// timestamp sends t in seconds since the epoch, nothing for a zero time.
func (s moduleSink) timestamp(d *prometheus.Desc, t time.Time, labels ...string) {
	if !t.IsZero() {
		s.gauge(d, float64(t.UnixNano())/1e9, labels...)
	}
}

// clamavDB is one database file's header.
type clamavDB struct {
	name   string // "daily" for daily.cld
	header cvd.Header
	mtime  time.Time
}

func (c *modulesCollector) clamav(ctx context.Context, m moduleSpec, out moduleSink) error {
	dir := c.onRoot(m.DatabaseDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil // ClamAV is not installed here
	}
	dbs, err := c.clamavDatabases(dir)
	var newest time.Time
	for _, db := range dbs {
		h := db.header
		out.gauge(moduleInfoDesc, 1, m.Name, "clamav", db.name, fmt.Sprint(h.Version))
		out.gauge(moduleDBVersionDesc, float64(h.Version), m.Name, db.name)
		out.timestamp(moduleDBBuildDesc, h.BuildTime, m.Name, db.name)
		out.gauge(moduleSignaturesDesc, float64(h.Signatures), m.Name, db.name)
		out.gauge(moduleFLevelDesc, float64(h.FunctionalityLevel), m.Name, db.name)
		newest = laterTime(newest, db.mtime)
	}
	out.timestamp(moduleLastUpdateDesc, newest, m.Name)
	errs := []error{err}
	if m.FreshclamLog != "" {
		errs = append(errs, c.freshclamLog(m, out))
	}
	if m.Clamd != "" {
		errs = append(errs, c.clamd(ctx, m, out))
	}
	return errors.Join(errs...)
}

// clamavDatabases reads the header of every .cvd, .cld and .cud file in
// dir. Where freshclam left both a .cvd and a .cld of one database, the
// higher version is the one clamd loads, and the one reported.
func (c *modulesCollector) clamavDatabases(dir string) ([]clamavDB, error) {
	entries, err := fileid.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	byName := map[string]clamavDB{}
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !cvd.IsDatabase(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		v, mtime, err := c.cache.load(path, path, func() (any, error) { return cvd.ReadFile(path) })
		if err != nil {
			errs = append(errs, withPath(path, err))
			continue
		}
		db := clamavDB{name: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), header: v.(cvd.Header), mtime: mtime}
		if prev, dup := byName[db.name]; !dup || db.header.Version > prev.header.Version {
			byName[db.name] = db
		}
	}
	dbs := make([]clamavDB, 0, len(byName))
	for _, db := range byName {
		dbs = append(dbs, db)
	}
	sort.Slice(dbs, func(i, j int) bool { return dbs[i].name < dbs[j].name })
	return dbs, errors.Join(errs...)
}

// freshclamLog reports the last update success and failure; an absent
// log is quiet.
func (c *modulesCollector) freshclamLog(m moduleSpec, out moduleSink) error {
	path := c.onRoot(m.FreshclamLog)
	v, _, err := c.cache.load(path, path, func() (any, error) { return freshclam.ReadTail(path, freshclam.DefaultTail, c.loc) })
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("freshclam log: %w", err)
	}
	r := v.(freshclam.Result)
	out.timestamp(moduleUpdateSuccessDesc, r.LastSuccess, m.Name)
	out.timestamp(moduleUpdateFailureDesc, r.LastFailure, m.Name)
	return nil
}

// clamd asks the daemon for VERSION and STATS within clamd_timeout. A
// daemon that does not answer is clamd_up 0, not an error: it may be
// restarting, and heartbeat_clamd_up is there to alert on. A reply that
// cannot be read is an error.
func (c *modulesCollector) clamd(ctx context.Context, m moduleSpec, out moduleSink) error {
	addr, err := clamd.ParseAddress(m.Clamd)
	if err != nil {
		return err // refused by the config already
	}
	if addr.Network == "unix" {
		addr.Addr = c.onRoot(addr.Addr)
	}
	timeout := m.ClamdTimeout
	if timeout <= 0 {
		timeout = config.DefaultClamdTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := clamd.Version(ctx, addr, c.loc)
	if err != nil {
		out.gauge(clamdUpDesc, 0, m.Name)
		if errors.Is(err, clamd.ErrReply) {
			return fmt.Errorf("clamd at %s: %w", addr, err)
		}
		_ = level.Debug(c.logger).Log("msg", "clamd does not answer", "module", m.Name, "addr", addr, "err", err)
		return nil
	}
	out.gauge(clamdUpDesc, 1, m.Name)
	dbVersion := ""
	if v.HasDatabase {
		dbVersion = fmt.Sprint(v.DatabaseVersion)
		out.timestamp(clamdDBTimeDesc, v.DatabaseTime, m.Name)
	}
	out.gauge(clamdInfoDesc, 1, m.Name, v.Engine, dbVersion)
	s, err := clamd.Stats(ctx, addr)
	if err != nil && !errors.Is(err, clamd.ErrReply) {
		// Gone or busy past the timeout since VERSION: as if unreachable.
		_ = level.Debug(c.logger).Log("msg", "clamd does not answer STATS", "module", m.Name, "addr", addr, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("clamd at %s: STATS: %w", addr, err)
	}
	out.gauge(clamdQueueDesc, float64(s.Queue), m.Name)
	out.gauge(clamdThreadsDesc, float64(s.Live), m.Name, "live")
	out.gauge(clamdThreadsDesc, float64(s.Idle), m.Name, "idle")
	out.gauge(clamdThreadsDesc, float64(s.Max), m.Name, "max")
	for _, kind := range clamd.MemoryKinds {
		if b, ok := s.Memory[kind]; ok {
			out.gauge(clamdMemoryDesc, b, m.Name, kind)
		}
	}
	return nil
}

// spamassassin reports the installed engine's version, and the version
// and age of the rules it runs: sa-update's channel for this engine
// version when there is one (database="updates_spamassassin_org"), else
// the rules the package shipped (database="shipped", their newest file's
// modification time: an offline gateway, or one before its first
// sa-update, still says how old its rules are). An absent engine file is
// quiet: SpamAssassin is not installed here.
func (c *modulesCollector) spamassassin(m moduleSpec, out moduleSink) error {
	path := c.onRoot(m.EngineFile)
	v, _, err := c.cache.load(path, path, func() (any, error) {
		src, err := readHead(path, spamassassin.MaxModuleBytes)
		if err != nil {
			return nil, err
		}
		v, err := spamassassin.EngineVersion(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return v, nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	engine := v.(spamassassin.Version)
	out.gauge(moduleInfoDesc, 1, m.Name, "spamassassin", "engine", engine.Dotted)
	channel := filepath.Join(m.UpdatesDir, engine.Raw, "updates_spamassassin_org")
	version, err := c.channelVersion(c.onRoot(channel + ".cf"))
	var updated time.Time
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	case err == nil:
		out.gauge(moduleInfoDesc, 1, m.Name, "spamassassin", "updates_spamassassin_org", version)
		updated, err = c.newestMtime(channel)
	default:
		out.gauge(moduleInfoDesc, 1, m.Name, "spamassassin", "shipped", engine.Dotted)
		updated, err = c.newestMtime(filepath.Join(m.RulesDir, "*.cf"))
	}
	out.timestamp(moduleLastUpdateDesc, updated, m.Name)
	return err
}

// channelVersion reads the "# UPDATE version" line of an sa-update
// channel file.
func (c *modulesCollector) channelVersion(path string) (string, error) {
	v, _, err := c.cache.load(path, path, func() (any, error) {
		cf, err := readHead(path, maxVersionFile)
		if err != nil {
			return nil, err
		}
		version, ok := spamassassin.ChannelVersion(cf)
		if !ok || !utf8.ValidString(version) {
			return nil, fmt.Errorf("%s: no \"# UPDATE version\" line in its first %d bytes", path, maxVersionFile)
		}
		return version, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// readHead reads at most limit bytes from the start of the regular file
// at path.
func readHead(path string, limit int64) ([]byte, error) {
	f, _, err := fileid.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// withPath names the file in err unless it already does (fs.PathError).
func withPath(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func laterTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// moduleFileCache keeps what was read from a file while the file stays the same
// (device, inode, size, modification time). Entries not used during a
// scrape are dropped at its end.
type moduleFileCache struct {
	entries map[string]moduleCacheEntry
	used    map[string]moduleCacheEntry
}

type moduleCacheEntry struct {
	id    fileid.ID
	value any
}

func newModuleFileCache() *moduleFileCache {
	return &moduleFileCache{entries: map[string]moduleCacheEntry{}}
}

func (fc *moduleFileCache) begin() { fc.used = map[string]moduleCacheEntry{} }
func (fc *moduleFileCache) end()   { fc.entries, fc.used = fc.used, nil }

// load returns the value cached under key for the file at path, or what
// read returns when the file is new or changed, and the file's
// modification time. Errors are
// not cached: a broken file is read again at the next scrape.
func (fc *moduleFileCache) load(key, path string, read func() (any, error)) (any, time.Time, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	id := fileid.Of(fi)
	if e, ok := fc.entries[key]; ok && e.id == id {
		fc.used[key] = e
		return e.value, fi.ModTime(), nil
	}
	v, err := read()
	if err != nil {
		return nil, time.Time{}, err
	}
	fc.used[key] = moduleCacheEntry{id: id, value: v}
	return v, fi.ModTime(), nil
}

// moduleSpec is a module's config with its time zone loaded; its regular
// expressions were compiled once, by config validation.
type moduleSpec struct {
	config.ModuleConfig
	dateLoc  *time.Location
	packages map[string]bool
}

func newModuleSpec(m config.ModuleConfig) (moduleSpec, error) {
	spec := moduleSpec{ModuleConfig: m, dateLoc: time.Local, packages: map[string]bool{}}
	var err error
	if m.DateTimezone != "" {
		if spec.dateLoc, err = time.LoadLocation(m.DateTimezone); err != nil {
			return spec, err
		}
	}
	for _, p := range m.Packages {
		spec.packages[p] = true
	}
	return spec, nil
}

// maxVersionFile bounds how much of a version file is searched: version
// and date lines sit at the top of the files this is for.
const maxVersionFile = 1 << 20

// versionFacts is what a version file says.
type versionFacts struct {
	version string
	date    time.Time
}

// file reports a version found in a file and the module's update time.
// Nothing matching the globs is quiet; a file whose content does not
// match the regular expressions is an error.
func (c *modulesCollector) file(m moduleSpec, out moduleSink) error {
	var updated time.Time
	var errs []error
	if m.VersionFile != "" {
		facts, err := c.versionFile(m)
		if err != nil {
			errs = append(errs, err)
		}
		if facts.version != "" {
			out.gauge(moduleInfoDesc, 1, m.Name, "file", "", facts.version)
		}
		updated = facts.date
	}
	if m.UpdatedPath != "" {
		t, err := c.newestMtime(m.UpdatedPath)
		if err != nil {
			errs = append(errs, err)
		}
		updated = t
	}
	out.timestamp(moduleLastUpdateDesc, updated, m.Name)
	return errors.Join(errs...)
}

func (c *modulesCollector) versionFile(m moduleSpec) (versionFacts, error) {
	path, err := c.newestFile(m.VersionFile)
	if err != nil || path == "" {
		return versionFacts{}, err
	}
	v, _, err := c.cache.load(m.Name+"\x00"+path, path, func() (any, error) { return readVersionFile(path, m) })
	if err != nil {
		return versionFacts{}, err
	}
	return v.(versionFacts), nil
}

func readVersionFile(path string, m moduleSpec) (versionFacts, error) {
	data, err := readHead(path, maxVersionFile)
	if err != nil {
		return versionFacts{}, err
	}
	var facts versionFacts
	if re := m.VersionRegexp(); re != nil {
		if facts.version, err = firstGroup(re, data, path); err != nil {
			return versionFacts{}, err
		}
	}
	if re := m.DateRegexp(); re != nil {
		s, err := firstGroup(re, data, path)
		if err != nil {
			return versionFacts{}, err
		}
		if facts.date, err = time.ParseInLocation(m.DateLayout, s, m.dateLoc); err != nil {
			return versionFacts{}, fmt.Errorf("%s: date %q does not fit date_layout %q", path, s, m.DateLayout)
		}
	}
	return facts, nil
}

// firstGroup returns the first capture group of re in data, trimmed.
func firstGroup(re *regexp.Regexp, data []byte, path string) (string, error) {
	sub := re.FindSubmatch(data)
	if sub == nil {
		return "", fmt.Errorf("%s: %q matches nothing in its first %d bytes", path, re, maxVersionFile)
	}
	s := strings.TrimSpace(string(sub[1]))
	if s == "" || !utf8.ValidString(s) {
		return "", fmt.Errorf("%s: %q captures %q, not a non-empty UTF-8 string", path, re, strings.ToValidUTF8(s, "?"))
	}
	return s, nil
}

// newestFile returns the regular file matching the host glob that was
// modified last, or "" when none matches.
func (c *modulesCollector) newestFile(pattern string) (string, error) {
	matches, err := filepath.Glob(c.onRoot(pattern))
	if err != nil {
		return "", err
	}
	var best string
	var bestTime time.Time
	for _, p := range matches {
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		if fi.Mode().IsRegular() && (best == "" || !fi.ModTime().Before(bestTime)) {
			best, bestTime = p, fi.ModTime()
		}
	}
	return best, nil
}

// newestMtime returns the latest modification time among the paths
// matching the host glob and, for folders, their entries: a folder's
// update is its newest file. Zero when nothing matches.
func (c *modulesCollector) newestMtime(pattern string) (time.Time, error) {
	matches, err := filepath.Glob(c.onRoot(pattern))
	if err != nil {
		return time.Time{}, err
	}
	var newest time.Time
	for _, p := range matches {
		fi, err := os.Stat(p)
		if err != nil {
			return time.Time{}, err
		}
		newest = laterTime(newest, fi.ModTime())
		if !fi.IsDir() {
			continue
		}
		entries, err := fileid.ReadDir(p)
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				newest = laterTime(newest, info.ModTime())
			}
		}
	}
	return newest, nil
}

// dpkg reports the named packages installed according to dpkg's status
// file. The install or upgrade time is the modification time of the
// package's file list in /var/lib/dpkg/info: dpkg rewrites it whenever it
// unpacks the package, and nothing else touches it (dpkg.log is rotated
// away, and the status file changes for every package).
func (c *modulesCollector) dpkg(m moduleSpec, out moduleSink) error {
	status := c.onRoot("/var/lib/dpkg/status")
	v, _, err := c.cache.load(m.Name+"\x00"+status, status, func() (any, error) {
		f, _, err := fileid.OpenRegular(status)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return dpkg.ParseStatus(f, func(name string) bool { return m.packages[name] })
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // not a Debian system
	}
	if err != nil {
		return fmt.Errorf("%s: %w", status, err)
	}
	pkgs := v.([]dpkg.Package)
	count := map[string]int{}
	for _, p := range pkgs {
		count[p.Name]++
	}
	var newest time.Time
	var errs []error
	for _, p := range pkgs {
		label := p.Name
		if count[p.Name] > 1 { // one per architecture: tell them apart
			label += ":" + p.Architecture
		}
		out.gauge(moduleInfoDesc, 1, m.Name, "dpkg", label, p.Version)
		out.gauge(modulePackageInfoDesc, 1, m.Name, label, p.Version)
		t, err := c.packageInstallTime(p)
		if err != nil {
			errs = append(errs, err)
		}
		out.timestamp(modulePackageUpdateDesc, t, m.Name, label)
		newest = laterTime(newest, t)
	}
	out.timestamp(moduleLastUpdateDesc, newest, m.Name)
	return errors.Join(errs...)
}

func (c *modulesCollector) packageInstallTime(p dpkg.Package) (time.Time, error) {
	for _, name := range dpkg.ListFiles(p) {
		fi, err := os.Stat(c.onRoot(filepath.Join("/var/lib/dpkg/info", name)))
		if err == nil {
			return fi.ModTime(), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return time.Time{}, err
		}
	}
	return time.Time{}, nil
}
