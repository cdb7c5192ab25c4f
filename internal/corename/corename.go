// Package corename tells which program a core dump or crash report
// belongs to, from its file name: systemd-coredump's and apport's naming,
// and the kernel's core_pattern. It knows nothing about Prometheus.
package corename

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Unknown is the executable of a file whose name does not tell.
const Unknown = "unknown"

var (
	// core.<comm>.<uid>.<boot id>.<pid>.<usec>[.zst|.xz|.lz4], comm with
	// '.', '/' and ' ' escaped as \xNN (systemd-coredump).
	systemdRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^core\.(.+)\.\d+\.[0-9a-f]{32}\.\d+\.\d+(\.(zst|xz|lz4|gz))?$`)
	})
	// apport's report /var/crash/_usr_sbin_clamd.0.crash and its core
	// /var/lib/apport/coredump/core._usr_sbin_clamd.0.<boot id>.<pid>.<time>.
	apportCrashRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(_.+)\.\d+\.crash$`) })
	apportCoreRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^core\.(_.+?)\.\d+\.[0-9a-f-]{32,36}\.\d+\.\d+$`) })
	escapeRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\\x[0-9a-fA-F]{2}`) })
)

// Counted tells whether a file in a core folder is a core dump or crash
// report: not hidden, not one of apport's upload markers.
func Counted(name string) bool {
	return name != "" && name[0] != '.' &&
		!strings.HasSuffix(name, ".upload") && !strings.HasSuffix(name, ".uploaded")
}

// Executable returns the program named by a core file's name, Unknown
// when the name does not say. pattern, when not nil, is the core_pattern
// of the folder (see Pattern), tried first.
func Executable(name string, pattern *regexp.Regexp) string {
	if pattern != nil {
		if m := pattern.FindStringSubmatch(name); m != nil {
			if i := pattern.SubexpIndex("exe"); i >= 0 && m[i] != "" {
				return clean(m[i])
			}
			if i := pattern.SubexpIndex("exepath"); i >= 0 && m[i] != "" {
				return clean(path.Base(strings.ReplaceAll(m[i], "!", "/")))
			}
		}
	}
	if m := systemdRE().FindStringSubmatch(name); m != nil {
		return clean(unescape(m[1]))
	}
	if m := apportCrashRE().FindStringSubmatch(name); m != nil {
		return clean(apportName(m[1]))
	}
	if m := apportCoreRE().FindStringSubmatch(name); m != nil {
		return clean(apportName(m[1]))
	}
	return Unknown
}

// apportName turns "_usr_sbin_clamd" into "clamd". apport replaces every
// '/' by '_', so a program with '_' in its own name loses the part
// before it: the mangling cannot be undone exactly.
func apportName(mangled string) string {
	return mangled[strings.LastIndexByte(mangled, '_')+1:]
}

func unescape(s string) string {
	return escapeRE().ReplaceAllStringFunc(s, func(e string) string {
		b, _ := strconv.ParseUint(e[2:], 16, 8)
		return string(rune(b))
	})
}

// clean keeps a label value printable and short.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '_'
		}
		return r
	}, s)
	for len(s) > 64 { // cut on a rune boundary
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	if s == "" {
		return Unknown
	}
	return s
}

// Pattern reads /proc/sys/kernel/core_pattern: the folder cores are
// written to, and a regexp matching their names (with a group "exe" for
// %e/%f or "exepath" for %E when the pattern has one). ok is false for a
// |pipe, a relative name, or a folder made of % specifiers.
func Pattern(corePattern string) (dir string, re *regexp.Regexp, ok bool) {
	p := strings.TrimSpace(corePattern)
	if !strings.HasPrefix(p, "/") {
		return "", nil, false
	}
	dir, base := path.Split(p)
	dir = path.Clean(dir)
	if strings.Contains(dir, "%") || base == "" {
		return "", nil, false
	}
	var b strings.Builder
	b.WriteString("^")
	named := map[string]bool{}
	hasPID := false
	for i := 0; i < len(base); i++ {
		if base[i] != '%' || i+1 == len(base) {
			b.WriteString(regexp.QuoteMeta(base[i : i+1]))
			continue
		}
		i++
		switch base[i] {
		case '%':
			b.WriteString("%")
		case 'e', 'f':
			b.WriteString(group(named, "exe"))
		case 'E':
			b.WriteString(group(named, "exepath"))
		case 'p', 'P', 'i', 'I':
			hasPID = true
			b.WriteString(`\d+`)
		case 'u', 'g', 's', 't', 'c', 'd':
			b.WriteString(`\d+`)
		default: // %h and anything newer
			b.WriteString(`.+?`)
		}
	}
	if !hasPID {
		b.WriteString(`(\.\d+)?`) // core_uses_pid appends .PID
	}
	b.WriteString(`(\.(zst|xz|lz4|gz))?$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return "", nil, false
	}
	return dir, re, true
}

// group captures the first use of a specifier; later ones just match.
func group(named map[string]bool, name string) string {
	if named[name] {
		return `.+?`
	}
	named[name] = true
	return `(?P<` + name + `>.+?)`
}
