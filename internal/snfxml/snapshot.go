// Package snfxml parses MessageSniffer (SNF) status snapshots: the
// <stats> XML elements SNFServer writes to its status.second, .minute and
// .hour log files, either one per file (rewritten every period) or many
// appended ones. It has no Prometheus types; the snf collector turns a
// Snapshot into metrics.
package snfxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Snapshot is one <stats> element. Counts are per period: SNF reports
// what happened during Elapsed, starting at BaseTime.
type Snapshot struct {
	NodeID   string // the licence id of the node
	Class    string // second, minute or hour
	BaseTime time.Time
	Elapsed  time.Duration

	EngineVersion   string // version/engine, e.g. "SNFMulti Engine Version 2.9rc25 Build: ..."
	PlatformVersion string // version/platform

	Timers   []Timer
	GBUdb    *GBUdb            // nil when the element is absent
	Counters map[string]uint64 // event letter (m, s, h, w, c, b, t, a, r) -> count in the period
	Rates    map[string]Rates  // event letter -> rates over SNF's sliding windows
	Results  Histogram         // result code -> count in the period
	Rules    *Rules            // nil when the element is absent
}

// ID identifies a snapshot across files and rereads: nodeid, class and
// basetime (SNF writes one report per node, class and period).
func (s *Snapshot) ID() string {
	return s.NodeID + "|" + s.Class + "|" + s.BaseTime.UTC().Format(compressedISO)
}

// Timer is one of timers/run, sync, save, condense: At is its latest
// event (run: the start of the program), Elapsed the time since then as
// of BaseTime.
type Timer struct {
	Name    string
	At      time.Time
	Elapsed time.Duration
}

// GBUdb is the IP reputation database's status.
type GBUdb struct {
	SizeBytes          uint64
	Records            uint64
	UtilizationPercent float64 // 0..100
}

// Rates are events per second, minute, hour and day, as SNF estimates them.
type Rates struct {
	PerSecond, PerMinute, PerHour, PerDay float64
}

// Histogram is a results or rules histogram: Hits as SNF states it (the
// groups may list fewer), and the groups in document order.
type Histogram struct {
	Hits   uint64
	Groups []Group
}

// Group is one key (result code or rule id) and its count in the period.
type Group struct {
	Key   int64
	Count uint64
}

// Rules is the rulebase state and the rule activity of the period.
type Rules struct {
	Rulebase    time.Time // rulebase (or rulesbase) @utc: the rulebase file's timestamp
	Active      time.Time // the rulebase loaded and active
	Update      time.Time // the rulebase available on the server
	UpdateReady bool      // the server's rulebase is newer than the active one
	LatestRule  int64     // highest matching rule id seen so far
	Histogram   Histogram // rule id -> hits in the period
}

// compressedISO is SNF's timestamp layout, always UTC.
const compressedISO = "20060102150405"

// Errors a snapshot can fail with; they are wrapped with its byte offset.
var (
	ErrTruncated = errors.New("snapshot is incomplete (truncated)")
	ErrTooLarge  = errors.New("snapshot exceeds the size limit")
	ErrDTD       = errors.New("DTD or entity declarations are refused")
	ErrNotUTF8   = errors.New("snapshot is not valid UTF-8")
	ErrNoStats   = errors.New("no <stats> snapshot found")
)

// xmlStats is a <stats> element's raw strings, gathered by decodeStats
// and checked and converted by convert.
type xmlStats struct {
	NodeID, BaseTime, Elapsed, Class string
	Engine, Platform                 string
	Timers, Counters, Rates          []xmlItem
	GBUdb                            *xmlGBUdb
	Results                          xmlHistogram
	Rules                            *xmlRules
}

// xmlItem is a child of timers, counters or rates, named by timer or
// event letter.
type xmlItem struct {
	Name                   string
	C, S, M, H, D          string
	Started, Latest, Since string // Since: the elapsed attribute
}

type xmlGBUdb struct{ Bytes, Count, Percent string }

type xmlHistogram struct {
	Hits   string
	Groups [][2]string // k, c
}

type xmlRules struct {
	Rulebase, RulebasePath string // RulebasePath says which spelling was read
	Active                 string
	UpdateReady, Update    string
	Latest                 string
	Histogram              xmlHistogram
}

// parseElement decodes one complete <stats> element.
func parseElement(data []byte) (*Snapshot, error) {
	if !utf8.Valid(data) {
		return nil, ErrNotUTF8
	}
	if err := refuseDeclarations(data); err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	x, err := decodeStats(dec)
	if err != nil {
		return nil, fmt.Errorf("malformed XML: %w", err)
	}
	return x.convert()
}

// decodeStats walks the element's raw tokens and keeps the attributes
// SNF's format defines; unknown elements are passed over. encoding/xml
// checks names, attributes and entities (it never expands any but the five
// predefined ones); the walk checks the nesting. Walking raw tokens
// instead of reflecting into structs about doubles the throughput.
func decodeStats(dec *xml.Decoder) (*xmlStats, error) {
	x := &xmlStats{}
	var stack []string
	var text *string // where character data goes (version/engine, platform)
	for {
		tok, err := dec.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			text = x.start(stack, t)
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			// RawToken leaves the nesting check to us.
			if len(stack) == 0 || t.Name.Local != stack[len(stack)-1] {
				return nil, fmt.Errorf("element <%s> closed by </%s>", last(stack), t.Name.Local)
			}
			stack, text = stack[:len(stack)-1], nil
			if len(stack) == 0 {
				return x, nil
			}
		case xml.CharData:
			if text != nil {
				*text += string(t)
			}
		case xml.Directive:
			return nil, ErrDTD
		}
	}
}

func last(stack []string) string {
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1]
}

// attr returns the element's attribute by local name, or "".
func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// start records an element opening under the open elements in stack; it
// returns where the element's text goes, if anywhere.
func (x *xmlStats) start(stack []string, el xml.StartElement) *string {
	switch len(stack) {
	case 0:
		x.NodeID, x.BaseTime = attr(el, "nodeid"), attr(el, "basetime")
		x.Elapsed, x.Class = attr(el, "elapsed"), attr(el, "class")
	case 1:
		switch el.Name.Local {
		case "gbudb":
			x.GBUdb = &xmlGBUdb{}
		case "rules":
			x.Rules = &xmlRules{}
		}
	case 2:
		return x.child(stack[1], el)
	case 3:
		if stack[2] == "histogram" && el.Name.Local == "g" {
			x.group(stack[1], [2]string{attr(el, "k"), attr(el, "c")})
		}
	}
	return nil
}

// child records an element inside the section named parent.
func (x *xmlStats) child(parent string, el xml.StartElement) *string {
	name := el.Name.Local
	switch parent {
	case "version":
		switch name {
		case "engine":
			return &x.Engine
		case "platform":
			return &x.Platform
		}
	case "timers":
		x.Timers = append(x.Timers, xmlItem{Name: name, Started: attr(el, "started"), Latest: attr(el, "latest"), Since: attr(el, "elapsed")})
	case "counters":
		x.Counters = append(x.Counters, xmlItem{Name: name, C: attr(el, "c")})
	case "rates":
		x.Rates = append(x.Rates, xmlItem{Name: name, S: attr(el, "s"), M: attr(el, "m"), H: attr(el, "h"), D: attr(el, "d")})
	case "gbudb":
		x.gbudbChild(el)
	case "results":
		if name == "histogram" {
			x.Results.Hits = attr(el, "hits")
		}
	case "rules":
		x.rulesChild(el)
	}
	return nil
}

func (x *xmlStats) gbudbChild(el xml.StartElement) {
	switch el.Name.Local {
	case "size":
		x.GBUdb.Bytes = attr(el, "bytes")
	case "records":
		x.GBUdb.Count = attr(el, "count")
	case "utilization":
		x.GBUdb.Percent = attr(el, "percent")
	}
}

func (x *xmlStats) rulesChild(el xml.StartElement) {
	r := x.Rules
	switch name := el.Name.Local; name {
	case "rulebase", "rulesbase": // some SNF builds spell it rulesbase
		if r.RulebasePath == "" || name == "rulebase" {
			r.Rulebase, r.RulebasePath = attr(el, "utc"), "rules/"+name+"@utc"
		}
	case "active":
		r.Active = attr(el, "utc")
	case "update":
		r.UpdateReady, r.Update = attr(el, "ready"), attr(el, "utc")
	case "latest":
		r.Latest = attr(el, "rule")
	case "histogram":
		r.Histogram.Hits = attr(el, "hits")
	}
}

// group records a histogram group of the results or rules section.
func (x *xmlStats) group(section string, g [2]string) {
	switch {
	case section == "results":
		x.Results.Groups = append(x.Results.Groups, g)
	case section == "rules" && x.Rules != nil:
		x.Rules.Histogram.Groups = append(x.Rules.Histogram.Groups, g)
	}
}

// refuseDeclarations rejects any markup declaration ("<!DOCTYPE",
// "<!ENTITY"...): SNF writes none, and refusing them outright removes any
// question of entity expansion. Comments and CDATA are allowed.
func refuseDeclarations(data []byte) error {
	for rest := data; ; {
		i := bytes.Index(rest, []byte("<!"))
		if i < 0 {
			return nil
		}
		rest = rest[i+2:]
		if !bytes.HasPrefix(rest, []byte("--")) && !bytes.HasPrefix(rest, []byte("[CDATA[")) {
			return ErrDTD
		}
	}
}

// fieldParser collects the first conversion error with the field's path,
// so convert reads as a list of fields.
type fieldParser struct{ err error }

func (p *fieldParser) fail(path, value, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %q is not %s", path, value, want)
	}
}

func (p *fieldParser) uint(path, v string) uint64 {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		p.fail(path, v, "a count")
	}
	return n
}

func (p *fieldParser) int(path, v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		p.fail(path, v, "an integer")
	}
	return n
}

func (p *fieldParser) float(path, v string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		p.fail(path, v, "a number")
	}
	return f
}

// optFloat is for rates, where SNF omits nothing but older builds may.
func (p *fieldParser) optFloat(path, v string) float64 {
	if strings.TrimSpace(v) == "" {
		return 0
	}
	return p.float(path, v)
}

func (p *fieldParser) time(path, v string) time.Time {
	t, err := ParseTime(v)
	if err != nil {
		p.fail(path, v, "a YYYYMMDDhhmmss timestamp")
	}
	return t
}

// optTime is for timestamps that may be absent; absent is the zero time.
func (p *fieldParser) optTime(path, v string) time.Time {
	if strings.TrimSpace(v) == "" {
		return time.Time{}
	}
	return p.time(path, v)
}

func (p *fieldParser) millis(path, v string) time.Duration {
	return time.Duration(p.uint(path, v)) * time.Millisecond
}

// ParseTime reads SNF's compressed ISO timestamp (YYYYMMDDhhmmss, UTC).
func ParseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if len(v) != len(compressedISO) {
		return time.Time{}, fmt.Errorf("timestamp %q: want 14 digits YYYYMMDDhhmmss", v)
	}
	return time.ParseInLocation(compressedISO, v, time.UTC)
}

func (x *xmlStats) convert() (*Snapshot, error) {
	p := &fieldParser{}
	if strings.TrimSpace(x.NodeID) == "" {
		return nil, errors.New("stats@nodeid is missing")
	}
	s := &Snapshot{
		NodeID:          strings.TrimSpace(x.NodeID),
		Class:           strings.TrimSpace(x.Class),
		BaseTime:        p.time("stats@basetime", x.BaseTime),
		EngineVersion:   strings.TrimSpace(x.Engine),
		PlatformVersion: strings.TrimSpace(x.Platform),
		Counters:        map[string]uint64{},
		Rates:           map[string]Rates{},
	}
	if x.Elapsed != "" {
		s.Elapsed = p.millis("stats@elapsed", x.Elapsed)
	}
	for _, t := range x.Timers {
		s.Timers = append(s.Timers, convertTimer(p, t))
	}
	if x.GBUdb != nil {
		s.GBUdb = &GBUdb{
			SizeBytes:          p.uint("gbudb/size@bytes", x.GBUdb.Bytes),
			Records:            p.uint("gbudb/records@count", x.GBUdb.Count),
			UtilizationPercent: p.float("gbudb/utilization@percent", x.GBUdb.Percent),
		}
	}
	for _, c := range x.Counters {
		s.Counters[c.Name] += p.uint("counters/"+c.Name+"@c", c.C)
	}
	for _, r := range x.Rates {
		path := "rates/" + r.Name
		s.Rates[r.Name] = Rates{
			PerSecond: p.optFloat(path+"@s", r.S),
			PerMinute: p.optFloat(path+"@m", r.M),
			PerHour:   p.optFloat(path+"@h", r.H),
			PerDay:    p.optFloat(path+"@d", r.D),
		}
	}
	s.Results = convertHistogram(p, "results/histogram", x.Results)
	if x.Rules != nil {
		s.Rules = convertRules(p, x.Rules)
	}
	if p.err != nil {
		return nil, p.err
	}
	return s, nil
}

func convertTimer(p *fieldParser, t xmlItem) Timer {
	path := "timers/" + t.Name
	at := t.Latest
	if t.Started != "" { // timers/run states when SNF started
		at = t.Started
	}
	tm := Timer{Name: t.Name, At: p.optTime(path, at)}
	if t.Since != "" {
		tm.Elapsed = p.millis(path+"@elapsed", t.Since)
	}
	return tm
}

func convertHistogram(p *fieldParser, path string, x xmlHistogram) Histogram {
	var h Histogram
	if x.Hits != "" {
		h.Hits = p.uint(path+"@hits", x.Hits)
	}
	for _, g := range x.Groups {
		h.Groups = append(h.Groups, Group{Key: p.int(path+"/g@k", g[0]), Count: p.uint(path+"/g@c", g[1])})
	}
	return h
}

func convertRules(p *fieldParser, x *xmlRules) *Rules {
	r := &Rules{
		Rulebase:    p.optTime(x.RulebasePath, x.Rulebase),
		Active:      p.optTime("rules/active@utc", x.Active),
		Update:      p.optTime("rules/update@utc", x.Update),
		UpdateReady: strings.EqualFold(strings.TrimSpace(x.UpdateReady), "yes"),
		Histogram:   convertHistogram(p, "rules/histogram", x.Histogram),
	}
	if x.Latest != "" {
		r.LatestRule = p.int("rules/latest@rule", x.Latest)
	}
	return r
}
