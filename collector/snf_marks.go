package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/go-kit/log/level"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/snfxml"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/tail"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// snfMarks remembers, per node and snapshot class, the basetime of the
// newest snapshot counted. SNF writes a node's snapshots of a class in
// time order, so a snapshot no newer than the mark of an earlier run (or
// of the state a reload replaced) was counted by it: reading it again
// after a restart or a reload must not count it twice.
type snfMarks struct {
	prior map[string]time.Time // counted before this state began
	live  map[string]time.Time // prior plus what this state counted
	dirty bool                 // live changed since it was last saved
}

// snfMaxMarks bounds the marks (classes are second, minute and hour; a
// file inventing others must not grow the state without end).
const snfMaxMarks = snfMaxNodes * 4

// snfMaxMarksFile bounds the marks file's read, far above what
// snfMaxMarks marks take.
const snfMaxMarksFile = 1 << 20

func snfMarkKey(s *snfxml.Snapshot) string { return s.NodeID + "|" + s.Class }

func (m *snfMarks) countedBefore(s *snfxml.Snapshot) bool {
	t, ok := m.prior[snfMarkKey(s)]
	return ok && !s.BaseTime.After(t)
}

func (m *snfMarks) add(s *snfxml.Snapshot) {
	key := snfMarkKey(s)
	t, ok := m.live[key]
	if ok && !s.BaseTime.After(t) || !ok && len(m.live) >= snfMaxMarks {
		return
	}
	if m.live == nil {
		m.live = map[string]time.Time{}
	}
	m.live[key] = s.BaseTime
	m.dirty = true
}

// inherit returns the marks a new state starts with: all counted so far.
func (m snfMarks) inherit() snfMarks {
	n := snfMarks{prior: map[string]time.Time{}, live: map[string]time.Time{}}
	for k, t := range m.live {
		n.prior[k], n.live[k] = t, t
	}
	return n
}

// snfMarkStale: a mark this much older than the newest one is a node (or
// class) no longer written; it still guards its snapshots, but does not
// hold the history cutoff back.
const snfMarkStale = 7 * 24 * time.Hour

// oldest is the earliest prior mark of the nodes still written (zero when
// there is none): a file last written before it holds only snapshots
// counted already, or a stale node's that its own mark still guards.
func (m snfMarks) oldest() time.Time {
	var newest, oldest time.Time
	for _, t := range m.prior {
		if t.After(newest) {
			newest = t
		}
	}
	for _, t := range m.prior {
		if t.Before(newest.Add(-snfMarkStale)) {
			continue
		}
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return oldest
}

// snfMarksFile is the marks' file for root in the state folder.
type snfMarksFile struct {
	Root  string               `json:"root"`
	Marks map[string]time.Time `json:"marks"` // node|class -> basetime
}

func snfMarksPath(dir, root string) string {
	sum := sha256.Sum256([]byte(root))
	return filepath.Join(dir, "snf-"+hex.EncodeToString(sum[:8])+".json")
}

// loadSNFMarks reads the marks saved for root; none saved is no error.
func loadSNFMarks(dir, root string) (snfMarks, error) {
	// Our own file name: a link or a FIFO there was planted (see fileid).
	data, err := fileid.ReadRegularNoFollow(snfMarksPath(dir, root), snfMaxMarksFile)
	if errors.Is(err, fs.ErrNotExist) {
		return snfMarks{}, nil
	}
	if err != nil {
		return snfMarks{}, err
	}
	var f snfMarksFile
	if err := json.Unmarshal(data, &f); err != nil {
		return snfMarks{}, fmt.Errorf("%s: %w", snfMarksPath(dir, root), err)
	}
	if f.Root != root || len(f.Marks) > snfMaxMarks {
		return snfMarks{}, nil // a hash collision or a hand-edited file
	}
	return snfMarks{live: f.Marks}, nil
}

// saveMarks writes the marks when they changed (once per scrape that
// counted something: SNF writes a snapshot a minute or so). Called with
// c.mu held, before the counts are served, so what a scrape shows was
// saved as counted. A failure is logged and tried again next time.
func (c *snfCollector) saveMarks() {
	if c.store == nil || !c.marks.dirty {
		return
	}
	data, err := json.Marshal(snfMarksFile{Root: c.root, Marks: c.marks.live})
	if err == nil {
		err = tail.WriteFileAtomic(snfMarksPath(c.store.Dir, c.root), data)
	}
	if err != nil {
		_ = level.Warn(c.logger).Log("msg", "cannot save SNF marks; a restart may count recent snapshots again", "err", err)
		return
	}
	c.marks.dirty = false
}
