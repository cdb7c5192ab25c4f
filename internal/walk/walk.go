// Package walk visits every regular file under a folder with several
// goroutines, without following symbolic links, and goes on past folders
// it cannot read. Each file is stat'ed relative to its open folder
// (fstatat), and each folder opened relative to its open parent (openat)
// while the parent is still open, which spares the kernel a lookup of
// every component of the path.
package walk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	// subfolders (the caller's to keep: the walk does not change them)
	// and how many of its entries could not be read.
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
	} else {
		root = filepath.Clean(root)
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return Result{}, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	_ = unix.Close(fd)
	w := &walker{ctx: ctx, visit: visit, dirs: dirs, todo: []task{{path: root}}, own: make([]scratch, workers),
		workers: workers}
	for i := range w.own {
		w.own[i].buf = make([]byte, bufSize)
	}
	w.cond = sync.NewCond(&w.mu)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lowerPriority()
			w.own[i].ran = time.Now()
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
	ctx     context.Context
	visit   Visit
	dirs    Dirs      // may be nil
	own     []scratch // each worker's
	workers int

	mu   sync.Mutex
	cond *sync.Cond
	todo []task // folders not read yet
	busy int    // workers reading a folder
	held int    // folders kept open for their subfolders' openat
	res  Result
}

// scratch is what one worker reuses from folder to folder: a walk
// allocates nothing per file and little per folder (a heap allocation is
// a page fault per 4 KiB on first use, which costs more than the system
// calls around it on some virtual machines).
type scratch struct {
	buf          []byte    // getdents records
	ran          time.Time // when the worker last let the scheduler run
	spare        bool      // a processor was seen left for the scrapes: no yield in this walk
	name         []byte    // a NUL-terminated path or name
	st, lst, dst unix.Stat_t
}

// pause lets Go's scheduler run once pauseEvery has passed since the last
// time, so that the walking goroutine is never the one the runtime has
// to preempt.
func (sc *scratch) pause() {
	if now := time.Now(); now.Sub(sc.ran) > pauseEvery {
		sc.ran = now
		runtime.Gosched()
	}
}

// pauseEvery is under the 10 ms after which Go's monitor thread preempts
// a goroutine that kept its processor. For the walker, locked to its
// thread, a preemption costs more than a step aside: a signal, the
// processor taken from it in a system call, and the monitor polling every
// 20 µs again for the next millisecond. Over a 200,000-file, ten-level
// walk that was 1,430-1,930 monitor wake-ups and 1,850-2,300 context
// switches; stepping aside every 4-8 ms, 126-143 and 660-800.
var pauseEvery = 5 * time.Millisecond // a variable for tests

// task is a folder to read: its path and, while it is open, its parent.
type task struct {
	path   string
	parent *openDir // nil: the folder is reached by its path
}

// openDir is a folder kept open until each of its subfolders has been
// opened (or stat'ed) relative to it.
type openDir struct {
	fd   int
	refs int // subfolders not yet opened; under walker.mu
}

// maxHeld bounds the folders a walk keeps open for their subfolders: a
// walk goes depth first, so this is about the depth of the tree (times
// the workers). Deeper, subfolders are opened by their path.
const maxHeld = 64

// work takes folders until there are none left and no worker can add any.
func (w *walker) work(id int) {
	for {
		w.mu.Lock()
		for len(w.todo) == 0 && w.busy > 0 {
			w.cond.Wait()
		}
		if len(w.todo) == 0 || w.ctx.Err() != nil {
			for _, t := range w.todo {
				w.release(t.parent)
			}
			w.todo = nil
			w.cond.Broadcast()
			w.mu.Unlock()
			return
		}
		t := w.todo[len(w.todo)-1]
		w.todo = w.todo[:len(w.todo)-1]
		w.busy++
		w.mu.Unlock()

		w.own[id].pause()
		subdirs, fd, errs := w.readDir(id, t)

		w.mu.Lock()
		w.busy--
		w.res.Dirs++
		w.note(errs)
		var parent *openDir
		if fd >= 0 && len(subdirs) > 0 && w.held < maxHeld && w.ctx.Err() == nil {
			parent = &openDir{fd: fd, refs: len(subdirs)}
			w.held++
			fd = -1
		}
		for _, s := range subdirs {
			w.todo = append(w.todo, task{path: s, parent: parent})
		}
		w.cond.Broadcast()
		w.mu.Unlock()
		if fd >= 0 {
			_ = unix.Close(fd)
		}
	}
}

// release is called under w.mu once a subfolder of p no longer needs it;
// the last one closes it.
func (w *walker) release(p *openDir) {
	if p == nil {
		return
	}
	if p.refs--; p.refs == 0 {
		_ = unix.Close(p.fd)
		w.held--
	}
}

// done says that t's parent is no longer needed.
func (w *walker) done(t task) {
	if t.parent != nil {
		w.mu.Lock()
		w.release(t.parent)
		w.mu.Unlock()
	}
}

// at returns the folder and path that reach t: its name relative to its
// open parent, or its whole path, NUL-terminated in the worker's buffer
// (for a system call; the NUL is just past the returned slice).
func (w *walker) at(id int, t task) (int, []byte) {
	dirfd, path := unix.AT_FDCWD, t.path
	if t.parent != nil {
		dirfd, path = t.parent.fd, path[strings.LastIndexByte(path, '/')+1:]
	}
	b := append(append(w.own[id].name[:0], path...), 0)
	w.own[id].name = b
	return dirfd, b[:len(path)]
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

// readDir visits the files of one folder and returns its subfolders and,
// when it was opened, its descriptor (the caller closes it). Entries that
// vanish while being read (a message released from quarantine) are not
// errors. The entries are decoded from getdents64 records in place: a
// folder of a million files costs no allocation per file beyond
// fstatat's own.
func (w *walker) readDir(id int, t task) (subdirs []string, fd int, errs []error) {
	my := &w.own[id]
	fd, subdirs, known, err := w.open(id, t, &my.lst)
	w.done(t)
	switch {
	case known:
		return subdirs, -1, nil
	case errors.Is(err, unix.ENOENT):
		return nil, -1, nil
	case err != nil:
		return nil, -1, []error{&fs.PathError{Op: "open", Path: t.path, Err: err}}
	}
	dir := t.path
	if w.dirs == nil {
		subdirs, errs = w.readEntries(id, fd, dir)
		return subdirs, fd, errs
	}
	// What is read is what the open descriptor shows, whatever the path
	// showed a moment before.
	dst := &my.dst
	if err := unix.Fstat(fd, dst); err != nil {
		return nil, fd, []error{&fs.PathError{Op: "stat", Path: dir, Err: err}}
	}
	if *dst != my.lst {
		if known, subdirs := w.dirs.Enter(id, dir, dst); known {
			return subdirs, fd, nil
		}
	}
	w.dirs.Reading(id, dir, fd)
	subdirs, errs = w.readEntries(id, fd, dir)
	if w.ctx.Err() == nil {
		w.dirs.Done(id, dir, dst, subdirs, len(errs))
	}
	return subdirs, fd, errs
}

// open opens the folder of t, unless the caller knows it: a folder the
// caller remembers is first asked about by its lstat alone, and an
// unchanged one is then never opened, which makes a rescan one system
// call per folder instead of three (open, fstat, close). lst receives
// that lstat (zero when none was made).
func (w *walker) open(id int, t task, lst *unix.Stat_t) (fd int, subdirs []string, known bool, err error) {
	*lst = unix.Stat_t{}
	if len(t.path) >= unix.PathMax {
		// Too long to open by its path, which a rescan might have to
		// do: refused whichever way it is reached, for every scan to
		// count the same.
		return -1, nil, false, unix.ENAMETOOLONG
	}
	if w.dirs != nil {
		known, subdirs, remembered := w.dirs.Vouch(id, t.path)
		if known {
			return -1, subdirs, true, nil
		}
		if remembered {
			dirfd, name := w.at(id, t)
			switch err := fstatat(dirfd, name, lst); {
			case errors.Is(err, unix.ENOENT):
				return -1, nil, false, err
			case err == nil && lst.Mode&unix.S_IFMT == unix.S_IFDIR:
				if known, subdirs := w.dirs.Enter(id, t.path, lst); known {
					return -1, subdirs, true, nil
				}
			}
		}
	}
	dirfd, name := w.at(id, t)
	fd, err = openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	return fd, nil, false, err
}

// readEntries visits the files of the open folder fd and returns its
// subfolders.
func (w *walker) readEntries(id, fd int, dir string) (subdirs []string, errs []error) {
	buf, st := w.own[id].buf, &w.own[id].st
	// When the walk takes every processor Go has, it steps aside now and
	// then for the goroutines serving scrapes. Only then: a goroutine
	// locked to its thread that yields hands its processor over through
	// the kernel (futex wake-ups, context switches), which cost a
	// ten-level 200,000-file tree a third more time than du; otherwise
	// it steps aside only every pauseEvery. Asked per folder until a
	// processor is seen spare (the caller may raise GOMAXPROCS once the
	// walk has work, Dirs.Enter, and lowers it only after the walk):
	// runtime.GOMAXPROCS takes the scheduler's lock.
	sc := &w.own[id]
	if !sc.spare {
		sc.spare = w.workers < runtime.GOMAXPROCS(0)
	}
	yield := !sc.spare
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
			if seen%256 == 255 {
				if yield {
					runtime.Gosched() // let the goroutines serving scrapes run
				} else {
					w.own[id].pause()
				}
			}
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			typ := buf[off+18]
			name := buf[off+19 : off+reclen]
			name = name[:bytes.IndexByte(name, 0)]
			off += reclen
			if string(name) == "." || string(name) == ".." {
				continue
			}
			isDir, err := w.entry(id, fd, dir, name, typ, st)
			switch {
			case isDir:
				if subdirs == nil {
					subdirs = make([]string, 0, 4) // most folders have few
				}
				subdirs = append(subdirs, join(dir, name))
			case err != nil:
				errs = append(errs, err)
			}
		}
		if w.ctx.Err() != nil {
			return nil, errs
		}
		if yield {
			runtime.Gosched()
		}
	}
}

// join is filepath.Join(dir, name) for a clean dir and a name without a
// slash, in one allocation.
func join(dir string, name []byte) string {
	sep := 1
	if strings.HasSuffix(dir, "/") {
		sep = 0 // the root folder
	}
	b := make([]byte, len(dir)+sep+len(name))
	copy(b, dir)
	if sep == 1 {
		b[len(dir)] = '/'
	}
	copy(b[len(dir)+sep:], name)
	return unsafe.String(&b[0], len(b))
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
