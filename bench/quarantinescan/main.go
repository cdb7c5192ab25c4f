// Command quarantinescan runs one quarantine scan the way the quarantine
// collector does (internal/quarantine, amavis classifier, the same number
// of goroutines: one less than GOMAXPROCS) and prints what it found, so that hyperfine can time it
// beside du and find. With -gen N it first writes an amavis-style
// quarantine of N small files (sizes 0-699 bytes) shaped by -shape, unless
// DIR already holds one of that size and shape. With -rescan R it scans
// once, then R times more through the same index (the collector's
// rescans of an unchanged quarantine, through inotify unless -watch=false:
// the first rescan sets the watches, the next are vouched for by them),
// and prints their median and the RSS the process gained over the first
// scan's.
//
//	go run ./bench/quarantinescan [-gen 1000000 -shape 100x] [-rescan 5] [-workers 8] DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/quarantine"
)

func main() {
	gen := flag.Int("gen", 0, "write a quarantine of this many files first (kept when DIR.generated says the same number and shape)")
	shape := flag.String("shape", "16x", "with -gen: flat (one folder), 16x or 100x (that many folders), deep (ten levels of 2 subfolders, files in the 1024 leaves)")
	rescans := flag.Int("rescan", 0, "scan once, then this many times through the same index; print the rescans' median")
	watch := flag.Bool("watch", true, "with -rescan: learn of changes through inotify, as the collector does (false: every folder is checked by its lstat, as when the watches run out)")
	workers := flag.Int("workers", min(16, max(1, runtime.GOMAXPROCS(0)-1)), "goroutines walking")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: quarantinescan [-gen N] [-workers W] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if *gen > 0 {
		if err := generate(dir, *gen, *shape); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	opt := quarantine.Options{Classify: quarantine.Amavis, MaxCategories: 20, Workers: *workers}
	if *rescans > 0 {
		rescan(dir, opt, *rescans, *watch)
		return
	}
	res, err := quarantine.Scan(context.Background(), dir, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var n, bytes int64
	for _, c := range res.Categories {
		n += c.Messages
		bytes += c.Bytes
	}
	fmt.Printf("files %d bytes %d disk_bytes %d errors %d duration %s\n", n, bytes, res.DiskBytes, res.Walk.Errors, res.Duration)
}

// rescan scans dir once and then n times through the same index, and
// prints the rescans' median duration and the RSS gained since before the
// first scan.
func rescan(dir string, opt quarantine.Options, n int, watch bool) {
	// Folders changed within the last second are read again at the next
	// scan (the file system's timestamps are coarse): let a freshly
	// generated tree settle.
	time.Sleep(1100 * time.Millisecond)
	runtime.GC()
	before := rssKiB()
	ix := &quarantine.Index{FullEvery: time.Hour, Watch: watch}
	defer ix.Close()
	first, err := ix.Scan(context.Background(), dir, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var times []time.Duration
	watched := 0
	for range n {
		res, err := ix.Scan(context.Background(), dir, opt)
		if err != nil || res.Reread != 0 {
			fmt.Fprintln(os.Stderr, "rescan:", err, res.Reread, "folders re-read")
			os.Exit(1)
		}
		times = append(times, res.Duration)
		watched = res.Watched // the first scan sets none, the second all
	}
	runtime.GC()
	slices.Sort(times)
	fmt.Printf("first_s %.3f rescan_median_s %.4f folders %d rss_gain_kib %d watched %d\n",
		first.Duration.Seconds(), times[len(times)/2].Seconds(), first.Walk.Dirs, rssKiB()-before, watched)
}

// rssKiB is the process's resident set (VmRSS), in KiB.
func rssKiB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

var kinds = []string{"spam-%012d.gz", "spam-%012d", "virus-%012d", "banned-%012d", "badh-%012d", "clean-%012d.gz", "spam-%012d.gz", "junk-%012d"}

// folders lists the folders files go to for a shape.
func folders(shape string) ([]string, error) {
	switch shape {
	case "flat":
		return []string{"."}, nil
	case "16x", "100x":
		n, _ := strconv.Atoi(strings.TrimSuffix(shape, "x"))
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%02x", i))
		}
		return out, nil
	case "deep":
		out := []string{""}
		for range 10 {
			var next []string
			for _, p := range out {
				next = append(next, filepath.Join(p, "a"), filepath.Join(p, "b"))
			}
			out = next
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown shape %q", shape)
}

func generate(dir string, n int, shape string) error {
	marker := filepath.Clean(dir) + ".generated" // beside it: not a message
	want := fmt.Sprintf("%d %s", n, shape)
	if b, err := os.ReadFile(marker); err == nil && string(b) == want {
		return nil
	}
	dirs, err := folders(shape)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	os.Remove(marker)
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, 700)
			for i := w; i < n; i += writers {
				name := filepath.Join(dir, dirs[i%len(dirs)], fmt.Sprintf(kinds[i%len(kinds)], i))
				if err := os.WriteFile(name, payload[:i*7919%700], 0o644); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return os.WriteFile(marker, []byte(want), 0o644)
}
