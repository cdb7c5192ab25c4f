package config

import (
	"fmt"

	"github.com/alecthomas/units"
	"go.yaml.in/yaml/v3"
)

// Bytes is a size written the Prometheus way: "64MiB", "512KiB", "1GB".
type Bytes int64

// UnmarshalYAML reports a bad size as a yaml.TypeError so that the
// loader can name its line and field like any other type error.
func (b *Bytes) UnmarshalYAML(value *yaml.Node) error {
	n, err := units.ParseStrictBytes(value.Value)
	if err != nil || value.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			"line %d: invalid size %q, want a number of bytes such as 64MiB", value.Line, value.Value)}}
	}
	*b = Bytes(n)
	return nil
}

// MarshalYAML writes the size back in the unit form.
func (b Bytes) MarshalYAML() (any, error) {
	return units.Base2Bytes(b).String(), nil
}
