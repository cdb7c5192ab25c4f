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
	"sync"
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

var labelNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`) })

// sections lists every section of the file, in the order their problems
// and folders are listed. A new section implements section and is added
// here. The list sections keep their plain slice type in Config and are
// viewed through a named one (modulesSection...) that has the methods.
func (c *Config) sections() []section {
	return []section{&c.Node, &c.Filesystem, &c.Textfile, (*modulesSection)(&c.Modules),
		(*snfSection)(&c.SNF), (*quarantineSection)(&c.Quarantine), &c.Corefiles,
		&c.Services, &c.Inventory, (*logsSection)(&c.Logs)}
}

func (c *Config) applyDefaults() {
	for _, s := range c.sections() {
		s.applyDefaults()
	}
}

// validate returns one FieldError per problem, each naming the field by its
// path in the YAML document (e.g. "filesystem.paths[1]").
func (c *Config) validate() []FieldError {
	var errs []FieldError
	for _, s := range c.sections() {
		errs = append(errs, s.validate()...)
	}
	return errs
}

func (n *NodeConfig) applyDefaults() {}

func (n *NodeConfig) validate() []FieldError {
	var errs fieldErrors
	for _, name := range sortedKeys(n.Labels) {
		path := "node.labels." + name
		switch {
		case !labelNameRE().MatchString(name) || strings.HasPrefix(name, "__"):
			errs.add(path, "%q is not a valid Prometheus label name", name)
		case reservedNodeLabels[name]:
			errs.add(path, "label %q is set by the exporter itself", name)
		}
	}
	return errs
}

func (n *NodeConfig) folders() []string { return nil }

func (f *FilesystemConfig) applyDefaults() {
	if f.StatTimeout == 0 {
		f.StatTimeout = DefaultStatTimeout
	}
}

func (f *FilesystemConfig) validate() []FieldError {
	var errs fieldErrors
	for i, p := range f.Paths {
		if msg := checkAbsPath(p); msg != "" {
			errs.add(fmt.Sprintf("filesystem.paths[%d]", i), "%s", msg)
		}
	}
	if f.StatTimeout < 0 || f.StatTimeout > time.Minute {
		errs.add("filesystem.stat_timeout", "must be between 0s and 1m, got %s", f.StatTimeout)
	}
	return errs
}

// folders is nil: the filesystem section watches the others' folders.
func (f *FilesystemConfig) folders() []string { return nil }

func (t *TextfileConfig) applyDefaults() {
	if t.MaxFileSize == 0 {
		t.MaxFileSize = DefaultTextfileMaxSize
	}
	if t.MaxSeries == 0 {
		t.MaxSeries = DefaultTextfileMaxSeries
	}
}

func (t *TextfileConfig) validate() []FieldError {
	var errs fieldErrors
	for i, d := range t.Directories {
		if msg := checkAbsPath(d); msg != "" {
			errs.add(fmt.Sprintf("textfile.directories[%d]", i), "%s", msg)
		}
	}
	if t.MaxFileSize < 0 {
		errs.add("textfile.max_file_size", "must not be negative")
	}
	if t.MaxSeries < 0 {
		errs.add("textfile.max_series", "must not be negative")
	}
	return errs
}

func (t *TextfileConfig) folders() []string { return t.Directories }

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

// sourceDirs lists folders other collectors read from, section by section,
// so a new section's disks are watched by default.
func (c *Config) sourceDirs() []string {
	var dirs []string
	for _, s := range c.sections() {
		dirs = append(dirs, s.folders()...)
	}
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
