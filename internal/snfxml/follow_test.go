package snfxml

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type followStep struct {
	name    string
	change  func(t *testing.T, path string)
	wantIDs []string // snapshots handed over by this read
	wantErr bool
	noBytes bool // nothing may be read
}

func writeFile(t *testing.T, path, content string, flags int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|flags, 0o644)
	if err == nil {
		_, err = f.WriteString(content)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
}

func id(minute int) string { return fmt.Sprintf("n1|minute|202601021500%02d", minute) }

// TestFollower walks one path through appends, a pause mid-snapshot, a
// rewrite, a replacement and a removal.
func TestFollower(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n1.status.minute.log.xml")
	mtime := time.Now()
	touch := func(t *testing.T, p string) {
		mtime = mtime.Add(time.Second)
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	appendSnap := func(s string) func(*testing.T, string) {
		return func(t *testing.T, p string) { writeFile(t, p, s, os.O_APPEND); touch(t, p) }
	}
	third := snapshot("n1", 3, 3)
	steps := []followStep{
		{"two snapshots", appendSnap(snapshot("n1", 1, 1) + snapshot("n1", 2, 2)), []string{id(1), id(2)}, false, false},
		{"unchanged", func(*testing.T, string) {}, nil, false, true},
		{"half of the third", appendSnap(third[:20]), nil, false, false},
		{"half still unchanged", func(*testing.T, string) {}, nil, true, true},
		{"rest of the third", appendSnap(third[20:]), []string{id(3)}, false, false},
		{"rewritten, same size", func(t *testing.T, p string) {
			writeFile(t, p, snapshot("n1", 7, 1)+snapshot("n1", 8, 2)+snapshot("n1", 9, 3), os.O_TRUNC)
			touch(t, p)
		}, []string{id(7), id(8), id(9)}, false, false},
		{"shrunk", func(t *testing.T, p string) { writeFile(t, p, snapshot("n1", 10, 1), os.O_TRUNC); touch(t, p) }, []string{id(10)}, false, false},
		{"replaced by a new inode", func(t *testing.T, p string) {
			tmp := p + ".new"
			writeFile(t, tmp, snapshot("n1", 10, 1)+snapshot("n1", 11, 1), os.O_TRUNC)
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		}, []string{id(10), id(11)}, false, false},
		{"removed", func(t *testing.T, p string) { os.Remove(p) }, nil, false, true},
	}
	f := NewFollower(0)
	for _, st := range steps {
		st.change(t, path)
		var got []string
		stats, err := f.Read(path, func(s *Snapshot) bool { got = append(got, s.ID()); return true })
		if (err != nil) != st.wantErr {
			t.Errorf("%s: error %v, want error %v", st.name, err, st.wantErr)
		}
		if len(got) != len(st.wantIDs) || (len(got) > 0 && got[len(got)-1] != st.wantIDs[len(st.wantIDs)-1]) {
			t.Errorf("%s: read %v, want %v", st.name, got, st.wantIDs)
		}
		if st.noBytes && stats.BytesRead != 0 {
			t.Errorf("%s: %d bytes read, want none", st.name, stats.BytesRead)
		}
	}
	if f.Files() != 0 {
		t.Errorf("state kept for a removed file")
	}
}
