// Command scrapeclient measures scrape latency the way Prometheus sees it:
// sequential GETs over one kept-alive connection per target, interleaved
// between targets so that machine noise hits all of them alike. It prints
// one line per target: name, median and p90 in milliseconds, bytes, p99
// in milliseconds.
//
//	go run ./bench/scrapeclient -n 200 ours=http://127.0.0.1:1/metrics peer=http://...
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 200, "scrapes per target")
	warmup := flag.Int("warmup", 10, "unmeasured scrapes per target first")
	flag.Parse()
	type target struct {
		name, url string
		samples   []time.Duration
		bytes     int
	}
	var targets []*target
	for _, arg := range flag.Args() {
		name, url, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "want name=url, got %q\n", arg)
			os.Exit(2)
		}
		targets = append(targets, &target{name: name, url: url})
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; i < *warmup+*n; i++ {
		for _, t := range targets {
			begin := time.Now()
			size, err := scrape(client, t.url)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", t.name, err)
				os.Exit(1)
			}
			if i >= *warmup {
				t.samples = append(t.samples, time.Since(begin))
				t.bytes = size
			}
		}
	}
	for _, t := range targets {
		slices.Sort(t.samples)
		fmt.Printf("%s %.3f %.3f %d %.3f\n", t.name, ms(t.samples[len(t.samples)/2]), ms(t.samples[len(t.samples)*9/10]), t.bytes,
			ms(t.samples[len(t.samples)*99/100]))
	}
}

func scrape(client *http.Client, url string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	// What Prometheus 2.x/3.x sends for the text format.
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return len(b), err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
