package config

import (
	"strings"
	"testing"
	"time"
)

// The embedded default's quarantine, corefiles and services sections.
func TestDefaultQuarantineCorefilesServices(t *testing.T) {
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Quarantine) != 1 || cfg.Quarantine[0].Path != "/var/lib/amavis/virusmails" ||
		cfg.Quarantine[0].Classify != QuarantinePresetAmavis || cfg.Quarantine[0].Interval != 5*time.Minute {
		t.Errorf("quarantine = %+v", cfg.Quarantine)
	}
	if !cfg.Corefiles.UseCorePattern() || cfg.Corefiles.MaxExecutables != 20 || len(cfg.Corefiles.Dirs) != 2 {
		t.Errorf("corefiles = %+v", cfg.Corefiles)
	}
	var names []string
	for _, w := range cfg.Services.Watch {
		names = append(names, w.Name)
		if len(w.IfInstalled) == 0 {
			t.Errorf("preset %s has no if_installed: it would be reported on hosts without it", w.Name)
		}
	}
	if got := strings.Join(names, " "); got != "clamd freshclam amavisd spamd postfix snf" {
		t.Errorf("service presets = %s", got)
	}
	if cfg.Services.PollInterval != DefaultServicesPollInterval {
		t.Errorf("poll_interval = %s", cfg.Services.PollInterval)
	}
	// Quarantine and core folders are watched by the filesystem collector
	// when filesystem.paths is left empty.
	empty, err := Parse("t.yml", []byte("quarantine: [{name: q, path: /srv/q}]\ncorefiles: {dirs: [/srv/cores]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(empty.FilesystemPaths(), " "); got != "/ /srv/q /srv/cores" {
		t.Errorf("filesystem paths = %s", got)
	}
}

func TestQuarantineCorefilesServicesErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"quarantine without name", "quarantine:\n  - path: /q\n", `cfg.yml:2: quarantine[0].name: a quarantine needs a name`},
		{"quarantine twice", "quarantine:\n  - {name: a, path: /q}\n  - {name: a, path: /r}\n", `cfg.yml:3: quarantine[1].name: quarantine "a" is listed twice`},
		{"relative quarantine", "quarantine:\n  - name: a\n    path: q\n", `cfg.yml:3: quarantine[0].path: path "q" is not absolute`},
		{"bad classify", "quarantine:\n  - name: a\n    path: /q\n    classify: '('\n", `cfg.yml:4: quarantine[0].classify: neither the preset "amavis" nor a valid regular expression`},
		{"classify without group", "quarantine:\n  - name: a\n    path: /q\n    classify: '^x'\n", `quarantine[0].classify: the regular expression needs a group (?P<category>...)`},
		{"interval too short", "quarantine:\n  - name: a\n    path: /q\n    interval: 10ms\n", `cfg.yml:4: quarantine[0].interval: must be between 1s and 24h`},
		{"too many categories", "quarantine:\n  - {name: a, path: /q, max_categories: 5000}\n", `quarantine[0].max_categories: must be between 1 and 1000`},
		{"relative core dir", "corefiles:\n  dirs: [/var/crash, cores]\n", `cfg.yml:2: corefiles.dirs[1]: path "cores" is not absolute`},
		{"core cap", "corefiles:\n  max_executables: -1\n", `cfg.yml:2: corefiles.max_executables: must be between 1 and 1000`},
		{"service without matcher", "services:\n  watch:\n    - name: x\n", `cfg.yml:3: services.watch[0]: give at least one of process, exe, cmdline, pidfile`},
		{"service twice", "services:\n  watch:\n    - {name: x, process: a}\n    - {name: x, process: b}\n", `cfg.yml:4: services.watch[1].name: service "x" is listed twice`},
		{"bad cmdline", "services:\n  watch:\n    - name: x\n      cmdline: '['\n", `cfg.yml:4: services.watch[0].cmdline: invalid regular expression`},
		{"process with slash", "services:\n  watch:\n    - name: x\n      process: /usr/sbin/clamd\n", `cfg.yml:4: services.watch[0].process: a process name has no '/'`},
		{"relative exe", "services:\n  watch:\n    - name: x\n      exe: clamd\n", `cfg.yml:4: services.watch[0].exe: path "clamd" is not absolute`},
		{"bad unit", "services:\n  watch:\n    - name: x\n      process: x\n      unit: clamd\n", `cfg.yml:5: services.watch[0].unit: "clamd" is not a systemd unit name`},
		{"relative if_installed", "services:\n  watch:\n    - name: x\n      process: x\n      if_installed: [bin/x]\n", `services.watch[0].if_installed[0]: path "bin/x" is not absolute`},
		{"poll too fast", "services:\n  poll_interval: 1ms\n", `cfg.yml:2: services.poll_interval: must be between 10ms and 1h`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("cfg.yml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

func TestServicesCmdlineCompiled(t *testing.T) {
	cfg, err := Parse("t.yml", []byte("services:\n  watch:\n    - {name: a, cmdline: '^amavisd'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	re := cfg.Services.Watch[0].CmdlineRegexp()
	if re == nil || !re.MatchString("amavisd (master)") {
		t.Errorf("cmdline not compiled: %v", re)
	}
}
