// Package textfile reads node_exporter-style *.prom files: it parses one
// file's bytes in the Prometheus text format, validates them, merges the
// families of several files into one set ready to be served, and caches
// the result so that files which did not change are neither read nor
// parsed again.
//
// It holds metric families as client_model protobuf structures (the
// format's own data model) but knows nothing of registries, collectors or
// HTTP: the collector package plugs its output into /metrics.
package textfile

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/labelvalue"
)

// Parse reads one file in the Prometheus text exposition format (0.0.4)
// and returns its metric families sorted by name, each with its label
// pairs sorted by name and its metrics sorted by labels.
//
// Bytes that are not valid UTF-8 are replaced by U+FFFD before parsing
// and label values longer than labelvalue.MaxBytes are cut (see
// labelvalue.Clean): a stray Latin-1 byte costs the value its accent, not
// the file (node_exporter refuses the file). The whole file is refused
// with an error when it cannot be parsed, when a sample carries an
// explicit timestamp (not supported, as in node_exporter), or when the
// same series appears twice (labels with empty values count as absent, as
// in Prometheus; two values cut alike count as one). An empty file is
// valid and has no families.
func Parse(data []byte) ([]*dto.MetricFamily, error) {
	fams, err := parse(data)
	return fams, shortError(err)
}

func parse(data []byte) ([]*dto.MetricFamily, error) {
	if !utf8.Valid(data) {
		data = bytes.ToValidUTF8(data, []byte(labelvalue.Replacement))
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	byName, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		if len(data) > 0 && data[len(data)-1] != '\n' {
			return nil, fmt.Errorf("%w (the file does not end with a newline: truncated, or still being written? write a temporary file and rename it into place)", err)
		}
		return nil, err
	}
	fams := make([]*dto.MetricFamily, 0, len(byName))
	in := interner{pairs: map[[2]string]*dto.LabelPair{}}
	for _, mf := range byName {
		if err := normalizeFamily(mf); err != nil {
			return nil, err
		}
		compact(mf, &in)
		fams = append(fams, mf)
	}
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return fams, nil
}

// normalizeFamily validates one parsed family and puts it in canonical
// order: label pairs by name, histogram buckets and summary quantiles by
// bound, metrics by labels.
func normalizeFamily(mf *dto.MetricFamily) error {
	name := mf.GetName()
	for _, m := range mf.Metric {
		if m.TimestampMs != nil {
			return fmt.Errorf("%s has an explicit timestamp; timestamps are not supported in textfiles, so the whole file is skipped", seriesString(name, m))
		}
		for _, l := range m.Label {
			if strings.HasPrefix(l.GetName(), model.ReservedLabelPrefix) {
				return fmt.Errorf("%s has the label %s: names starting with %s are reserved", seriesString(name, m), l.GetName(), model.ReservedLabelPrefix)
			}
			if v := l.GetValue(); len(v) > labelvalue.MaxBytes {
				l.Value = proto.String(labelvalue.Clean(v))
			}
		}
		slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		if h := m.Histogram; h != nil {
			slices.SortStableFunc(h.Bucket, func(a, b *dto.Bucket) int { return cmp.Compare(a.GetUpperBound(), b.GetUpperBound()) })
			for i := 1; i < len(h.Bucket); i++ {
				if h.Bucket[i].GetUpperBound() == h.Bucket[i-1].GetUpperBound() {
					return fmt.Errorf("%s has the bucket le=%q twice", seriesString(name, m), strconv.FormatFloat(h.Bucket[i].GetUpperBound(), 'g', -1, 64))
				}
			}
		}
		if s := m.Summary; s != nil {
			slices.SortStableFunc(s.Quantile, func(a, b *dto.Quantile) int { return cmp.Compare(a.GetQuantile(), b.GetQuantile()) })
			for i := 1; i < len(s.Quantile); i++ {
				if s.Quantile[i].GetQuantile() == s.Quantile[i-1].GetQuantile() {
					return fmt.Errorf("%s has the quantile %q twice", seriesString(name, m), strconv.FormatFloat(s.Quantile[i].GetQuantile(), 'g', -1, 64))
				}
			}
		}
	}
	slices.SortStableFunc(mf.Metric, compareMetrics)
	// Sorted, identical series are neighbours (empty label values aside,
	// which a signature compares away).
	if i := firstDuplicate(mf.Metric); i >= 0 {
		return fmt.Errorf("%s appears twice", seriesString(name, mf.Metric[i]))
	}
	return nil
}

// compact rebuilds a sorted family's metrics in a few contiguous blocks, in
// order, with identical label pairs shared: what the parser left is one
// scattered allocation per label, value and metric. The cached families
// take a fraction of the memory, the garbage collector has far fewer
// objects to scan, and encoding them walks memory in order.
func compact(mf *dto.MetricFamily, in *interner) {
	n := len(mf.Metric)
	nLabels := 0
	for _, m := range mf.Metric {
		nLabels += len(m.Label)
	}
	metrics := make([]dto.Metric, n)
	ptrs := make([]*dto.Metric, n)
	labels := make([]*dto.LabelPair, nLabels)
	values := make([]float64, n)
	var (
		gauges   []dto.Gauge
		counters []dto.Counter
		untyped  []dto.Untyped
	)
	switch mf.GetType() {
	case dto.MetricType_GAUGE:
		gauges = make([]dto.Gauge, n)
	case dto.MetricType_COUNTER:
		counters = make([]dto.Counter, n)
	case dto.MetricType_UNTYPED:
		untyped = make([]dto.Untyped, n)
	}
	for i, old := range mf.Metric {
		m := &metrics[i]
		k := len(old.Label)
		m.Label, labels = labels[:k:k], labels[k:]
		for j, l := range old.Label {
			m.Label[j] = in.pair(l)
		}
		switch {
		case old.Gauge != nil && gauges != nil:
			values[i] = old.Gauge.GetValue()
			gauges[i].Value = &values[i]
			m.Gauge = &gauges[i]
		case old.Counter != nil && counters != nil:
			values[i] = old.Counter.GetValue()
			counters[i].Value = &values[i]
			m.Counter = &counters[i]
		case old.Untyped != nil && untyped != nil:
			values[i] = old.Untyped.GetValue()
			untyped[i].Value = &values[i]
			m.Untyped = &untyped[i]
		default: // histograms and summaries keep their parsed structure
			m.Gauge, m.Counter, m.Untyped = old.Gauge, old.Counter, old.Untyped
			m.Histogram, m.Summary = old.Histogram, old.Summary
		}
		ptrs[i] = m
	}
	mf.Metric = ptrs
}

// interner hands out one *dto.LabelPair per distinct name and value.
type interner struct {
	pairs map[[2]string]*dto.LabelPair
}

func (in *interner) pair(l *dto.LabelPair) *dto.LabelPair {
	key := [2]string{l.GetName(), l.GetValue()}
	if p, ok := in.pairs[key]; ok {
		return p
	}
	p := &dto.LabelPair{Name: &key[0], Value: &key[1]}
	in.pairs[key] = p
	return p
}

// firstDuplicate returns the index of a metric whose series occurs earlier
// in the sorted slice, or -1.
func firstDuplicate(ms []*dto.Metric) int {
	emptyValues := false
	for i, m := range ms {
		for _, l := range m.Label {
			if l.GetValue() == "" {
				emptyValues = true
			}
		}
		if i > 0 && compareMetrics(ms[i-1], m) == 0 {
			return i
		}
	}
	if !emptyValues {
		return -1
	}
	// {a=""} and {} are one series to Prometheus, but do not sort together.
	seen := make(map[string]struct{}, len(ms))
	var buf []byte
	for i, m := range ms {
		buf = appendSignature(buf[:0], m)
		if _, dup := seen[string(buf)]; dup {
			return i
		}
		seen[string(buf)] = struct{}{}
	}
	return -1
}

// appendSignature appends a key identifying the series of m within its
// family: its label pairs with a non-empty value.
func appendSignature(buf []byte, m *dto.Metric) []byte {
	for _, l := range m.Label {
		if l.GetValue() == "" {
			continue
		}
		buf = append(buf, l.GetName()...)
		buf = append(buf, 0xff)
		buf = append(buf, l.GetValue()...)
		buf = append(buf, 0xff)
	}
	return buf
}

// compareMetrics orders metrics by their label pairs (sorted by name),
// pair by pair: name first, then value; fewer pairs first on a tie.
func compareMetrics(a, b *dto.Metric) int {
	la, lb := a.Label, b.Label
	for i := 0; i < len(la) && i < len(lb); i++ {
		if c := strings.Compare(la[i].GetName(), lb[i].GetName()); c != 0 {
			return c
		}
		if c := strings.Compare(la[i].GetValue(), lb[i].GetValue()); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// seriesString writes a series the way the text format does, for error
// messages.
func seriesString(name string, m *dto.Metric) string {
	var b strings.Builder
	b.WriteString(name)
	if len(m.Label) == 0 {
		return b.String()
	}
	b.WriteByte('{')
	for i, l := range m.Label {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.GetName(), l.GetValue())
	}
	b.WriteByte('}')
	return b.String()
}

// ExposedNames lists the sample names a family of this name and type puts
// into the text format, the family name included: a summary adds _sum and
// _count, a histogram _bucket too. Two families clash when these overlap.
func ExposedNames(name string, t dto.MetricType) []string {
	switch t {
	case dto.MetricType_SUMMARY:
		return []string{name, name + "_sum", name + "_count"}
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return []string{name, name + "_bucket", name + "_sum", name + "_count"}
	}
	return []string{name}
}
