package textfile

import (
	"fmt"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// Source is one parsed file handed to Merge.
type Source struct {
	Path     string              // how the file is named in labels and messages
	Families []*dto.MetricFamily // as returned by Parse
}

// Merge combines the families of several files, in the order given, into
// one set sorted by name, ready to be served. Families of the same name
// from several files become one. Where a later file's family cannot join
// (its TYPE or a non-empty HELP differs from the earlier files', one of
// its series is already there, its names clash with another family's
// _sum/_count/_bucket, or reserved says a name belongs to the exporter),
// that family of that file is dropped, and the reason is returned at the
// file's index in problems; the file's other families are kept. A family
// without HELP gets the other files' HELP, or "Metric read from FILES".
//
// The result shares metrics with the sources; neither may be modified
// afterwards.
func Merge(srcs []Source, reserved func(name string) bool) (families []*dto.MetricFamily, problems [][]error) {
	problems = make([][]error, len(srcs))
	byName := map[string]*merging{}
	// owner maps every exposed sample name to the family exposing it.
	owner := map[string]string{}
	var order []*merging
	for i, src := range srcs {
		drop := func(format string, args ...any) {
			problems[i] = append(problems[i], fmt.Errorf(format, args...))
		}
		for _, mf := range src.Families {
			name, typ := mf.GetName(), mf.GetType()
			m := byName[name]
			if m == nil {
				if n := reservedName(name, typ, reserved); n == name {
					drop("family %s dropped: the exporter serves that name itself", name)
					continue
				} else if n != "" {
					drop("family %s dropped: its sample name %s is served by the exporter itself", name, n)
					continue
				}
				if n, other := clash(name, typ, owner); n != "" {
					drop("family %s dropped: its sample name %s clashes with family %s from %s", name, n, other, byName[other].files[0])
					continue
				}
				m = &merging{name: name, typ: typ}
				byName[name] = m
				order = append(order, m)
				for _, n := range ExposedNames(name, typ) {
					owner[n] = name
				}
			} else {
				if typ != m.typ {
					drop("family %s dropped: it is a %s here but a %s in %s", name, typeName(typ), typeName(m.typ), m.files[0])
					continue
				}
				if h := mf.GetHelp(); h != "" && m.help != "" && h != m.help {
					drop("family %s dropped: its HELP %q differs from %q in %s", name, h, m.help, m.helpFrom)
					continue
				}
				if dup := m.duplicate(mf.Metric); dup != nil {
					drop("family %s dropped: the series %s is already in %s", name, seriesString(name, dup), m.owner(dup))
					continue
				}
			}
			m.add(src.Path, mf)
		}
	}
	families = make([]*dto.MetricFamily, 0, len(order))
	for _, m := range order {
		families = append(families, m.family())
	}
	slices.SortFunc(families, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return families, problems
}

// merging is one family being assembled from one or more files.
type merging struct {
	name     string
	typ      dto.MetricType
	help     string
	helpFrom string
	files    []string
	parts    [][]*dto.Metric // one per file, each sorted
	// seen holds the series signatures, built once a second file brings
	// the same family; nil while one file has it.
	seen map[string]int // signature -> index in files
}

func (m *merging) add(file string, mf *dto.MetricFamily) {
	if h := mf.GetHelp(); h != "" && m.help == "" {
		m.help, m.helpFrom = h, file
	}
	if len(m.files) > 0 && m.seen == nil {
		m.seen = map[string]int{}
		m.remember(0)
	}
	m.files = append(m.files, file)
	m.parts = append(m.parts, mf.Metric)
	if m.seen != nil {
		m.remember(len(m.parts) - 1)
	}
}

func (m *merging) remember(part int) {
	var buf []byte
	for _, metric := range m.parts[part] {
		buf = appendSignature(buf[:0], metric)
		m.seen[string(buf)] = part
	}
}

// duplicate returns a metric of ms whose series the family already has.
func (m *merging) duplicate(ms []*dto.Metric) *dto.Metric {
	if m.seen == nil {
		m.seen = map[string]int{}
		m.remember(0)
	}
	var buf []byte
	for _, metric := range ms {
		buf = appendSignature(buf[:0], metric)
		if _, ok := m.seen[string(buf)]; ok {
			return metric
		}
	}
	return nil
}

// owner names the file an existing series came from.
func (m *merging) owner(metric *dto.Metric) string {
	return m.files[m.seen[string(appendSignature(nil, metric))]]
}

func (m *merging) family() *dto.MetricFamily {
	help := m.help
	if help == "" {
		help = "Metric read from " + strings.Join(m.files, ", ")
	}
	typ := m.typ
	mf := &dto.MetricFamily{Name: &m.name, Help: &help, Type: &typ}
	if len(m.parts) == 1 {
		mf.Metric = m.parts[0]
		return mf
	}
	n := 0
	for _, p := range m.parts {
		n += len(p)
	}
	mf.Metric = make([]*dto.Metric, 0, n)
	for _, p := range m.parts {
		mf.Metric = append(mf.Metric, p...)
	}
	slices.SortStableFunc(mf.Metric, compareMetrics)
	return mf
}

// reservedName returns the first exposed name of the family that reserved
// claims, or "".
func reservedName(name string, t dto.MetricType, reserved func(string) bool) string {
	if reserved == nil {
		return ""
	}
	for _, n := range ExposedNames(name, t) {
		if reserved(n) {
			return n
		}
	}
	return ""
}

// clash returns an exposed name of the new family that another family
// already exposes, and that family's name.
func clash(name string, t dto.MetricType, owner map[string]string) (string, string) {
	for _, n := range ExposedNames(name, t) {
		if other, ok := owner[n]; ok && other != name {
			return n, other
		}
	}
	return "", ""
}

func typeName(t dto.MetricType) string {
	return strings.ToLower(t.String())
}
