// Package walk visits every regular file under a folder with several
// goroutines, without following symbolic links, and goes on past folders
// it cannot read. Each file is stat'ed relative to its open folder
// (fstatat), which spares the kernel a path lookup per file.
package walk

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Visit is called for each regular file, from several goroutines at once;
// worker (0 <= worker < workers) lets the caller keep one tally per
// goroutine instead of locking.
type Visit func(worker int, dir, name string, st *unix.Stat_t)

// Result says how a walk went.
type Result struct {
	Dirs   int     // folders read
	Errors int     // folders or files that could not be read
	First  []error // the first few of those errors
}

const keepErrors = 5

// batch is how many entries are read from a folder at a time, so that a
// folder of a million files is not held in memory at once. After each
// batch the walker yields its processor: a walk must not keep the
// goroutines serving scrapes waiting for a CPU.
const batch = 128

// Walk visits the regular files under root with the given number of
// goroutines. It returns an error only when root itself cannot be read
// (fs.ErrNotExist when it is absent) or ctx ends the walk.
func Walk(ctx context.Context, root string, workers int, visit Visit) (Result, error) {
	if workers < 1 {
		workers = 1
	}
	// The root must be a folder that can be read: anything else is the
	// caller's error, not one of the walk's.
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return Result{}, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	_ = unix.Close(fd)
	w := &walker{ctx: ctx, visit: visit, todo: []string{root}}
	w.cond = sync.NewCond(&w.mu)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(i)
		}()
	}
	wg.Wait()
	return w.res, ctx.Err()
}

type walker struct {
	ctx   context.Context
	visit Visit

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

// readDir visits the files of one folder and returns its subfolders.
// Entries that vanish while being read (a message released from
// quarantine) are not errors.
func (w *walker) readDir(id int, dir string) (subdirs []string, errs []error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, nil
		}
		return nil, []error{&fs.PathError{Op: "open", Path: dir, Err: err}}
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	var st unix.Stat_t
	for {
		entries, err := f.ReadDir(batch)
		for _, e := range entries {
			switch t := e.Type(); {
			case t.IsDir():
				subdirs = append(subdirs, filepath.Join(dir, e.Name()))
			case t.IsRegular():
				err := unix.Fstatat(fd, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW)
				switch {
				case err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG:
					w.visit(id, dir, e.Name(), &st)
				case err != nil && !errors.Is(err, unix.ENOENT):
					errs = append(errs, &fs.PathError{Op: "stat", Path: filepath.Join(dir, e.Name()), Err: err})
				}
			}
			// symbolic links, sockets, fifos, devices: not messages
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			return subdirs, errs
		}
		if err != nil {
			return subdirs, append(errs, err)
		}
		if w.ctx.Err() != nil {
			return nil, errs
		}
		runtime.Gosched()
	}
}
