// Command authflood measures what a flood of wrong basic-auth passwords
// does to a legitimate scrape. It starts the exporter binary on the demo
// tree with basic auth (bcrypt at -cost), scrapes it with the right
// password every interval, first alone, then while -attackers goroutines
// send distinct wrong passwords as fast as they are answered, and prints
// the median and maximum latency of each phase in milliseconds.
//
//	go build -o /tmp/after . && go run ./bench/authflood -exporter /tmp/after
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	exporter := flag.String("exporter", "./heartbeat_exporter", "exporter binary")
	demo := flag.String("demo", "examples/demo", "demo tree")
	cost := flag.Int("cost", 10, "bcrypt cost of the password hash")
	user, pass := new(string), new(string)
	*user, *pass = "prometheus", "s3cret"
	attackers := flag.Int("attackers", 50, "concurrent wrong-password clients")
	n := flag.Int("n", 20, "legitimate scrapes per phase")
	interval := flag.Duration("interval", 250*time.Millisecond, "pause between legitimate scrapes")
	warmup := flag.Duration("warmup", 15*time.Second, "flood time before measuring (the toolkit caches 100 results: the flood must evict the right password's)")
	flag.Parse()
	url, stop := startExporter(*exporter, *demo, *cost, *user, *pass)
	defer stop()
	legit := &http.Client{Timeout: 60 * time.Second}
	scrape := func() time.Duration {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.SetBasicAuth(*user, *pass)
		begin := time.Now()
		resp, err := legit.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, "legitimate scrape:", err)
			os.Exit(1)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, "legitimate scrape answered", resp.StatusCode)
		}
		return time.Since(begin)
	}
	phase := func(name string) {
		var d []time.Duration
		for range *n {
			d = append(d, scrape())
			time.Sleep(*interval)
		}
		slices.Sort(d)
		fmt.Printf("%-8s median %7.1f ms  max %7.1f ms\n", name, ms(d[len(d)/2]), ms(d[len(d)-1]))
	}
	phase("alone")
	flood := make(chan struct{})
	var wg sync.WaitGroup
	var sent, refused atomic.Int64
	for a := range *attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 60 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-flood:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.SetBasicAuth(*user, "wrong-"+strconv.Itoa(a)+"-"+strconv.Itoa(i))
				resp, err := c.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
				if resp.StatusCode == http.StatusTooManyRequests {
					refused.Add(1)
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(*warmup)
	phase("flood")
	close(flood)
	wg.Wait()
	fmt.Printf("flood: %d wrong-password requests, %d answered 429\n", sent.Load(), refused.Load())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// startExporter runs the exporter on a free loopback port with basic auth
// and returns its metrics URL and a func that stops it.
func startExporter(bin, demo string, cost int, user, pass string) (string, func()) {
	dir, err := os.MkdirTemp("", "authflood")
	check(err)
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), cost)
	check(err)
	webCfg := filepath.Join(dir, "web.yml")
	check(os.WriteFile(webCfg, []byte("basic_auth_users:\n  "+user+": "+string(hash)+"\n"), 0o600))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--web.config.file="+webCfg,
		"--path.procfs="+demo+"/proc", "--path.sysfs="+demo+"/sys", "--path.rootfs="+demo+"/root",
		"--config.file="+demo+"/heartbeat.yml", "--state.dir=", "--log.level=error")
	check(cmd.Start())
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr + "/metrics", func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
