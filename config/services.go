package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ServicesConfig lists the daemons whose processes are watched.
type ServicesConfig struct {
	// PollInterval is how often /proc is read in the background; a
	// scrape serves the last poll.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Watch lists the services; a process must pass every matcher given.
	Watch []ServiceConfig `yaml:"watch"`
}

// ServiceConfig is one watched service.
type ServiceConfig struct {
	Name string `yaml:"name"` // -> service="..."
	// Process is the process name (comm, as ps -o comm shows it; names
	// longer than the kernel's 15 characters are compared on those 15).
	Process string `yaml:"process"`
	// Exe is the absolute path of the executable (/proc/PID/exe).
	Exe string `yaml:"exe"`
	// Cmdline is a regular expression searched in the command line, its
	// arguments joined by spaces (daemons that rename themselves, such as
	// "amavisd (master)", are matched here).
	Cmdline string `yaml:"cmdline"`
	// Pidfile is a host path (read under --path.rootfs) holding the PID.
	Pidfile string `yaml:"pidfile"`
	// Unit is the systemd unit, e.g. clamav-daemon.service; its state and
	// NRestarts are read over the system bus when there is one.
	Unit string `yaml:"unit"`
	// IfInstalled leaves the service out when none of these host paths
	// exists (under --path.rootfs): presets for programs this host may not
	// have. Empty means always watched.
	IfInstalled []string `yaml:"if_installed"`

	cmdlineRE *regexp.Regexp
}

// CmdlineRegexp is the compiled Cmdline, nil when unset.
func (s ServiceConfig) CmdlineRegexp() *regexp.Regexp { return s.cmdlineRE }

// DefaultServicesPollInterval is ServicesConfig.PollInterval when unset.
const DefaultServicesPollInterval = 5 * time.Second

func (s *ServicesConfig) applyDefaults() {
	if s.PollInterval == 0 {
		s.PollInterval = DefaultServicesPollInterval
	}
}

// validate checks the section and compiles the command-line patterns.
func (s *ServicesConfig) validate() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if s.PollInterval < 10*time.Millisecond || s.PollInterval > time.Hour {
		add("services.poll_interval", "must be between 10ms and 1h, got %s", s.PollInterval)
	}
	seen := map[string]bool{}
	for i := range s.Watch {
		w := &s.Watch[i]
		path := fmt.Sprintf("services.watch[%d]", i)
		if msg := uniqueName(seen, "service", w.Name); msg != "" {
			add(path+".name", "%s", msg)
		}
		if w.Process == "" && w.Exe == "" && w.Cmdline == "" && w.Pidfile == "" {
			add(path, "give at least one of process, exe, cmdline, pidfile")
		}
		if strings.Contains(w.Process, "/") {
			add(path+".process", "a process name has no '/'; use exe for a path")
		}
		for _, f := range []struct{ name, value string }{{"exe", w.Exe}, {"pidfile", w.Pidfile}} {
			if f.value != "" {
				if msg := checkAbsPath(f.value); msg != "" {
					add(path+"."+f.name, "%s", msg)
				}
			}
		}
		for j, p := range w.IfInstalled {
			if msg := checkAbsPath(p); msg != "" {
				add(fmt.Sprintf("%s.if_installed[%d]", path, j), "%s", msg)
			}
		}
		if w.Cmdline != "" {
			re, err := regexp.Compile(w.Cmdline)
			if err != nil {
				add(path+".cmdline", "invalid regular expression: %v", err)
			}
			w.cmdlineRE = re
		}
		if w.Unit != "" && (strings.ContainsAny(w.Unit, "/ ") || !strings.Contains(w.Unit, ".")) {
			add(path+".unit", "%q is not a systemd unit name such as clamav-daemon.service", w.Unit)
		}
	}
	return errs
}

func (s *ServicesConfig) folders() []string { return nil }
