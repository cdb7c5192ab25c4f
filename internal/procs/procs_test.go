package procs

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// reset undoes Manage for the next test.
func reset(t *testing.T) {
	n := runtime.GOMAXPROCS(0)
	after := idleAfter
	idleAfter = 0
	t.Cleanup(func() {
		idleAfter = after
		mu.Lock()
		idleN, busiest, busy = 0, 0, 0
		mu.Unlock()
		runtime.GOMAXPROCS(n)
	})
}

// One P while idle; all of them while any holder is busy, overlapping
// holders included; back to one when the last lets go; a release called
// twice counts once.
func TestBusyRaisesAndIdleLowers(t *testing.T) {
	reset(t)
	runtime.GOMAXPROCS(4)
	Manage(1, 4)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("idle: GOMAXPROCS %d, want 1", got)
	}
	if got := Busiest(); got != 4 {
		t.Errorf("Busiest %d, want 4", got)
	}
	a := Busy()
	b := Busy()
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Errorf("busy: GOMAXPROCS %d, want 4", got)
	}
	a()
	a()
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Errorf("one of two released (twice): GOMAXPROCS %d, want 4", got)
	}
	b()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("all released: GOMAXPROCS %d, want 1", got)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { Busy()() })
	}
	wg.Wait()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("after concurrent holders: GOMAXPROCS %d, want 1", got)
	}
}

// With a delay, the Ps are lowered only once nobody was busy for it: work
// that comes back to back does not stop the world at each turn.
func TestLoweredAfterTheDelay(t *testing.T) {
	reset(t)
	idleAfter = 50 * time.Millisecond
	runtime.GOMAXPROCS(2)
	Manage(1, 2)
	Busy()()
	release := Busy() // back to back: still 2
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("busy again within the delay: GOMAXPROCS %d, want 2", got)
	}
	release()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("just released: GOMAXPROCS %d, want 2 until the delay passed", got)
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.GOMAXPROCS(0) != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never lowered after the delay")
		}
	}
}

// Unmanaged (tests, an operator's GOMAXPROCS, one CPU), Busy changes
// nothing.
func TestUnmanaged(t *testing.T) {
	reset(t)
	runtime.GOMAXPROCS(3)
	Manage(0, 3)
	Busy()()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("unmanaged: GOMAXPROCS %d, want 3", got)
	}
	runtime.GOMAXPROCS(1)
	Manage(1, 1) // one CPU: nothing to manage
	release := Busy()
	if got := runtime.GOMAXPROCS(0); got != 1 || Busiest() != 1 {
		t.Errorf("one CPU: GOMAXPROCS %d, Busiest %d", got, Busiest())
	}
	release()
}

// Started on one CPU (package startidle) and told not to manage, the
// runtime gets its default back, not the one CPU it was lowered to.
func TestUnmanagedGivesTheDefaultBack(t *testing.T) {
	reset(t)
	runtime.SetDefaultGOMAXPROCS()
	cpus := runtime.GOMAXPROCS(0)
	if cpus < 2 {
		t.Skip("one CPU: nothing was lowered")
	}
	for _, idle := range []int{0, cpus, cpus + 1} {
		runtime.GOMAXPROCS(1)
		Manage(idle, cpus)
		if got := runtime.GOMAXPROCS(0); got != cpus {
			t.Errorf("--runtime.gomaxprocs=%d: GOMAXPROCS %d, want the default %d", idle, got, cpus)
		}
	}
	// Managed while something was already busy: every CPU until released.
	runtime.GOMAXPROCS(1)
	release := Busy()
	Manage(1, cpus)
	if got := runtime.GOMAXPROCS(0); got != cpus {
		t.Errorf("managed while busy: GOMAXPROCS %d, want %d", got, cpus)
	}
	release()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("released: GOMAXPROCS %d, want 1", got)
	}
}
