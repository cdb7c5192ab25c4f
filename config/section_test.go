package config

import (
	"reflect"
	"testing"
)

// TestSectionsListEveryField: a field of Config missing from sections()
// would get no defaults, no validation and no folders.
func TestSectionsListEveryField(t *testing.T) {
	var c Config
	listed := map[uintptr]bool{}
	for _, s := range c.sections() {
		listed[reflect.ValueOf(s).Pointer()] = true
	}
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		if !listed[v.Field(i).Addr().Pointer()] {
			t.Errorf("Config.%s is not in Config.sections()", v.Type().Field(i).Name)
		}
	}
	if len(listed) != v.NumField() {
		t.Errorf("sections() has %d sections, Config %d fields", len(listed), v.NumField())
	}
}

// TestModuleRegexpsCompiledOnce: the collector uses the regular
// expressions validation compiled, so they must be kept on the config.
func TestModuleRegexpsCompiledOnce(t *testing.T) {
	cfg, err := Parse("cfg.yml", []byte(`modules:
  - name: eset
    kind: file
    version_file: /var/opt/eset/version.txt
    version_regex: 'version (\S+)'
    date_regex: 'built (\S+)'
    date_layout: "2006-01-02"
`))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Modules[0]
	if re := m.VersionRegexp(); re == nil || re.String() != `version (\S+)` {
		t.Errorf("VersionRegexp() = %v", re)
	}
	if re := m.DateRegexp(); re == nil || re.String() != `built (\S+)` {
		t.Errorf("DateRegexp() = %v", re)
	}
}
