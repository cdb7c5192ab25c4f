package fileid

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"sync"

	"golang.org/x/sys/unix"
)

// direntBufs are getdents(2) buffers, reused: a listing allocates only
// the names it returns.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}

// SubdirNames lists the names of path's subfolders (not following
// symbolic links), in the order the file system gives them. It reads the
// folder with getdents(2) on a bare descriptor and keeps only folder
// entries: os.ReadDir makes and sorts an entry for every name, and the
// inventory's cgroup walk reads folders that hold thirty control files
// for each subfolder every scrape. The open cannot block (O_NONBLOCK,
// O_DIRECTORY: a FIFO is refused).
func SubdirNames(path string) ([]string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	var names []string
	for {
		n, err := unix.Getdents(fd, *bp)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		names = appendSubdirs(names, fd, (*bp)[:n])
	}
}

// appendSubdirs appends the folder entries of one getdents64 answer
// (records of ino u64, off s64, reclen u16, type u8, then the name and
// its NUL), skipping "." and "..". An entry of unknown type is asked
// about with fstatat on the folder's descriptor.
func appendSubdirs(names []string, dirfd int, buf []byte) []string {
	const nameAt = 19
	for len(buf) >= nameAt {
		reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
		if reclen < nameAt || reclen > len(buf) {
			return names // a record the kernel never writes: stop here
		}
		typ, name := buf[18], buf[nameAt:reclen]
		buf = buf[reclen:]
		if i := indexNUL(name); i >= 0 {
			name = name[:i]
		}
		if len(name) == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		if typ == unix.DT_UNKNOWN {
			var st unix.Stat_t
			if unix.Fstatat(dirfd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
				typ = unix.DT_DIR
			}
		}
		if typ == unix.DT_DIR {
			names = append(names, string(name))
		}
	}
	return names
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}
