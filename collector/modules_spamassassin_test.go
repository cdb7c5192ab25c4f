package collector

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// On this host's real SpamAssassin (Debian's package), with no sa-update
// run: the engine version is what `spamassassin --version` prints, and
// the rules are the shipped ones, as old as their newest file; with a
// channel for this version, its "# UPDATE version" instead.
func TestModulesSpamAssassinInstalled(t *testing.T) {
	bin := testenv.RequireTool(t, "spamassassin", "spamassassin")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`SpamAssassin version (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("spamassassin --version: %s", out)
	}
	text := modScrape(t, newModulesTest(t, "/", saYAML))
	engine := `heartbeat_module_info{database="engine",engine="spamassassin",module="spam",version="` + string(m[1]) + `"} 1`
	if !strings.Contains(text, engine) {
		t.Fatalf("output lacks %s:\n%s", engine, text)
	}
	channels, _ := filepath.Glob("/var/lib/spamassassin/*/updates_spamassassin_org.cf")
	if len(channels) > 0 {
		if !strings.Contains(text, `database="updates_spamassassin_org"`) {
			t.Errorf("sa-update's channel %v is not reported:\n%s", channels, text)
		}
		return
	}
	rules, _ := filepath.Glob("/usr/share/spamassassin/*.cf")
	var newest time.Time
	for _, r := range rules {
		if fi, err := os.Stat(r); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	for _, want := range []string{
		`heartbeat_module_info{database="shipped",engine="spamassassin",module="spam",version="` + string(m[1]) + `"} 1`,
		`heartbeat_module_last_update_timestamp_seconds{module="spam"} ` + strconv.FormatFloat(float64(newest.UnixNano())/1e9, 'g', -1, 64),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %s:\n%s", want, text)
		}
	}
}
