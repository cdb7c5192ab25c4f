package textfile

import (
	"path/filepath"
	"strings"
)

// Expand turns configured folders (host paths, absolute, possibly glob
// patterns as node_exporter's --collector.textfile.directory allows) into
// the folders to scan, read under root. A pattern matching nothing yields
// nothing; a plain path is kept whether it exists or not (Scan skips an
// absent one quietly). Duplicates are dropped.
func Expand(root string, patterns []string) []Dir {
	var dirs []Dir
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			dirs = append(dirs, Dir{Name: name, Path: filepath.Join(root, name)})
		}
	}
	for _, p := range patterns {
		p = filepath.Clean(p)
		if !hasMeta(p) {
			add(p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(root, p))
		if err != nil { // a malformed pattern: scanned as a plain, absent, folder
			add(p)
			continue
		}
		rootPrefix := filepath.Clean(root)
		for _, m := range matches {
			name, err := filepath.Rel(rootPrefix, m)
			if err != nil || strings.HasPrefix(name, "..") {
				continue
			}
			add(filepath.Join("/", name))
		}
	}
	return dirs
}

func hasMeta(p string) bool {
	return strings.ContainsAny(p, `*?[\`)
}
