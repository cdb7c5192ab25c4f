package inventory

import (
	"bufio"
	"bytes"
	"strings"
	"unicode/utf8"
)

// ClamConf is a clamd.conf or freshclam.conf: each option's values in
// file order (DatabaseMirror and OnAccessIncludePath repeat).
type ClamConf map[string][]string

// maxValue bounds a kept value: they end up in labels.
const maxValue = 128

// ParseClamConf reads ClamAV's "Option value" format: '#' starts a
// comment line, the value is the rest of the line (quotes removed), an
// option without value is a boolean "yes". Lines that are not valid UTF-8
// are skipped, values are cut to 128 bytes. The "Example" line that
// disables a stock file is kept as an option like any other.
func ParseClamConf(data []byte) ClamConf {
	conf := ClamConf{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1024), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || !utf8.ValidString(line) {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		if i := strings.IndexAny(key, "\t="); i >= 0 { // "Key\tvalue", "Key=value"
			key, value = key[:i], line[i+1:]
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if value == "" {
			value = "yes"
		}
		if len(value) > maxValue {
			value = strings.ToValidUTF8(value[:maxValue], "")
		}
		conf[key] = append(conf[key], value)
	}
	return conf
}

// Last is the option's effective value (the last one wins), or "".
func (c ClamConf) Last(key string) string {
	v := c[key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// Bool tells whether a yes/no option is on; def when it is not set.
func (c ClamConf) Bool(key string, def bool) bool {
	switch strings.ToLower(c.Last(key)) {
	case "yes", "true", "1":
		return true
	case "no", "false", "0":
		return false
	}
	return def
}
