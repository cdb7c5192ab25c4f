// Package config holds the YAML configuration of heartbeat_exporter: what
// each collector reads. It knows nothing about Prometheus types, so it can be
// loaded, validated and reloaded on its own.
package config

import (
	_ "embed"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/alecthomas/units"
)

// DefaultYAML is the configuration used when no --config.file is given. It
// targets a stock Debian mail gateway; every source it names is optional, so
// on a host without the mail products it reports nothing rather than errors.
//
//go:embed default.yml
var DefaultYAML []byte

// DefaultName is how the embedded default is named in messages.
const DefaultName = "<embedded default>"

// Config is the whole configuration file. Every section is optional.
type Config struct {
	Node       NodeConfig         `yaml:"node"`
	Filesystem FilesystemConfig   `yaml:"filesystem"`
	Textfile   TextfileConfig     `yaml:"textfile"`
	Modules    []ModuleConfig     `yaml:"modules"`
	SNF        []SNFSource        `yaml:"snf"`
	Quarantine []QuarantineConfig `yaml:"quarantine"`
	Corefiles  CorefilesConfig    `yaml:"corefiles"`
	Services   ServicesConfig     `yaml:"services"`
	Inventory  InventoryConfig    `yaml:"inventory"`
	Logs       []LogConfig        `yaml:"logs"`
}

// NodeConfig sets the identity exported on heartbeat_node_info, the
// heartbeat's "customer id".
type NodeConfig struct {
	// Labels are copied onto heartbeat_node_info, e.g. {customer: acme}.
	Labels map[string]string `yaml:"labels"`
	// ID overrides node_id. Left empty, node_id is a keyed hash of
	// /etc/machine-id, never the machine id itself.
	ID string `yaml:"id"`
}

// FilesystemConfig lists where space and inodes are reported.
type FilesystemConfig struct {
	// Paths whose file systems are reported. Empty means "/" plus every
	// folder the other sections point at (see Config.FilesystemPaths).
	Paths []string `yaml:"paths"`
	// StatTimeout bounds a statfs call; a mount that does not answer in
	// time (a stale NFS mount) is reported as stuck instead of hanging.
	StatTimeout time.Duration `yaml:"stat_timeout"`
}

// TextfileConfig lists folders of node_exporter-style *.prom files.
type TextfileConfig struct {
	// Directories whose *.prom files are merged into /metrics; absent
	// ones are skipped quietly. --collector.textfile.directory adds one.
	Directories []string `yaml:"directories"`
	// MaxFileSize refuses bigger files rather than reading them into
	// memory ("64MiB" by default).
	MaxFileSize Bytes `yaml:"max_file_size"`
	// FollowSymlinksOutside lets a *.prom symbolic link lead out of the
	// textfile folders; off, such a link is refused with an error.
	FollowSymlinksOutside bool `yaml:"follow_symlinks_outside"`
	// MaxSeries caps the series served from all *.prom files together;
	// a file that would pass it is refused whole (500,000 by default).
	MaxSeries int `yaml:"max_series"`
}

// DefaultTextfileMaxSeries is TextfileConfig.MaxSeries when unset: about
// 160 MB of parsed series held (320 bytes a series measured with three
// labels, one unique per series).
const DefaultTextfileMaxSeries = 500_000

// DefaultTextfileMaxSize is TextfileConfig.MaxFileSize when unset.
const DefaultTextfileMaxSize = Bytes(64 * units.MiB)

// DefaultStatTimeout is FilesystemConfig.StatTimeout when unset.
const DefaultStatTimeout = 5 * time.Second

// reservedNodeLabels are set by the system collector itself.
var reservedNodeLabels = map[string]bool{"node_id": true, "hostname": true}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (c *Config) applyDefaults() {
	if c.Filesystem.StatTimeout == 0 {
		c.Filesystem.StatTimeout = DefaultStatTimeout
	}
	if c.Textfile.MaxFileSize == 0 {
		c.Textfile.MaxFileSize = DefaultTextfileMaxSize
	}
	if c.Textfile.MaxSeries == 0 {
		c.Textfile.MaxSeries = DefaultTextfileMaxSeries
	}
	c.applyModuleDefaults()
	applySNFDefaults(c.SNF)
	applyQuarantineDefaults(c.Quarantine)
	c.Corefiles.applyDefaults()
	c.Services.applyDefaults()
	c.Inventory.applyDefaults()
	c.applyLogDefaults()
}

// validate returns one FieldError per problem, each naming the field by its
// path in the YAML document (e.g. "filesystem.paths[1]").
func (c *Config) validate() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	for _, name := range sortedKeys(c.Node.Labels) {
		path := "node.labels." + name
		switch {
		case !labelNameRE.MatchString(name) || strings.HasPrefix(name, "__"):
			add(path, "%q is not a valid Prometheus label name", name)
		case reservedNodeLabels[name]:
			add(path, "label %q is set by the exporter itself", name)
		}
	}
	for i, p := range c.Filesystem.Paths {
		if msg := checkAbsPath(p); msg != "" {
			add(fmt.Sprintf("filesystem.paths[%d]", i), "%s", msg)
		}
	}
	for i, d := range c.Textfile.Directories {
		if msg := checkAbsPath(d); msg != "" {
			add(fmt.Sprintf("textfile.directories[%d]", i), "%s", msg)
		}
	}
	if c.Textfile.MaxFileSize < 0 {
		add("textfile.max_file_size", "must not be negative")
	}
	if c.Textfile.MaxSeries < 0 {
		add("textfile.max_series", "must not be negative")
	}
	if c.Filesystem.StatTimeout < 0 || c.Filesystem.StatTimeout > time.Minute {
		add("filesystem.stat_timeout", "must be between 0s and 1m, got %s", c.Filesystem.StatTimeout)
	}
	errs = append(errs, validateModules(c.Modules)...)
	errs = append(errs, validateSNF(c.SNF)...)
	errs = append(errs, validateQuarantines(c.Quarantine)...)
	errs = append(errs, c.Corefiles.validate()...)
	errs = append(errs, c.Services.validate()...)
	errs = append(errs, c.Inventory.validate()...)
	errs = append(errs, c.validateLogs()...)
	return errs
}

// checkAbsPath says what is wrong with a configured file system path, or "".
func checkAbsPath(p string) string {
	switch {
	case p == "":
		return "path is empty"
	case strings.ContainsRune(p, 0):
		return "path contains a NUL byte"
	case !filepath.IsAbs(p):
		return fmt.Sprintf("path %q is not absolute", p)
	}
	return ""
}

// FilesystemPaths is the list of paths the filesystem collector reports:
// the configured ones, or by default "/" plus every folder other sections
// point at, cleaned and without duplicates.
func (c *Config) FilesystemPaths() []string {
	paths := c.Filesystem.Paths
	if len(paths) == 0 {
		paths = append([]string{"/"}, c.sourceDirs()...)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// sourceDirs lists folders other collectors read from. Sections added by
// later collectors contribute here so their disks are watched by default.
func (c *Config) sourceDirs() []string {
	var dirs []string
	dirs = append(dirs, c.Textfile.Directories...)
	dirs = append(dirs, c.moduleDirs()...)
	dirs = append(dirs, snfDirs(c.SNF)...)
	dirs = append(dirs, quarantineDirs(c.Quarantine)...)
	dirs = append(dirs, c.Corefiles.Dirs...)
	dirs = append(dirs, c.logDirs()...)
	return dirs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
