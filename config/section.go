package config

import "fmt"

// section is the shape every part of Config has, so that defaults,
// validation and the filesystem collector's default folders loop over the
// sections (Config.sections) instead of naming each one.
type section interface {
	// applyDefaults fills what the file left unset.
	applyDefaults()
	// validate lists the section's problems, each naming its field by its
	// full path in the document ("modules[2].version_regex"). It also keeps
	// what it compiled (regular expressions) on the section, so collectors
	// never compile a config string again.
	validate() []FieldError
	// folders are the folders the section's collector reads, for the
	// filesystem collector's default paths.
	folders() []string
}

// fieldErrors collects a section's problems.
type fieldErrors []FieldError

func (e *fieldErrors) add(path, format string, args ...any) {
	*e = append(*e, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}
