package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// Published is the ClamAV release and database versions the DNS TXT
// record current.cvd.clamav.net announces; freshclam reads it to decide
// whether to download.
type Published struct {
	Engine   string // recommended ClamAV release, e.g. "1.4.2"
	Versions map[string]int
}

// ParseCVDTXT reads the record's text, colon-separated fields:
// engine:main:daily:time:ignored:flevel:safebrowsing:bytecode (only the
// first three are always present). A database field that is not a number
// is an error.
func ParseCVDTXT(txt string) (Published, error) {
	fields := strings.Split(strings.TrimSpace(txt), ":")
	if len(fields) < 3 {
		return Published{}, fmt.Errorf("TXT record %q: %d fields, want at least 3", truncate([]byte(txt)), len(fields))
	}
	p := Published{Engine: fields[0], Versions: map[string]int{}}
	if len(p.Engine) > 32 || !validUTF8(p.Engine) {
		return Published{}, fmt.Errorf("TXT record: engine version %q", truncate([]byte(p.Engine)))
	}
	for _, db := range []struct {
		name  string
		field int
	}{{"main", 1}, {"daily", 2}, {"bytecode", 7}} {
		if db.field >= len(fields) {
			continue
		}
		v, err := strconv.Atoi(fields[db.field])
		if err != nil || v < 0 {
			return Published{}, fmt.Errorf("TXT record: %s version %q", db.name, truncate([]byte(fields[db.field])))
		}
		p.Versions[db.name] = v
	}
	return p, nil
}
