package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/heartbeat-exporter/heartbeat_exporter"

// imports lists what the non-test Go files of dir import.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out = append(out, p)
		}
	}
	return out
}

// The import rules of docs/architecture.md hold, and the page names every
// internal package.
func TestArchitectureRules(t *testing.T) {
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir("internal")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if !strings.Contains(string(doc), "`"+d.Name()+"`") {
			t.Errorf("docs/architecture.md does not name internal/%s", d.Name())
		}
		for _, imp := range imports(t, filepath.Join("internal", d.Name())) {
			if imp == modulePath || strings.HasPrefix(imp, modulePath+"/collector") ||
				strings.HasPrefix(imp, modulePath+"/config") || strings.HasPrefix(imp, "github.com/prometheus/client_golang") {
				t.Errorf("internal/%s imports %s", d.Name(), imp)
			}
		}
	}
	for _, imp := range imports(t, "config") {
		if strings.HasPrefix(imp, "github.com/prometheus/") || imp == modulePath+"/collector" {
			t.Errorf("config imports %s", imp)
		}
	}
	for _, imp := range imports(t, "push") {
		if imp == modulePath || strings.HasPrefix(imp, modulePath+"/collector") || strings.HasPrefix(imp, modulePath+"/config") {
			t.Errorf("push imports %s", imp)
		}
	}
	for _, imp := range imports(t, "collector") {
		if imp == modulePath {
			t.Errorf("collector imports the main package")
		}
	}
	others, _ := filepath.Glob("internal/*/*_other.go")
	for _, f := range others {
		t.Errorf("%s: the exporter is Linux only (docs/architecture.md), no stand-ins for other systems", f)
	}
}
