// Package statfs measures mounted file systems without letting a hung one
// (a stale NFS mount, where statfs(2) and lstat(2) block for ever) hang
// the caller. It knows nothing about Prometheus.
//
// Each mount is probed in its own goroutine, and the caller waits for it
// at most a timeout. A system call cannot be abandoned, so a probe that
// does not answer keeps its goroutine; the Checker remembers it, and
// until it returns every later Check of that mount reports "stuck" at
// once instead of starting another goroutine that would hang as well.
package statfs

import (
	"context"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"
)

// Stats is what statfs(2) says about a file system, in bytes and inodes.
type Stats struct {
	SizeBytes  uint64
	FreeBytes  uint64 // free, including blocks reserved for root
	AvailBytes uint64 // free to unprivileged users
	Files      uint64
	FilesFree  uint64
	ReadOnly   bool // ST_RDONLY
}

// Probe is what one probe learned about a mount.
type Probe struct {
	// Lstat holds, for each path asked about, the error of os.Lstat: nil
	// when the path exists. A path missing from the map was not looked at
	// (see Check).
	Lstat map[string]error
	// Measured says statfs ran, which it does only when at least one of
	// the paths exists.
	Measured bool
	Stats    Stats
	Err      error // the statfs error, when Measured
}

// Result is the outcome of one Check.
type Result struct {
	Probe // empty when Stuck
	// Stuck says the mount did not answer in time. Err is set as well when
	// it was the caller's context, not the timeout, that ended the wait.
	Stuck bool
	// BecameStuck is set on the first Result reporting the mount stuck
	// since it last answered; Recovered on the first answer after that.
	// They let the caller log a change once.
	BecameStuck, Recovered bool
}

// Checker runs probes and remembers the ones that hang. One Checker is
// meant to outlive the callers that use it (a collector hands it to its
// successor at a reload), so that a mount still hung when the
// configuration is reloaded stays known and is not probed again.
type Checker struct {
	// Statfs and Lstat are the system calls a probe makes. Tests replace
	// them, e.g. with a function that blocks, to act out a hung mount.
	Statfs func(path string) (Stats, error)
	Lstat  func(path string) (fs.FileInfo, error)

	mu      sync.Mutex
	pending map[string]*call // probes still running, by mount point
	stuck   map[string]bool  // mount points reported stuck, until they answer
}

type call struct {
	deadline time.Time
	done     chan struct{} // closed once probe is set
	probe    Probe
}

// New returns a Checker making the real system calls.
func New() *Checker {
	return &Checker{
		Statfs:  statfs,
		Lstat:   os.Lstat,
		pending: map[string]*call{},
		stuck:   map[string]bool{},
	}
}

// Check probes the file system mounted at mountpoint: it calls Lstat on
// each of paths (which should be on that file system) and, if one exists,
// Statfs on mountpoint. It waits at most timeout, or until ctx is done.
//
// When an earlier probe of mountpoint is still running, Check starts no
// new one: it waits for that probe until its own deadline (the time it
// started plus the timeout it was given), which has usually passed, so
// the mount is reported stuck at once. A probe that answers late is
// dropped, and the next Check probes the mount afresh. A probe joined
// this way may have been asked about other paths (a configuration
// reload changed them); those paths are missing from Probe.Lstat.
func (c *Checker) Check(ctx context.Context, mountpoint string, paths []string, timeout time.Duration) Result {
	c.mu.Lock()
	cl := c.pending[mountpoint]
	if cl == nil {
		cl = &call{deadline: time.Now().Add(timeout), done: make(chan struct{})}
		c.pending[mountpoint] = cl
		go c.run(mountpoint, cl, slices.Clone(paths))
	}
	c.mu.Unlock()

	timer := time.NewTimer(time.Until(cl.deadline))
	defer timer.Stop()
	select {
	case <-cl.done:
		return c.answered(mountpoint, cl.probe)
	case <-timer.C:
	case <-ctx.Done():
	}
	select { // an answer that came with the timer still counts
	case <-cl.done:
		return c.answered(mountpoint, cl.probe)
	default:
	}
	if time.Now().Before(cl.deadline) {
		// The caller gave up first: the mount has not yet had its time,
		// so it is not declared stuck (no BecameStuck), only unanswered.
		return Result{Stuck: true, Probe: Probe{Err: ctx.Err()}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Result{Stuck: true}
	if !c.stuck[mountpoint] {
		c.stuck[mountpoint] = true
		r.BecameStuck = true
	}
	return r
}

func (c *Checker) answered(mountpoint string, p Probe) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Result{Probe: p}
	if c.stuck[mountpoint] {
		delete(c.stuck, mountpoint)
		r.Recovered = true
	}
	return r
}

// run is the probe's goroutine. It may block for ever in a system call.
func (c *Checker) run(mountpoint string, cl *call, paths []string) {
	p := Probe{Lstat: make(map[string]error, len(paths))}
	for _, path := range paths {
		_, err := c.Lstat(path)
		p.Lstat[path] = err
		p.Measured = p.Measured || err == nil
	}
	if p.Measured {
		p.Stats, p.Err = c.Statfs(mountpoint)
	}
	cl.probe = p
	c.mu.Lock()
	if c.pending[mountpoint] == cl {
		delete(c.pending, mountpoint)
	}
	c.mu.Unlock()
	close(cl.done)
}

// Outstanding returns how many probes are still running, hung or not.
func (c *Checker) Outstanding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
