package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/textfile"
)

// FamilyCollector is a Collector whose bulk output is kept as ready-made
// metric families (the textfile collector's merged *.prom files): they are
// served beside the request's registry instead of being rebuilt as const
// metrics, re-checked and re-sorted on every scrape. A Scrape calls
// UpdateFamilies instead of Update; the families must be valid (sorted by
// name, label pairs sorted, no duplicate series) and are never modified
// afterwards.
type FamilyCollector interface {
	Collector
	UpdateFamilies(ctx context.Context, ch chan<- prometheus.Metric) ([]*dto.MetricFamily, error)
}

// Gatherer returns base (the request's registry holding this Scrape, with
// the exporter's own registries) plus the families this Scrape's
// FamilyCollectors handed over. A handed-over family whose sample names
// clash with a gathered one is left out, with an error (served anyway
// under promhttp.ContinueOnError); collectors are expected to have refused
// such names already.
func (s *Scrape) Gatherer(base prometheus.Gatherer) prometheus.Gatherer {
	return &scrapeGatherer{scrape: s, base: base}
}

type scrapeGatherer struct {
	scrape *Scrape
	base   prometheus.Gatherer
}

func (g *scrapeGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := g.base.Gather() // runs the collectors: scrape.families is set after this
	g.scrape.mu.Lock()
	extra := g.scrape.families
	g.scrape.mu.Unlock()
	if len(extra) == 0 {
		return mfs, err
	}
	var errs prometheus.MultiError
	if me := (prometheus.MultiError{}); errors.As(err, &me) {
		errs = append(errs, me...)
	} else if err != nil {
		errs = append(errs, err)
	}
	taken := make(map[string]string, 2*len(mfs))
	for _, mf := range mfs {
		for _, n := range textfile.ExposedNames(mf.GetName(), mf.GetType()) {
			taken[n] = mf.GetName()
		}
	}
	for _, fams := range extra {
		keep := make([]*dto.MetricFamily, 0, len(fams))
	families:
		for _, mf := range fams {
			names := textfile.ExposedNames(mf.GetName(), mf.GetType())
			for _, n := range names {
				if other, ok := taken[n]; ok {
					errs = append(errs, fmt.Errorf("family %s left out: its sample name %s clashes with the family %s", mf.GetName(), n, other))
					continue families
				}
			}
			for _, n := range names {
				taken[n] = mf.GetName()
			}
			keep = append(keep, mf)
		}
		mfs = mergeByName(mfs, keep)
	}
	return mfs, errs.MaybeUnwrap()
}

// mergeByName merges two lists of families sorted by name (with no name
// in both) into one.
func mergeByName(a, b []*dto.MetricFamily) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if strings.Compare(a[0].GetName(), b[0].GetName()) <= 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// ReservedNames returns every sample name the gatherers expose (a
// summary's or histogram's _sum, _count and _bucket included), for
// Deps.Reserved. Whatever a gatherer returns despite an error counts.
func ReservedNames(gs ...prometheus.Gatherer) map[string]bool {
	names := map[string]bool{}
	for _, g := range gs {
		mfs, _ := g.Gather()
		for _, mf := range mfs {
			for _, n := range textfile.ExposedNames(mf.GetName(), mf.GetType()) {
				names[n] = true
			}
		}
	}
	return names
}
