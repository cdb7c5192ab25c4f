package config

import (
	"strings"
	"testing"
	"time"
)

func TestModulesDefault(t *testing.T) {
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Modules) != 3 {
		t.Fatalf("default modules: %+v", cfg.Modules)
	}
	virus := cfg.Modules[0]
	if virus.Kind != ModuleClamAV || virus.DatabaseDir != "/var/lib/clamav" || virus.ClamdTimeout != 2*time.Second {
		t.Errorf("virus module %+v", virus)
	}
	if got := strings.Join(cfg.FilesystemPaths(), " "); !strings.Contains(got, "/var/lib/clamav") {
		t.Errorf("filesystem paths %q lack the database folder", got)
	}
}

func TestModulesClamdTimeoutDefault(t *testing.T) {
	cfg, err := Parse("m.yml", []byte("modules:\n  - {name: av, kind: clamav, database_dir: /db}\n  - {name: p, kind: dpkg, packages: [postfix]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Modules[0].ClamdTimeout != DefaultClamdTimeout || cfg.Modules[1].ClamdTimeout != 0 {
		t.Errorf("timeouts %s %s", cfg.Modules[0].ClamdTimeout, cfg.Modules[1].ClamdTimeout)
	}
}

func TestModulesFileVariantsAccepted(t *testing.T) {
	for _, y := range []string{
		"modules:\n  - {name: s, kind: file, updated_path: /var/lib/sophos}\n",
		"modules:\n  - {name: s, kind: file, version_file: /v, version_regex: 'v(\\d+)'}\n",
		"modules:\n  - {name: s, kind: file, version_file: '/v/*/x.cf', date_regex: 'at (.*)', date_layout: '2006-01-02', date_timezone: Europe/Berlin}\n",
	} {
		if _, err := Parse("m.yml", []byte(y)); err != nil {
			t.Errorf("%s: %v", y, err)
		}
	}
}

// kind spamassassin needs nothing: Debian's paths are the defaults.
func TestModulesSpamAssassinDefaults(t *testing.T) {
	cfg, err := Parse("m.yml", []byte("modules:\n  - {name: spam, kind: spamassassin}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Modules[0]
	if m.EngineFile != DefaultSAEngineFile || m.RulesDir != DefaultSARulesDir || m.UpdatesDir != DefaultSAUpdatesDir {
		t.Errorf("defaults %q %q %q", m.EngineFile, m.RulesDir, m.UpdatesDir)
	}
}

func TestModulesErrorsNameTheField(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"unknown kind":       {"modules:\n  - {name: a, kind: clamd}\n", `m.yml:2: modules[0].kind: "clamd" is not a module kind`},
		"no name":            {"modules:\n  - {kind: dpkg, packages: [postfix]}\n", "modules[0].name: a module needs a name"},
		"bad name":           {"modules:\n  - {name: 'a b', kind: dpkg, packages: [postfix]}\n", `modules[0].name: "a b"`},
		"duplicate name":     {"modules:\n  - {name: a, kind: dpkg, packages: [postfix]}\n  - {name: a, kind: dpkg, packages: [clamav]}\n", `m.yml:3: modules[1].name: "a" is already the name of modules[0]`},
		"relative dir":       {"modules:\n  - {name: a, kind: clamav, database_dir: var/lib/clamav}\n", `modules[0].database_dir: path "var/lib/clamav" is not absolute`},
		"missing dir":        {"modules:\n  - {name: a, kind: clamav}\n", "modules[0].database_dir: path is empty"},
		"bad clamd":          {"modules:\n  - {name: a, kind: clamav, database_dir: /d, clamd: /run/clamd.ctl}\n", "modules[0].clamd: \"/run/clamd.ctl\": the scheme must be"},
		"clamd timeout":      {"modules:\n  - {name: a, kind: clamav, database_dir: /d, clamd_timeout: 5m}\n", "modules[0].clamd_timeout: must be between"},
		"relative log":       {"modules:\n  - {name: a, kind: clamav, database_dir: /d, freshclam_log: fc.log}\n", `modules[0].freshclam_log: path "fc.log"`},
		"foreign field":      {"modules:\n  - {name: a, kind: dpkg, packages: [postfix], database_dir: /d}\n", `modules[0].database_dir: not a field of kind "dpkg"`},
		"bad regex":          {"modules:\n  - {name: a, kind: file, version_file: /v, version_regex: 'v(\\d+'}\n", "modules[0].version_regex: error parsing regexp"},
		"no capture":         {"modules:\n  - {name: a, kind: file, version_file: /v, version_regex: 'v\\d+'}\n", `modules[0].version_regex: "v\\d+" has no capture group`},
		"regex, no file":     {"modules:\n  - {name: a, kind: file, updated_path: /u, version_regex: 'v(\\d+)'}\n", "modules[0].version_regex: the version is searched in version_file"},
		"file, no regex":     {"modules:\n  - {name: a, kind: file, version_file: /v}\n", "modules[0].version_regex: version_file is set but"},
		"nothing":            {"modules:\n  - {name: a, kind: file}\n", "modules[0].version_file: a file module needs"},
		"relative glob":      {"modules:\n  - {name: a, kind: file, updated_path: 'x/*'}\n", `modules[0].updated_path: path "x/*" is not absolute`},
		"bad glob":           {"modules:\n  - {name: a, kind: file, updated_path: '/x/[a'}\n", "modules[0].updated_path: bad glob pattern"},
		"date without file":  {"modules:\n  - {name: a, kind: file, updated_path: /u, date_regex: '(.*)', date_layout: '2006'}\n", "modules[0].date_regex: the date is searched in version_file"},
		"date and path":      {"modules:\n  - {name: a, kind: file, version_file: /v, updated_path: /u, date_regex: '(.*)', date_layout: '2006'}\n", "either by updated_path or by date_regex"},
		"layout alone":       {"modules:\n  - {name: a, kind: file, version_file: /v, version_regex: '(.)', date_layout: '2006'}\n", "modules[0].date_layout: date_regex and date_layout go together"},
		"empty layout":       {"modules:\n  - {name: a, kind: file, version_file: /v, date_regex: '(.*)', date_layout: 'yyyy-mm-dd'}\n", `modules[0].date_layout: "yyyy-mm-dd" holds no Go time element`},
		"bad timezone":       {"modules:\n  - {name: a, kind: file, version_file: /v, date_regex: '(.*)', date_layout: '2006', date_timezone: Mars/Olympus}\n", "modules[0].date_timezone: unknown time zone"},
		"no packages":        {"modules:\n  - {name: a, kind: dpkg}\n", "modules[0].packages: name at least one"},
		"bad package":        {"modules:\n  - {name: a, kind: dpkg, packages: [postfix, 'Clam AV']}\n", `modules[0].packages[1]: "Clam AV" is not a Debian package name`},
		"package twice":      {"modules:\n  - {name: a, kind: dpkg, packages: [postfix, postfix]}\n", `modules[0].packages[1]: "postfix" is listed twice`},
		"unknown field":      {"modules:\n  - name: a\n    kind: dpkg\n    pakages: [postfix]\n", `m.yml:4: modules[0].pakages: unknown field "pakages"`},
		"sa relative":        {"modules:\n  - {name: a, kind: spamassassin, rules_dir: usr/share/spamassassin}\n", `modules[0].rules_dir: path "usr/share/spamassassin" is not absolute`},
		"sa foreign field":   {"modules:\n  - {name: a, kind: spamassassin, version_file: /v}\n", `modules[0].version_file: not a field of kind "spamassassin"`},
		"file with sa field": {"modules:\n  - {name: a, kind: file, updated_path: /u, updates_dir: /var/lib/spamassassin}\n", `modules[0].updates_dir: not a field of kind "file"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("m.yml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
