// Package dpkg reads Debian's package database (/var/lib/dpkg/status) for
// the installed version of named packages.
package dpkg

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Package is one installed package: a stanza of the status file.
type Package struct {
	Name         string
	Architecture string
	Version      string
	Status       string // e.g. "install ok installed"
}

// maxLine bounds one line of the status file (a Description line is a
// few hundred bytes; Conffiles lines less).
const maxLine = 1 << 20

// ParseStatus reads a status file and returns the stanzas of the packages
// want accepts whose state is not "not-installed" or "config-files" (the
// package was removed), in file order. Stanzas of other packages are
// skipped without being checked beyond the line syntax.
func ParseStatus(r io.Reader, want func(name string) bool) ([]Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var out []Package
	var cur Package
	lineNo, start := 0, 0
	flush := func() error {
		defer func() { cur = Package{} }()
		if cur == (Package{}) || !want(cur.Name) || removed(cur.Status) {
			return nil
		}
		if err := check(cur); err != nil {
			return fmt.Errorf("status stanza at line %d: %w", start, err)
		}
		out = append(out, cur)
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		case line[0] == ' ' || line[0] == '\t': // continuation of a field
			continue
		}
		if cur == (Package{}) {
			start = lineNo
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("status line %d is not \"Field: value\"", lineNo)
		}
		value = strings.TrimSpace(value)
		switch key {
		case "Package":
			cur.Name = value
		case "Version":
			cur.Version = value
		case "Architecture":
			cur.Architecture = value
		case "Status":
			cur.Status = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("status line %d: %w", lineNo+1, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// removed tells a removed package's state: "deinstall ok config-files".
func removed(status string) bool {
	f := strings.Fields(status)
	return len(f) == 3 && (f[2] == "not-installed" || f[2] == "config-files")
}

func check(p Package) error {
	switch {
	case p.Name == "":
		return fmt.Errorf("no Package field")
	case p.Version == "":
		return fmt.Errorf("package %s has no Version", p.Name)
	case len(strings.Fields(p.Status)) != 3:
		return fmt.Errorf("package %s: Status %q is not \"want flag state\"", p.Name, p.Status)
	}
	for _, s := range []string{p.Name, p.Version, p.Architecture} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("package %q: field is not UTF-8", strings.ToValidUTF8(p.Name, "?"))
		}
	}
	return nil
}

// ListFiles are the names dpkg may give the list of a package's files in
// /var/lib/dpkg/info: "<name>.list", or "<name>:<arch>.list" for a
// Multi-Arch: same package.
func ListFiles(p Package) []string {
	names := []string{p.Name + ".list"}
	if p.Architecture != "" {
		names = append(names, p.Name+":"+p.Architecture+".list")
	}
	return names
}
