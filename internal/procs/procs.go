// Package procs sets how many CPUs the Go runtime uses (GOMAXPROCS): one
// while the exporter only serves scrapes, every CPU while it works through
// a backlog (a log read from far behind, a quarantine scan).
//
// A scrape wakes a handful of goroutines; with a second P idle, each wake
// also wakes a thread to look for work, which on a VM costs more than the
// work: with one P the same scrape took 0.8-1.0 ms of CPU instead of
// 1.6-1.75 ms here, which is why node_exporter runs on one by default. A
// backlog, though, is matched on two CPUs at once, so the work that has
// it asks for every CPU while it lasts.
package procs

import (
	"runtime"
	"sync"
	"time"
)

var (
	mu      sync.Mutex
	busy    int // holders of Busy
	idleN   int // Ps while nobody is busy; 0: not managed
	busiest int // Ps while somebody is
	lower   *time.Timer
)

// idleAfter is how long the last release waits before lowering the Ps:
// each change stops the world, and work often comes back to back (scans
// of several quarantines, a log's rounds).
var idleAfter = 200 * time.Millisecond

// Manage makes the runtime use idle Ps while nothing is busy, and cpus
// (what the runtime chose at start: the CPUs, or the container's quota)
// while something is. idle < 1, or not below cpus, leaves the runtime at
// its default for good, giving it back if something lowered it before
// (package startidle). Called once, by main; without it Busy changes
// nothing (tests).
func Manage(idle, cpus int) {
	mu.Lock()
	defer mu.Unlock()
	if idleN > 0 {
		return
	}
	if idle < 1 || idle >= cpus {
		if runtime.GOMAXPROCS(0) != cpus {
			runtime.SetDefaultGOMAXPROCS()
		}
		return
	}
	idleN, busiest = idle, cpus
	if busy == 0 {
		runtime.GOMAXPROCS(idle)
	} else {
		runtime.GOMAXPROCS(cpus)
	}
}

// Busiest is the number of Ps a busy time gets: what a pool of workers
// should be sized by.
func Busiest() int {
	mu.Lock()
	defer mu.Unlock()
	if idleN > 0 {
		return busiest
	}
	return runtime.GOMAXPROCS(0)
}

// Busy gives the runtime every P until release is called (release may be
// called more than once; only the first counts).
func Busy() (release func()) {
	mu.Lock()
	busy++
	if busy == 1 && idleN > 0 && runtime.GOMAXPROCS(0) != busiest {
		runtime.GOMAXPROCS(busiest)
	}
	mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			busy--
			if busy > 0 || idleN == 0 {
				return
			}
			if idleAfter <= 0 {
				runtime.GOMAXPROCS(idleN)
				return
			}
			if lower == nil {
				lower = time.AfterFunc(idleAfter, lowerIfIdle)
			} else {
				lower.Reset(idleAfter)
			}
		})
	}
}

func lowerIfIdle() {
	mu.Lock()
	defer mu.Unlock()
	if busy == 0 && idleN > 0 {
		runtime.GOMAXPROCS(idleN)
	}
}
