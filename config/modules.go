package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/clamd"
)

// ModuleConfig is one entry of the modules section: a virus or spam
// engine, a vendor's definitions, or Debian packages, whose versions and
// update times are reported with module=<Name>.
type ModuleConfig struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // clamav, spamassassin, file or dpkg

	// kind clamav: the folder of .cvd/.cld/.cud databases; optionally
	// clamd's socket (unix:///path or tcp://host:port) and freshclam's log.
	DatabaseDir  string        `yaml:"database_dir"`
	Clamd        string        `yaml:"clamd"`
	ClamdTimeout time.Duration `yaml:"clamd_timeout"`
	FreshclamLog string        `yaml:"freshclam_log"`

	// kind file: the version is the first capture group of VersionRegex
	// in VersionFile (a glob: the newest match is read). The update time
	// is the modification time of UpdatedPath (a file, or a folder's
	// newest entry; a glob too), or a date found in VersionFile by
	// DateRegex, read with the Go layout DateLayout in DateTimezone (the
	// exporter's local zone by default).
	VersionFile  string `yaml:"version_file"`
	VersionRegex string `yaml:"version_regex"`
	UpdatedPath  string `yaml:"updated_path"`
	DateRegex    string `yaml:"date_regex"`
	DateLayout   string `yaml:"date_layout"`
	DateTimezone string `yaml:"date_timezone"`
	// compiled by validation
	versionRE, dateRE *regexp.Regexp

	// kind spamassassin: the engine's version from EngineFile
	// (Mail/SpamAssassin.pm); the rules' version and update time from
	// sa-update's channel for that version under UpdatesDir when there is
	// one, else the rules the package shipped in RulesDir (their newest
	// modification time: the ruleset's age).
	EngineFile string `yaml:"engine_file"`
	RulesDir   string `yaml:"rules_dir"`
	UpdatesDir string `yaml:"updates_dir"`

	// kind dpkg: Debian packages whose version and install time are
	// reported.
	Packages []string `yaml:"packages"`
}

// Module kinds.
const (
	ModuleClamAV       = "clamav"
	ModuleSpamAssassin = "spamassassin"
	ModuleFile         = "file"
	ModuleDpkg         = "dpkg"
)

// Where Debian's spamassassin package puts the engine, its shipped rules
// and sa-update's channels (DEF_RULES_DIR, LOCAL_STATE_DIR).
const (
	DefaultSAEngineFile = "/usr/share/perl5/Mail/SpamAssassin.pm"
	DefaultSARulesDir   = "/usr/share/spamassassin"
	DefaultSAUpdatesDir = "/var/lib/spamassassin"
)

// DefaultClamdTimeout bounds a question to clamd when clamd_timeout is
// unset: a daemon busy loading its databases must not hold the scrape.
const DefaultClamdTimeout = 2 * time.Second

var (
	moduleNameRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`) })
	packageNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`) })
)

// modulesSection is Config.Modules as a section.
type modulesSection []ModuleConfig

func (ms *modulesSection) applyDefaults() {
	for i := range *ms {
		m := &(*ms)[i]
		switch m.Kind {
		case ModuleClamAV:
			if m.ClamdTimeout == 0 {
				m.ClamdTimeout = DefaultClamdTimeout
			}
		case ModuleSpamAssassin:
			setDefault(&m.EngineFile, DefaultSAEngineFile)
			setDefault(&m.RulesDir, DefaultSARulesDir)
			setDefault(&m.UpdatesDir, DefaultSAUpdatesDir)
		}
	}
}

// VersionRegexp is the compiled VersionRegex, nil when unset.
func (m ModuleConfig) VersionRegexp() *regexp.Regexp { return m.versionRE }

// DateRegexp is the compiled DateRegex, nil when unset.
func (m ModuleConfig) DateRegexp() *regexp.Regexp { return m.dateRE }

func setDefault(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

func (ms *modulesSection) validate() []FieldError { return validateModules(*ms) }

// validateModules checks the modules section and keeps the compiled
// regular expressions on mods; errors name fields like
// "modules[2].database_dir".
func validateModules(mods []ModuleConfig) []FieldError {
	var errs []FieldError
	seen := map[string]int{}
	for i := range mods {
		m := &mods[i]
		at := func(field, format string, args ...any) {
			errs = append(errs, FieldError{Path: fmt.Sprintf("modules[%d].%s", i, field), Msg: fmt.Sprintf(format, args...)})
		}
		switch prev, dup := seen[m.Name]; {
		case m.Name == "":
			at("name", "a module needs a name (it becomes the module label)")
		case !moduleNameRE().MatchString(m.Name):
			at("name", "%q: use letters, digits, '_', '.' and '-'", m.Name)
		case dup:
			at("name", "%q is already the name of modules[%d]", m.Name, prev)
		default:
			seen[m.Name] = i
		}
		for _, field := range m.foreignFields() {
			at(field, "not a field of kind %q", m.Kind)
		}
		switch m.Kind {
		case ModuleClamAV:
			m.validateClamAV(at)
		case ModuleSpamAssassin:
			for _, f := range [][2]string{{"engine_file", m.EngineFile}, {"rules_dir", m.RulesDir}, {"updates_dir", m.UpdatesDir}} {
				if msg := checkAbsPath(f[1]); msg != "" {
					at(f[0], "%s", msg)
				}
			}
		case ModuleFile:
			m.validateFile(at)
		case ModuleDpkg:
			m.validateDpkg(at)
		default:
			at("kind", "%q is not a module kind: want clamav, spamassassin, file or dpkg", m.Kind)
		}
	}
	return errs
}

type fieldAdder func(field, format string, args ...any)

// foreignFields lists the fields set that belong to another kind: a
// typo'd kind or a field in the wrong module should not pass silently.
func (m ModuleConfig) foreignFields() []string {
	byKind := map[string][]struct {
		name string
		set  bool
	}{
		ModuleClamAV: {{"database_dir", m.DatabaseDir != ""}, {"clamd", m.Clamd != ""}, {"clamd_timeout", m.ClamdTimeout != 0}, {"freshclam_log", m.FreshclamLog != ""}},
		ModuleFile: {{"version_file", m.VersionFile != ""}, {"version_regex", m.VersionRegex != ""}, {"updated_path", m.UpdatedPath != ""},
			{"date_regex", m.DateRegex != ""}, {"date_layout", m.DateLayout != ""}, {"date_timezone", m.DateTimezone != ""}},
		ModuleSpamAssassin: {{"engine_file", m.EngineFile != ""}, {"rules_dir", m.RulesDir != ""}, {"updates_dir", m.UpdatesDir != ""}},
		ModuleDpkg:         {{"packages", len(m.Packages) > 0}},
	}
	if _, known := byKind[m.Kind]; !known {
		return nil
	}
	var out []string
	for _, kind := range []string{ModuleClamAV, ModuleSpamAssassin, ModuleFile, ModuleDpkg} {
		for _, f := range byKind[kind] {
			if kind != m.Kind && f.set {
				out = append(out, f.name)
			}
		}
	}
	return out
}

func (m ModuleConfig) validateClamAV(at fieldAdder) {
	if msg := checkAbsPath(m.DatabaseDir); msg != "" {
		at("database_dir", "%s", msg)
	}
	if m.Clamd != "" {
		if _, err := clamd.ParseAddress(m.Clamd); err != nil {
			at("clamd", "%v", err)
		}
	}
	if m.ClamdTimeout < 0 || m.ClamdTimeout > time.Minute {
		at("clamd_timeout", "must be between 0s and 1m, got %s", m.ClamdTimeout)
	}
	if m.FreshclamLog != "" {
		if msg := checkAbsPath(m.FreshclamLog); msg != "" {
			at("freshclam_log", "%s", msg)
		}
	}
}

func (m *ModuleConfig) validateFile(at fieldAdder) {
	checkGlobPath(at, "version_file", m.VersionFile)
	checkGlobPath(at, "updated_path", m.UpdatedPath)
	m.versionRE = checkCaptureRegex(at, "version_regex", m.VersionRegex)
	m.dateRE = checkCaptureRegex(at, "date_regex", m.DateRegex)
	// Which fields go together; one message per field at most.
	rules := []struct {
		broken     bool
		field, msg string
	}{
		{m.VersionFile == "" && m.UpdatedPath == "", "version_file", "a file module needs version_file, updated_path or both"},
		{m.VersionRegex != "" && m.VersionFile == "", "version_regex", "the version is searched in version_file, which is not set"},
		{m.VersionFile != "" && m.VersionRegex == "" && m.DateRegex == "", "version_regex", "version_file is set but neither version_regex nor date_regex says what to read in it"},
		{m.DateRegex != "" && m.VersionFile == "", "date_regex", "the date is searched in version_file, which is not set"},
		{m.DateRegex != "" && m.UpdatedPath != "", "date_regex", "give the update time either by updated_path or by date_regex, not both"},
		{(m.DateRegex == "") != (m.DateLayout == ""), "date_layout", "date_regex and date_layout go together"},
		{m.DateLayout != "" && time.Unix(0, 0).UTC().Format(m.DateLayout) == m.DateLayout, "date_layout",
			fmt.Sprintf("%q holds no Go time element (write the reference time Mon Jan 2 15:04:05 MST 2006 in your format)", m.DateLayout)},
	}
	reported := map[string]bool{}
	for _, r := range rules {
		if r.broken && !reported[r.field] {
			reported[r.field] = true
			at(r.field, "%s", r.msg)
		}
	}
	if m.DateTimezone != "" {
		if _, err := time.LoadLocation(m.DateTimezone); err != nil {
			at("date_timezone", "%v", err)
		}
	}
}

func (m ModuleConfig) validateDpkg(at fieldAdder) {
	if len(m.Packages) == 0 {
		at("packages", "name at least one Debian package")
	}
	seen := map[string]bool{}
	for j, p := range m.Packages {
		field := fmt.Sprintf("packages[%d]", j)
		switch {
		case !packageNameRE().MatchString(p):
			at(field, "%q is not a Debian package name", p)
		case seen[p]:
			at(field, "%q is listed twice", p)
		}
		seen[p] = true
	}
}

func checkGlobPath(at fieldAdder, field, p string) {
	if p == "" {
		return
	}
	if msg := checkAbsPath(p); msg != "" {
		at(field, "%s", msg)
		return
	}
	if _, err := filepath.Match(p, ""); err != nil {
		at(field, "bad glob pattern %q: %v", p, err)
	}
}

// checkCaptureRegex compiles expr, nil when empty or invalid.
func checkCaptureRegex(at fieldAdder, field, expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	switch {
	case err != nil:
		at(field, "%v", err)
	case re.NumSubexp() < 1:
		at(field, "%q has no capture group: wrap the part to report in ( )", expr)
	}
	return re
}

// folders are the folders the modules read (globs are left out).
func (ms *modulesSection) folders() []string {
	var dirs []string
	for _, m := range *ms {
		for _, p := range []string{m.DatabaseDir, m.UpdatedPath, m.UpdatesDir} {
			if p != "" && !strings.ContainsAny(p, "*?[") {
				dirs = append(dirs, p)
			}
		}
	}
	return dirs
}
