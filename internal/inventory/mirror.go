package inventory

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
)

// Older freshclam wrote "Database updated (N signatures) from HOST (IP:
// ...)"; 0.103 and later (libfreshclam) name the URL it fetched from:
// "Trying to retrieve CVD header from https://HOST/daily.cvd",
// "Failed to find daily database using server https://HOST".
// The host is at most 253 bytes: taken as the whole run of host bytes and
// cut, the same as a bounded repeat ({1,253}) would match, which RE2
// expands into 253 copies (5 ms of compiling at every start).
var mirrorRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?:updated \(\d+ signatures\) from |Trying host |(?:from|server|on|Retrieving|Downloading) https?://)([A-Za-z0-9.-]+)`)
})

const maxHostBytes = 253

// LastMirror returns the host the last update in freshclam's log
// contacted, or "" when the log names none.
func LastMirror(log []byte) string {
	for len(log) > 0 {
		i := bytes.LastIndexByte(log[:len(log)-1], '\n')
		line := log[i+1:]
		if m := mirrorRE().FindSubmatch(line); m != nil {
			return strings.TrimRight(string(m[1][:min(len(m[1]), maxHostBytes)]), ".")
		}
		if i < 0 {
			break
		}
		log = log[:i+1]
	}
	return ""
}
