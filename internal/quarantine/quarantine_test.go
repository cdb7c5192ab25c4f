package quarantine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestAmavis(t *testing.T) {
	for name, want := range map[string]string{
		"virus-xO5DU2adsn0Q":    "virus",
		"spam-0aF3kd0e-p2Z.gz":  "spam",
		"banned-L4ab_c7aRt1b":   "banned",
		"badh-abcDEF123456":     "bad_header",
		"clean-abcDEF123456.gz": "clean",
		"archive-abcDEF123456":  "archive",
		"unchecked-abcDEF12345": "unchecked",
		"spam-":                 "",
		"spam":                  "",
		"README":                "",
		"virusx-abc":            "",
		"":                      "",
		"Virus-abc":             "",
	} {
		if got := Amavis(name); got != want {
			t.Errorf("Amavis(%q) = %q, want %q", name, got, want)
		}
	}
}

func FuzzAmavis(f *testing.F) {
	for _, s := range []string{"virus-abc", "spam-x.gz", "badh-", "-", "README"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := Amavis(name)
		if got == "" {
			return
		}
		prefix, rest, _ := strings.Cut(name, "-")
		if amavisCategories[prefix] != got || rest == "" {
			t.Fatalf("Amavis(%q) = %q, but its prefix is %q", name, got, prefix)
		}
	})
}

// The big tree is made once and shared by the tests that read it.
var (
	bigOnce sync.Once
	big     *bigTree
)

// bigTree is a generated amavis quarantine and what it must count.
type bigTree struct {
	root   string
	cats   map[string]Counts
	oldest time.Time
	err    error
}

const bigFiles = 200_000

// bigPrefixes are the file kinds of the big tree, in turn.
var bigPrefixes = []struct{ prefix, cat, suffix string }{
	{"spam", "spam", ".gz"}, {"spam", "spam", ""}, {"virus", "virus", ""}, {"banned", "banned", ""},
	{"badh", "bad_header", ""}, {"clean", "clean", ".gz"}, {"junk", Unclassified, ""}, {"spam", "spam", ""},
}

// bigSize is the size of file i: most are empty, which spares the file
// system a block per file and keeps the test's set-up fast; one in seven
// has 1..99 bytes.
func bigSize(i int) int {
	if i%7 != 0 {
		return 0
	}
	return 1 + i%99
}

// makeBigTree writes bigFiles small files in 16 subfolders, named like
// amavisd-new names them, with sizes 0..99 bytes, and one old message.
// Four goroutines write, one per group of subfolders.
func makeBigTree() *bigTree {
	dir, err := os.MkdirTemp(bigTreeParent(), "quarantine-test")
	if err != nil {
		return &bigTree{err: err}
	}
	b := &bigTree{root: dir, cats: map[string]Counts{}, oldest: time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC)}
	for i := range 16 {
		if err := os.Mkdir(filepath.Join(dir, fmt.Sprintf("%x", i)), 0o755); err != nil {
			return &bigTree{err: err}
		}
	}
	for i := range bigFiles {
		p := bigPrefixes[i%len(bigPrefixes)]
		c := b.cats[p.cat]
		c.Messages++
		c.Bytes += int64(bigSize(i))
		b.cats[p.cat] = c
	}
	const writers = 4
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, 100)
			for i := range bigFiles {
				if i%16%writers != w {
					continue
				}
				p := bigPrefixes[i%len(bigPrefixes)]
				name := filepath.Join(dir, fmt.Sprintf("%x", i%16), p.prefix+"-"+strconv.Itoa(1e12+i)+p.suffix)
				if err := os.WriteFile(name, payload[:bigSize(i)], 0o644); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return &bigTree{err: err}
	}
	// i=23: i%16=7 and i%8=7 -> "spam-<1e12+23>"
	if err := os.Chtimes(filepath.Join(dir, "7", "spam-"+strconv.Itoa(1e12+23)), b.oldest, b.oldest); err != nil {
		return &bigTree{err: err}
	}
	return b
}

// bigTreeParent is where the big tree goes: RAM-backed /dev/shm when it
// is there, since creating 200k files on a busy disk takes a minute and
// the test is about counting them, not about the disk; else the usual
// temporary folder.
func bigTreeParent() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() && unix.Access("/dev/shm", unix.W_OK) == nil {
		return "/dev/shm"
	}
	return os.TempDir()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big != nil && big.root != "" {
		os.RemoveAll(big.root)
	}
	os.Exit(code)
}

func bigQuarantine(t *testing.T) *bigTree {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no 200k-file tree")
	}
	bigOnce.Do(func() { big = makeBigTree() })
	if big.err != nil {
		t.Fatal(big.err)
	}
	return big
}

// diskBytes is what du would say: st_blocks*512 of every regular file,
// summed by a plain filepath.WalkDir, not by the code under test.
func diskBytes(t *testing.T, root string) int64 {
	t.Helper()
	var sum int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum += info.Sys().(*syscall.Stat_t).Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestScanBigQuarantineExact(t *testing.T) {
	b := bigQuarantine(t)
	wantDisk := diskBytes(t, b.root)
	for _, workers := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			res, err := Scan(context.Background(), b.root, Options{Classify: Amavis, MaxCategories: 20, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(res.Categories) != fmt.Sprint(b.cats) {
				t.Errorf("categories\n got %v\nwant %v", res.Categories, b.cats)
			}
			var total int64
			for _, c := range res.Categories {
				total += c.Messages
			}
			if total != bigFiles {
				t.Errorf("%d messages, want %d", total, bigFiles)
			}
			if res.DiskBytes != wantDisk {
				t.Errorf("disk bytes %d, du-style walk says %d", res.DiskBytes, wantDisk)
			}
			if !res.Oldest.Equal(b.oldest) {
				t.Errorf("oldest %v, want %v", res.Oldest, b.oldest)
			}
			if res.Walk.Dirs != 17 || res.Walk.Errors != 0 {
				t.Errorf("walk %+v, want 17 folders, no error", res.Walk)
			}
		})
	}
}

// The cap keeps the biggest categories and sums the rest as other; which
// ones are kept does not depend on the walk's order.
func TestScanBigQuarantineCapped(t *testing.T) {
	b := bigQuarantine(t)
	re := regexp.MustCompile(`^(?P<category>[a-z]+)-`)
	res, err := Scan(context.Background(), b.root, Options{Classify: Regexp(re), MaxCategories: 3, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Categories) != 3 {
		t.Fatalf("categories %v, want 3", res.Categories)
	}
	spam := b.cats["spam"]
	if res.Categories["spam"] != spam {
		t.Errorf("spam %v, want %v (the biggest category is kept)", res.Categories["spam"], spam)
	}
	var total int64
	for _, c := range res.Categories {
		total += c.Messages
	}
	if total != bigFiles {
		t.Errorf("%d messages after capping, want %d", total, bigFiles)
	}
	if _, ok := res.Categories[Other]; !ok {
		t.Error("no other category")
	}
}

func TestScanEmptyAndUnclassified(t *testing.T) {
	root := t.TempDir()
	res, err := Scan(context.Background(), root, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Categories) != 0 || !res.Oldest.IsZero() || res.DiskBytes != 0 {
		t.Errorf("empty quarantine: %+v", res)
	}
	if err := os.WriteFile(filepath.Join(root, "msg"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = Scan(context.Background(), root, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Categories[Unclassified] != (Counts{Messages: 1, Bytes: 5}) {
		t.Errorf("no classifier: %v", res.Categories)
	}
}

func TestCapCategoriesFoldsExistingOther(t *testing.T) {
	got := capCategories(map[string]Counts{
		"a": {3, 30}, "b": {2, 20}, "c": {1, 10}, Other: {5, 50},
	}, 2)
	want := map[string]Counts{"a": {3, 30}, Other: {8, 80}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
