package main

import (
	"regexp"
	"strings"
	"testing"
)

// Every link on the landing page answers 200 (exporter-toolkit's default
// page links /debug/pprof/*, which this exporter does not serve).
func TestLandingPageLinks(t *testing.T) {
	p := startDemo(t)
	code, page := p.get(t, "/")
	if code != 200 {
		t.Fatalf("/ answered %d", code)
	}
	links := regexp.MustCompile(`href="([^"#]*)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 2 {
		t.Fatalf("landing page has %d links:\n%s", len(links), page)
	}
	for _, l := range links {
		if strings.HasPrefix(l[1], "http") {
			continue
		}
		if code, _ := p.get(t, "/"+strings.TrimPrefix(l[1], "/")); code != 200 {
			t.Errorf("landing page links %s, which answers %d", l[1], code)
		}
	}
}
