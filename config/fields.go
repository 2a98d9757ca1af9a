package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// field is one leaf of Config, found through its toml tags, so that the
// environment variables and flags can never drift from the file's keys.
type field struct {
	key   string // the TOML key: "listen", "sharing.mode"
	index []int  // for reflect.Value.FieldByIndex
}

// fields lists every leaf of Config in declaration order.
func fields() []field {
	var out []field
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		top := t.Field(i)
		key := top.Tag.Get("toml")
		if top.Type.Kind() != reflect.Struct {
			out = append(out, field{key: key, index: []int{i}})
			continue
		}
		for j := range top.Type.NumField() {
			sub := top.Type.Field(j)
			out = append(out, field{key: key + "." + sub.Tag.Get("toml"), index: []int{i, j}})
		}
	}
	return out
}

// env is the environment variable for the field: DAVSHARE_SHARING_MODE.
func (f field) env() string {
	return "DAVSHARE_" + strings.ToUpper(strings.ReplaceAll(f.key, ".", "_"))
}

// flag is the flag name that would stand for the field: sharing-mode.
func (f field) flag() string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(f.key)
}

// in returns the field's value inside c, settable.
func (f field) in(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(f.index)
}

// setText parses s into v the same way for the environment and for flags.
func setText(v reflect.Value, s string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(n)
	default:
		panic("config: no text form for " + v.Type().String())
	}
	return nil
}
