package tail

import (
	"path/filepath"
	"sort"
	"strings"
)

// RotatedNames lists where logrotate and friends put the file at path
// after a rotation, most likely first: path.1, path.0, then dated names
// (path-YYYYMMDD, dateext), newest first. Compressed files are left out:
// a rotated file is only useful while it is still plain text.
func RotatedNames(path string) []string {
	names := []string{path + ".1", path + ".0"}
	dated, _ := filepath.Glob(path + "-[0-9]*")
	sort.Sort(sort.Reverse(sort.StringSlice(dated)))
	for _, d := range dated {
		if !IsCompressed(d) {
			names = append(names, d)
		}
	}
	return names
}

// IsCompressed says whether a file name looks like a compressed rotated
// log, which is never tailed.
func IsCompressed(name string) bool {
	for _, ext := range []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
