package config

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// InventoryConfig is what the inventory collector looks for: what the
// server runs, exposes and protects (the "server type" of vendor
// heartbeats). Every source is optional: one that is absent reports
// nothing.
type InventoryConfig struct {
	// Apps are well-known applications; one runs when a process of one
	// of its names runs (names ending in '*' are prefixes).
	Apps []InventoryApp `yaml:"apps"`
	// Ports are the well-known service ports whose listening sockets are
	// reported; other ports are not.
	Ports []int `yaml:"ports"`
	// Packages are the security tools reported installed or not (dpkg).
	Packages []string `yaml:"packages"`
	// Firewall reads the nftables rule count over netlink (needs
	// CAP_NET_ADMIN; without it the count is reported unknown).
	Firewall bool `yaml:"firewall"`
	// ClamAV and SpamAssassin files, host paths under --path.rootfs.
	ClamdConf       string `yaml:"clamd_conf"`
	FreshclamConf   string `yaml:"freshclam_conf"`
	FreshclamLog    string `yaml:"freshclam_log"`
	SpamAssassinDir string `yaml:"spamassassin_dir"`
	// PublishedVersions compares the local ClamAV databases with the
	// versions ClamAV publishes in DNS. Off by default: it sends a query.
	PublishedVersions PublishedVersionsConfig `yaml:"published_versions"`
}

// InventoryApp is one application of the server type.
type InventoryApp struct {
	Name      string   `yaml:"name"` // -> app="..."
	Processes []string `yaml:"processes"`
}

// PublishedVersionsConfig is the DNS lookup freshclam itself makes.
type PublishedVersionsConfig struct {
	Enabled bool `yaml:"enabled"`
	// Record is the TXT record, current.cvd.clamav.net.
	Record string `yaml:"record"`
	// Server is a DNS server as host:port; empty uses the system resolver.
	Server string `yaml:"server"`
	// DatabaseDir holds the local main/daily/bytecode databases.
	DatabaseDir string `yaml:"database_dir"`
	// Interval between lookups; the answer is cached meanwhile.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one lookup.
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults of PublishedVersionsConfig.
const (
	DefaultPublishedRecord   = "current.cvd.clamav.net"
	DefaultPublishedInterval = 30 * time.Minute
	DefaultPublishedTimeout  = 2 * time.Second
)

func (c *InventoryConfig) applyDefaults() {
	p := &c.PublishedVersions
	if p.Record == "" {
		p.Record = DefaultPublishedRecord
	}
	if p.DatabaseDir == "" {
		p.DatabaseDir = "/var/lib/clamav"
	}
	if p.Interval == 0 {
		p.Interval = DefaultPublishedInterval
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultPublishedTimeout
	}
}

func (c *InventoryConfig) validate() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		path := fmt.Sprintf("inventory.apps[%d]", i)
		if msg := uniqueName(seen, "app", a.Name); msg != "" {
			add(path+".name", "%s", msg)
		}
		if len(a.Processes) == 0 {
			add(path+".processes", "give at least one process name")
		}
		for j, p := range a.Processes {
			if p == "" || p == "*" || strings.ContainsAny(p, "/\x00") {
				add(fmt.Sprintf("%s.processes[%d]", path, j), "%q is not a process name", p)
			}
		}
	}
	for i, p := range c.Ports {
		if p < 1 || p > 65535 {
			add(fmt.Sprintf("inventory.ports[%d]", i), "%d is not a port", p)
		}
	}
	for i, p := range c.Packages {
		if p == "" || strings.ContainsAny(p, " \t\n/") {
			add(fmt.Sprintf("inventory.packages[%d]", i), "%q is not a package name", p)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"clamd_conf", c.ClamdConf}, {"freshclam_conf", c.FreshclamConf},
		{"freshclam_log", c.FreshclamLog}, {"spamassassin_dir", c.SpamAssassinDir},
		{"published_versions.database_dir", c.PublishedVersions.DatabaseDir},
	} {
		if f.value != "" {
			if msg := checkAbsPath(f.value); msg != "" {
				add("inventory."+f.name, "%s", msg)
			}
		}
	}
	p := c.PublishedVersions
	if p.Server != "" {
		if _, _, err := net.SplitHostPort(p.Server); err != nil {
			add("inventory.published_versions.server", "want host:port: %v", err)
		}
	}
	if p.Interval < time.Minute || p.Interval > 24*time.Hour {
		add("inventory.published_versions.interval", "must be between 1m and 24h, got %s", p.Interval)
	}
	if p.Timeout <= 0 || p.Timeout > 30*time.Second {
		add("inventory.published_versions.timeout", "must be between 0s and 30s, got %s", p.Timeout)
	}
	return errs
}

func (c *InventoryConfig) folders() []string { return nil }
