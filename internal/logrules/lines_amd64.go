//go:build amd64 && !purego

package logrules

import (
	"slices"

	"golang.org/x/sys/cpu"
)

// haveIndexes: indexesAVX2 runs here.
var haveIndexes = cpu.X86.HasAVX2 && cpu.X86.HasPOPCNT

// indexesAVX2 stores the index of each c in b from index from on into
// out (see lines_amd64.s): n of them, up to stop (len(b), or where out
// was full).
//
//go:noescape
func indexesAVX2(b []byte, c byte, from int, out []int) (n, stop int)

// appendIndexes appends the index of each c in b to out. Searching for
// one after the other costs a call of IndexByte each (a line's end, a
// sweep's stop), a good part of matching a mail log; this finds every c
// of 32 bytes at once.
func appendIndexes(b []byte, c byte, out []int) []int {
	if !haveIndexes {
		return appendIndexesGeneric(b, c, out)
	}
	for from := 0; ; {
		if cap(out)-len(out) < 32 { // 32 bytes hold at most 32: always progress
			out = slices.Grow(out, max(64, len(b)/64))
		}
		n, stop := indexesAVX2(b, c, from, out[len(out):cap(out)])
		out = out[:len(out)+n]
		if stop >= len(b) {
			return out
		}
		from = stop
		out = slices.Grow(out, cap(out))
	}
}
