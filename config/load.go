package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// FieldError is one problem with one field of the configuration.
type FieldError struct {
	Path string // e.g. "filesystem.paths[1]"
	Msg  string
}

// Error is returned by Load and Parse: every problem found, each naming
// the file, the line and the field, one per line.
type Error struct {
	File     string
	Problems []Problem
	More     int // problems found beyond MaxProblems, not listed
}

// Problem is a FieldError placed in the file.
type Problem struct {
	Line int // 0 when the field is not in the file (a default)
	Path string
	Msg  string
}

func (p Problem) format(file string) string {
	var b strings.Builder
	b.WriteString(file)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	if p.Path != "" {
		b.WriteString(": " + p.Path)
	}
	b.WriteString(": " + p.Msg)
	return b.String()
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems), len(e.Problems)+1)
	for i, p := range e.Problems {
		lines[i] = p.format(e.File)
	}
	if e.More > 0 {
		lines = append(lines, fmt.Sprintf("%s: ... and %d more problems", e.File, e.More))
	}
	return strings.Join(lines, "\n")
}

// Limits on what a configuration file may cost to read. Without them
// --config.file=/dev/zero read 3.6 GB in 4 s, and 200,000 unknown keys in
// one mapping took 295 s (yaml.v3 compares every key of a mapping with
// every other).
const (
	// MaxFileBytes bounds the file read; the embedded default is 6 KiB and
	// a config with a thousand log rules is far below it.
	MaxFileBytes = 4 << 20
	// MaxMappingKeys bounds the keys of one YAML mapping (a section, a
	// rule, node.labels, a label_from map): the decoder's duplicate check
	// then costs at most MaxMappingKeys comparisons per key of the file.
	MaxMappingKeys = 1000
	// MaxProblems bounds the problems reported for one file; the rest are
	// counted.
	MaxProblems = 20
)

// Load reads, parses and validates the file at path. An empty path loads
// the embedded default. The file must be a regular file (opened without
// blocking: a FIFO or /dev/zero is refused at once) of at most
// MaxFileBytes.
func Load(path string) (*Config, error) {
	if path == "" {
		return Parse(DefaultName, DefaultYAML)
	}
	data, err := fileid.ReadRegular(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates one YAML document; name is used in errors.
// Unknown fields are refused so that a typo does not silently disable a
// source.
func Parse(name string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Problems: []Problem{syntaxProblem(err)}}
	}
	if problems := checkMappings(&doc); len(problems) > 0 {
		return nil, newError(name, problems)
	}
	idx := indexNode(&doc)

	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var problems []Problem
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, newError(name, []Problem{syntaxProblem(err)})
		}
		// yaml decodes what it can around a type error: the rest is
		// validated too, so that one error does not hide the others.
		problems = decodeProblems(te, idx)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Problems: []Problem{{Msg: "more than one YAML document; only one is allowed"}}}
	}
	cfg.applyDefaults()
	for _, fe := range cfg.validate() {
		if !coveredBy(problems, fe.Path) {
			problems = append(problems, Problem{Line: idx.lineOf(fe.Path), Path: fe.Path, Msg: fe.Msg})
		}
	}
	if len(problems) > 0 {
		return nil, newError(name, problems)
	}
	return cfg, nil
}

// coveredBy says whether a validation error on path follows from a decode
// problem on it or on a field around it (a value that could not be
// decoded is left empty, which validation would report again).
func coveredBy(decoded []Problem, path string) bool {
	for _, p := range decoded {
		if p.Path != "" && (path == p.Path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[")) {
			return true
		}
	}
	return false
}

// newError sorts the problems by line (those of no line, defaults, last),
// keeps the first MaxProblems and counts the rest.
func newError(file string, problems []Problem) *Error {
	slices.SortStableFunc(problems, func(a, b Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line) // the one with a line first
		}
		return cmp.Compare(a.Line, b.Line)
	})
	e := &Error{File: file, Problems: problems}
	if len(problems) > MaxProblems {
		e.Problems, e.More = problems[:MaxProblems], len(problems)-MaxProblems
	}
	return e
}

// checkMappings walks the document once: a mapping with more than
// MaxMappingKeys keys, or a key twice, is a problem found here in linear
// time, before the decoder's own quadratic duplicate check runs. It stops
// at MaxProblems+1 problems.
func checkMappings(doc *yaml.Node) []Problem {
	var problems []Problem
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if len(problems) > MaxProblems {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			if keys := len(n.Content) / 2; keys > MaxMappingKeys {
				problems = append(problems, Problem{Line: n.Line, Path: path,
					Msg: fmt.Sprintf("%d keys in one mapping; at most %d are allowed", keys, MaxMappingKeys)})
				return
			}
			seen := make(map[string]int, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i]
				child := key.Value
				if path != "" {
					child = path + "." + key.Value
				}
				if first, dup := seen[key.Value]; dup && key.Kind == yaml.ScalarNode {
					problems = append(problems, Problem{Line: key.Line, Path: child,
						Msg: fmt.Sprintf("defined twice (first on line %d)", first)})
				}
				seen[key.Value] = key.Line
				walk(n.Content[i+1], child)
			}
		}
	}
	walk(doc, "")
	return problems
}

var (
	lineMsgRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^line (\d+): (.*)$`) })
	syntaxLineRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })
	unknownFieldRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^field (\S+) not found in type`) })
)

func syntaxProblem(err error) Problem {
	if m := syntaxLineRE().FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{Line: n, Msg: "syntax error: " + m[2]}
	}
	return Problem{Msg: "syntax error: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// decodeProblems turns yaml's "line N: ..." strings into Problems that
// name the field, which yaml itself does not do for type errors.
func decodeProblems(te *yaml.TypeError, idx *nodeIndex) []Problem {
	problems := make([]Problem, 0, len(te.Errors))
	for _, s := range te.Errors {
		m := lineMsgRE().FindStringSubmatch(s)
		if m == nil {
			problems = append(problems, Problem{Msg: s})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		p := Problem{Line: line, Path: idx.keyAt(line, ""), Msg: m[2]}
		if strings.HasPrefix(p.Msg, "cannot unmarshal") {
			p.Msg = "wrong type: " + plainTypeError(p.Msg)
		}
		if f := unknownFieldRE().FindStringSubmatch(m[2]); f != nil {
			p.Path = idx.keyAt(line, f[1])
			p.Msg = fmt.Sprintf("unknown field %q", f[1])
		}
		problems = append(problems, p)
	}
	return problems
}

// nodeIndex maps between field paths and lines of the parsed document.
type nodeIndex struct {
	lines map[string]int    // path -> line of its key (or item)
	keys  map[int][]yamlKey // line -> mapping keys on it, in document order
}

type yamlKey struct{ name, path string }

func indexNode(doc *yaml.Node) *nodeIndex {
	idx := &nodeIndex{lines: map[string]int{}, keys: map[int][]yamlKey{}}
	if len(doc.Content) > 0 {
		idx.walk(doc.Content[0], "")
	}
	return idx
}

func (idx *nodeIndex) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			child := key.Value
			if path != "" {
				child = path + "." + key.Value
			}
			idx.lines[child] = key.Line
			idx.keys[key.Line] = append(idx.keys[key.Line], yamlKey{key.Value, child})
			idx.walk(val, child)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			child := fmt.Sprintf("%s[%d]", path, i)
			idx.lines[child] = item.Line
			idx.walk(item, child)
		}
	}
}

// keyAt names the field a yaml error on line is about: the key called name
// there, or with name "" the innermost key on that line.
func (idx *nodeIndex) keyAt(line int, name string) string {
	keys := idx.keys[line]
	best := ""
	for _, k := range keys {
		if name != "" && k.name == name {
			return k.path
		}
		if len(k.path) > len(best) {
			best = k.path
		}
	}
	return best
}

// lineOf finds the line of path, or of its nearest ancestor in the file.
func (idx *nodeIndex) lineOf(path string) int {
	for path != "" {
		if l, ok := idx.lines[path]; ok {
			return l
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return 0
}

var unmarshalRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")
})

// plainTypeError says yaml's "cannot unmarshal !!str `x` into []string"
// in the configuration's words: what was written and what is wanted,
// without Go's type names.
func plainTypeError(msg string) string {
	m := unmarshalRE().FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := map[string]string{"str": "a string", "int": "a number", "float": "a number", "bool": "true or false",
		"seq": "a list", "map": "a mapping", "null": "nothing", "timestamp": "a date"}[m[1]]
	if got == "" {
		got = "a value"
	}
	if m[2] != "" {
		got += " (" + m[2] + ")"
	}
	return "got " + got + ", want " + wantedType(m[3])
}

// wantedType names a Go type the way the configuration reference does.
func wantedType(goType string) string {
	switch {
	case goType == "time.Duration":
		return "a duration such as 10s"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping of names to values"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "a mapping of fields" // a section or list item (a Go struct)
}
