package collector

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

const modFixtures = "fixtures/modules"

// modT0 is the modification time every fixture file gets, unless a case
// sets another: git does not keep modification times.
var modT0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// modRoot copies a fixture tree into a temporary root and sets its
// modification times: modT0, or mtimes[path] for the paths named.
func modRoot(t testing.TB, fixture string, mtimes map[string]time.Time) string {
	t.Helper()
	root := t.TempDir()
	if fixture != "" {
		if err := os.CopyFS(root, os.DirFS(filepath.Join(modFixtures, fixture))); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		mt, ok := mtimes[rel]
		if !ok {
			mt = modT0
		}
		return os.Chtimes(p, mt, mt)
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// newModulesTest builds the collector for a YAML modules section on root.
// Local times (clamd's, freshclam's) are read as UTC.
func newModulesTest(t testing.TB, root, yaml string) *modulesCollector {
	t.Helper()
	cfg, err := config.Parse("test.yml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newModulesCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: Paths{Root: root}})
	if err != nil {
		t.Fatal(err)
	}
	mc := c.(*modulesCollector)
	mc.loc = time.UTC
	return mc
}

// modScrape runs one scrape as /metrics does and returns the exposition,
// checked, with durations set to 0.
func modScrape(t testing.TB, c Collector) string {
	t.Helper()
	text, mfs := scrapeExposition(t, "modules", c)
	checkValid(t, text, mfs)
	return tfDurationLine.ReplaceAllString(text, "$1 0")
}

const saYAML = "modules:\n  - name: spam\n    kind: spamassassin\n"

const clamavYAML = `modules:
  - name: virus
    kind: clamav
    database_dir: /var/lib/clamav
    clamd: unix:///run/clamav/clamd.ctl
    freshclam_log: /var/log/clamav/freshclam.log
`

// TestModulesGolden runs the collector on each fixture tree and compares
// the whole output with CASE.out and the error it returned with CASE.err
// (the temporary root written as <root>).
func TestModulesGolden(t *testing.T) {
	cases := []struct {
		name, fixture, yaml string
		mtimes              map[string]time.Time
		setup               func(t *testing.T, root string)
	}{
		// Three databases; daily as both .cvd and .cld (the higher
		// version is reported); clamd not running: clamd_up 0, success 1.
		{name: "clamav", fixture: "clamav", yaml: clamavYAML,
			mtimes: map[string]time.Time{"var/lib/clamav/daily.cld": modT0.Add(time.Hour)}},
		// No database folder: ClamAV is not installed, nothing at all.
		{name: "clamav_absent", yaml: clamavYAML},
		// A truncated header, a wrong magic and a file that cannot be
		// opened: each named in the error, the good database still served.
		{name: "clamav_broken", fixture: "broken", yaml: clamavYAML,
			setup: func(t *testing.T, root string) {
				loop := filepath.Join(root, "var/lib/clamav/safebrowsing.cld")
				if err := os.Symlink(loop, loop); err != nil {
					t.Fatal(err)
				}
			}},
		// The embedded default's SpamAssassin preset: the newest
		// version folder is read.
		{name: "spamassassin", fixture: "spamassassin", yaml: "modules:\n  - name: spam\n    kind: file\n" +
			"    version_file: /var/lib/spamassassin/*/updates_spamassassin_org.cf\n" +
			"    version_regex: '(?m)^# UPDATE version (\\S+)'\n" +
			"    updated_path: /var/lib/spamassassin/*/updates_spamassassin_org\n",
			mtimes: map[string]time.Time{
				"var/lib/spamassassin/3.004006/updates_spamassassin_org.cf":                  modT0.Add(-48 * time.Hour),
				"var/lib/spamassassin/3.004006/updates_spamassassin_org/10_default_prefs.cf": modT0.Add(-48 * time.Hour),
				"var/lib/spamassassin/4.000001/updates_spamassassin_org/72_active.cf":        modT0.Add(2 * time.Hour),
				"var/lib/spamassassin/4.000001/updates_spamassassin_org.cf":                  modT0.Add(2 * time.Hour),
				"var/lib/spamassassin/4.000001/updates_spamassassin_org/10_default_prefs.cf": modT0.Add(time.Hour),
			}},
		// kind spamassassin: the engine's version from SpamAssassin.pm,
		// the rules from sa-update's channel of that very version (the
		// newer 3.004006 folder left by an old engine is not read).
		{name: "sa_channel", fixture: "spamassassin", yaml: saYAML,
			mtimes: map[string]time.Time{
				"var/lib/spamassassin/3.004006/updates_spamassassin_org.cf":                  modT0.Add(48 * time.Hour),
				"var/lib/spamassassin/3.004006/updates_spamassassin_org/10_default_prefs.cf": modT0.Add(48 * time.Hour),
				"var/lib/spamassassin/4.000001/updates_spamassassin_org/72_active.cf":        modT0.Add(2 * time.Hour),
			}},
		// No sa-update channel for this engine (offline, or before the
		// first sa-update): the shipped rules, aged by their newest file.
		{name: "sa_shipped", fixture: "spamassassin", yaml: saYAML,
			mtimes: map[string]time.Time{"usr/share/spamassassin/72_active.cf": modT0.Add(-400 * 24 * time.Hour),
				"usr/share/spamassassin/10_default_prefs.cf": modT0.Add(-401 * 24 * time.Hour)},
			setup: func(t *testing.T, root string) {
				if err := os.RemoveAll(filepath.Join(root, "var/lib/spamassassin/4.000001")); err != nil {
					t.Fatal(err)
				}
			}},
		// A module declaring no version: an error naming the file.
		{name: "sa_broken", fixture: "broken", yaml: saYAML},
		// A vendor's version file with the definitions date in it, in
		// the vendor's time zone.
		{name: "file_date", fixture: "vendor", yaml: "modules:\n  - name: av\n    kind: file\n" +
			"    version_file: /opt/vendor/engine/version.txt\n" +
			"    version_regex: 'Engine version: (\\S+)'\n" +
			"    date_regex: 'Definitions released: (.+)'\n" +
			"    date_layout: '2006-01-02 15:04'\n" +
			"    date_timezone: Europe/Berlin\n"},
		// Globs matching nothing: quiet.
		{name: "file_absent", yaml: "modules:\n  - name: spam\n    kind: file\n" +
			"    version_file: /var/lib/spamassassin/*/updates_spamassassin_org.cf\n" +
			"    version_regex: '(?m)^# UPDATE version (\\S+)'\n" +
			"    updated_path: /var/lib/spamassassin/*/updates_spamassassin_org\n"},
		// The version line is missing: an error naming file and regex.
		{name: "file_no_match", fixture: "broken", yaml: "modules:\n  - name: spam\n    kind: file\n" +
			"    version_file: /var/lib/spamassassin/*/updates_spamassassin_org.cf\n" +
			"    version_regex: '(?m)^# UPDATE version (\\S+)'\n"},
		// Installed packages (a removed one and an absent one left out),
		// libc6 for two architectures told apart.
		{name: "dpkg", fixture: "dpkg", yaml: "modules:\n  - name: product\n    kind: dpkg\n" +
			"    packages: [amavisd-new, clamav, spamassassin, postfix, libc6, exim4]\n",
			mtimes: map[string]time.Time{"var/lib/dpkg/info/postfix.list": modT0.Add(3 * time.Hour)}},
		{name: "dpkg_absent", yaml: "modules:\n  - name: product\n    kind: dpkg\n    packages: [postfix]\n"},
		{name: "dpkg_malformed", fixture: "broken", yaml: "modules:\n  - name: product\n    kind: dpkg\n    packages: [postfix]\n"},
		// The embedded default on an empty root: all quiet.
		{name: "default_empty_root", yaml: string(config.DefaultYAML)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := modRoot(t, tc.fixture, tc.mtimes)
			if tc.setup != nil {
				tc.setup(t, root)
			}
			c := newModulesTest(t, root, tc.yaml)
			errText := ""
			if err := c.Update(context.Background(), make(chan prometheus.Metric, 1000)); err != nil && !errors.Is(err, ErrNoData) {
				errText = strings.ReplaceAll(err.Error(), root, "<root>") + "\n"
			}
			compareGolden(t, filepath.Join(modFixtures, tc.name+".err"), errText, "TestModulesGolden")
			compareGolden(t, filepath.Join(modFixtures, tc.name+".out"), modScrape(t, c), "TestModulesGolden")
		})
	}
}
