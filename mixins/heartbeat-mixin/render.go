// Package mixin renders the heartbeat mixin with go-jsonnet exactly as
// `make mixin` does (both evaluate render.libsonnet), so tests can check
// the checked-in files and render variants with their own _config.
package mixin

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/google/go-jsonnet"
)

// Render evaluates the mixin in dir with override (a jsonnet object such
// as `{ _config+:: { fsSpaceAvailableFor: '0s' } }`, or "{}") merged over
// it, and returns the rendered files by their path from the repository
// root: alerts/alerts.yaml, alerts/rules.yaml, dashboards/*.json.
func Render(dir, override string) (map[string]string, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&jsonnet.FileImporter{JPaths: []string{dir}})
	snippet := "(import 'render.libsonnet')((import 'mixin.libsonnet') + " + override + ")"
	out, err := vm.EvaluateAnonymousSnippet(filepath.Join(dir, "override.jsonnet"), snippet)
	if err != nil {
		return nil, fmt.Errorf("rendering the mixin: %w", err)
	}
	var files map[string]string
	if err := json.Unmarshal([]byte(out), &files); err != nil {
		return nil, fmt.Errorf("rendering the mixin: %w", err)
	}
	for name := range files {
		files[name] += "\n" // as jsonnet -S -m writes each file
	}
	return files, nil
}
