package tail

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// StateStore keeps one State per followed path as a small JSON file in a
// folder, replaced atomically (temporary file, fsync, rename, fsync of the
// folder) so a crash leaves either the old or the new position, never a
// torn one.
type StateStore struct {
	Dir string
}

func (s StateStore) file(path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(s.Dir, "tail-"+hex.EncodeToString(sum[:8])+".json")
}

// Load returns the saved state of path, or nil when there is none.
func (s StateStore) Load(path string) (*State, error) {
	st, err := s.loadFile(s.file(path))
	if st != nil && st.Path != path {
		return nil, nil // a hash collision or a hand-edited file: start afresh
	}
	return st, err
}

// maxStateFile bounds a state file's read: a saved position is a few
// hundred bytes.
const maxStateFile = 1 << 20

// loadFile reads one state file; nil, nil when it does not exist or
// holds no usable state.
func (s StateStore) loadFile(name string) (*State, error) {
	// Our own file name: a link or a FIFO there was planted, and must
	// not hang the start or lead the read elsewhere.
	data, err := fileid.ReadRegularNoFollow(name, maxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", name, err)
	}
	if st.Path == "" || st.Offset < 0 {
		return nil, nil
	}
	return &st, nil
}

// Save writes st durably.
func (s StateStore) Save(st State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.file(st.Path), data)
}

// WriteFileAtomic replaces the file at path with data so that a crash
// leaves either the old or the new content: temporary file in the same
// folder, fsync, rename, fsync of the folder.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// Prune removes the saved states of files that are gone (a date-named
// log rotated away for good) and were last saved more than olderThan ago,
// so the folder does not grow by one file a day forever. A recent state is
// kept even when its file is missing: the file may be between rotation and
// re-creation, and the state finds the rotated file by its identity. It
// returns how many it removed; a state it cannot read is left alone.
func (s StateStore) Prune(olderThan time.Duration) (int, error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "tail-*.json"))
	if err != nil {
		return 0, err
	}
	cutoff, removed := time.Now().Add(-olderThan), 0
	var errs []error
	for _, name := range names {
		if fi, err := os.Stat(name); err != nil || fi.ModTime().After(cutoff) {
			continue
		}
		st, err := s.loadFile(name)
		if err != nil || st == nil || st.Cursor != "" { // a journal's cursor names no file
			continue
		}
		if _, err := os.Stat(st.Path); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.Remove(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// Writable checks the folder exists and takes a file (the logs collector
// creates a missing one first).
func (s StateStore) Writable() error {
	tmp, err := os.CreateTemp(s.Dir, ".probe-*")
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
