// Command logsbench reads one log file once through the logs collector's
// code path (internal/tail's Follower feeding internal/logrules' Engine)
// with the given presets, and prints the line count and every non-zero
// counter. bench/logs-vs-mtail.sh times it against mtail and grep.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/journal"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/logrules"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/tail"
)

func main() {
	presets := flag.String("presets", "amavis,postfix,errors", "comma-separated presets")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here")
	var own ruleFlags
	flag.Var(&own, "rule", "an operator rule's regex (repeatable), counted as heartbeat_log_rule_matches_total{rule=ruleN}")
	journalDir := flag.Bool("journal", false, "FILE is a folder of journal files, read through journalctl from its start (ends after 1s without a new entry)")
	flag.Parse()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err == nil && pprof.StartCPUProfile(pf) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: logsbench [-presets a,b] [-rule REGEX]... [-cpuprofile F] [-journal] FILE")
		os.Exit(2)
	}
	var rules []logrules.Rule
	for i, re := range own {
		name := fmt.Sprintf("rule%d", i+1)
		rules = append(rules, logrules.Rule{Name: name, Regex: re, Counter: logrules.RuleMatchesTotal, Labels: map[string]string{"rule": name}})
	}
	for _, p := range strings.Split(*presets, ",") {
		if p == "" {
			continue
		}
		r, err := logrules.Preset(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		rules = append(rules, r...)
	}
	engine, err := logrules.Compile(rules)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var (
		delta logrules.Delta
		lines uint64
	)
	if *journalDir {
		readJournal(flag.Arg(0), func(line []byte, _ bool) {
			lines++
			engine.Match(line, &delta)
		})
	} else {
		readFile(flag.Arg(0), func(block []byte, _ bool) {
			lines += uint64(engine.MatchBlock(block, &delta))
		})
	}
	fmt.Printf("lines %d\n", lines)
	for id, s := range engine.Series() {
		if id < len(delta.Counts) && delta.Counts[id] > 0 {
			fmt.Printf("%s %v %d\n", s.Counter, s.Labels, delta.Counts[id])
		}
	}
}

type ruleFlags []string

func (r *ruleFlags) String() string     { return strings.Join(*r, " ") }
func (r *ruleFlags) Set(v string) error { *r = append(*r, v); return nil }

func readFile(path string, count tail.BlockFunc) {
	f := tail.New(path, tail.Options{}, nil)
	defer f.Close()
	for {
		n, err := f.PollBlocks(count)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		if n == 0 {
			return
		}
	}
}

// readJournal follows the journal folder from its start, through the logs
// collector's journal follower, until it has been idle for a second.
func readJournal(dir string, count tail.LineFunc) {
	f := journal.New(journal.Options{Directory: dir}, "")
	defer f.Close()
	idleSince := time.Now()
	for time.Since(idleSince) < time.Second {
		n, err := f.Poll(count)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		if n > 0 {
			idleSince = time.Now()
		} else {
			time.Sleep(time.Millisecond)
		}
	}
}
