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

// The XML shapes, decoded by encoding/xml (which never expands entities
// other than the five predefined ones).
type xmlStats struct {
	NodeID   string `xml:"nodeid,attr"`
	BaseTime string `xml:"basetime,attr"`
	Elapsed  string `xml:"elapsed,attr"`
	Class    string `xml:"class,attr"`
	Version  struct {
		Engine   string `xml:"engine"`
		Platform string `xml:"platform"`
	} `xml:"version"`
	Timers   xmlAny       `xml:"timers"`
	GBUdb    *xmlGBUdb    `xml:"gbudb"`
	Counters xmlAny       `xml:"counters"`
	Rates    xmlAny       `xml:"rates"`
	Results  xmlHistogram `xml:"results>histogram"`
	Rules    *xmlRules    `xml:"rules"`
}

// xmlAny holds child elements named by event letter or timer name.
type xmlAny struct {
	Items []xmlItem `xml:",any"`
}

type xmlItem struct {
	XMLName xml.Name
	C       string `xml:"c,attr"`
	S       string `xml:"s,attr"`
	M       string `xml:"m,attr"`
	H       string `xml:"h,attr"`
	D       string `xml:"d,attr"`
	Started string `xml:"started,attr"`
	Latest  string `xml:"latest,attr"`
	Elapsed string `xml:"elapsed,attr"`
}

type xmlGBUdb struct {
	Size struct {
		Bytes string `xml:"bytes,attr"`
	} `xml:"size"`
	Records struct {
		Count string `xml:"count,attr"`
	} `xml:"records"`
	Utilization struct {
		Percent string `xml:"percent,attr"`
	} `xml:"utilization"`
}

type xmlHistogram struct {
	Hits   string `xml:"hits,attr"`
	Groups []struct {
		K string `xml:"k,attr"`
		C string `xml:"c,attr"`
	} `xml:"g"`
}

type xmlUTC struct {
	UTC string `xml:"utc,attr"`
}

type xmlRules struct {
	Rulebase  *xmlUTC `xml:"rulebase"`
	Rulesbase *xmlUTC `xml:"rulesbase"` // the spelling some SNF builds use
	Active    xmlUTC  `xml:"active"`
	Update    struct {
		Ready string `xml:"ready,attr"`
		UTC   string `xml:"utc,attr"`
	} `xml:"update"`
	Latest struct {
		Rule string `xml:"rule,attr"`
	} `xml:"latest"`
	Histogram xmlHistogram `xml:"histogram"`
}

// parseElement decodes one complete <stats> element.
func parseElement(data []byte) (*Snapshot, error) {
	if !utf8.Valid(data) {
		return nil, ErrNotUTF8
	}
	if err := refuseDeclarations(data); err != nil {
		return nil, err
	}
	var x xmlStats
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("malformed XML: %w", err)
	}
	return x.convert()
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
		EngineVersion:   strings.TrimSpace(x.Version.Engine),
		PlatformVersion: strings.TrimSpace(x.Version.Platform),
		Counters:        map[string]uint64{},
		Rates:           map[string]Rates{},
	}
	if x.Elapsed != "" {
		s.Elapsed = p.millis("stats@elapsed", x.Elapsed)
	}
	for _, t := range x.Timers.Items {
		s.Timers = append(s.Timers, convertTimer(p, t))
	}
	if x.GBUdb != nil {
		s.GBUdb = &GBUdb{
			SizeBytes:          p.uint("gbudb/size@bytes", x.GBUdb.Size.Bytes),
			Records:            p.uint("gbudb/records@count", x.GBUdb.Records.Count),
			UtilizationPercent: p.float("gbudb/utilization@percent", x.GBUdb.Utilization.Percent),
		}
	}
	for _, c := range x.Counters.Items {
		name := c.XMLName.Local
		s.Counters[name] += p.uint("counters/"+name+"@c", c.C)
	}
	for _, r := range x.Rates.Items {
		path := "rates/" + r.XMLName.Local
		s.Rates[r.XMLName.Local] = Rates{
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
	path := "timers/" + t.XMLName.Local
	at := t.Latest
	if t.Started != "" { // timers/run states when SNF started
		at = t.Started
	}
	tm := Timer{Name: t.XMLName.Local, At: p.optTime(path, at)}
	if t.Elapsed != "" {
		tm.Elapsed = p.millis(path+"@elapsed", t.Elapsed)
	}
	return tm
}

func convertHistogram(p *fieldParser, path string, x xmlHistogram) Histogram {
	var h Histogram
	if x.Hits != "" {
		h.Hits = p.uint(path+"@hits", x.Hits)
	}
	for _, g := range x.Groups {
		h.Groups = append(h.Groups, Group{Key: p.int(path+"/g@k", g.K), Count: p.uint(path+"/g@c", g.C)})
	}
	return h
}

func convertRules(p *fieldParser, x *xmlRules) *Rules {
	base := x.Rulebase
	path := "rules/rulebase@utc"
	if base == nil && x.Rulesbase != nil {
		base, path = x.Rulesbase, "rules/rulesbase@utc"
	}
	r := &Rules{
		Active:      p.optTime("rules/active@utc", x.Active.UTC),
		Update:      p.optTime("rules/update@utc", x.Update.UTC),
		UpdateReady: strings.EqualFold(strings.TrimSpace(x.Update.Ready), "yes"),
		Histogram:   convertHistogram(p, "rules/histogram", x.Histogram),
	}
	if base != nil {
		r.Rulebase = p.optTime(path, base.UTC)
	}
	if x.Latest.Rule != "" {
		r.LatestRule = p.int("rules/latest@rule", x.Latest.Rule)
	}
	return r
}
