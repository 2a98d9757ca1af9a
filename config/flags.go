package config

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
)

// BindFlags registers on fs the flags that override the configuration:
// --listen, --data, --tls-cert, --tls-key, --tls-self-signed,
// --sharing-mode, --log-format and --log-level. After fs.Parse, apply copies
// into a Config only the flags given on the command line, so a flag left out
// never undoes the file or the environment, and then validates the result.
// The defaults shown in -help are those of Default.
func BindFlags(fs *flag.FlagSet) (apply func(*Config) error) {
	usage := map[string]string{
		"listen":          "`host:port` to serve on",
		"data":            "data `directory`",
		"tls.cert":        "TLS certificate chain (PEM) `file`",
		"tls.key":         "TLS private key (PEM) `file`",
		"tls.self_signed": "serve HTTPS with a generated self-signed certificate",
		"sharing.mode":    "sharing `mode`: invite (sharees accept first) or instant",
		"log.format":      "log `format`: text or json",
		"log.level":       "log `level`: debug, info, warn or error",
	}
	def := Default()
	bound := make(map[string]field, len(usage))
	for _, f := range fields() {
		text, ok := usage[f.key]
		if !ok {
			continue
		}
		name := f.flag()
		bound[name] = f
		fs.Var(newFlagValue(f.in(&def)), name, text)
	}
	return func(c *Config) error {
		var errs []error
		fs.Visit(func(fl *flag.Flag) {
			f, ok := bound[fl.Name]
			if !ok {
				return // a flag of the caller's, such as --config
			}
			if err := setText(f.in(c), fl.Value.(*flagValue).text); err != nil {
				errs = append(errs, fmt.Errorf("flag --%s: %w", fl.Name, err))
			}
		})
		if err := errors.Join(errs...); err != nil {
			return err
		}
		return c.Validate()
	}
}

// flagValue is a flag.Value for one Config field. It keeps the text given,
// after checking that it parses, for apply to set on the Config it is given.
type flagValue struct {
	typ  reflect.Type
	text string // the default's text until Set
}

func newFlagValue(def reflect.Value) *flagValue {
	v := &flagValue{typ: def.Type()}
	if !def.IsZero() {
		v.text = fmt.Sprint(def.Interface())
	}
	return v
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.text
}

func (v *flagValue) Set(s string) error {
	if err := setText(reflect.New(v.typ).Elem(), s); err != nil {
		return err
	}
	v.text = s
	return nil
}

// IsBoolFlag lets a bool field be given as --tls-self-signed alone.
func (v *flagValue) IsBoolFlag() bool { return v.typ.Kind() == reflect.Bool }
