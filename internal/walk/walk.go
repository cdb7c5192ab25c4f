// Package walk visits every regular file under a folder with several
// goroutines, without following symbolic links, and goes on past folders
// it cannot read. Each file is stat'ed relative to its open folder
// (fstatat), which spares the kernel a path lookup per file.
package walk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Visit is called for each regular file, from several goroutines at once;
// worker (0 <= worker < workers) lets the caller keep one tally per
// goroutine instead of locking. name is only valid during the call.
type Visit func(worker int, dir, name string, st *unix.Stat_t)

// Result says how a walk went.
type Result struct {
	Dirs   int     // folders read
	Errors int     // folders or files that could not be read
	First  []error // the first few of those errors
}

const keepErrors = 5

// Dirs lets a caller that remembers folders from an earlier walk skip
// reading those that did not change. Both methods are called from several
// goroutines at once, for different folders.
type Dirs interface {
	// Vouch is asked first, before any system call: known when the
	// caller can tell the folder unchanged without looking (inotify);
	// remembered when it read the folder before (only then is it
	// lstat'ed for Enter before it is opened).
	Vouch(worker int, dir string) (known bool, subdirs []string, remembered bool)
	// Enter is called with a folder's lstat (by path, before the folder
	// is opened) and, when that did not make it known and the open
	// descriptor's fstat differs, again with that fstat, before its
	// entries are read. When it returns known, the folder's files are not
	// visited and subdirs (what Done was given for it) are walked instead;
	// otherwise Done follows.
	Enter(worker int, dir string, st *unix.Stat_t) (known bool, subdirs []string)
	// Reading is called with the open folder's descriptor when Enter did
	// not know it, before its entries are read.
	Reading(worker int, dir string, fd int)
	// Done is called after a folder Enter did not know was read: its
	// subfolders and how many of its entries could not be read.
	Done(worker int, dir string, st *unix.Stat_t, subdirs []string, errs int)
}

// Walk visits the regular files under root with the given number of
// goroutines. It returns an error only when root itself cannot be read
// (fs.ErrNotExist when it is absent) or ctx ends the walk.
func Walk(ctx context.Context, root string, workers int, visit Visit) (Result, error) {
	return WalkDirs(ctx, root, workers, visit, nil)
}

// WalkDirs is Walk, asking dirs (when not nil) before reading each folder.
func WalkDirs(ctx context.Context, root string, workers int, visit Visit, dirs Dirs) (Result, error) {
	if workers < 1 {
		workers = 1
	}
	// The root itself may be a symbolic link (a quarantine moved to a
	// bigger disk); links below it are not followed. It must be a folder
	// that can be read: anything else is the caller's error, not one of
	// the walk's.
	if resolved, err := filepath.EvalSymlinks(root); err == nil {
		root = resolved
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return Result{}, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	_ = unix.Close(fd)
	w := &walker{ctx: ctx, visit: visit, dirs: dirs, todo: []string{root}, bufs: make([][]byte, workers),
		yield: workers >= runtime.GOMAXPROCS(0)}
	for i := range w.bufs {
		w.bufs[i] = make([]byte, bufSize)
	}
	w.cond = sync.NewCond(&w.mu)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lowerPriority()
			w.work(i)
		}()
	}
	wg.Wait()
	return w.res, ctx.Err()
}

// lowerPriority renices the calling goroutine's OS thread to 10, so that
// when a walk and a scrape both want a CPU the kernel prefers the scrape.
// The goroutine keeps the thread locked until it exits, which ends the
// thread: no lowered thread goes back to Go's pool.
func lowerPriority() {
	runtime.LockOSThread()
	if err := setpriority(unix.PRIO_PROCESS, unix.Gettid(), 10); err != nil {
		reniceErr.CompareAndSwap(nil, &err)
	}
}

// setpriority is unix.Setpriority; a test makes it fail, as a seccomp
// filter denying it (systemd's SystemCallFilter=~@resources) would.
var setpriority = unix.Setpriority

// reniceErr is the first failure to lower a walking thread's priority.
var reniceErr atomic.Pointer[error]

// ReniceError returns the first failure to lower a walking thread's
// priority in this process (nil while none failed): the walks then compete
// with scrapes for the CPU at full priority, which the caller should say.
func ReniceError() error {
	if p := reniceErr.Load(); p != nil {
		return *p
	}
	return nil
}

type walker struct {
	ctx   context.Context
	visit Visit
	dirs  Dirs     // may be nil
	bufs  [][]byte // one getdents buffer per worker
	// yield: the walk takes every processor Go has, so it steps aside now
	// and then for the goroutines serving scrapes. Only then: a goroutine
	// locked to its thread that yields hands its processor over through
	// the kernel (futex wake-ups, context switches), which cost a
	// ten-level 200,000-file tree a third more time than du.
	yield bool

	mu   sync.Mutex
	cond *sync.Cond
	todo []string // folders not read yet
	busy int      // workers reading a folder
	res  Result
}

// work takes folders until there are none left and no worker can add any.
func (w *walker) work(id int) {
	for {
		w.mu.Lock()
		for len(w.todo) == 0 && w.busy > 0 {
			w.cond.Wait()
		}
		if len(w.todo) == 0 || w.ctx.Err() != nil {
			w.todo = nil
			w.cond.Broadcast()
			w.mu.Unlock()
			return
		}
		dir := w.todo[len(w.todo)-1]
		w.todo = w.todo[:len(w.todo)-1]
		w.busy++
		w.mu.Unlock()

		subdirs, errs := w.readDir(id, dir)

		w.mu.Lock()
		w.busy--
		w.res.Dirs++
		w.note(errs)
		w.todo = append(w.todo, subdirs...)
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

func (w *walker) note(errs []error) {
	w.res.Errors += len(errs)
	for _, err := range errs {
		if len(w.res.First) < keepErrors {
			w.res.First = append(w.res.First, err)
		}
	}
}

// bufSize is the getdents buffer of each worker: about 1,500 amavis
// file names per system call.
const bufSize = 64 << 10

// readDir visits the files of one folder and returns its subfolders.
// Entries that vanish while being read (a message released from
// quarantine) are not errors. The entries are decoded from getdents64
// records in place: a folder of a million files costs no allocation per
// file beyond fstatat's own.
func (w *walker) readDir(id int, dir string) (subdirs []string, errs []error) {
	// A folder the caller knows is first asked about by its lstat alone:
	// an unchanged one is then never opened, which makes a rescan one
	// system call per folder instead of three (open, fstat, close).
	var lst unix.Stat_t
	if w.dirs != nil {
		known, subdirs, remembered := w.dirs.Vouch(id, dir)
		if known {
			return subdirs, nil
		}
		if remembered {
			switch err := unix.Fstatat(unix.AT_FDCWD, dir, &lst, unix.AT_SYMLINK_NOFOLLOW); {
			case errors.Is(err, unix.ENOENT):
				return nil, nil
			case err == nil && lst.Mode&unix.S_IFMT == unix.S_IFDIR:
				if known, subdirs := w.dirs.Enter(id, dir, &lst); known {
					return subdirs, nil
				}
			}
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, nil
		}
		return nil, []error{&fs.PathError{Op: "open", Path: dir, Err: err}}
	}
	defer unix.Close(fd)
	if w.dirs == nil {
		return w.readEntries(id, fd, dir)
	}
	// What is read is what the open descriptor shows, whatever the path
	// showed a moment before.
	var dst unix.Stat_t
	if err := unix.Fstat(fd, &dst); err != nil {
		return nil, []error{&fs.PathError{Op: "stat", Path: dir, Err: err}}
	}
	if dst != lst {
		if known, subdirs := w.dirs.Enter(id, dir, &dst); known {
			return subdirs, nil
		}
	}
	w.dirs.Reading(id, dir, fd)
	subdirs, errs = w.readEntries(id, fd, dir)
	if w.ctx.Err() == nil {
		w.dirs.Done(id, dir, &dst, subdirs, len(errs))
	}
	return subdirs, errs
}

// readEntries visits the files of the open folder fd and returns its
// subfolders.
func (w *walker) readEntries(id, fd int, dir string) (subdirs []string, errs []error) {
	buf := w.bufs[id]
	var st unix.Stat_t
	for {
		n, err := unix.Getdents(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return subdirs, append(errs, &fs.PathError{Op: "getdents", Path: dir, Err: err})
		}
		if n <= 0 {
			return subdirs, errs
		}
		for off, seen := 0, 0; off < n; seen++ {
			if w.yield && seen%256 == 255 {
				runtime.Gosched() // let the goroutines serving scrapes run
			}
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			typ := buf[off+18]
			name := buf[off+19 : off+reclen]
			name = name[:bytes.IndexByte(name, 0)]
			off += reclen
			if string(name) == "." || string(name) == ".." {
				continue
			}
			isDir, err := w.entry(id, fd, dir, name, typ, &st)
			switch {
			case isDir:
				subdirs = append(subdirs, filepath.Join(dir, string(name)))
			case err != nil:
				errs = append(errs, err)
			}
		}
		if w.ctx.Err() != nil {
			return nil, errs
		}
		if w.yield {
			runtime.Gosched()
		}
	}
}

// entry visits one folder entry if it is a regular file and tells
// whether it is a folder. Symbolic links, sockets, FIFOs and devices are
// not messages. The name handed to visit lives in the getdents buffer:
// visit must copy what it keeps.
func (w *walker) entry(id, fd int, dir string, name []byte, typ uint8, st *unix.Stat_t) (bool, error) {
	switch typ {
	case unix.DT_DIR:
		return true, nil
	case unix.DT_REG, unix.DT_UNKNOWN: // some file systems do not fill d_type
	default:
		return false, nil
	}
	err := fstatat(fd, name, st)
	sname := unsafe.String(&name[0], len(name))
	switch {
	case errors.Is(err, unix.ENOENT):
		return false, nil
	case err != nil:
		return false, &fs.PathError{Op: "stat", Path: filepath.Join(dir, sname), Err: err}
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return true, nil
	case st.Mode&unix.S_IFMT == unix.S_IFREG:
		w.visit(id, dir, sname, st)
	}
	return false, nil
}
