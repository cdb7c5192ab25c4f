package textfile

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/labelvalue"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
	}{
		{"empty", "", ""},
		{"blank lines and comments", "\n# just a comment\n\n", ""},
		{"no trailing newline", "a 1", "does not end with a newline"},
		{"timestamp", "a 1\nb 2 1441205977284\n", "b has an explicit timestamp"},
		{"duplicate", "a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 2\n", `a{x="1"} appears twice`},
		{"duplicate empty label", "a{x=\"1\",y=\"\"} 1\na{x=\"1\"} 2\n", `appears twice`},
		{"same labels other order", "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", `appears twice`},
		{"duplicate labels", "a{x=\"1\",x=\"2\"} 1\n", "duplicate label names"},
		{"help not utf8", "# HELP a \xff\na 1\n", ""},
		{"value not utf8", "a{x=\"\xff\"} 1\n", ""},
		{"name not utf8", "a\xff 1\n", "expected float"},
		{"long values differing at the end", "a{x=\"" + strings.Repeat("v", 300) + "1\"} 1\na{x=\"" + strings.Repeat("v", 300) + "2\"} 2\n", ""},
		{"second type", "# TYPE a gauge\n# TYPE a counter\na 1\n", "second TYPE"},
		{"bad value", "a one\n", "expected float"},
		{"crlf", "a 1\r\n", "expected float"},
		{"duplicate bucket", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1e0\"} 1\n", `le="1" twice`},
		{"duplicate quantile", "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"5e-1\"} 1\n", `quantile "0.5" twice`},
		{"ok", "# HELP a Help.\n# TYPE a gauge\na{z=\"1\",b=\"2\"} 1\na 2\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

// Parse sorts labels, metrics and buckets, and shares identical label
// pairs.
func TestParseCanonical(t *testing.T) {
	fams, err := Parse([]byte(`# TYPE z gauge
z{b="2",a="1"} 1
z{a="0",b="2"} 2
# TYPE h histogram
h_bucket{le="+Inf"} 3
h_bucket{le="10"} 2
h_bucket{le="1"} 1
h_sum 5
h_count 3
`))
	if err != nil {
		t.Fatal(err)
	}
	if fams[0].GetName() != "h" || fams[1].GetName() != "z" {
		t.Fatalf("families not sorted: %v", fams)
	}
	var bounds []float64
	for _, b := range fams[0].Metric[0].Histogram.Bucket {
		bounds = append(bounds, b.GetUpperBound())
	}
	if bounds[0] != 1 || bounds[1] != 10 {
		t.Errorf("buckets not sorted: %v", bounds)
	}
	z := fams[1].Metric
	if seriesString("z", z[0]) != `z{a="0",b="2"}` || seriesString("z", z[1]) != `z{a="1",b="2"}` {
		t.Errorf("metrics not sorted: %s %s", seriesString("z", z[0]), seriesString("z", z[1]))
	}
	if z[0].Label[1] != z[1].Label[1] {
		t.Error("identical label pairs not shared")
	}
}

// FuzzParseMerge feeds two files through Parse and Merge: no panic, and
// whatever is served is valid exposition that client_golang's consistency
// checks accept and that parses back to the same series.
func FuzzParseMerge(f *testing.F) {
	seeds := [][2]string{
		{"a 1\n", "b 2\n"},
		{"# HELP a x\n# TYPE a counter\na{l=\"1\"} 1\n", "# HELP a y\n# TYPE a counter\na{l=\"2\"} 1\n"},
		{"# TYPE a gauge\na 1\n", "# TYPE a counter\na 1\n"},
		{"a{l=\"1\"} 1\n", "a{l=\"1\"} 2\n"},
		{"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n", "h_count 3\n"},
		{"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n", "s_sum 2\n"},
		{"x_sum 1\n# TYPE x summary\nx_sum 2\n", ""},
		{"heartbeat_up 1\ngo_goroutines 1\n", "a 1 123\n"},
		{"", "a 1"},
		{"a{x=\"\"} 1\na 2\n", "# HELP a \n"},
		{"# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\nh_bucket{le=\"NaN\"} 1\n", ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	reserved := func(n string) bool { return strings.HasPrefix(n, "heartbeat_") || n == "go_goroutines" }
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a)+len(b) > 1<<16 {
			t.Skip()
		}
		var srcs []Source
		for i, data := range [][]byte{a, b} {
			fams, err := Parse(data)
			if err != nil {
				if fams != nil {
					t.Fatalf("families returned with error %v", err)
				}
				continue
			}
			srcs = append(srcs, Source{Path: []string{"/a.prom", "/b.prom"}[i], Families: fams})
		}
		merged, _ := Merge(srcs, reserved)
		series := 0
		for i, mf := range merged {
			if i > 0 && merged[i-1].GetName() >= mf.GetName() {
				t.Fatalf("families not sorted: %s, %s", merged[i-1].GetName(), mf.GetName())
			}
			for _, n := range ExposedNames(mf.GetName(), mf.GetType()) {
				if reserved(n) {
					t.Fatalf("reserved name %s served", n)
				}
			}
			series += len(mf.Metric)
		}
		g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return merged, nil })
		if _, err := (prometheus.Gatherers{g}).Gather(); err != nil {
			t.Fatalf("merged output fails client_golang's checks: %v", err)
		}
		var buf bytes.Buffer
		for _, mf := range merged {
			if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
				t.Fatalf("encoding: %v", err)
			}
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		back, err := p.TextToMetricFamilies(&buf)
		if err != nil {
			t.Fatalf("served text does not parse back: %v\n%s", err, buf.String())
		}
		n := 0
		for _, mf := range back {
			n += len(mf.Metric)
		}
		if n != series {
			t.Fatalf("%d series served, %d parsed back", series, n)
		}
	})
}

// TestParseCleansLabelValues: a value with a stray byte is served with
// U+FFFD in its place, a huge value cut to labelvalue.MaxBytes.
func TestParseCleansLabelValues(t *testing.T) {
	in := "# HELP a caf\xe9\na{x=\"\xff\xfeevil\",y=\"" + strings.Repeat("y", 1<<20) + "\"} 1\n"
	fams, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := fams[0].GetHelp(); got != "caf\uFFFD" {
		t.Errorf("HELP %q", got)
	}
	labels := fams[0].Metric[0].Label
	if got := labels[0].GetValue(); got != "\uFFFDevil" {
		t.Errorf("x=%q, want the invalid bytes replaced", got)
	}
	if got := labels[1].GetValue(); len(got) > labelvalue.MaxBytes || !strings.HasPrefix(got, "yyyy") {
		t.Errorf("y is %d bytes, want at most %d", len(got), labelvalue.MaxBytes)
	}
}

// A parse error quotes the file only in short escaped excerpts: a link to
// a secret or a binary must not land in the log.
func TestParseErrorsQuoteShortExcerpts(t *testing.T) {
	for _, in := range []string{
		"root:$6$abcdefgh$SECRETHASHVALUESECRETHASHVALUE:19000:0:99999:7:::\n",
		"metric{a=\"" + strings.Repeat("x", 5000) + "\n",
		"m " + strings.Repeat("9z", 400) + "\n",
		"m{a=\"" + strings.Repeat("\x01\xff", 100) + "\n",
		"m{a=\"" + strings.Repeat("v", 100) + "\"} 1\nm{a=\"" + strings.Repeat("v", 100) + "\"} 2\n",
	} {
		_, err := Parse([]byte(in))
		if err == nil {
			t.Fatalf("%.20q parsed", in)
		}
		msg := err.Error()
		if len(msg) > maxErrorBytes+3 {
			t.Errorf("error of %d bytes: %.80s", len(msg), msg)
		}
		if strings.Contains(msg, "SECRETHASHVALUESECRET") || strings.Contains(msg, strings.Repeat("x", 40)) ||
			strings.Contains(msg, strings.Repeat("v", 40)) || strings.Contains(msg, "\x01") || !utf8.ValidString(msg) {
			t.Errorf("error echoes the file: %q", msg)
		}
	}
}
