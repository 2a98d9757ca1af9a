// Package config holds davshare's configuration: one [Config] struct, read
// from a TOML file, the environment and command-line flags, and checked by
// [Config.Validate] with errors that name the offending field.
//
// # Precedence
//
// Each source overrides the ones before it, key by key:
//
//  1. defaults ([Default]);
//  2. the TOML file given with --config, if any (an unknown key is an error
//     that names it, so a typo cannot silently leave a default in force);
//  3. the environment: DAVSHARE_<KEY> for top-level keys (DAVSHARE_LISTEN,
//     DAVSHARE_DATA) and DAVSHARE_<SECTION>_<KEY> for the others
//     (DAVSHARE_SHARING_MODE, DAVSHARE_LIMITS_XML_BODY_BYTES, ...). A variable
//     that is unset or empty leaves the value alone;
//  4. flags (--listen, --data, --tls-cert, --tls-key, --tls-self-signed,
//     --sharing-mode, --log-format, --log-level), of which only those given
//     explicitly count.
//
// [Load] applies 1 to 3 and validates; [BindFlags] returns the function that
// applies 4 and validates again.
//
// Durations are Go duration strings ("15s", "1h30m") in the file, the
// environment and flags alike. Relative paths (data, tls.cert, tls.key) are
// relative to the working directory of the process, not to the file.
//
// # Security boundaries
//
// This package reads only what it is given: it opens no file but the one
// named, holds no secrets, and keeps no global state, so tests and several
// servers in one process cannot interfere.
package config
