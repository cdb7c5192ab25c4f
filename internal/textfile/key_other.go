//go:build !unix

package textfile

import "io/fs"

// fileKey identifies a file's content for the cache by size and
// modification time (no inode numbers here).
type fileKey struct {
	size  int64
	mtime int64 // nanoseconds
}

func keyOf(st fs.FileInfo) fileKey {
	return fileKey{size: st.Size(), mtime: st.ModTime().UnixNano()}
}
