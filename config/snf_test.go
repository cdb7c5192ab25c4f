package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestSNFSection(t *testing.T) {
	cfg, err := Parse("cfg.yml", []byte(`snf:
  - path: /var/spool/snfilter/*.status.minute.*.log.xml
    rule_histogram_top: 20
  - path: /srv/snf/node.status.minute.log.xml
    max_snapshot_bytes: 64KiB
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []SNFSource{
		{Path: "/var/spool/snfilter/*.status.minute.*.log.xml", RuleHistogramTop: 20, MaxSnapshotBytes: DefaultSNFMaxSnapshot},
		{Path: "/srv/snf/node.status.minute.log.xml", MaxSnapshotBytes: 64 << 10},
	}
	if !reflect.DeepEqual(cfg.SNF, want) {
		t.Errorf("snf = %+v\nwant %+v", cfg.SNF, want)
	}
	if got := snfDirs(cfg.SNF); !reflect.DeepEqual(got, []string{"/var/spool/snfilter", "/srv/snf"}) {
		t.Errorf("snf folders = %v", got)
	}
}

func TestSNFDefaultPreset(t *testing.T) {
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SNF) != 1 || !strings.HasPrefix(cfg.SNF[0].Path, "/var/spool/snfilter/") || cfg.SNF[0].RuleHistogramTop != 0 {
		t.Errorf("default snf = %+v, want the /var/spool/snfilter preset with the rule histogram off", cfg.SNF)
	}
}

func TestSNFErrorsNameTheField(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"snf:\n  - path: snf/status.xml\n", `cfg.yml:2: snf[0].path: path "snf/status.xml" is not absolute`},
		{"snf:\n  - path: ''\n", `cfg.yml:2: snf[0].path: path is empty`},
		{"snf:\n  - path: /a/[x.xml\n", `cfg.yml:2: snf[0].path: bad glob pattern`},
		{"snf:\n  - path: /a/x.xml\n  - path: /a/./x.xml\n", `cfg.yml:3: snf[1].path: "/a/./x.xml" is already listed as snf[0].path`},
		{"snf:\n  - path: /a/x.xml\n    rule_histogram_top: -1\n", `cfg.yml:3: snf[0].rule_histogram_top: must be between 0 (off) and 1000, got -1`},
		{"snf:\n  - path: /a/x.xml\n    rule_histogram_top: 5000\n", `snf[0].rule_histogram_top: must be between 0 (off) and 1000`},
		{"snf:\n  - path: /a/x.xml\n    max_snapshot_bytes: 10B\n", `cfg.yml:3: snf[0].max_snapshot_bytes: must be between 1KiB and 1GiB`},
		{"snf:\n  - path: /a/x.xml\n    max_snapshot_bytes: huge\n", `cfg.yml:3: snf[0].max_snapshot_bytes: invalid size "huge"`},
		{"snf:\n  - path: /a/x.xml\n    histogram: 3\n", `cfg.yml:3: snf[0].histogram: unknown field "histogram"`},
		{"snf:\n  path: /a/x.xml\n", `cfg.yml:2: snf.path: wrong type: got a mapping, want a list`},
	}
	for _, c := range cases {
		_, err := Parse("cfg.yml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
}
