package config

import (
	"fmt"
	"regexp"
	"time"
)

// QuarantineConfig is one quarantine folder whose messages are counted.
type QuarantineConfig struct {
	Name string `yaml:"name"` // -> quarantine="..."
	Path string `yaml:"path"` // host path, read under --path.rootfs
	// Classify names the category of each file from its name: "amavis"
	// (virus-, spam-, banned-, badh-, clean-, archive-... files), or a
	// regular expression with a group (?P<category>...). Empty: every
	// file is category="unclassified".
	Classify string `yaml:"classify"`
	// MaxCategories bounds the category label: the biggest categories
	// are kept, the rest are summed as category="other".
	MaxCategories int `yaml:"max_categories"`
	// Interval between the ends of two background scans.
	Interval time.Duration `yaml:"interval"`

	classifyRE *regexp.Regexp
}

// ClassifyRegexp is the compiled Classify pattern; nil for a preset or none.
func (q QuarantineConfig) ClassifyRegexp() *regexp.Regexp { return q.classifyRE }

// QuarantinePresetAmavis is the classify value for amavisd-new's naming.
const QuarantinePresetAmavis = "amavis"

// Quarantine defaults.
const (
	DefaultQuarantineInterval      = 5 * time.Minute
	DefaultQuarantineMaxCategories = 20
)

// quarantineSection is Config.Quarantine as a section.
type quarantineSection []QuarantineConfig

func (qs *quarantineSection) applyDefaults() { applyQuarantineDefaults(*qs) }

func (qs *quarantineSection) validate() []FieldError { return validateQuarantines(*qs) }

func (qs *quarantineSection) folders() []string { return quarantineDirs(*qs) }

func applyQuarantineDefaults(qs []QuarantineConfig) {
	for i := range qs {
		if qs[i].Interval == 0 {
			qs[i].Interval = DefaultQuarantineInterval
		}
		if qs[i].MaxCategories == 0 {
			qs[i].MaxCategories = DefaultQuarantineMaxCategories
		}
	}
}

func validateQuarantines(qs []QuarantineConfig) []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for i := range qs {
		q := &qs[i]
		path := fmt.Sprintf("quarantine[%d]", i)
		if msg := uniqueName(seen, "quarantine", q.Name); msg != "" {
			add(path+".name", "%s", msg)
		}
		if msg := checkAbsPath(q.Path); msg != "" {
			add(path+".path", "%s", msg)
		}
		if q.Classify != "" && q.Classify != QuarantinePresetAmavis {
			re, err := regexp.Compile(q.Classify)
			switch {
			case err != nil:
				add(path+".classify", "neither the preset %q nor a valid regular expression: %v", QuarantinePresetAmavis, err)
			case re.SubexpIndex("category") < 0:
				add(path+".classify", "the regular expression needs a group (?P<category>...)")
			}
			q.classifyRE = re
		}
		if q.MaxCategories < 1 || q.MaxCategories > 1000 {
			add(path+".max_categories", "must be between 1 and 1000, got %d", q.MaxCategories)
		}
		if q.Interval < time.Second || q.Interval > 24*time.Hour {
			add(path+".interval", "must be between 1s and 24h, got %s", q.Interval)
		}
	}
	return errs
}

func quarantineDirs(qs []QuarantineConfig) []string {
	dirs := make([]string, 0, len(qs))
	for _, q := range qs {
		dirs = append(dirs, q.Path)
	}
	return dirs
}

// uniqueName says what is wrong with the name of a listed item, or "".
func uniqueName(seen map[string]bool, kind, name string) string {
	defer func() { seen[name] = true }()
	switch {
	case name == "":
		return "a " + kind + " needs a name"
	case seen[name]:
		return fmt.Sprintf("%s %q is listed twice", kind, name)
	}
	return ""
}
