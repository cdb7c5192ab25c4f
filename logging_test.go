package main

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/go-logfmt/logfmt"
)

// logKeys is the order every line starts with, the exporter's own lines
// and exporter-toolkit's alike.
var logKeys = []string{"level", "ts", "caller", "msg"}

// runLog runs the demo with the format, scrapes and reloads it, stops it
// and returns its whole log.
func runLog(t *testing.T, format string) string {
	t.Helper()
	p := startDemo(t, "--log.format="+format, "--log.level=debug", "--web.enable-lifecycle")
	p.metrics(t)
	postReload(t, p.addr)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	return p.stderr.String()
}

// checkKeys fails unless keys start with logKeys and hold no other time key.
func checkKeys(t *testing.T, line string, keys []string) {
	t.Helper()
	if len(keys) < len(logKeys) || strings.Join(keys[:len(logKeys)], ",") != strings.Join(logKeys, ",") {
		t.Errorf("line starts with keys %v, want %v: %s", keys, logKeys, line)
	}
	for _, k := range keys {
		if k == "time" {
			t.Errorf("line has a time key besides ts: %s", line)
		}
	}
}

// A whole run's log in logfmt: every line parses and has the same keys in
// the same order, exporter-toolkit's "Listening on" included.
func TestLogFormatLogfmt(t *testing.T) {
	out := runLog(t, "logfmt")
	dec := logfmt.NewDecoder(strings.NewReader(out))
	lines := 0
	for dec.ScanRecord() {
		var keys []string
		for dec.ScanKeyval() {
			keys = append(keys, string(dec.Key()))
		}
		checkKeys(t, strings.Join(keys, " "), keys)
		lines++
	}
	if err := dec.Err(); err != nil {
		t.Fatalf("log does not parse as logfmt: %v\n%s", err, out)
	}
	if lines < 5 || !strings.Contains(out, `msg="Listening on"`) {
		t.Errorf("log has %d lines, or lacks exporter-toolkit's:\n%s", lines, out)
	}
}

// The same in JSON: one object per line, the same keys, one order.
func TestLogFormatJSON(t *testing.T) {
	out := runLog(t, "json")
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		dec := json.NewDecoder(bytes.NewReader([]byte(line)))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("not a JSON object: %s", line)
		}
		var keys []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			keys = append(keys, k.(string))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
		}
		if _, err := dec.Token(); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Errorf("more than one object on a line: %s", line)
		}
		// go-kit's JSON logger writes the keys of every line sorted.
		if !slices.IsSorted(keys) {
			t.Errorf("keys not in the one (sorted) order: %s", line)
		}
		for _, k := range logKeys {
			if !slices.Contains(keys, k) {
				t.Errorf("line lacks %q: %s", k, line)
			}
		}
		if slices.Contains(keys, "time") {
			t.Errorf("line has a time key besides ts: %s", line)
		}
		lines++
	}
	if lines < 5 || !strings.Contains(out, `"msg":"Listening on"`) {
		t.Errorf("log has %d lines, or lacks exporter-toolkit's:\n%s", lines, out)
	}
}
