//go:build !amd64 || purego

package logrules

// appendNewlines appends the index of each '\n' of b to ends.
func appendNewlines(b []byte, ends []int) []int { return appendNewlinesGeneric(b, ends) }
