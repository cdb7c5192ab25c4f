//go:build !unix

package fileid

import (
	"errors"
	"io/fs"
	"os"
)

func devIno(fs.FileInfo) (dev, ino uint64) { return 0, 0 }

// openRegular has no non-blocking open here; the type is still checked on
// the open file.
func openRegular(path string, noFollow bool) (*os.File, fs.FileInfo, error) {
	if noFollow {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, nil, notRegular(path, fs.ModeSymlink)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, fi.Mode())
	}
	return f, fi, nil
}

// OpenDir opens a folder for listing, refusing anything else.
func OpenDir(path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("not a folder")}
	}
	return os.Open(path)
}
