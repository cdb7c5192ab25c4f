//go:build !amd64 || purego

package logrules

// haveErrorPairs: no vector search on this architecture (arm64, or a
// purego build); nextErrorWord's SWAR loop does the work.
const haveErrorPairs = false

func errorPairs([]byte, int) (int, uint64) { panic("errorPairs: no vector search on this platform") }
