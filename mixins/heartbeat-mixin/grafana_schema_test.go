package mixin

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// schemaComplaints decodes one dashboard the way Grafana's published
// schema (grafana-foundation-sdk) reads it: unknown fields, wrong types
// and missing required fields are errors, panel options are decoded by
// their panel plugin; then Validate() checks the constraints. It returns
// every complaint, one per line.
func schemaComplaints(raw []byte) []string {
	plugins.RegisterDefaultPlugins()
	// The v1 dashboard JSON is what the mixin renders and what file
	// provisioning loads; dashboardv2 is a different document.
	//lint:ignore SA1019 the v1 schema is the one our JSON is in
	var d dashboard.Dashboard
	var out []string
	if err := d.UnmarshalJSONStrict(raw); err != nil {
		out = append(out, splitJoined(err)...)
	}
	if err := d.Validate(); err != nil {
		out = append(out, splitJoined(err)...)
	}
	return out
}

// splitJoined lists the SDK's complaints one by one. The generated code
// returns its cog.BuildErrors slice even when it is empty, as a non-nil
// error with no text: that is no complaint.
func splitJoined(err error) []string {
	var build cog.BuildErrors
	if !errors.As(err, &build) {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range build {
		out = append(out, e.Error())
	}
	return out
}

// TestDashboardsPassGrafanaSchema: every rendered dashboard (the ones
// checked in under dashboards/, which TestRenderedFilesUpToDate keeps
// equal to the jsonnet) decodes strictly and validates.
func TestDashboardsPassGrafanaSchema(t *testing.T) {
	files := renderDefault(t)
	var names []string
	for name := range files {
		if strings.HasPrefix(name, "dashboards/") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no dashboards rendered")
	}
	for _, name := range names {
		for _, c := range schemaComplaints([]byte(files[name])) {
			t.Errorf("%s: %s", filepath.Base(name), c)
		}
	}
}

// TestGrafanaSchemaCheckBites: the check finds a missing required field
// and an unknown one; without it a decode that accepts anything would
// pass the test above.
func TestGrafanaSchemaCheckBites(t *testing.T) {
	files := renderDefault(t)
	raw := files["dashboards/heartbeat-host.json"]
	if raw == "" {
		t.Fatal("host dashboard not rendered")
	}
	for _, m := range []struct{ name, from, to, want string }{
		{"missing required field", `"graphMode"`, `"graphModeX"`, "graphMode"},
		{"wrong type", `"schemaVersion": `, `"schemaVersion": "x", "y": `, "schemaVersion"},
	} {
		broken := strings.Replace(raw, m.from, m.to, 1)
		if broken == raw {
			t.Fatalf("%s: %s not found in the host dashboard", m.name, m.from)
		}
		got := strings.Join(schemaComplaints([]byte(broken)), "\n")
		if !strings.Contains(got, m.want) {
			t.Errorf("%s: complaints %q do not name %s", m.name, got, m.want)
		}
	}
}
