//go:build !linux

package statfs

import (
	"errors"
	"io/fs"
)

// statfs is only implemented for Linux, where the exporter runs.
func statfs(path string) (Stats, error) {
	return Stats{}, &fs.PathError{Op: "statfs", Path: path, Err: errors.ErrUnsupported}
}
