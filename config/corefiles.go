package config

import "fmt"

// CorefilesConfig says where core dumps are looked for.
type CorefilesConfig struct {
	// Dirs are host folders (read under --path.rootfs); absent ones are
	// skipped quietly.
	Dirs []string `yaml:"dirs"`
	// FromCorePattern adds the folder of /proc/sys/kernel/core_pattern
	// when that is an absolute path rather than a |pipe. Default true.
	FromCorePattern *bool `yaml:"from_core_pattern"`
	// MaxExecutables bounds the executable label per folder: the most
	// frequent are kept, the rest are counted as executable="other".
	MaxExecutables int `yaml:"max_executables"`
}

// DefaultCorefilesMaxExecutables is CorefilesConfig.MaxExecutables when unset.
const DefaultCorefilesMaxExecutables = 20

// UseCorePattern tells whether the core_pattern folder is watched.
func (c CorefilesConfig) UseCorePattern() bool {
	return c.FromCorePattern == nil || *c.FromCorePattern
}

func (c *CorefilesConfig) applyDefaults() {
	if c.MaxExecutables == 0 {
		c.MaxExecutables = DefaultCorefilesMaxExecutables
	}
}

func (c *CorefilesConfig) validate() []FieldError {
	var errs []FieldError
	for i, d := range c.Dirs {
		if msg := checkAbsPath(d); msg != "" {
			errs = append(errs, FieldError{Path: fmt.Sprintf("corefiles.dirs[%d]", i), Msg: msg})
		}
	}
	if c.MaxExecutables < 1 || c.MaxExecutables > 1000 {
		errs = append(errs, FieldError{Path: "corefiles.max_executables",
			Msg: fmt.Sprintf("must be between 1 and 1000, got %d", c.MaxExecutables)})
	}
	return errs
}

func (c *CorefilesConfig) folders() []string { return c.Dirs }
