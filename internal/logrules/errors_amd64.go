//go:build amd64 && !purego

package logrules

import "golang.org/x/sys/cpu"

// haveErrorPairs: errorPairs runs here (AVX2).
var haveErrorPairs = cpu.X86.HasAVX2

// errorPairs looks at b 32 bytes at a time from index from (at least 1,
// as it reads the byte before each) while 33 bytes are left, for the
// places an error word may start: a byte that is no letter, then e or c
// followed by r, or f or p followed by a (in either case): the first two
// letters of error, critical, fatal and panic. It returns the offset of
// the first 32 bytes holding one with the mask of their places (bit k:
// off+k), or mask 0 and the offset where it stopped.
//
//go:noescape
func errorPairs(b []byte, from int) (off int, mask uint64)
