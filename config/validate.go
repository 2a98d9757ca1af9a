package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// FieldError is one problem found by Validate, in the field named by its
// TOML key, such as "sharing.mode".
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Validate checks c and returns every problem found, each a *FieldError,
// joined with errors.Join; nil when c is usable.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}

	if c.Listen == "" {
		bad("listen", "must not be empty")
	} else if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "must be host:port, such as 127.0.0.1:8080 or :8080, got %q", c.Listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		bad("listen", "port must be a number from 0 to 65535, got %q", port)
	}
	if c.Data == "" {
		bad("data", "must not be empty")
	}

	switch {
	case c.TLS.Cert != "" && c.TLS.Key == "":
		bad("tls.key", "must be set when tls.cert is")
	case c.TLS.Cert == "" && c.TLS.Key != "":
		bad("tls.cert", "must be set when tls.key is")
	}
	if c.TLS.SelfSigned && (c.TLS.Cert != "" || c.TLS.Key != "") {
		bad("tls.self_signed", "cannot be combined with tls.cert and tls.key; use one or the other")
	}

	if c.Sharing.Mode != SharingInvite && c.Sharing.Mode != SharingInstant {
		bad("sharing.mode", "must be %q or %q, got %q", SharingInvite, SharingInstant, c.Sharing.Mode)
	}
	if f := c.Sharing.InstantFolder; f == "" || f == "." || f == ".." || strings.ContainsAny(f, `/\`) ||
		strings.ContainsFunc(f, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		bad("sharing.instant_folder", "must be one folder name, such as \"Shared\", got %q", f)
	}

	if c.Limits.XMLBodyBytes <= 0 {
		bad("limits.xml_body_bytes", "must be positive, got %d", c.Limits.XMLBodyBytes)
	}
	for _, d := range []struct {
		field string
		value Duration
	}{
		{"limits.lock_max_timeout", c.Limits.LockMaxTimeout},
		{"limits.shutdown_timeout", c.Limits.ShutdownTimeout},
		{"limits.read_header_timeout", c.Limits.ReadHeaderTimeout},
		{"limits.idle_timeout", c.Limits.IdleTimeout},
		{"limits.body_idle_timeout", c.Limits.BodyIdleTimeout},
		{"limits.stale_upload_age", c.Limits.StaleUploadAge},
		{"auth.cache_ttl", c.Auth.CacheTTL},
		{"auth.failure_window", c.Auth.FailureWindow},
	} {
		if d.value <= 0 {
			bad(d.field, "must be a positive duration, got %s", d.value)
		}
	}
	if c.Auth.CacheSize <= 0 {
		bad("auth.cache_size", "must be positive, got %d", c.Auth.CacheSize)
	}
	if c.Auth.MaxUserFailures < 0 {
		bad("auth.max_user_failures", "must be 0 (off) or more, got %d", c.Auth.MaxUserFailures)
	}
	if c.Auth.MaxAddressFailures < 0 {
		bad("auth.max_address_failures", "must be 0 (off) or more, got %d", c.Auth.MaxAddressFailures)
	}
	if c.Metrics.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "must be empty (off) or host:port, such as 127.0.0.1:9090, got %q", c.Metrics.Listen)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			bad("metrics.listen", "port must be a number from 0 to 65535, got %q", port)
		} else if c.Metrics.Listen == c.Listen && port != "0" {
			bad("metrics.listen", "must differ from listen (%q); use metrics.on_main to serve /metrics there", c.Listen)
		}
	}

	if c.Log.Format != LogText && c.Log.Format != LogJSON {
		bad("log.format", "must be %q or %q, got %q", LogText, LogJSON, c.Log.Format)
	}
	if _, ok := logLevels[c.Log.Level]; !ok {
		bad("log.level", `must be "debug", "info", "warn" or "error", got %q`, c.Log.Level)
	}
	return errors.Join(errs...)
}
