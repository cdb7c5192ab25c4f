package quarantine

import (
	"encoding/binary"
	"errors"
	"strconv"

	"golang.org/x/sys/unix"
)

// watchMask is what makes a watched folder's totals stale: an entry
// created, deleted, renamed in or out, a file written and closed, or a
// changed mode, owner, link count or time (of the folder or a file in it),
// and the folder itself moved or deleted.
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// watcher is an index's inotify instance: with it, a rescan takes a
// watched folder whose parent did not change as it was without a system
// call. Whatever it cannot vouch for (no watch left, events lost) is
// checked by its lstat as without it.
type watcher struct {
	fd   int              // the inotify instance; -1 when none could be made
	byWD map[int32]string // watch -> folder, as of the last scan
	err  error            // the first failure to watch a folder since the last scan
}

// inotifyAddWatch is unix.InotifyAddWatch; tests make it run out of
// watches.
var inotifyAddWatch = unix.InotifyAddWatch

func newWatcher() *watcher {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return &watcher{fd: -1, err: err}
	}
	return &watcher{fd: fd, byWD: map[int32]string{}}
}

func (w *watcher) close() {
	if w != nil && w.fd >= 0 {
		_ = unix.Close(w.fd)
		w.fd = -1
	}
}

// add watches the open folder fd (through /proc, so that it is the
// folder opened, not whatever its path names now) and returns the watch,
// or 0 when it cannot be watched (the kernel's fs.inotify.max_user_watches
// reached): that folder is then checked by its lstat.
func (w *watcher) add(fd int) (int32, error) {
	if w.fd < 0 {
		return 0, nil
	}
	var buf [32]byte
	path := strconv.AppendInt(append(buf[:0], "/proc/self/fd/"...), int64(fd), 10)
	return w.addWatch(string(path), watchMask) // the link in /proc is followed to the folder
}

// addPath watches the folder path names now, not following a link.
func (w *watcher) addPath(path string) (int32, error) {
	return w.addWatch(path, watchMask|unix.IN_DONT_FOLLOW)
}

func (w *watcher) addWatch(path string, mask uint32) (int32, error) {
	if w.fd < 0 {
		return 0, nil
	}
	wd, err := inotifyAddWatch(w.fd, path, mask)
	if err != nil {
		return 0, err
	}
	return int32(wd), nil
}

// drain reads the events queued since the last scan and calls changed
// with the folder of each; it returns true when the kernel's queue
// overflowed (events were lost).
func (w *watcher) drain(changed func(dir string, gone bool)) (lost bool) {
	if w.fd < 0 {
		return false
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if n <= 0 || err != nil { // EAGAIN: nothing more
			return lost
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			wd := int32(binary.NativeEndian.Uint32(buf[off:]))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			off += unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(buf[off+12:]))
			if mask&unix.IN_Q_OVERFLOW != 0 {
				lost = true
				continue
			}
			dir, known := w.byWD[wd]
			if !known {
				continue // a watch removed since
			}
			gone := mask&unix.IN_IGNORED != 0 // the kernel dropped the watch
			if gone {
				delete(w.byWD, wd)
			}
			changed(dir, gone)
		}
	}
}

// update makes the watches those of the folders now known, and removes
// the others (folders moved out of the quarantine still exist): those of
// the last scan, and those added in this one (added) that no folder kept
// (a folder replaced between its watch and its lstat).
func (w *watcher) update(dirs map[string]*dirTotals, added []int32) {
	if w.fd < 0 {
		return
	}
	now := make(map[int32]string, len(dirs))
	for dir, d := range dirs {
		if d.wd == 0 {
			continue
		}
		if _, dup := now[d.wd]; dup {
			d.wd = 0 // one folder under two paths: the events go to one, the other is checked by lstat
			continue
		}
		now[d.wd] = dir
	}
	for wd := range w.byWD {
		if _, keep := now[wd]; !keep {
			_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
		}
	}
	for _, wd := range added {
		if _, keep := now[wd]; !keep {
			if _, old := w.byWD[wd]; !old {
				_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
			}
		}
	}
	w.byWD = now
}
