package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
)

// checkWebConfig validates --web.config.file before anything listens, as
// the main configuration is validated: exporter-toolkit only reads it when
// the first connection comes, after "Listening on". Errors name the file
// and, where one key is at fault, its line.
func checkWebConfig(path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	if len(doc.Content) == 1 {
		errs = checkWebNodes(path, doc.Content[0])
	}
	if len(errs) == 0 {
		if err := web.Validate(path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

// checkWebNodes checks what exporter-toolkit's own validation reports
// without a line or not at all: files that are missing, and passwords that
// are not bcrypt hashes (the README's placeholder hash included).
func checkWebNodes(path string, root *yaml.Node) []error {
	var errs []error
	bad := func(n *yaml.Node, key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", path, n.Line, key, fmt.Sprintf(format, args...)))
	}
	for section, body := range mapping(root) {
		switch section {
		case "tls_server_config":
			for key, v := range mapping(body) {
				if (key == "cert_file" || key == "key_file" || key == "client_ca_file") && v.Value != "" {
					file := v.Value
					if !filepath.IsAbs(file) {
						file = filepath.Join(filepath.Dir(path), file)
					}
					if _, err := os.Stat(file); err != nil {
						bad(v, section+"."+key, "%v", err)
					}
				}
			}
		case "basic_auth_users":
			for user, v := range mapping(body) {
				if _, err := bcrypt.Cost([]byte(v.Value)); err != nil {
					bad(v, section+"."+user, "not a bcrypt hash (%v); make one with: htpasswd -nBC 10 %s", err, user)
				}
			}
		}
	}
	return errs
}

// mapping yields the keys and value nodes of a YAML mapping node.
func mapping(n *yaml.Node) func(func(string, *yaml.Node) bool) {
	return func(yield func(string, *yaml.Node) bool) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i].Value, n.Content[i+1]) {
				return
			}
		}
	}
}
