// Package proctrack finds the processes of watched services in a /proc
// tree and follows them from poll to poll: whether a service is up, its
// main process's start time, restarts, CPU and memory. It knows nothing
// about Prometheus.
package proctrack

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// userHZ is the kernel's clock tick for /proc/PID/stat times; 100 on
// every Linux architecture Prometheus' procfs supports.
const userHZ = 100

// commLen is how much of a process name the kernel keeps (TASK_COMM_LEN-1).
const commLen = 15

// Spec says which processes belong to a service: a process must pass
// every matcher that is set.
type Spec struct {
	Name    string
	Process string         // comm
	Exe     string         // /proc/PID/exe target
	Cmdline *regexp.Regexp // searched in the arguments joined by spaces
	Pidfile string         // path as this process reads it (rootfs applied)
}

// needsExe and needsCmdline tell which of the costlier files a spec reads.
func (s *Spec) needsExe() bool     { return s.Exe != "" }
func (s *Spec) needsCmdline() bool { return s.Cmdline != nil }

// commMatches compares a process name the way the kernel stores it.
func (s *Spec) commMatches(comm string) bool {
	if s.Process == "" {
		return true
	}
	want := s.Process
	if len(want) > commLen {
		want = want[:commLen]
	}
	return comm == want
}

// procKey names one process for its lifetime: a PID is reused, a PID
// with its start time is not.
type procKey struct {
	pid   int
	start uint64 // clock ticks after boot
}

// proc is what one poll learnt about one process.
type proc struct {
	key        procKey
	comm       string
	utime      uint64 // ticks
	stime      uint64
	rssBytes   int
	exe        string // read lazily
	cmdline    string
	haveExe    bool
	haveCmd    bool
	exeErr     error
	cmdlineErr error
}

// Scanner reads one /proc tree; the exe and command line of a process
// are read once and cached while its PID, start time and name stay the
// same (an exec changes the name), so a steady poll costs one readdir and
// one stat file per process.
type Scanner struct {
	fs       procfs.FS
	procPath string
	pageSize int
	cache    map[procKey]*proc
}

// NewScanner opens the /proc tree at procPath.
func NewScanner(procPath string) (*Scanner, error) {
	pfs, err := procfs.NewFS(procPath)
	if err != nil {
		return nil, err
	}
	return &Scanner{fs: pfs, procPath: procPath, pageSize: os.Getpagesize(), cache: map[procKey]*proc{}}, nil
}

// Snapshot is the processes of one poll.
type Snapshot struct {
	BootTime float64 // seconds since the epoch
	procs    []*proc
	scanner  *Scanner
}

// Scan lists the processes. Processes that exit while being read are
// left out; only an unreadable /proc is an error.
func (s *Scanner) Scan() (*Snapshot, error) {
	stat, err := s.fs.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading boot time: %w", err)
	}
	all, err := s.fs.AllProcs()
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	snap := &Snapshot{BootTime: float64(stat.BootTime), scanner: s}
	alive := make(map[procKey]*proc, len(all))
	for _, p := range all {
		st, err := p.Stat()
		if err != nil || st.State == "Z" {
			continue // exited meanwhile; a zombie runs no more
		}
		key := procKey{pid: p.PID, start: st.Starttime}
		cached := s.cache[key]
		if cached == nil || cached.comm != st.Comm {
			// New, or it exec'd another program (or renamed itself) since
			// the last poll: its exe and command line are read again.
			cached = &proc{key: key}
		}
		cached.comm = st.Comm
		cached.utime, cached.stime = uint64(st.UTime), uint64(st.STime)
		cached.rssBytes = st.RSS * s.pageSize
		alive[key] = cached
		snap.procs = append(snap.procs, cached)
	}
	s.cache = alive // forget the processes that are gone
	return snap, nil
}

// exe is the process's executable. Reading another user's
// /proc/PID/exe takes privileges an exporter should not have: when it is
// refused, the first argument of the command line stands in (daemons are
// started by their full path).
func (s *Scanner) exe(p *proc) string {
	if !p.haveExe {
		p.haveExe = true
		target, err := os.Readlink(filepath.Join(s.procPath, strconv.Itoa(p.key.pid), "exe"))
		p.exe, p.exeErr = strings.TrimSuffix(target, " (deleted)"), err
		if errors.Is(err, fs.ErrPermission) {
			p.exe, _, _ = strings.Cut(s.cmdline(p), " ")
		}
	}
	return p.exe
}

func (s *Scanner) cmdline(p *proc) string {
	if !p.haveCmd {
		p.haveCmd = true
		raw, err := os.ReadFile(filepath.Join(s.procPath, strconv.Itoa(p.key.pid), "cmdline"))
		p.cmdline, p.cmdlineErr = JoinCmdline(raw), err
	}
	return p.cmdline
}

// JoinCmdline turns /proc/PID/cmdline (NUL-separated arguments) into one
// line with spaces, the way ps shows it.
func JoinCmdline(raw []byte) string {
	raw = bytes.TrimRight(raw, "\x00")
	return string(bytes.ReplaceAll(raw, []byte{0}, []byte{' '}))
}

// maxPidfile bounds a pidfile's read: it holds one number.
const maxPidfile = 4096

// ReadPidfile returns the PID written in a pidfile; 0 with a nil error
// when the file does not exist (the daemon is not running).
func ReadPidfile(path string) (int, error) {
	raw, err := fileid.ReadRegular(path, maxPidfile) // a FIFO there must not hang the poll
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return ParsePid(raw)
}

// ParsePid reads the first line of a pidfile.
func ParsePid(raw []byte) (int, error) {
	line, _, _ := bytes.Cut(raw, []byte{'\n'})
	line = bytes.TrimSpace(line)
	pid, err := strconv.Atoi(string(line))
	if err != nil || pid <= 0 || pid > 1<<22 {
		return 0, fmt.Errorf("pidfile holds %q, not a PID", truncate(line, 40))
	}
	return pid, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// Match returns the processes of the snapshot that belong to spec; the
// exe and command line are read only for processes whose name matched.
func (snap *Snapshot) Match(spec *Spec) ([]*proc, error) {
	pid := 0
	if spec.Pidfile != "" {
		var err error
		if pid, err = ReadPidfile(spec.Pidfile); err != nil {
			return nil, err
		}
		if pid == 0 {
			return nil, nil
		}
	}
	var out []*proc
	for _, p := range snap.procs {
		if pid != 0 && p.key.pid != pid {
			continue
		}
		if !spec.commMatches(p.comm) {
			continue
		}
		if spec.needsExe() && snap.scanner.exe(p) != spec.Exe {
			continue
		}
		if spec.needsCmdline() && !spec.Cmdline.MatchString(snap.scanner.cmdline(p)) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// Service is a watched service's state, updated by each poll.
type Service struct {
	Up         bool
	Processes  int
	MainPID    int
	StartTime  float64 // main process, seconds since the epoch; 0 when down
	Restarts   uint64
	UserCPU    float64 // seconds, including processes that have exited
	SystemCPU  float64
	RSSBytes   int
	LastChange time.Time // when Up last flipped

	polled   bool
	main     procKey
	seen     map[procKey][2]uint64 // live matching processes: utime, stime
	deadUser uint64                // ticks of matching processes that exited
	deadSys  uint64
}

// Update applies one poll's matching processes: the main process is the
// oldest one; a different main process, or coming back after being down,
// is a restart. The first poll only records what runs.
func (sv *Service) Update(snap *Snapshot, procs []*proc, now time.Time) {
	wasUp, first := sv.Up, !sv.polled
	sv.polled = true
	sv.Up = len(procs) > 0
	sv.Processes = len(procs)
	if sv.Up != wasUp || first {
		sv.LastChange = now
	}
	sv.carryCPU(procs)
	if !sv.Up {
		sv.MainPID, sv.StartTime, sv.RSSBytes, sv.main = 0, 0, 0, procKey{}
		return
	}
	main := procs[0]
	rss := 0
	for _, p := range procs {
		rss += p.rssBytes
		if p.key.start < main.key.start || (p.key.start == main.key.start && p.key.pid < main.key.pid) {
			main = p
		}
	}
	if !first && (!wasUp || main.key != sv.main) {
		sv.Restarts++
	}
	sv.main = main.key
	sv.MainPID = main.key.pid
	sv.StartTime = snap.BootTime + float64(main.key.start)/userHZ
	sv.RSSBytes = rss
}

// carryCPU sums the CPU time of the live processes and keeps that of the
// processes that have gone since the last poll, so the counter does not
// drop when a child exits (the time a process used after the last poll
// before it exited is lost).
func (sv *Service) carryCPU(procs []*proc) {
	now := make(map[procKey][2]uint64, len(procs))
	var user, sys uint64
	for _, p := range procs {
		now[p.key] = [2]uint64{p.utime, p.stime}
		user += p.utime
		sys += p.stime
	}
	for k, t := range sv.seen {
		if _, alive := now[k]; !alive {
			sv.deadUser += t[0]
			sv.deadSys += t[1]
		}
	}
	sv.seen = now
	sv.UserCPU = float64(user+sv.deadUser) / userHZ
	sv.SystemCPU = float64(sys+sv.deadSys) / userHZ
}

// Names lists the process names (comm) of the snapshot, one per process:
// what the inventory collector matches its applications against, so that
// it shares the services poller's pass over /proc.
func (snap *Snapshot) Names() []string {
	out := make([]string, len(snap.procs))
	for i, p := range snap.procs {
		out[i] = p.comm
	}
	return out
}
