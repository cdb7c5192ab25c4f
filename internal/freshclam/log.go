// Package freshclam reads freshclam's update log for the last successful
// and the last failed database update.
//
// freshclam (UpdateLogFile, LogTime yes as Debian ships it) writes a
// session per update check:
//
//	Mon Nov 23 19:45:46 2026 -> --------------------------------------
//	Mon Nov 23 19:45:46 2026 -> ClamAV update process started at Mon Nov 23 19:45:46 2026
//	Mon Nov 23 19:45:48 2026 -> daily.cld updated (version: 27101, sigs: 2046391, f-level: 90, builder: raynman)
//	Mon Nov 23 19:45:48 2026 -> main.cvd database is up-to-date (version: 62, sigs: 6647427, f-level: 90, builder: sigmgr)
//	Mon Nov 23 19:45:46 2026 -> ERROR: Update failed.
//
// Without LogTime the lines have no time: the session's "update process
// started at" time is used for them. Older releases wrote "daily.cvd is
// up to date" and "Database updated (N signatures) from ...".
package freshclam

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// DefaultTail is how much of the end of the log is read: freshclam writes
// a dozen lines per check, so this covers days of hourly checks.
const DefaultTail = 256 << 10

// Result is what the end of the log tells.
type Result struct {
	LastSuccess time.Time // zero when none is in the part read
	LastFailure time.Time
}

// ctime as freshclam writes it, in the local time of the host.
const ctimeLayout = "Mon Jan _2 15:04:05 2006"

var (
	linePrefixRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}) -> `)
	})
	// "ClamAV update process started at <date>", and the daemon's own
	// "... started at <date>" lines: a session's time when lines have none.
	startedRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`started at ([A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4})`)
	})
	// A database checked or replaced: freshclam reached a mirror and the
	// database is current.
	successRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\S+\.c[vl]d (updated \(version: |database is up-to-date |is up to date )|^Database updated \(`)
	})
	failureRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(ERROR: |!)|[Uu]pdate failed`) })
)

// ReadTail reads at most tail bytes from the end of the log at path and
// returns the last success and failure found there, in loc. An absent log
// returns an error wrapping os.ErrNotExist.
func ReadTail(path string, tail int64, loc *time.Location) (Result, error) {
	f, fi, err := fileid.OpenRegular(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	start := max(fi.Size()-tail, 0)
	buf := make([]byte, fi.Size()-start)
	n, err := f.ReadAt(buf, start)
	if err != nil && !errors.Is(err, io.EOF) {
		return Result{}, err
	}
	buf = buf[:n]
	if start > 0 { // the first line is probably cut: skip it
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return Parse(buf, loc), nil
}

// Parse reads log text; lines it does not know are skipped.
func Parse(b []byte, loc *time.Location) Result {
	var r Result
	var session time.Time // start of the current session, for lines without time
	for _, line := range strings.Split(string(b), "\n") {
		when := session
		if m := linePrefixRE().FindStringSubmatch(line); m != nil {
			if t, err := time.ParseInLocation(ctimeLayout, m[1], loc); err == nil {
				when = t
			}
			line = line[len(m[0]):]
		}
		if m := startedRE().FindStringSubmatch(line); m != nil {
			if t, err := time.ParseInLocation(ctimeLayout, m[1], loc); err == nil {
				session = t
				if when.IsZero() || when.Before(t) {
					when = t
				}
			}
		}
		if when.IsZero() {
			continue
		}
		switch {
		case failureRE().MatchString(line):
			r.LastFailure = later(r.LastFailure, when)
		case successRE().MatchString(line):
			r.LastSuccess = later(r.LastSuccess, when)
		}
	}
	return r
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
