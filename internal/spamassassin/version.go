// Package spamassassin reads what an installed SpamAssassin says about
// itself, from its files alone (no perl, no shell-out): the engine version
// in Mail/SpamAssassin.pm and the version of an sa-update channel.
package spamassassin

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
)

// MaxModuleBytes bounds how much of Mail/SpamAssassin.pm is searched: its
// $VERSION line sits in the first hundred lines (about 4 KiB in 4.0).
const MaxModuleBytes = 64 << 10

// Version is the engine's version as SpamAssassin.pm declares it.
type Version struct {
	// Raw is $VERSION as written, in perl's $] format ("4.000001"): the
	// name of sa-update's folder for this engine under /var/lib/spamassassin.
	Raw string
	// Dotted is what `spamassassin --version` prints ("4.0.1").
	Dotted string
}

// ErrNoVersion: the file declares no $VERSION in the expected format.
var ErrNoVersion = errors.New(`no our $VERSION = "N.NNNNNN" line`)

// versionRE is the declaration SpamAssassin has used since 3.0
// (`our $VERSION = "4.000001";`), at the start of a line.
var versionRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*our\s+\$VERSION\s*=\s*["'](\d{1,3})\.(\d{3})(\d{3})["']\s*;`)
})

// EngineVersion finds the version declared in the source of
// Mail/SpamAssassin.pm (its first MaxModuleBytes are enough).
func EngineVersion(src []byte) (Version, error) {
	m := versionRE().FindSubmatch(src)
	if m == nil {
		return Version{}, ErrNoVersion
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	patch, _ := strconv.Atoi(string(m[3]))
	return Version{Raw: fmt.Sprintf("%s.%s%s", m[1], m[2], m[3]), Dotted: fmt.Sprintf("%d.%d.%d", major, minor, patch)}, nil
}

// channelRE is the line sa-update writes at the top of a channel's .cf
// file: "# UPDATE version 1916549".
var channelRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^# UPDATE version (\S+)`) })

// ChannelVersion is the version an sa-update channel file records, false
// when it records none.
func ChannelVersion(cf []byte) (string, bool) {
	m := channelRE().FindSubmatch(cf)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}
