// Package fileid opens files that come from outside the exporter (product
// folders, logs, globs, saved state) without letting them hold it, and
// names a file by its identity.
//
// Every reader of an outside file goes through OpenRegular (or OpenRegularFd,
// ReadRegular): the open cannot block (a FIFO with no writer, a device
// node), the type is checked on the open descriptor (no window between a
// stat and the open in which a name can be swapped), and anything that is
// not a regular file is refused with ErrNotRegular. /proc and /sys files
// are read the same way: --path.procfs and --path.sysfs may point at a
// copy, and the bare-descriptor reads are also the cheapest.
package fileid

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// ErrNotRegular is returned (wrapped, with the path and the type found)
// for a FIFO, socket, device or folder where a regular file was expected.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned by ReadRegular for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ID is what a file is: the device and inode name the file (a rotated or
// replaced file gets a new inode under the same name), the size and the
// modification time stand for its content. Dev and Ino are 0 where the
// system has no inodes to offer.
type ID struct {
	Dev, Ino uint64
	Size     int64
	Mtime    int64 // nanoseconds since the epoch
}

// Of returns the identity of a file from its FileInfo.
func Of(fi fs.FileInfo) ID {
	id := ID{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	id.Dev, id.Ino = devIno(fi)
	return id
}

// SameFile says whether a and b are the same file (device and inode),
// whatever its content now. Without inodes it is always false.
func (a ID) SameFile(b ID) bool {
	return a.Ino != 0 && a.Dev == b.Dev && a.Ino == b.Ino
}

// ModTime is the modification time as a time.Time.
func (a ID) ModTime() time.Time { return time.Unix(0, a.Mtime) }

// OpenRegular opens path for reading, following symbolic links. It never
// blocks on the open, and returns the file (in ordinary blocking mode) with
// its FileInfo taken from the descriptor, or an error wrapping
// ErrNotRegular when path is not a regular file.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	return openRegular(path, false)
}

// OpenRegularNoFollow is OpenRegular refusing a symbolic link as the last
// element of path: for paths the exporter chose itself (its state files),
// where a link can only have been planted.
func OpenRegularNoFollow(path string) (*os.File, fs.FileInfo, error) {
	return openRegular(path, true)
}

// ReadDir lists a folder like os.ReadDir (sorted by name), but opens it
// in a way that cannot block: a FIFO configured as a folder is refused at
// once instead of waiting for a writer.
func ReadDir(path string) ([]fs.DirEntry, error) {
	f, err := OpenDir(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// ReadRegular reads a whole regular file of at most limit bytes (limit <= 0:
// no limit), opened as OpenRegular does. A larger file is an error wrapping
// ErrTooLarge; nothing past limit+1 bytes is read.
func ReadRegular(path string, limit int64) ([]byte, error) {
	return readRegular(path, false, limit)
}

// ReadRegularNoFollow is ReadRegular with OpenRegularNoFollow.
func ReadRegularNoFollow(path string, limit int64) ([]byte, error) {
	return readRegular(path, true, limit)
}

// NotRegular is the error for a file of the wrong type, for callers that
// found it by a stat: an *fs.PathError whose Err reads "is a FIFO, not a
// regular file" and matches ErrNotRegular.
func NotRegular(path string, mode fs.FileMode) error { return notRegular(path, mode) }

func notRegular(path string, mode fs.FileMode) error {
	return &fs.PathError{Op: "open", Path: path, Err: typeError(typeName(mode))}
}

type typeError string

func (e typeError) Error() string        { return "is " + string(e) + ", not a regular file" }
func (e typeError) Is(target error) bool { return target == ErrNotRegular }

func typeName(mode fs.FileMode) string {
	switch t := mode.Type(); {
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	case t&fs.ModeDir != 0:
		return "a folder"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "type " + t.String()
	}
}
