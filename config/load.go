package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Load returns the defaults, overridden by the TOML file at path (none when
// path is empty), overridden by the DAVSHARE_* variables that lookupEnv finds
// (none when it is nil; pass os.LookupEnv in production), and validated.
// Errors name the file and key, the variable, or the field at fault.
func Load(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	c := Default()
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return Config{}, err
		}
	}
	if lookupEnv != nil {
		if err := c.loadEnv(lookupEnv); err != nil {
			return Config{}, err
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// loadFile decodes the TOML file at path over c. Keys the file does not set
// keep their values; keys Config does not know are an error.
func (c *Config) loadFile(path string) error {
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	undecoded := md.Undecoded()
	if len(undecoded) == 0 {
		return nil
	}
	// Name an unknown table once, not with every key inside it.
	unknown := make(map[string]bool, len(undecoded))
	var keys []string
	for _, k := range undecoded {
		unknown[k.String()] = true
		if len(k) > 1 && unknown[toml.Key(k[:len(k)-1]).String()] {
			continue
		}
		keys = append(keys, fmt.Sprintf("%q", k.String()))
	}
	slices.Sort(keys)
	noun := "key"
	if len(keys) > 1 {
		noun = "keys"
	}
	return fmt.Errorf("config file %s: unknown %s %s", path, noun, strings.Join(keys, ", "))
}

// loadEnv sets every field whose DAVSHARE_* variable is set and not empty.
func (c *Config) loadEnv(lookupEnv func(string) (string, bool)) error {
	var errs []error
	for _, f := range fields() {
		name := f.env()
		s, ok := lookupEnv(name)
		if !ok || s == "" {
			continue
		}
		if err := setText(f.in(c), s); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
