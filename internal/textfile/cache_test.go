package textfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeAtomic(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func values(t testing.TB, s *Snapshot) string {
	t.Helper()
	var out []string
	for _, mf := range s.Families {
		for _, m := range mf.Metric {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			out = append(out, fmt.Sprintf("%s=%g", seriesString(mf.GetName(), m), v))
		}
	}
	return strings.Join(out, " ")
}

func oneDir(dir string) []Dir { return []Dir{{Name: "/tf", Path: dir}} }

// An unchanged folder is neither read nor parsed again, and the snapshot
// itself is reused.
func TestCacheUnchangedNotReparsed(t *testing.T) {
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "a.prom"), "a 1\n")
	writeAtomic(t, filepath.Join(dir, "b.prom"), "b 2\n")
	c := NewCache(Options{})
	first := c.Scan(oneDir(dir))
	if got := c.Stats(); got.Parses != 2 || got.Reads != 2 || got.Merges != 1 {
		t.Fatalf("first scan: %+v", got)
	}
	for range 5 {
		if s := c.Scan(oneDir(dir)); s != first {
			t.Fatal("unchanged folder gave a new snapshot")
		}
	}
	if got := c.Stats(); got.Parses != 2 || got.Reads != 2 || got.Merges != 1 {
		t.Errorf("after unchanged scans: %+v, want no more reads, parses or merges", got)
	}
	if got := values(t, first); got != "a=1 b=2" {
		t.Errorf("values: %s", got)
	}
}

// A change of modification time, of size, or of inode alone makes the
// file read again; the other files are not.
func TestCacheChangeDetection(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.prom"), filepath.Join(dir, "b.prom")
	writeAtomic(t, a, "a 1\n")
	writeAtomic(t, b, "b 2\n")
	c := NewCache(Options{})
	c.Scan(oneDir(dir))
	parses := func() int { return c.Stats().Parses }

	// Same content, same inode, new mtime.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(a, later, later); err != nil {
		t.Fatal(err)
	}
	c.Scan(oneDir(dir))
	if parses() != 3 {
		t.Errorf("mtime change: %d parses, want 3", parses())
	}

	// In place, same mtime restored, different size.
	if err := os.WriteFile(a, []byte("a 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a, later, later); err != nil {
		t.Fatal(err)
	}
	s := c.Scan(oneDir(dir))
	if parses() != 4 || values(t, s) != "a=10 b=2" {
		t.Errorf("size change: %d parses, %s", parses(), values(t, s))
	}

	// Replaced by rename: same size, same mtime, other inode.
	writeAtomic(t, a, "a 20\n")
	if err := os.Chtimes(a, later, later); err != nil {
		t.Fatal(err)
	}
	s = c.Scan(oneDir(dir))
	if parses() != 5 || values(t, s) != "a=20 b=2" {
		t.Errorf("inode change: %d parses, %s", parses(), values(t, s))
	}

	// Removed: gone from the snapshot, nothing parsed.
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	s = c.Scan(oneDir(dir))
	if parses() != 5 || values(t, s) != "b=2" || len(s.Files) != 1 {
		t.Errorf("removal: %d parses, %s, %v", parses(), values(t, s), s.Files)
	}
}

// A file replaced by rename while it is being read is read whole, as it
// was when opened; the next scan reads the new one.
func TestCacheRenameDuringRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.prom")
	old := "# HELP a Old file.\n" + strings.Repeat("a{i=\"x\"} 1\n", 1)
	writeAtomic(t, path, old)
	t.Cleanup(func() { testHookBeforeRead = nil })
	replaced := false
	testHookBeforeRead = func(p string) {
		if p == path && !replaced {
			replaced = true
			writeAtomic(t, path, "# HELP a New file.\na{i=\"y\"} 2\nb 3\n")
		}
	}
	c := NewCache(Options{})
	s := c.Scan(oneDir(dir))
	if !replaced {
		t.Fatal("hook did not run")
	}
	if got := values(t, s); got != `a{i="x"}=1` || s.Families[0].GetHelp() != "Old file." {
		t.Errorf("scan during the rename served %s (%q), want the old file whole", got, s.Families[0].GetHelp())
	}
	if s.Failed() {
		t.Errorf("failed: %+v", s.Files)
	}
	s = c.Scan(oneDir(dir))
	if got := values(t, s); got != `a{i="y"}=2 b=3` {
		t.Errorf("next scan served %s, want the new file", got)
	}
}

// Files over the limit are refused before reading; a file that grows past
// the limit while being read is refused without reading more than
// limit+1 bytes.
func TestCacheSizeLimit(t *testing.T) {
	dir := t.TempDir()
	big, small := filepath.Join(dir, "big.prom"), filepath.Join(dir, "small.prom")
	writeAtomic(t, big, strings.Repeat("big 1\n", 20)) // 120 bytes
	writeAtomic(t, small, "small 1\n")
	c := NewCache(Options{MaxFileSize: 100})
	s := c.Scan(oneDir(dir))
	if got := c.Stats(); got.Reads != 1 {
		t.Errorf("reads = %d, want 1: the big file must not be read", got.Reads)
	}
	if !s.Failed() || values(t, s) != "small=1" {
		t.Errorf("snapshot: %s %+v", values(t, s), s.Files)
	}
	if err := s.Files[0].Err; err == nil || !strings.Contains(err.Error(), "more than the limit of 100") || s.Files[0].Path != "/tf/big.prom" {
		t.Errorf("big file: %+v", s.Files[0])
	}

	// Growing while read.
	grow := filepath.Join(dir, "grow.prom")
	if err := os.Remove(big); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, grow, "grow 1\n")
	t.Cleanup(func() { testHookBeforeRead = nil })
	testHookBeforeRead = func(p string) {
		if p != grow {
			return
		}
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := f.WriteString(strings.Repeat("grow 1\n", 1000)); err != nil {
			t.Error(err)
		}
	}
	s = c.Scan(oneDir(dir))
	var st FileStatus
	for _, f := range s.Files {
		if f.Path == "/tf/grow.prom" {
			st = f
		}
	}
	if st.Err == nil || !strings.Contains(st.Err.Error(), "grew past the limit") || st.Served {
		t.Errorf("growing file: %+v", st)
	}
}

// An absent folder is quiet; a folder that is a file is an error.
func TestCacheFolders(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeAtomic(t, file, "x")
	c := NewCache(Options{})
	s := c.Scan([]Dir{{Name: "/absent", Path: filepath.Join(dir, "absent")}})
	if s.Failed() || len(s.Families) != 0 {
		t.Errorf("absent folder: %+v", s)
	}
	s = c.Scan([]Dir{{Name: "/file", Path: file}})
	if !s.Failed() || len(s.Errors) != 1 || !strings.Contains(s.Errors[0].Error(), "folder /file") {
		t.Errorf("file as folder: %v", s.Errors)
	}
	if strings.Contains(s.Errors[0].Error(), dir) {
		t.Errorf("error names the path under the root, not the host path: %v", s.Errors[0])
	}
}

// A bad file stays refused without being parsed at every scan; once fixed
// it is served.
func TestCacheBadFileCached(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.prom")
	writeAtomic(t, path, "a 1 12345\n")
	c := NewCache(Options{})
	for range 3 {
		if s := c.Scan(oneDir(dir)); !s.Failed() || s.Files[0].Served {
			t.Fatalf("timestamped file served: %+v", s.Files)
		}
	}
	if got := c.Stats().Parses; got != 1 {
		t.Errorf("bad unchanged file parsed %d times", got)
	}
	writeAtomic(t, path, "a 1\n")
	if s := c.Scan(oneDir(dir)); s.Failed() || values(t, s) != "a=1" {
		t.Errorf("fixed file: %+v", s.Files)
	}
}

// Concurrent scans (concurrent scrapes) are safe; run with -race.
func TestCacheConcurrentScans(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(Options{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				writeAtomic(t, filepath.Join(dir, fmt.Sprintf("w%d.prom", w)), fmt.Sprintf("m{w=\"%d\"} %d\n", w, i))
				s := c.Scan(oneDir(dir))
				for _, mf := range s.Families {
					_ = mf.String() // read everything
				}
			}
		}()
	}
	wg.Wait()
	if s := c.Scan(oneDir(dir)); values(t, s) != `m{w="0"}=19 m{w="1"}=19 m{w="2"}=19 m{w="3"}=19` {
		t.Errorf("final: %s", values(t, s))
	}
}

func TestExpand(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"var/lib/a/textfile", "var/lib/b/textfile", "var/lib/c"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := Expand(root, []string{"/var/lib/*/textfile", "/var/lib/a/textfile/", "/missing", "/nomatch/*"})
	want := []Dir{
		{Name: "/var/lib/a/textfile", Path: filepath.Join(root, "var/lib/a/textfile")},
		{Name: "/var/lib/b/textfile", Path: filepath.Join(root, "var/lib/b/textfile")},
		{Name: "/missing", Path: filepath.Join(root, "missing")},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Expand = %v\nwant %v", got, want)
	}
	if got := Expand("/", []string{"/x"}); got[0].Path != "/x" {
		t.Errorf("root /: %v", got)
	}
}

// The merged families of a snapshot are shared and never modified by a
// later scan that changes other files.
func TestCacheSnapshotsImmutable(t *testing.T) {
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "a.prom"), "# TYPE m gauge\nm{f=\"a\"} 1\n")
	c := NewCache(Options{})
	s1 := c.Scan(oneDir(dir))
	before := s1.Families[0].String()
	writeAtomic(t, filepath.Join(dir, "b.prom"), "# HELP m Now with help.\n# TYPE m gauge\nm{f=\"b\"} 2\n")
	s2 := c.Scan(oneDir(dir))
	if s1.Families[0].String() != before {
		t.Errorf("old snapshot changed: %s", s1.Families[0])
	}
	if got := values(t, s2); got != `m{f="a"}=1 m{f="b"}=2` || s2.Families[0].GetHelp() != "Now with help." {
		t.Errorf("merged: %s %q", got, s2.Families[0].GetHelp())
	}
}

// textfile.max_series: files are taken in order; one that would pass the
// cap is refused whole, the next that fits is still served, and freeing
// room serves the refused file again.
func TestCacheMaxSeries(t *testing.T) {
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "a.prom"), "a{x=\"1\"} 1\na{x=\"2\"} 2\n")
	// A histogram of two buckets (+Inf added) with _sum and _count: 5.
	writeAtomic(t, filepath.Join(dir, "b.prom"), "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 2\nh_sum 3\nh_count 2\n")
	writeAtomic(t, filepath.Join(dir, "c.prom"), "c 1\n")
	c := NewCache(Options{MaxSeries: 6})
	s := c.Scan(oneDir(dir))
	if got := values(t, s); got != "a{x=\"1\"}=1 a{x=\"2\"}=2 c=1" {
		t.Errorf("served %s", got)
	}
	var refused []string
	for _, f := range s.Files {
		if !f.Served {
			refused = append(refused, filepath.Base(f.Path)+": "+errString(f.Err))
		}
	}
	if len(refused) != 1 || !strings.HasPrefix(refused[0], "b.prom: 5 series would take the textfiles past textfile.max_series (6; 2 served") {
		t.Errorf("refused %q", refused)
	}
	writeAtomic(t, filepath.Join(dir, "a.prom"), "")
	if s := c.Scan(oneDir(dir)); s.Failed() || len(s.Families) != 2 {
		t.Errorf("room freed, b.prom still refused: %d families, %+v", len(s.Families), s.Files)
	}
}
