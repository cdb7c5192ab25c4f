package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/alecthomas/units"
)

// SNFSource is one entry of the snf section: MessageSniffer status
// snapshot files.
type SNFSource struct {
	// Path of the status file, a host path; a glob pattern is allowed
	// (SNF names appended files <licenseid>.status.minute.<date>.log.xml
	// and rotates them by date).
	Path string `yaml:"path"`
	// RuleHistogramTop exports heartbeat_snf_rule_hits_total for the N
	// busiest rules (the rest summed as rule="other"); 0 turns it off.
	RuleHistogramTop int `yaml:"rule_histogram_top"`
	// MaxSnapshotBytes refuses a <stats> element larger than this
	// ("4MiB" by default) instead of holding it in memory.
	MaxSnapshotBytes Bytes `yaml:"max_snapshot_bytes"`
}

// DefaultSNFMaxSnapshot is SNFSource.MaxSnapshotBytes when unset.
const DefaultSNFMaxSnapshot = Bytes(4 * units.MiB)

// MaxSNFRuleHistogramTop bounds rule_histogram_top (cardinality).
const MaxSNFRuleHistogramTop = 1000

// snfSection is Config.SNF as a section.
type snfSection []SNFSource

func (ss *snfSection) applyDefaults() {
	for i := range *ss {
		if (*ss)[i].MaxSnapshotBytes == 0 {
			(*ss)[i].MaxSnapshotBytes = DefaultSNFMaxSnapshot
		}
	}
}

func (ss *snfSection) validate() []FieldError { return validateSNF(*ss) }

func (ss *snfSection) folders() []string { return snfDirs(*ss) }

// validateSNF checks the snf section; errors name fields as "snf[1].path".
func validateSNF(srcs []SNFSource) []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	for i, s := range srcs {
		field := fmt.Sprintf("snf[%d].", i)
		if msg := checkAbsPath(s.Path); msg != "" {
			add(field+"path", "%s", msg)
		} else if _, err := filepath.Match(s.Path, ""); err != nil {
			add(field+"path", "bad glob pattern %q: %v", s.Path, err)
		} else if j, dup := seen[filepath.Clean(s.Path)]; dup {
			add(field+"path", "%q is already listed as snf[%d].path", s.Path, j)
		} else {
			seen[filepath.Clean(s.Path)] = i
		}
		if s.RuleHistogramTop < 0 || s.RuleHistogramTop > MaxSNFRuleHistogramTop {
			add(field+"rule_histogram_top", "must be between 0 (off) and %d, got %d", MaxSNFRuleHistogramTop, s.RuleHistogramTop)
		}
		if s.MaxSnapshotBytes < 1024 || s.MaxSnapshotBytes > Bytes(units.GiB) {
			add(field+"max_snapshot_bytes", "must be between 1KiB and 1GiB, got %d bytes", s.MaxSnapshotBytes)
		}
	}
	return errs
}

// snfDirs are the folders holding the snf files (the part of each path
// before any glob), for the filesystem collector's default paths.
func snfDirs(srcs []SNFSource) []string {
	var dirs []string
	for _, s := range srcs {
		dir := filepath.Dir(s.Path)
		for strings.ContainsAny(dir, `*?[\`) {
			dir = filepath.Dir(dir)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}
