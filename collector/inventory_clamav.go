package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/cvd"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/hostinfo"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/inventory"
)

// clamdSettings are the clamd.conf protection settings the heartbeat
// reports, with clamd's own defaults (clamd.conf(5), ClamAV 1.x).
var clamdSettings = []struct{ option, label, def string }{
	{"ScanArchive", "scan_archive", "yes"},
	{"ScanMail", "scan_mail", "yes"},
	{"ScanPE", "scan_pe", "yes"},
	{"ScanOLE2", "scan_ole2", "yes"},
	{"ScanPDF", "scan_pdf", "yes"},
	{"ScanHTML", "scan_html", "yes"},
	{"HeuristicAlerts", "heuristic_alerts", "yes"},
	{"MaxFileSize", "max_file_size", "100M"},
	{"MaxScanSize", "max_scan_size", "400M"},
	{"OnAccessPrevention", "onaccess_prevention", "no"},
}

func clamdSettingLabels() []string {
	out := make([]string, len(clamdSettings))
	for i, s := range clamdSettings {
		out[i] = s.label
	}
	return out
}

// maxUpdateSources bounds the mirror and channel series a host can make.
const maxUpdateSources = 16

var (
	invOnAccessDesc    = inventoryDesc("onaccess_configured", "1 if clamd.conf configures on-access scanning.")
	invOnAccessRunDesc = inventoryDesc("onaccess_running", "1 if clamonacc, ClamAV's on-access scanner, runs.")
	invClamdConfDesc   = inventoryDesc("clamd_config_info", "clamd.conf protection settings (defaults filled in); always 1.", clamdSettingLabels()...)
	invMirrorDesc      = inventoryDesc("update_mirror_info", "freshclam.conf mirrors; always 1.", "kind", "mirror")
	invProxyDesc       = inventoryDesc("update_proxy_configured", "1 if freshclam.conf sets HTTPProxyServer.")
	invLastMirrorDesc  = inventoryDesc("update_last_mirror_info", "Mirror freshclam last used, from its log; always 1.", "mirror")
	invChannelDesc     = inventoryDesc("spamassassin_channel_info", "sa-update channels with rules on disk; always 1.", "channel")
	versionsBehindDesc = prometheus.NewDesc(Namespace+"_module_database_versions_behind",
		"Published ClamAV database version minus the local one.", []string{"database"}, nil)
)

func (c *inventoryCollector) clamd(_ context.Context, ch chan<- prometheus.Metric) error {
	if c.cfg.ClamdConf == "" {
		return nil
	}
	b, err := invRead(c.onRoot(c.cfg.ClamdConf), 1<<20)
	if err != nil || b == nil {
		return err
	}
	conf := inventory.ParseClamConf(b)
	configured := len(conf["OnAccessIncludePath"]) > 0 || len(conf["OnAccessMountPath"]) > 0
	sendGauge(ch, invOnAccessDesc, invBool(configured))
	if names, err := c.processNames(); err == nil {
		sendGauge(ch, invOnAccessRunDesc, invBool(anyRunning(names, "clamonacc")))
	}
	values := make([]string, len(clamdSettings))
	for i, s := range clamdSettings {
		values[i] = s.def
		if v := conf.Last(s.option); v != "" {
			values[i] = v
			if s.def == "yes" || s.def == "no" { // clamd accepts yes/no/true/false/1/0
				values[i] = map[bool]string{true: "yes", false: "no"}[conf.Bool(s.option, s.def == "yes")]
			}
		}
	}
	sendGauge(ch, invClamdConfDesc, 1, values...)
	return nil
}

func (c *inventoryCollector) updateSources(_ context.Context, ch chan<- prometheus.Metric) error {
	var errs []error
	if c.cfg.FreshclamConf != "" {
		b, err := invRead(c.onRoot(c.cfg.FreshclamConf), 1<<20)
		if err != nil {
			errs = append(errs, err)
		}
		if b != nil {
			conf := inventory.ParseClamConf(b)
			n := 0
			for _, k := range []struct{ option, kind string }{{"DatabaseMirror", "database"}, {"PrivateMirror", "private"}} {
				for _, m := range dedupe(conf[k.option]) {
					if n++; n <= maxUpdateSources {
						sendGauge(ch, invMirrorDesc, 1, k.kind, hostinfo.CleanLabel(m))
					}
				}
			}
			sendGauge(ch, invProxyDesc, invBool(conf.Last("HTTPProxyServer") != ""))
		}
	}
	if c.cfg.FreshclamLog != "" {
		tail, err := readTail(c.onRoot(c.cfg.FreshclamLog), 64<<10)
		if err != nil {
			errs = append(errs, err)
		}
		if m := inventory.LastMirror(tail); m != "" {
			sendGauge(ch, invLastMirrorDesc, 1, m)
		}
	}
	if c.cfg.SpamAssassinDir != "" {
		for _, channel := range c.saChannels() {
			sendGauge(ch, invChannelDesc, 1, channel)
		}
	}
	return errors.Join(errs...)
}

func dedupe(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// readTail reads at most n bytes from the end of a log; absent is empty.
func readTail(path string, n int64) ([]byte, error) {
	f, fi, err := fileid.OpenRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	off := max(fi.Size()-n, 0)
	return io.ReadAll(io.NewSectionReader(f, off, n))
}

// saChannels lists the channels sa-update left rules for: it writes each
// channel into <dir>/<version>/<channel with dots as underscores>/.
func (c *inventoryCollector) saChannels() []string {
	dir := c.onRoot(c.cfg.SpamAssassinDir)
	versions, _ := os.ReadDir(dir)
	seen := map[string]bool{}
	for _, v := range versions {
		if !v.IsDir() || strings.Trim(v.Name(), "0123456789.") != "" {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(dir, v.Name()))
		for _, e := range entries {
			if e.IsDir() && len(seen) < maxUpdateSources {
				seen[hostinfo.CleanLabel(strings.ReplaceAll(e.Name(), "_", "."))] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for ch := range seen {
		out = append(out, ch)
	}
	sort.Strings(out)
	return out
}

// publishedCache keeps the last DNS answer for the configured interval
// (a minute after a failure), so that scrapes send no queries.
type publishedCache struct {
	cfg config.PublishedVersionsConfig

	mu  sync.Mutex
	at  time.Time
	pub inventory.Published
	err error
}

func (p *publishedCache) get(ctx context.Context) (inventory.Published, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	wait := p.cfg.Interval
	if p.err != nil {
		wait = time.Minute
	}
	if !p.at.IsZero() && time.Since(p.at) < wait {
		return p.pub, p.err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	p.pub, p.err = lookupPublished(ctx, p.cfg)
	p.at = time.Now()
	return p.pub, p.err
}

func lookupPublished(ctx context.Context, cfg config.PublishedVersionsConfig) (inventory.Published, error) {
	r := net.DefaultResolver
	if cfg.Server != "" {
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, cfg.Server)
		}}
	}
	txts, err := r.LookupTXT(ctx, cfg.Record)
	if err != nil {
		return inventory.Published{}, fmt.Errorf("DNS TXT %s: %w", cfg.Record, err)
	}
	if len(txts) == 0 {
		return inventory.Published{}, fmt.Errorf("DNS TXT %s: no record", cfg.Record)
	}
	return inventory.ParseCVDTXT(strings.Join(txts[:1], ""))
}

func (c *inventoryCollector) publishedVersions(ctx context.Context, ch chan<- prometheus.Metric) error {
	if !c.cfg.PublishedVersions.Enabled {
		return nil
	}
	pub, err := c.pub.get(ctx)
	if err != nil {
		return err
	}
	dir := c.onRoot(c.cfg.PublishedVersions.DatabaseDir)
	for _, db := range []string{"bytecode", "daily", "main"} {
		published, ok := pub.Versions[db]
		if !ok {
			continue
		}
		local, found, err := localDatabaseVersion(dir, db)
		if err != nil {
			return err
		}
		if found {
			sendGauge(ch, versionsBehindDesc, float64(max(published-local, 0)), db)
		}
	}
	return nil
}

// localDatabaseVersion reads db.cld, else db.cvd (freshclam keeps one).
func localDatabaseVersion(dir, db string) (int, bool, error) {
	for _, ext := range []string{".cld", ".cvd"} {
		h, err := cvd.ReadFile(filepath.Join(dir, db+ext))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, false, err
		}
		return int(h.Version), true, nil
	}
	return 0, false, nil
}
