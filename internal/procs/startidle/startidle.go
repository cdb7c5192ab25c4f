// Package startidle puts the Go runtime on one CPU (GOMAXPROCS=1) before
// the other packages initialise, unless the GOMAXPROCS variable is set.
// Only the command imports it; procs.Manage then applies
// --runtime.gomaxprocs, given CPUs.
//
// Why so early: a runtime that starts on every CPU and is lowered to one
// once the flags are parsed keeps what the second processor touched while
// the packages initialised and the collectors were built (its allocation
// caches, its share of the heap's pages): 0.4-0.6 MiB more resident
// memory at rest on two CPUs (docs/benchmarks.md, "Idle RSS").
//
// Packages are initialised in the order of their import paths, each once
// its own imports are: this one imports only runtime and syscall, so it
// runs before anything heavy (procfs, client_golang, protobuf, yaml).
package startidle

import (
	"runtime"
	"syscall"
)

// CPUs is the number of CPUs the runtime chose at start: the machine's, or
// the container's quota, or the GOMAXPROCS variable.
var CPUs = runtime.GOMAXPROCS(0)

// Lowered tells whether init put the runtime on one CPU.
var Lowered bool

func init() {
	if _, set := syscall.Getenv("GOMAXPROCS"); !set && CPUs > 1 {
		runtime.GOMAXPROCS(1)
		Lowered = true
	}
}
