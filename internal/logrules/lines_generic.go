//go:build !amd64 || purego

package logrules

// appendIndexes appends the index of each c in b to out.
func appendIndexes(b []byte, c byte, out []int) []int { return appendIndexesGeneric(b, c, out) }
