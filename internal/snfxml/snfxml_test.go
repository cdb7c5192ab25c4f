package snfxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func readSeed(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed_sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utc(s string) time.Time {
	t, err := time.Parse(compressedISO, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestSeedSample checks every figure of the sample in SNF's documentation
// (shared/seeds/003): nothing lost, nothing invented.
func TestSeedSample(t *testing.T) {
	s, err := Parse(readSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	want := &Snapshot{
		NodeID:          "xxxxxxxx",
		Class:           "minute",
		BaseTime:        utc("20080602033557"),
		Elapsed:         60250 * time.Millisecond,
		EngineVersion:   "SNFMulti Engine Version 2.9rc25 Build: May 1 2008 14:19:06",
		PlatformVersion: "SNF Server Version 2-9b2 Build: May 1 2008 14:19:17",
		Timers: []Timer{
			{Name: "run", At: utc("20080524162807"), Elapsed: 731330 * time.Millisecond},
			{Name: "sync", At: utc("20080602033616"), Elapsed: 41 * time.Millisecond},
			{Name: "save", At: utc("20080602032916"), Elapsed: 461 * time.Millisecond},
			{Name: "condense", At: utc("20080601122818"), Elapsed: 54519 * time.Millisecond},
		},
		GBUdb:    &GBUdb{SizeBytes: 134217728, Records: 664959, UtilizationPercent: 98.2742},
		Counters: map[string]uint64{"m": 2664, "s": 2661, "h": 3, "t": 2081},
		Rates: map[string]Rates{
			"m": {33.2502, 2593.22, 152277, 2.77382e+006},
			"s": {33.2502, 2590.51, 152093, 2.75445e+006},
			"h": {0, 2.71637, 184.363, 19367.7},
			"w": {0, 0, 0, 0},
			"c": {0, 0, 8.01577, 1765.33},
			"b": {0, 0, 12.469, 2108.04},
			"t": {25.1039, 2020.98, 119089, 1.73397e+006},
			"a": {0, 0, 0, 0},
			"r": {0, 0, 0, 0},
		},
		Results: Histogram{Hits: 2664, Groups: []Group{
			{0, 3}, {5, 39}, {20, 2081}, {47, 1}, {48, 3}, {50, 1},
			{52, 256}, {54, 41}, {57, 6}, {59, 5}, {60, 227}, {61, 1},
		}},
		Rules: &Rules{
			Rulebase:    utc("20080602033628"),
			Active:      utc("20080602033628"),
			Update:      utc("20080602033038"),
			UpdateReady: false,
			LatestRule:  1911756,
			Histogram: Histogram{Hits: 580, Groups: []Group{
				{73990, 14}, {285230, 2}, {800334, 1}, {812688, 1},
				{1911678, 2}, {1911682, 4}, {1911752, 7}, {1911756, 9},
			}},
		},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", s, want)
	}
	if got := s.ID(); got != "xxxxxxxx|minute|20080602033557" {
		t.Errorf("ID = %q", got)
	}
	// The documentation's cross-check: result code 20 is the truncate count.
	if s.Results.Groups[2].Count != s.Counters["t"] {
		t.Errorf("result 20 = %d, truncate counter = %d", s.Results.Groups[2].Count, s.Counters["t"])
	}
}

func TestRulesbaseSpelling(t *testing.T) {
	doc := strings.Replace(string(readSeed(t)), "<rulebase utc='20080602033628'/>", "<rulesbase utc='20080602033000'/>", 1)
	doc = strings.Replace(doc, "ready='no'", "ready='Yes'", 1)
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Rules.Rulebase.Equal(utc("20080602033000")) || !s.Rules.UpdateReady {
		t.Errorf("rulesbase not read: %+v", s.Rules)
	}
}

// snapshot builds a small valid snapshot of the given minute.
func snapshot(node string, minute, messages int) string {
	return fmt.Sprintf(`<stats nodeid='%s' basetime='202601021500%02d' elapsed='60000' class='minute'>
<counters><m c='%d'/><s c='1'/></counters>
</stats>
`, node, minute, messages)
}

func decodeAll(t *testing.T, r io.Reader, limit int) (ids []string, errs []error, d *Decoder) {
	t.Helper()
	d = NewDecoder(r, limit)
	for range 10000 {
		s, err := d.Next()
		switch {
		case errors.Is(err, io.EOF):
			return ids, errs, d
		case err != nil:
			errs = append(errs, err)
		default:
			ids = append(ids, s.ID())
		}
	}
	t.Fatal("decoder does not end")
	return
}

func TestDecoderAppendedAndPartial(t *testing.T) {
	doc := "<?xml version='1.0' encoding='UTF-8'?>\n<!-- appended -->\n" +
		snapshot("n1", 1, 10) + snapshot("n1", 2, 20) + "\n\n"
	partial := snapshot("n1", 3, 30)
	data := doc + partial[:len(partial)/2]
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(data),
		"one byte": iotest.OneByteReader(strings.NewReader(data)),
	} {
		ids, errs, d := decodeAll(t, r, 0)
		if len(errs) > 0 || len(ids) != 2 {
			t.Fatalf("%s: ids %v errs %v", name, ids, errs)
		}
		if !d.Pending() {
			t.Errorf("%s: partial trailing snapshot not reported pending", name)
		}
		wantOff := int64(strings.LastIndex(doc, "</stats>") + len("</stats>"))
		if d.Offset() != wantOff {
			t.Errorf("%s: offset %d, want %d (just past the second snapshot)", name, d.Offset(), wantOff)
		}
	}
	// Resuming at the offset once the third snapshot is complete reads it alone.
	full := doc + partial
	off := strings.LastIndex(doc, "</stats>") + len("</stats>")
	ids, errs, d := decodeAll(t, strings.NewReader(full[off:]), 0)
	if len(errs) > 0 || !reflect.DeepEqual(ids, []string{"n1|minute|20260102150003"}) || d.Pending() {
		t.Errorf("resumed: ids %v errs %v pending %v", ids, errs, d.Pending())
	}
}

func TestBadInput(t *testing.T) {
	seed := string(readSeed(t))
	bomb := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<stats nodeid='&lol3;' basetime='20080602033557' class='minute'></stats>`
	cases := []struct {
		name string
		doc  string
		want error // nil: any error
	}{
		{"truncated", seed[:len(seed)/2], ErrTruncated},
		{"truncated in end tag", seed[:len(seed)-3], ErrTruncated},
		{"empty", "", ErrNoStats},
		{"malformed", strings.Replace(seed, "</counters>", "</countrs>", 1), nil},
		{"bomb", bomb, ErrDTD},
		{"undeclared entity", "<stats nodeid='&lol;' basetime='20080602033557'/>", nil},
		{"doctype inside", "<stats nodeid='a' basetime='20080602033557'><!DOCTYPE x></stats>", ErrDTD},
		{"external entity", "<!DOCTYPE s [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><stats nodeid='&x;' basetime='20080602033557'/>", ErrDTD},
		{"huge", "<stats nodeid='a' basetime='20080602033557'>" + strings.Repeat("<g k='1' c='1'/>", DefaultMaxSnapshotBytes/16+1) + "</stats>", ErrTooLarge},
		{"latin-1", "<stats nodeid='caf\xe9' basetime='20080602033557'/>", ErrNotUTF8},
		{"bad count", strings.Replace(seed, "<m c='2664'/>", "<m c='lots'/>", 1), nil},
		{"bad basetime", strings.Replace(seed, "basetime='20080602033557'", "basetime='2008-06-02'", 1), nil},
		{"no nodeid", "<stats basetime='20080602033557'/>", nil},
	}
	for _, c := range cases {
		s, err := Parse([]byte(c.doc))
		if err == nil || s != nil {
			t.Errorf("%s: no error (%+v)", c.name, s)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

// A bad snapshot among appended ones is reported and skipped; the good
// ones before and after it are still read.
func TestDecoderSkipsBadSnapshots(t *testing.T) {
	huge := "<stats nodeid='n1' basetime='20260102150009'>" + strings.Repeat(" ", 5000) + "</stats>\n"
	data := snapshot("n1", 1, 1) +
		strings.Replace(snapshot("n1", 2, 2), "<s c='1'/>", "<s c='1'>", 1) + // malformed
		snapshot("n1", 3, 3) +
		huge +
		snapshot("n1", 4, 4) +
		"<!DOCTYPE x>\n" +
		"<stats nodeid='\xff' basetime='20260102150005'/>\n" +
		snapshot("n1", 6, 6)
	ids, errs, d := decodeAll(t, iotest.HalfReader(strings.NewReader(data)), 1000)
	want := []string{"n1|minute|20260102150001", "n1|minute|20260102150003", "n1|minute|20260102150004", "n1|minute|20260102150006"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if len(errs) != 4 {
		t.Errorf("errors %v, want 4 (malformed, too large, DOCTYPE, not UTF-8)", errs)
	}
	for i, target := range []error{nil, ErrTooLarge, ErrDTD, ErrNotUTF8} {
		var se *SnapshotError
		if i < len(errs) && (!errors.As(errs[i], &se) || (target != nil && !errors.Is(errs[i], target))) {
			t.Errorf("error %d = %v, want a SnapshotError %v", i, errs[i], target)
		}
	}
	if d.Offset() != int64(len(data)-1) || d.Pending() {
		t.Errorf("offset %d pending %v, want %d false", d.Offset(), d.Pending(), len(data)-1)
	}
}

func TestParseTime(t *testing.T) {
	for _, bad := range []string{"", "2008060203355", "200806020335577", "20081302033557", "2008060203355x"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
	got, err := ParseTime("20080602033557")
	if err != nil || !got.Equal(time.Date(2008, 6, 2, 3, 35, 57, 0, time.UTC)) {
		t.Errorf("ParseTime = %v, %v", got, err)
	}
}

// FuzzDecoder: no panic; offsets stay within the input; reading in tiny
// pieces gives exactly what reading at once gives.
func FuzzDecoder(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed_sample.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(snapshot("a", 1, 1) + snapshot("a", 2, 2)))
	f.Add([]byte(`<!DOCTYPE l [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]><stats nodeid='&b;' basetime='20080602033557'/>`))
	f.Add([]byte("<stats nodeid='a' basetime='20080602033557'>" + strings.Repeat("<g k='1' c='1'/>", 100) + "</stats>"))
	f.Add([]byte("<stats nodeid='\xe9' basetime='20080602033557'/>"))
	f.Add([]byte(strings.ReplaceAll(string(seed), "rulebase", "rulesbase")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			t.Skip()
		}
		type result struct {
			snaps []*Snapshot
			errs  []string
			off   int64
			pend  bool
		}
		run := func(r io.Reader) result {
			var res result
			d := NewDecoder(r, 1024)
			for {
				s, err := d.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					res.errs = append(res.errs, err.Error())
					continue
				}
				if s == nil || s.NodeID == "" {
					t.Fatalf("snapshot without node: %+v", s)
				}
				res.snaps = append(res.snaps, s)
			}
			res.off, res.pend = d.Offset(), d.Pending()
			return res
		}
		whole := run(bytes.NewReader(data))
		if whole.off < 0 || whole.off > int64(len(data)) {
			t.Fatalf("offset %d outside [0,%d]", whole.off, len(data))
		}
		if small := run(iotest.OneByteReader(bytes.NewReader(data))); !reflect.DeepEqual(whole, small) {
			t.Fatalf("chunking changed the result:\n%+v\n%+v", whole, small)
		}
	})
}
