package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	cfg, err := Load("")
	if err != nil {
		t.Fatalf("embedded default does not load: %v", err)
	}
	if got := cfg.Textfile.MaxFileSize; got != 64<<20 {
		t.Errorf("max_file_size = %d, want 64MiB", got)
	}
	if got := cfg.Filesystem.StatTimeout; got != 5*time.Second {
		t.Errorf("stat_timeout = %s, want 5s", got)
	}
	paths := cfg.FilesystemPaths()
	if len(paths) == 0 || paths[0] != "/" {
		t.Errorf("default filesystem paths = %v, want / first", paths)
	}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	cfg, err := Parse("empty.yml", []byte("# nothing here\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Filesystem.StatTimeout != DefaultStatTimeout {
		t.Errorf("stat_timeout = %s, want default", cfg.Filesystem.StatTimeout)
	}
	if got := cfg.FilesystemPaths(); len(got) != 1 || got[0] != "/" {
		t.Errorf("paths = %v, want [/]", got)
	}
}

func TestFilesystemPathsAreCleanedAndUnique(t *testing.T) {
	cfg, err := Parse("t.yml", []byte("filesystem:\n  paths: [/var/, /var, /var/spool/../spool/postfix]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.FilesystemPaths(), " ")
	if got != "/var /var/spool/postfix" {
		t.Errorf("paths = %q", got)
	}
}

// Every error names the file, the line and the field.
func TestErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level field", "node: {}\nfilesystems:\n  paths: [/]\n",
			[]string{`cfg.yml:2: filesystems: unknown field "filesystems"`}},
		{"unknown nested field", "filesystem:\n  paths: [/]\n  pathz: [/var]\n",
			[]string{`cfg.yml:3: filesystem.pathz: unknown field "pathz"`}},
		{"wrong type list", "filesystem:\n  paths: /var\n",
			[]string{`cfg.yml:2: filesystem.paths: wrong type: got a string (/var), want a list`}},
		{"wrong type duration", "filesystem:\n  stat_timeout: soon\n",
			[]string{`cfg.yml:2: filesystem.stat_timeout: wrong type: got a string (soon), want a duration such as 10s`}},
		{"wrong type map", "node:\n  labels: [a, b]\n",
			[]string{`cfg.yml:2: node.labels: wrong type`}},
		{"relative path", "filesystem:\n  paths:\n    - /\n    - var/log\n",
			[]string{`cfg.yml:4: filesystem.paths[1]: path "var/log" is not absolute`}},
		{"empty path", "filesystem:\n  paths: ['']\n",
			[]string{`cfg.yml:2: filesystem.paths[0]: path is empty`}},
		{"bad label name", "node:\n  labels:\n    customer: acme\n    site-id: fra1\n",
			[]string{`cfg.yml:4: node.labels.site-id: "site-id" is not a valid Prometheus label name`}},
		{"reserved label", "node:\n  labels:\n    node_id: x\n",
			[]string{`cfg.yml:3: node.labels.node_id: label "node_id" is set by the exporter itself`}},
		{"timeout out of range", "filesystem:\n  stat_timeout: 2h\n",
			[]string{`cfg.yml:2: filesystem.stat_timeout: must be between 0s and 1m, got 2h0m0s`}},
		{"syntax error", "filesystem:\n  paths: [/\n",
			[]string{`cfg.yml`, `syntax error`}},
		{"two problems reported together", "filesystem:\n  paths: [rel]\nnode:\n  labels: {0bad: x}\n",
			[]string{`cfg.yml:4: node.labels.0bad`, `cfg.yml:2: filesystem.paths[0]: path "rel" is not absolute`}},
		{"bad size", "textfile:\n  max_file_size: lots\n",
			[]string{`cfg.yml:2: textfile.max_file_size: invalid size "lots"`}},
		{"relative textfile directory", "textfile:\n  directories: [/ok, textfiles]\n",
			[]string{`cfg.yml:2: textfile.directories[1]: path "textfiles" is not absolute`}},
		{"two documents", "node: {}\n---\nnode: {}\n",
			[]string{`cfg.yml: more than one YAML document`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("cfg.yml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted a bad config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFileNamesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yml")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v does not name %s", err, path)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ok.yml")
	if err := os.WriteFile(path, []byte("node:\n  labels: {customer: acme}\n  id: gw-17\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.Labels["customer"] != "acme" || cfg.Node.ID != "gw-17" {
		t.Errorf("got %+v", cfg.Node)
	}
}

// FuzzParse: no input may panic the loader; whatever it accepts validates.
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML)
	f.Add([]byte("filesystem:\n  paths: [/, rel]\n"))
	f.Add([]byte("node: {labels: {a: b}}\n---\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yml", data)
		if err == nil && len(cfg.validate()) > 0 {
			t.Fatalf("accepted an invalid config")
		}
	})
}
