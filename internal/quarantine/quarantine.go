// Package quarantine counts the messages held in a quarantine folder: by
// category (from the file name), their apparent and on-disk size, and the
// oldest one. It knows nothing about Prometheus.
package quarantine

import (
	"cmp"
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/labelvalue"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/walk"
)

// Category names the scanner gives on its own.
const (
	Unclassified = "unclassified" // no classifier, or the name did not match
	Other        = "other"        // beyond the category cap
)

// Classifier returns the category of a file from its name, or "".
type Classifier func(name string) string

// amavisCategories maps amavisd-new's file name prefixes (see the
// *_quarantine_method defaults: virus-%m, spam-%m.gz, banned-%m, badh-%m,
// clean-%m, archive-%m, unchecked-%m) to the verdict names the logs
// collector uses.
var amavisCategories = map[string]string{
	"virus":     "virus",
	"spam":      "spam",
	"banned":    "banned",
	"badh":      "bad_header",
	"clean":     "clean",
	"archive":   "archive",
	"unchecked": "unchecked",
}

// AmavisCategories lists the categories Amavis returns, sorted.
func AmavisCategories() []string {
	cats := slices.Collect(maps.Values(amavisCategories))
	slices.Sort(cats)
	return cats
}

// Amavis classifies amavisd-new's quarantine file names, with or without
// the .gz of compressed quarantine.
func Amavis(name string) string {
	prefix, rest, ok := strings.Cut(name, "-")
	if !ok || rest == "" {
		return ""
	}
	return amavisCategories[prefix]
}

// Regexp classifies by the group named "category" of re. The category is
// cut from a file name, which may be any bytes: it is made a valid label
// value here, so that two names cleaned alike share one category.
func Regexp(re *regexp.Regexp) Classifier {
	idx := re.SubexpIndex("category")
	return func(name string) string {
		m := re.FindStringSubmatch(name)
		if m == nil || idx < 0 {
			return ""
		}
		return labelvalue.Clean(m[idx])
	}
}

// Counts are the messages of one category.
type Counts struct {
	Messages int64
	Bytes    int64 // apparent size (st_size)
}

// Result is one scan of one quarantine.
type Result struct {
	Categories map[string]Counts
	DiskBytes  int64     // blocks used (st_blocks * 512)
	Oldest     time.Time // mtime of the oldest message; zero when empty
	Finished   time.Time
	Duration   time.Duration
	Walk       walk.Result // folders read, errors
	Reread     int         // folders whose files were read (the others were unchanged)
	Full       bool        // every folder was read
	Watched    int         // folders watched through inotify (the others are checked by lstat)
	Vouched    int         // folders taken as they were on inotify's word (not even lstat'ed)
	WatchErr   error       // why a folder read in this scan could not be watched (e.g. ENOSPC: no watch left)
}

// Options tune a scan.
type Options struct {
	Classify      Classifier // nil: every file is Unclassified
	MaxCategories int        // the biggest are kept, the rest summed as Other
	Workers       int

	// Busy, when set, is called once in a scan, before the first folder
	// it reads (not one it takes as it was), and what it returns when the
	// scan ends: the exporter raises its CPUs for a walk that has work,
	// not for a rescan that finds the quarantine unchanged.
	Busy func() (release func())
}

// maxPerWorker bounds the categories kept for one folder before new
// ones fold into Other, so a regex that yields the whole file name cannot
// grow memory with the quarantine.
const maxPerWorker = 1000

// tally is the files of the folder one goroutine is reading.
type tally struct {
	cats   map[string]*Counts
	disk   int64
	oldest int64 // unix nanoseconds, 0 for none
	readAt int64 // when the folder was opened, unix nanoseconds
	wd     int32 // its inotify watch, 0 for none
}

func (t *tally) add(cat string, st *unix.Stat_t) {
	c := t.cats[cat]
	if c == nil {
		// A category cut from the file name shares the walker's buffer:
		// the map keeps a copy. (Values are pointers so that the key is
		// only ever stored here: assigning to an existing string key
		// would store the new, borrowed string.)
		cat = strings.Clone(cat)
		if len(t.cats) >= maxPerWorker {
			cat = Other
		}
		if c = t.cats[cat]; c == nil {
			c = &Counts{}
			t.cats[cat] = c
		}
	}
	c.Messages++
	c.Bytes += st.Size
	t.disk += st.Blocks * 512
	if m := st.Mtim.Nano(); t.oldest == 0 || m < t.oldest {
		t.oldest = m
	}
}

// Scan walks root once, reading every folder.
func Scan(ctx context.Context, root string, opt Options) (*Result, error) {
	return (&Index{}).Scan(ctx, root, opt)
}

// capCategories keeps the max biggest categories (by messages, then
// name, so the choice does not depend on the walk's order) and sums the
// others as Other.
func capCategories(cats map[string]Counts, max int) map[string]Counts {
	if max < 1 || len(cats) <= max {
		return cats
	}
	names := make([]string, 0, len(cats))
	for n := range cats {
		if n != Other {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(cats[b].Messages, cats[a].Messages); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	keep := max - 1 // one label is Other
	out := make(map[string]Counts, max)
	other := cats[Other]
	for i, n := range names {
		if i < keep {
			out[n] = cats[n]
			continue
		}
		other.Messages += cats[n].Messages
		other.Bytes += cats[n].Bytes
	}
	out[Other] = other
	return out
}
