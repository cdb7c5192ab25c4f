package tail

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// reader polls a Follower and keeps every line it was handed.
type reader struct {
	t         *testing.T
	f         *Follower
	lines     []string
	truncated int
}

func newReader(t *testing.T, path string, opts Options, saved *State) *reader {
	r := &reader{t: t, f: New(path, opts, saved)}
	t.Cleanup(r.f.Close)
	return r
}

func (r *reader) poll() {
	r.t.Helper()
	if _, err := r.f.Poll(func(line []byte, trunc bool) {
		r.lines = append(r.lines, string(line))
		if trunc {
			r.truncated++
		}
	}); err != nil {
		r.t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func wantCount(t *testing.T, r *reader, want int) {
	t.Helper()
	if len(r.lines) != want {
		t.Fatalf("got %d lines, want %d: %q", len(r.lines), want, r.lines)
	}
	seen := map[string]bool{}
	for _, l := range r.lines {
		if seen[l] {
			t.Fatalf("line %q handed out twice", l)
		}
		seen[l] = true
	}
}

func TestStartAtEndSkipsOldLinesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	appendTo(t, path, numbered(0, 5))
	r := newReader(t, path, Options{StartAtEnd: true}, nil)
	r.poll()
	appendTo(t, path, numbered(5, 8))
	r.poll()
	wantCount(t, r, 3)
}

func TestStartAtEndCountsTheLineBeingWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	appendTo(t, path, numbered(0, 5)+"being wri")
	r := newReader(t, path, Options{StartAtEnd: true}, nil)
	r.poll()
	appendTo(t, path, "tten\n")
	r.poll()
	wantCount(t, r, 1)
	if r.lines[0] != "being written" {
		t.Fatalf("got %q", r.lines[0])
	}
}

func TestNotYetExistingFileIsReadWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	r := newReader(t, path, Options{StartAtEnd: true}, nil)
	r.poll()
	appendTo(t, path, numbered(0, 4))
	r.poll()
	wantCount(t, r, 4)
}

func TestRenameAndCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	appendTo(t, path, numbered(0, 3))
	r := newReader(t, path, Options{}, nil)
	r.poll()
	appendTo(t, path, numbered(3, 5)) // written before the rename, not yet read
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path+".1", numbered(5, 6)) // the daemon still writes to its old fd
	appendTo(t, path, numbered(6, 9))
	r.poll()
	wantCount(t, r, 9)
}

// TestCopyTruncate: the copy is cut to 0 and written again, shorter than
// the old offset, or longer before the next poll (seen by the fingerprint).
func TestCopyTruncate(t *testing.T) {
	for _, tc := range []struct{ before, after int }{{10, 2}, {2, 10}} {
		t.Run(fmt.Sprintf("%d-then-%d", tc.before, tc.after), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mail.log")
			appendTo(t, path, numbered(0, tc.before))
			r := newReader(t, path, Options{}, nil)
			r.poll()
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			appendTo(t, path, numbered(100, 100+tc.after))
			r.poll()
			wantCount(t, r, tc.before+tc.after)
		})
	}
}

func TestDeletedAndRecreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	appendTo(t, path, numbered(0, 3))
	r := newReader(t, path, Options{}, nil)
	r.poll()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r.poll() // nothing there: no error, nothing read
	if r.f.IsOpen() {
		t.Fatal("the deleted file is still held open")
	}
	appendTo(t, path, numbered(3, 7))
	r.poll()
	wantCount(t, r, 7)
}

func TestPartialLineHeldUntilComplete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	appendTo(t, path, "first\nsec")
	r := newReader(t, path, Options{}, nil)
	r.poll()
	wantCount(t, r, 1)
	if st, _ := r.f.State(); st.Offset != int64(len("first\n")) {
		t.Fatalf("committed offset %d is past the partial line", st.Offset)
	}
	appendTo(t, path, "ond\n")
	r.poll()
	wantCount(t, r, 2)
	if r.lines[1] != "second" {
		t.Fatalf("got %q", r.lines[1])
	}
}

func TestLongLineTruncatedNotHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	long := strings.Repeat("x", 10000)
	appendTo(t, path, "short\n"+long[:3000])
	r := newReader(t, path, Options{MaxLineBytes: 100, ChunkBytes: 512}, nil)
	r.poll()
	appendTo(t, path, long[3000:]+"\nafter\n")
	r.poll()
	wantCount(t, r, 3)
	if r.truncated != 1 || r.lines[1] != long[:100] || r.lines[2] != "after" {
		t.Fatalf("truncated=%d lines=%q", r.truncated, r.lines)
	}
	if cap(r.f.cur.long) > 100 || len(r.f.cur.buf) > 612 {
		t.Fatalf("held %d/%d bytes for a 10000-byte line", cap(r.f.cur.long), len(r.f.cur.buf))
	}
}

func TestGzipRotatedFilesIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(numbered(0, 50)))
	w.Close()
	if err := os.WriteFile(path+".2.gz", gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-20261122.gz", gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, numbered(50, 52))
	for _, n := range RotatedNames(path) {
		if IsCompressed(n) {
			t.Fatalf("rotated candidates include %s", n)
		}
	}
	r := newReader(t, path, Options{}, nil)
	r.poll()
	wantCount(t, r, 2)
}

// TestRestartWithRotationWhileDown: lines written before the stop, during
// the downtime before and after a rotation, and after the restart are all
// counted exactly once.
func TestRestartWithRotationWhileDown(t *testing.T) {
	for _, rotated := range []string{".1", ".0", "-20261123"} {
		t.Run(rotated, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			store := StateStore{Dir: filepath.Join(dir, "state")}
			if err := os.Mkdir(store.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := store.Writable(); err != nil {
				t.Fatal(err)
			}
			appendTo(t, path, numbered(0, 10)+"partial-")
			first := newReader(t, path, Options{}, nil)
			first.poll()
			st, _ := first.f.State()
			if err := store.Save(st); err != nil {
				t.Fatal(err)
			}
			first.f.Close()

			appendTo(t, path, "line 10\n"+numbered(11, 20)) // while down
			if err := os.Rename(path, path+rotated); err != nil {
				t.Fatal(err)
			}
			appendTo(t, path, numbered(20, 30)) // the new file, while down

			saved, err := store.Load(path)
			if err != nil || saved == nil {
				t.Fatalf("load: %v %v", saved, err)
			}
			second := newReader(t, path, Options{StartAtEnd: true}, saved)
			second.poll()
			appendTo(t, path, numbered(30, 35))
			second.poll()
			all := &reader{lines: append(first.lines, second.lines...)}
			wantCount(t, all, 35)
			if second.lines[0] != "partial-line 10" {
				t.Fatalf("the partial line at the stop came back as %q", second.lines[0])
			}
		})
	}
}

// TestRestartWithCopyTruncateWhileDown: the copy (a new inode) is found by
// its fingerprint, its remainder read, then the truncated file from 0.
func TestRestartWithCopyTruncateWhileDown(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	appendTo(t, path, numbered(0, 40)) // more than minCopyFingerprint bytes
	first := newReader(t, path, Options{}, nil)
	first.poll()
	st, _ := first.f.State()
	first.f.Close()
	appendTo(t, path, numbered(40, 45))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, numbered(45, 48))
	second := newReader(t, path, Options{StartAtEnd: true}, &st)
	second.poll()
	wantCount(t, &reader{lines: append(first.lines, second.lines...)}, 48)
}

func TestRestartSameFileResumes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	store := StateStore{Dir: dir}
	appendTo(t, path, numbered(0, 4))
	first := newReader(t, path, Options{}, nil)
	first.poll()
	st, _ := first.f.State()
	if err := store.Save(st); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, numbered(4, 9))
	saved, _ := store.Load(path)
	second := newReader(t, path, Options{StartAtEnd: true}, saved)
	second.poll()
	wantCount(t, second, 5)
}

func TestRestartRotatedFileGoneStartsNewFromZero(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	appendTo(t, path, numbered(0, 4))
	first := newReader(t, path, Options{}, nil)
	first.poll()
	st, _ := first.f.State()
	first.f.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, numbered(4, 6))
	second := newReader(t, path, Options{StartAtEnd: true}, &st)
	second.poll()
	wantCount(t, second, 2)
}

// FuzzSplit: however the bytes are cut into reads, the lines handed out
// are exactly those of a plain split (heads of over-long lines included).
func FuzzSplit(f *testing.F) {
	f.Add([]byte("a\nbb\nccc"), uint8(3), uint8(2))
	f.Add([]byte("\n\n\nxxxxxxxxxxxxxxxx\ny\n"), uint8(1), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, chunk, max uint8) {
		c, m := int(chunk%16)+1, int(max%16)+1
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fol := New(path, Options{ChunkBytes: c, MaxLineBytes: m}, nil)
		defer fol.Close()
		var got []string
		if _, err := fol.Poll(func(l []byte, _ bool) { got = append(got, string(l)) }); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(string(data), "\n")
		parts = parts[:len(parts)-1] // the unterminated rest is held
		if len(got) != len(parts) {
			t.Fatalf("%d lines, want %d", len(got), len(parts))
		}
		for i, p := range parts {
			if len(p) > m {
				p = p[:m]
			}
			if got[i] != p {
				t.Fatalf("line %d = %q, want %q", i, got[i], p)
			}
		}
	})
}

// Prune removes only the states of files that are gone and were saved
// long ago: a recent state of a missing file (between rotation and
// re-creation) and an old state of a file still there stay.
func TestStateStorePrune(t *testing.T) {
	logs, dir := t.TempDir(), t.TempDir()
	store := StateStore{Dir: dir}
	save := func(name string, age time.Duration) string {
		path := filepath.Join(logs, name)
		if err := store.Save(State{Path: path, Offset: 1}); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(store.file(path), when, when); err != nil {
			t.Fatal(err)
		}
		return path
	}
	goneOld := save("mail.log-20261001", 30*24*time.Hour)
	goneRecent := save("mail.log", time.Hour)
	presentOld := save("idle.log", 30*24*time.Hour)
	appendTo(t, presentOld, "x\n")
	bad := filepath.Join(dir, "tail-0000000000000000.json")
	if err := os.WriteFile(bad, []byte("{bad"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(bad, old, old); err != nil {
		t.Fatal(err)
	}
	n, err := store.Prune(7 * 24 * time.Hour)
	if n != 1 || err != nil {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	for path, kept := range map[string]bool{goneOld: false, goneRecent: true, presentOld: true} {
		if st, _ := store.Load(path); (st != nil) != kept {
			t.Errorf("%s: kept %v, want %v", path, st != nil, kept)
		}
	}
	if _, err := os.Stat(bad); err != nil {
		t.Errorf("an unreadable state was removed: %v", err)
	}
}

// rotate renames path to path+suffix and creates a new file at path, as
// logrotate's create mode does before it signals the daemon.
func rotate(t *testing.T, path, suffix, newText string) {
	t.Helper()
	if err := os.Rename(path, path+suffix); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, newText)
}

// TestRenamedFileReadAfterNewAppears: until the daemon is told to reopen
// its log, it writes to the renamed file; what it writes there after the
// new file appeared (a partial line completed there too) is counted once.
func TestRenamedFileReadAfterNewAppears(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clamav.log")
	appendTo(t, path, numbered(0, 3))
	r := newReader(t, path, Options{}, nil)
	r.poll()
	appendTo(t, path, "line 3 is being wri")
	rotate(t, path, ".1", numbered(100, 102))
	r.poll() // switches to the new file
	r.poll() // nothing new anywhere
	appendTo(t, path+".1", "tten\n"+numbered(4, 6)+"SIGHUP caught: re-opening log file.\n")
	r.poll()
	appendTo(t, path, numbered(102, 104))
	r.poll()
	wantCount(t, r, 3+1+2+1+4)
	if !slices.Contains(r.lines, "line 3 is being written") || !slices.Contains(r.lines, "SIGHUP caught: re-opening log file.") {
		t.Fatalf("lines written to the renamed file are missing: %q", r.lines)
	}
}

// TestRenamedFileLetGoAfterGrace: a renamed file unchanged for the grace
// period is closed, its unterminated last line handed out; one that keeps
// changing is kept.
func TestRenamedFileLetGoAfterGrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	appendTo(t, path, numbered(0, 2))
	r := newReader(t, path, Options{RotateGrace: time.Minute}, nil)
	clock := time.Unix(1_800_000_000, 0)
	r.f.now = func() time.Time { return clock }
	r.poll()
	rotate(t, path, ".1", "")
	r.poll()
	for range 3 { // written to every 40 s: kept
		clock = clock.Add(40 * time.Second)
		appendTo(t, path+".1", "x")
		r.poll()
		if len(r.f.rotated) != 1 {
			t.Fatalf("the renamed file was let go while it kept changing")
		}
	}
	clock = clock.Add(59 * time.Second)
	r.poll()
	if len(r.f.rotated) != 1 {
		t.Fatal("let go before the grace period")
	}
	clock = clock.Add(time.Second)
	r.poll()
	if len(r.f.rotated) != 0 {
		t.Fatal("still open after the grace period")
	}
	wantCount(t, r, 3)
	if r.lines[2] != "xxx" {
		t.Fatalf("the unterminated last line came out as %q", r.lines[2])
	}
	if st, _ := r.f.State(); len(st.Rotated) != 0 {
		t.Fatalf("a released file is still in the state: %+v", st.Rotated)
	}
}

// TestRestartWithinGrace: the saved state carries the renamed file's
// position; a restart in the grace period reads what was written there
// meanwhile (and the new file's lines) exactly once.
func TestRestartWithinGrace(t *testing.T) {
	for _, rotated := range []string{".1", "-20261130"} {
		t.Run(rotated, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			store := StateStore{Dir: dir}
			appendTo(t, path, numbered(0, 3))
			first := newReader(t, path, Options{}, nil)
			first.poll()
			rotate(t, path, rotated, numbered(100, 101))
			first.poll()
			appendTo(t, path+rotated, numbered(3, 5)+"part")
			first.poll()
			st, _ := first.f.State()
			if len(st.Rotated) != 1 || st.Rotated[0].Offset == 0 {
				t.Fatalf("state does not carry the renamed file: %+v", st)
			}
			if err := store.Save(st); err != nil {
				t.Fatal(err)
			}
			first.f.Close()

			appendTo(t, path+rotated, "ial\n"+numbered(5, 7)) // while down
			appendTo(t, path, numbered(101, 103))
			saved, err := store.Load(path)
			if err != nil || saved == nil {
				t.Fatalf("load: %v %v", saved, err)
			}
			second := newReader(t, path, Options{StartAtEnd: true}, saved)
			second.poll()
			appendTo(t, path+rotated, numbered(7, 8)) // after the restart
			second.poll()
			all := &reader{lines: append(first.lines, second.lines...)}
			wantCount(t, all, 8+1+3)
			if !slices.Contains(second.lines, "partial") {
				t.Fatalf("the line cut at the stop is missing: %q", second.lines)
			}
		})
	}
}

// TestRenamedBack: a renamed file that comes back to the path goes on
// where it was instead of being read again.
func TestRenamedBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	appendTo(t, path, numbered(0, 3))
	r := newReader(t, path, Options{}, nil)
	r.poll()
	rotate(t, path, ".1", numbered(10, 11))
	r.poll()
	if err := os.Rename(path+".1", path); err != nil { // replaces the new one
		t.Fatal(err)
	}
	appendTo(t, path, numbered(3, 4))
	r.poll()
	wantCount(t, r, 5)
}

// TestManyRotationsBounded: rotations faster than the grace period keep at
// most maxRotated renamed files open.
func TestManyRotationsBounded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	appendTo(t, path, "0\n")
	r := newReader(t, path, Options{}, nil)
	r.poll()
	for i := 1; i <= maxRotated+3; i++ {
		rotate(t, path, fmt.Sprintf(".r%d", i), fmt.Sprintf("%d\n", i))
		r.poll()
	}
	if len(r.f.rotated) != maxRotated {
		t.Fatalf("%d renamed files open, want %d", len(r.f.rotated), maxRotated)
	}
	wantCount(t, r, maxRotated+4)
}

// PollBlocks hands out the same lines as Poll, in blocks of whole lines
// each ending in '\n', an over-long line's head alone, and a renamed
// file's unterminated last line alone; the saved position is a line
// start after every poll, also inside an over-long line.
func TestPollBlocksSameLinesAsPoll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	long := strings.Repeat("x", 50)
	content := numbered(0, 40) + long + "\n\n" + numbered(40, 45) + long + long + "\n" + "tail"
	appendTo(t, path, content)
	opts := Options{MaxLineBytes: 32, ChunkBytes: 64, RotateGrace: time.Hour}
	want := newReader(t, path, opts, nil)
	want.poll()
	f := New(path, opts, nil)
	t.Cleanup(f.Close)
	var got []string
	truncated, renamed := 0, false
	poll := func() {
		if _, err := f.PollBlocks(func(block []byte, trunc bool) {
			switch {
			case trunc:
				truncated++
				got = append(got, string(block))
			case bytes.HasSuffix(block, []byte("\n")):
				got = append(got, strings.Split(string(block[:len(block)-1]), "\n")...)
			default:
				if bytes.IndexByte(block, '\n') >= 0 {
					t.Fatalf("unterminated block of several lines %q", block)
				}
				got = append(got, string(block))
			}
		}); err != nil {
			t.Fatal(err)
		}
		if st, ok := f.State(); ok && st.Offset > 0 && !renamed && content[st.Offset-1] != '\n' {
			t.Fatalf("saved offset %d is no line start", st.Offset)
		}
	}
	poll()
	if !slices.Equal(got, want.lines) || truncated != want.truncated {
		t.Fatalf("blocks gave %q (%d truncated), lines %q (%d)", got, truncated, want.lines, want.truncated)
	}
	if err := os.Rename(path, path+".1"); err != nil { // the last line "tail" is handed out once the file is let go
		t.Fatal(err)
	}
	renamed = true
	poll()
	if err := os.Remove(path + ".1"); err != nil { // let go at once, not after RotateGrace
		t.Fatal(err)
	}
	appendTo(t, path, "new\n")
	poll()
	poll()
	if last := got[len(got)-2:]; !slices.Contains(last, "tail") || !slices.Contains(last, "new") {
		t.Errorf("after the rename and removal: %q", got[len(got)-3:])
	}
}

// Lines of every length around MaxLineBytes, read in chunks of several
// sizes, come out as the plain reading says: each line whole, or its first
// MaxLineBytes marked truncated.
func TestSplitLineLengths(t *testing.T) {
	const maxLine = 16
	var content strings.Builder
	var want []string
	var wantTrunc int
	for i := 0; i < 300; i++ {
		n := (i * 7) % 53
		line := strings.Repeat(string(rune('a'+i%26)), n)
		content.WriteString(line + "\n")
		if n > maxLine {
			line, wantTrunc = line[:maxLine], wantTrunc+1
		}
		want = append(want, line)
	}
	for _, chunk := range []int{1, 5, 16, 17, 33, 64, 1000} {
		path := filepath.Join(t.TempDir(), "log")
		appendTo(t, path, content.String())
		r := newReader(t, path, Options{MaxLineBytes: maxLine, ChunkBytes: chunk}, nil)
		r.poll()
		if !slices.Equal(r.lines, want) || r.truncated != wantTrunc {
			t.Errorf("chunk %d: %d lines (%d truncated), want %d (%d)", chunk, len(r.lines), r.truncated, len(want), wantTrunc)
		}
	}
}

// A backlog grows the read buffer up to ChunkBytes (reads that fill their
// chunk double it); a log read as it grows keeps the first, small one.
func TestReadBufferGrowsForABacklog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	appendTo(t, path, numbered(0, 100000)) // ~1.1 MB
	r := newReader(t, path, Options{}, nil)
	r.poll()
	if len(r.lines) != 100000 {
		t.Fatalf("%d lines", len(r.lines))
	}
	if got := len(r.f.cur.buf) - DefaultMaxLineBytes; got != DefaultChunkBytes {
		t.Errorf("after a backlog the read size is %d, want %d", got, DefaultChunkBytes)
	}
	quiet := filepath.Join(dir, "quiet")
	appendTo(t, quiet, "one\n")
	q := newReader(t, quiet, Options{}, nil)
	q.poll()
	appendTo(t, quiet, "two\n")
	q.poll()
	if got := len(q.f.cur.buf) - DefaultMaxLineBytes; got != firstChunkBytes {
		t.Errorf("a quiet log reads %d at a time, want %d", got, firstChunkBytes)
	}
}
