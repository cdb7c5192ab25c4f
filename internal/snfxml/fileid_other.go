//go:build !unix

package snfxml

import "io/fs"

// fileID is unknown here: a replaced file is recognised by its size and
// its first bytes only.
func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }
