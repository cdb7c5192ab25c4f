// Package journal follows the systemd journal through journalctl's JSON
// output (`journalctl -o json --follow`), handing each entry over as a
// syslog-style line ("Nov 23 09:58:02 gw amavis[2812]: message"), the
// shape the log rules are written for, and remembering the cursor of the
// last entry handed over so that a restart resumes after it. It knows
// nothing about Prometheus.
//
// Why journalctl: reading the journal files directly needs libsystemd
// (cgo) or a pure-Go reader of the journal file format, and the existing
// ones do not handle compact mode, compression, rotation and vacuuming
// well enough to promise "nothing lost"; journalctl is the reference
// reader, installed wherever the journal is. It is run only when a log
// source names the journal in the configuration.
package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// Entry is what the line is made of.
type Entry struct {
	Cursor     string
	Time       time.Time
	Hostname   string
	Identifier string // SYSLOG_IDENTIFIER, else _COMM
	PID        string // SYSLOG_PID, else _PID
	Message    []byte
}

// rawEntry is journalctl's JSON: a field's value is a string, an array of
// byte values (a binary or non-UTF-8 value), an array of either (a field
// set several times), or null.
type rawEntry struct {
	Cursor     string          `json:"__CURSOR"`
	Realtime   string          `json:"__REALTIME_TIMESTAMP"`
	Message    json.RawMessage `json:"MESSAGE"`
	Identifier json.RawMessage `json:"SYSLOG_IDENTIFIER"`
	Comm       json.RawMessage `json:"_COMM"`
	SyslogPID  json.RawMessage `json:"SYSLOG_PID"`
	PID        json.RawMessage `json:"_PID"`
	Hostname   json.RawMessage `json:"_HOSTNAME"`
}

// ErrNoCursor: the object has no __CURSOR, so it is not a journal entry.
var ErrNoCursor = errors.New("journal entry without __CURSOR")

// ParseEntry decodes one line of `journalctl -o json`.
func ParseEntry(line []byte) (Entry, error) {
	var r rawEntry
	if err := json.Unmarshal(line, &r); err != nil {
		return Entry{}, err
	}
	if r.Cursor == "" {
		return Entry{}, ErrNoCursor
	}
	e := Entry{Cursor: r.Cursor, Message: value(r.Message), Hostname: string(value(r.Hostname)),
		Identifier: string(value(r.Identifier)), PID: string(value(r.SyslogPID))}
	if e.Identifier == "" {
		e.Identifier = string(value(r.Comm))
	}
	if e.PID == "" {
		e.PID = string(value(r.PID))
	}
	if us, err := strconv.ParseInt(r.Realtime, 10, 64); err == nil {
		e.Time = time.UnixMicro(us)
	}
	return e, nil
}

// value decodes a field's value; for a field set several times, the first.
// It looks at the first byte rather than trying each shape in turn.
func value(raw json.RawMessage) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return []byte(s)
	case '[':
		inner := bytes.TrimSpace(raw[1:])
		if len(inner) > 0 && (inner[0] == '"' || inner[0] == '[') {
			var many []json.RawMessage
			if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
				return nil
			}
			return value(many[0])
		}
		var nums []int
		if json.Unmarshal(raw, &nums) != nil {
			return nil
		}
		b := make([]byte, len(nums))
		for i, n := range nums {
			b[i] = byte(n)
		}
		return b
	}
	return nil // null, or not a journal value
}

// AppendLine appends the entry as a syslog-style line (in the local time
// zone, as `journalctl -o short` prints it), the message's newlines made
// spaces so that one entry is one line.
func (e Entry) AppendLine(b []byte) []byte {
	if !e.Time.IsZero() {
		b = e.Time.Local().AppendFormat(b, time.Stamp)
		b = append(b, ' ')
	}
	if e.Hostname != "" {
		b = append(append(b, e.Hostname...), ' ')
	}
	if e.Identifier != "" {
		b = append(b, e.Identifier...)
		if e.PID != "" {
			b = append(append(append(b, '['), e.PID...), ']')
		}
		b = append(b, ": "...)
	}
	start := len(b)
	b = append(b, e.Message...)
	for i := start; i < len(b); i++ {
		if b[i] == '\n' || b[i] == '\r' {
			b[i] = ' '
		}
	}
	return b
}
