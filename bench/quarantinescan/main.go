// Command quarantinescan runs one quarantine scan the way the quarantine
// collector does (internal/quarantine, amavis classifier, the same number
// of goroutines: one less than GOMAXPROCS) and prints what it found, so that hyperfine can time it
// beside du and find. With -gen N it first writes an amavis-style
// quarantine of N small files (16 subfolders) unless DIR already holds
// one of that size.
//
//	go run ./bench/quarantinescan [-gen 1000000] [-workers 8] DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/quarantine"
)

func main() {
	gen := flag.Int("gen", 0, "write a quarantine of this many files first (kept when DIR/.generated says the same number)")
	workers := flag.Int("workers", min(16, max(1, runtime.GOMAXPROCS(0)-1)), "goroutines walking")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: quarantinescan [-gen N] [-workers W] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if *gen > 0 {
		if err := generate(dir, *gen); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	res, err := quarantine.Scan(context.Background(), dir, quarantine.Options{Classify: quarantine.Amavis, MaxCategories: 20, Workers: *workers})
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

var kinds = []string{"spam-%012d.gz", "spam-%012d", "virus-%012d", "banned-%012d", "badh-%012d", "clean-%012d.gz", "spam-%012d.gz", "junk-%012d"}

func generate(dir string, n int) error {
	marker := filepath.Join(dir, ".generated")
	if b, err := os.ReadFile(marker); err == nil && string(b) == strconv.Itoa(n) {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for i := range 16 {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("%x", i)), 0o755); err != nil {
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
			payload := make([]byte, 2000)
			for i := w; i < n; i += writers {
				name := filepath.Join(dir, fmt.Sprintf("%x", i%16), fmt.Sprintf(kinds[i%len(kinds)], i))
				if err := os.WriteFile(name, payload[:i%2000], 0o644); err != nil {
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
	return os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o644)
}
