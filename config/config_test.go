package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// env is a lookupEnv over a map.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "davshare.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fieldsOf returns the Field of every FieldError in err.
func fieldsOf(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe.Field)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		key  string
		got  any
		want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"data", c.Data, "./davshare-data"},
		{"tls.cert", c.TLS.Cert, ""},
		{"tls.key", c.TLS.Key, ""},
		{"tls.self_signed", c.TLS.SelfSigned, false},
		{"sharing.mode", c.Sharing.Mode, SharingInvite},
		{"sharing.instant_folder", c.Sharing.InstantFolder, "Shared"},
		{"sharing.sharees_see_sharees", c.Sharing.ShareesSeeSharees, true},
		{"notifications.strict_accept", c.Notifications.StrictAccept, true},
		{"files.cache_listings", c.Files.CacheListings, true},
		{"limits.xml_body_bytes", c.Limits.XMLBodyBytes, int64(1 << 20)},
		{"limits.lock_max_timeout", time.Duration(c.Limits.LockMaxTimeout), time.Hour},
		{"limits.shutdown_timeout", time.Duration(c.Limits.ShutdownTimeout), 15 * time.Second},
		{"limits.read_header_timeout", time.Duration(c.Limits.ReadHeaderTimeout), 10 * time.Second},
		{"limits.idle_timeout", time.Duration(c.Limits.IdleTimeout), 120 * time.Second},
		{"log.format", c.Log.Format, LogText},
		{"log.level", c.Log.Level, "info"},
		{"auth.cache_ttl", time.Duration(c.Auth.CacheTTL), 5 * time.Minute},
		{"auth.cache_size", c.Auth.CacheSize, 4096},
		{"limits.body_idle_timeout", time.Duration(c.Limits.BodyIdleTimeout), 60 * time.Second},
		{"limits.stale_upload_age", time.Duration(c.Limits.StaleUploadAge), 15 * time.Minute},
		{"auth.max_user_failures", c.Auth.MaxUserFailures, 10},
		{"auth.max_address_failures", c.Auth.MaxAddressFailures, 50},
		{"auth.failure_window", time.Duration(c.Auth.FailureWindow), 5 * time.Minute},
		{"auth.trust_forwarded_for", c.Auth.TrustForwardedFor, false},
		{"metrics.listen", c.Metrics.Listen, ""},
		{"metrics.on_main", c.Metrics.OnMain, false},
	}
	for _, ck := range checks {
		t.Run(ck.key, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
	if len(checks) != len(fields()) {
		t.Errorf("%d defaults checked for %d fields", len(checks), len(fields()))
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
	loaded, err := Load("", nil)
	if err != nil || loaded != c {
		t.Errorf("Load with no file and no environment = %+v, %v; want the defaults", loaded, err)
	}
	if c.Log.SlogLevel() != slog.LevelInfo {
		t.Errorf("SlogLevel = %v", c.Log.SlogLevel())
	}
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		check   func(t *testing.T, c Config)
		wantErr []string // substrings of the error
	}{
		{
			name: "every section",
			file: `
listen = "0.0.0.0:8443"
data = "/srv/dav"
[tls]
cert = "/etc/dav/cert.pem"
key = "/etc/dav/key.pem"
[sharing]
mode = "instant"
instant_folder = "From others"
sharees_see_sharees = false
[notifications]
strict_accept = false
[files]
cache_listings = false
[limits]
xml_body_bytes = 4096
lock_max_timeout = "10m"
shutdown_timeout = "1m30s"
read_header_timeout = "2s"
idle_timeout = "1h"
body_idle_timeout = "45s"
stale_upload_age = "2h"
[log]
format = "json"
level = "debug"
[auth]
cache_ttl = "30s"
cache_size = 10
max_user_failures = 5
max_address_failures = 0
failure_window = "1m"
trust_forwarded_for = true
[metrics]
listen = "127.0.0.1:9090"
on_main = true
`,
			check: func(t *testing.T, c Config) {
				want := Config{
					Listen: "0.0.0.0:8443", Data: "/srv/dav",
					TLS:           TLS{Cert: "/etc/dav/cert.pem", Key: "/etc/dav/key.pem"},
					Sharing:       Sharing{Mode: SharingInstant, InstantFolder: "From others"},
					Notifications: Notifications{StrictAccept: false},
					Limits: Limits{XMLBodyBytes: 4096, LockMaxTimeout: Duration(10 * time.Minute),
						ShutdownTimeout: Duration(90 * time.Second), ReadHeaderTimeout: Duration(2 * time.Second),
						IdleTimeout: Duration(time.Hour), BodyIdleTimeout: Duration(45 * time.Second),
						StaleUploadAge: Duration(2 * time.Hour)},
					Log: Log{Format: LogJSON, Level: "debug"},
					Auth: Auth{CacheTTL: Duration(30 * time.Second), CacheSize: 10,
						MaxUserFailures: 5, FailureWindow: Duration(time.Minute), TrustForwardedFor: true},
					Metrics: Metrics{Listen: "127.0.0.1:9090", OnMain: true},
				}
				if c != want {
					t.Errorf("got  %+v\nwant %+v", c, want)
				}
			},
		},
		{
			name: "keys left out keep their defaults",
			file: "[sharing]\nmode = \"instant\"\n",
			check: func(t *testing.T, c Config) {
				want := Default()
				want.Sharing.Mode = SharingInstant
				if c != want {
					t.Errorf("got  %+v\nwant %+v", c, want)
				}
			},
		},
		{name: "empty file", file: "", check: func(t *testing.T, c Config) {
			if c != Default() {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "unknown key", file: "[sharing]\nmod = \"instant\"\n", wantErr: []string{`unknown key "sharing.mod"`}},
		{name: "unknown top-level key", file: "listn = \":80\"\n", wantErr: []string{`unknown key "listn"`}},
		{name: "unknown table named once", file: "[sharng]\nmode = \"x\"\nfolder = \"y\"\n",
			wantErr: []string{`unknown key "sharng"`}},
		{name: "several unknown keys", file: "a = 1\n[log]\nlevl = \"x\"\n", wantErr: []string{`unknown keys "a", "log.levl"`}},
		{name: "bad duration", file: "[limits]\nidle_timeout = \"2 minutes\"\n",
			wantErr: []string{"limits.idle_timeout", `"2 minutes" is not a duration`}},
		{name: "wrong type", file: "[limits]\nxml_body_bytes = \"1MiB\"\n", wantErr: []string{"limits.xml_body_bytes"}},
		{name: "syntax error", file: "listen = \n", wantErr: []string{"line 1"}},
		{name: "valid TOML, invalid value", file: "[sharing]\nmode = \"x\"\n",
			wantErr: []string{`sharing.mode: must be "invite" or "instant", got "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file)
			c, err := Load(path, nil)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Load succeeded: %+v", c)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope.toml")
		if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v does not name the file", err)
		}
	})
}

func TestEnvironment(t *testing.T) {
	file := writeFile(t, `
listen = "127.0.0.1:9000"
data = "/from/file"
[sharing]
mode = "instant"
[limits]
xml_body_bytes = 100
`)
	tests := []struct {
		name    string
		env     env
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "environment overrides the file",
			env: env{
				"DAVSHARE_LISTEN":                      ":7000",
				"DAVSHARE_SHARING_MODE":                "invite",
				"DAVSHARE_NOTIFICATIONS_STRICT_ACCEPT": "false",
				"DAVSHARE_LIMITS_XML_BODY_BYTES":       "2048",
				"DAVSHARE_LIMITS_LOCK_MAX_TIMEOUT":     "5m",
				"DAVSHARE_TLS_SELF_SIGNED":             "true",
				"DAVSHARE_AUTH_CACHE_SIZE":             "7",
				"DAVSHARE_LOG_LEVEL":                   "warn",
			},
			check: func(t *testing.T, c Config) {
				if c.Listen != ":7000" || c.Sharing.Mode != SharingInvite || c.Notifications.StrictAccept ||
					c.Limits.XMLBodyBytes != 2048 || c.Limits.LockMaxTimeout != Duration(5*time.Minute) ||
					!c.TLS.SelfSigned || c.Auth.CacheSize != 7 || c.Log.Level != "warn" {
					t.Errorf("environment not applied: %+v", c)
				}
				if c.Data != "/from/file" {
					t.Errorf("data = %q, want the file's value", c.Data)
				}
			},
		},
		{
			name: "empty variables are ignored",
			env:  env{"DAVSHARE_LISTEN": "", "DAVSHARE_LOG_LEVEL": ""},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:9000" || c.Log.Level != "info" {
					t.Errorf("empty variables applied: %+v", c)
				}
			},
		},
		{name: "bad integer", env: env{"DAVSHARE_LIMITS_XML_BODY_BYTES": "1MiB"},
			wantErr: `environment variable DAVSHARE_LIMITS_XML_BODY_BYTES: "1MiB" is not a whole number`},
		{name: "bad bool", env: env{"DAVSHARE_SHARING_SHAREES_SEE_SHAREES": "maybe"},
			wantErr: `DAVSHARE_SHARING_SHAREES_SEE_SHAREES: "maybe" is not true or false`},
		{name: "bad duration", env: env{"DAVSHARE_AUTH_CACHE_TTL": "soon"},
			wantErr: "DAVSHARE_AUTH_CACHE_TTL"},
		{name: "invalid value", env: env{"DAVSHARE_SHARING_MODE": "x"},
			wantErr: `sharing.mode: must be "invite" or "instant", got "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(file, tt.env.lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// TestEveryFieldHasAVariable sets each field through its variable, with a
// value other than the default, and checks that exactly that field changed.
func TestEveryFieldHasAVariable(t *testing.T) {
	values := map[string]string{
		"DAVSHARE_LISTEN": ":1", "DAVSHARE_DATA": "/d",
		"DAVSHARE_TLS_CERT": "c", "DAVSHARE_TLS_KEY": "k", "DAVSHARE_TLS_SELF_SIGNED": "1",
		"DAVSHARE_SHARING_MODE": "instant", "DAVSHARE_SHARING_INSTANT_FOLDER": "In",
		"DAVSHARE_SHARING_SHAREES_SEE_SHAREES": "0", "DAVSHARE_NOTIFICATIONS_STRICT_ACCEPT": "false",
		"DAVSHARE_LIMITS_XML_BODY_BYTES": "1", "DAVSHARE_LIMITS_LOCK_MAX_TIMEOUT": "1s",
		"DAVSHARE_LIMITS_SHUTDOWN_TIMEOUT": "1s", "DAVSHARE_LIMITS_READ_HEADER_TIMEOUT": "1s",
		"DAVSHARE_LIMITS_IDLE_TIMEOUT": "1s", "DAVSHARE_LOG_FORMAT": "json", "DAVSHARE_LOG_LEVEL": "error",
		"DAVSHARE_AUTH_CACHE_TTL": "1s", "DAVSHARE_AUTH_CACHE_SIZE": "1",
		"DAVSHARE_LIMITS_BODY_IDLE_TIMEOUT": "1s", "DAVSHARE_LIMITS_STALE_UPLOAD_AGE": "1s",
		"DAVSHARE_AUTH_MAX_USER_FAILURES": "0", "DAVSHARE_AUTH_MAX_ADDRESS_FAILURES": "0",
		"DAVSHARE_AUTH_FAILURE_WINDOW": "1s", "DAVSHARE_AUTH_TRUST_FORWARDED_FOR": "true",
		"DAVSHARE_METRICS_LISTEN": "127.0.0.1:9", "DAVSHARE_METRICS_ON_MAIN": "true",
		"DAVSHARE_FILES_CACHE_LISTINGS": "false",
	}
	var seen []string
	for _, f := range fields() {
		seen = append(seen, f.env())
		t.Run(f.env(), func(t *testing.T) {
			v, ok := values[f.env()]
			if !ok {
				t.Fatalf("no test value for %s", f.env())
			}
			c := Default()
			if err := c.loadEnv(env{f.env(): v}.lookup); err != nil {
				t.Fatal(err)
			}
			def := Default()
			for _, g := range fields() {
				changed := !reflect.DeepEqual(g.in(&c).Interface(), g.in(&def).Interface())
				if changed != (g.key == f.key) {
					t.Errorf("%s=%s: %s changed: %v", f.env(), v, g.key, changed)
				}
			}
		})
	}
	for name := range values {
		if !slices.Contains(seen, name) {
			t.Errorf("%s is not a variable of any field", name)
		}
	}
}

func TestFlags(t *testing.T) {
	file := writeFile(t, "listen = \"127.0.0.1:9000\"\ndata = \"/from/file\"\n[log]\nlevel = \"debug\"\n")
	environment := env{"DAVSHARE_LISTEN": ":7000", "DAVSHARE_LOG_FORMAT": "json", "DAVSHARE_SHARING_MODE": "instant"}

	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "no flags: file and environment stand",
			args: nil,
			check: func(t *testing.T, c Config) {
				if c.Listen != ":7000" || c.Data != "/from/file" || c.Log.Format != LogJSON || c.Log.Level != "debug" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "flags override environment and file",
			args: []string{"--listen", ":6000", "--data=/from/flag", "--log-level", "error", "--log-format=text",
				"--sharing-mode", "invite", "--tls-self-signed"},
			check: func(t *testing.T, c Config) {
				if c.Listen != ":6000" || c.Data != "/from/flag" || c.Log.Level != "error" || c.Log.Format != LogText ||
					c.Sharing.Mode != SharingInvite || !c.TLS.SelfSigned {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "a flag set to the default still overrides",
			args: []string{"--listen=127.0.0.1:8080"},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:8080" {
					t.Errorf("listen = %q", c.Listen)
				}
			},
		},
		{
			name: "tls files",
			args: []string{"--tls-cert", "c.pem", "--tls-key", "k.pem"},
			check: func(t *testing.T, c Config) {
				if c.TLS.Cert != "c.pem" || c.TLS.Key != "k.pem" {
					t.Errorf("got %+v", c.TLS)
				}
			},
		},
		{name: "caller's own flags are left alone", args: []string{"--config", "x.toml"},
			check: func(t *testing.T, c Config) {}},
		{name: "validated after the flags", args: []string{"--sharing-mode", "x"},
			wantErr: `sharing.mode: must be "invite" or "instant", got "x"`},
		{name: "tls.key without tls.cert", args: []string{"--tls-key", "k.pem"},
			wantErr: "tls.cert: must be set when tls.key is"},
		{name: "bad bool", args: []string{"--tls-self-signed=perhaps"},
			wantErr: `invalid boolean value "perhaps" for -tls-self-signed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.String("config", "", "config file")
			apply := BindFlags(fs)
			err := fs.Parse(tt.args)
			if err == nil {
				var c Config
				c, err = Load(file, environment.lookup)
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if err = apply(&c); err == nil {
					tt.check(t, c)
				}
			}
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFlagHelp(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	BindFlags(fs)
	var help strings.Builder
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, want := range []string{
		"-listen host:port", "(default 127.0.0.1:8080)", "-data directory", "-tls-cert file", "-tls-key file",
		"-tls-self-signed\n", "-sharing-mode mode", "-log-format format", "-log-level level",
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help does not contain %q:\n%s", want, help.String())
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		fields []string // fields named, in order
		msg    string   // substring of the message
	}{
		{"defaults", func(c *Config) {}, nil, ""},
		{"port only", func(c *Config) { c.Listen = ":8080" }, nil, ""},
		{"IPv6", func(c *Config) { c.Listen = "[::1]:8080" }, nil, ""},
		{"cert and key", func(c *Config) { c.TLS.Cert, c.TLS.Key = "c", "k" }, nil, ""},
		{"self-signed", func(c *Config) { c.TLS.SelfSigned = true }, nil, ""},
		{"empty listen", func(c *Config) { c.Listen = "" }, []string{"listen"}, "must not be empty"},
		{"listen without port", func(c *Config) { c.Listen = "localhost" }, []string{"listen"}, "host:port"},
		{"listen with a named port", func(c *Config) { c.Listen = ":http" }, []string{"listen"}, "port must be a number"},
		{"listen port too big", func(c *Config) { c.Listen = ":65536" }, []string{"listen"}, "port must be a number"},
		{"empty data", func(c *Config) { c.Data = "" }, []string{"data"}, "must not be empty"},
		{"cert without key", func(c *Config) { c.TLS.Cert = "c" }, []string{"tls.key"}, "must be set when tls.cert is"},
		{"key without cert", func(c *Config) { c.TLS.Key = "k" }, []string{"tls.cert"}, "must be set when tls.key is"},
		{"files and self-signed", func(c *Config) { c.TLS.Cert, c.TLS.Key, c.TLS.SelfSigned = "c", "k", true },
			[]string{"tls.self_signed"}, "cannot be combined"},
		{"sharing mode", func(c *Config) { c.Sharing.Mode = "x" }, []string{"sharing.mode"}, `must be "invite" or "instant", got "x"`},
		{"instant folder empty", func(c *Config) { c.Sharing.InstantFolder = "" }, []string{"sharing.instant_folder"}, "one folder name"},
		{"instant folder path", func(c *Config) { c.Sharing.InstantFolder = "a/b" }, []string{"sharing.instant_folder"}, "one folder name"},
		{"instant folder dot dot", func(c *Config) { c.Sharing.InstantFolder = ".." }, []string{"sharing.instant_folder"}, "one folder name"},
		{"xml body", func(c *Config) { c.Limits.XMLBodyBytes = 0 }, []string{"limits.xml_body_bytes"}, "must be positive, got 0"},
		{"lock timeout", func(c *Config) { c.Limits.LockMaxTimeout = 0 }, []string{"limits.lock_max_timeout"}, "positive duration, got 0s"},
		{"shutdown timeout", func(c *Config) { c.Limits.ShutdownTimeout = Duration(-time.Second) }, []string{"limits.shutdown_timeout"}, "got -1s"},
		{"read header timeout", func(c *Config) { c.Limits.ReadHeaderTimeout = 0 }, []string{"limits.read_header_timeout"}, "positive"},
		{"idle timeout", func(c *Config) { c.Limits.IdleTimeout = 0 }, []string{"limits.idle_timeout"}, "positive"},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, []string{"log.format"}, `must be "text" or "json", got "xml"`},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, []string{"log.level"}, `got "verbose"`},
		{"cache ttl", func(c *Config) { c.Auth.CacheTTL = 0 }, []string{"auth.cache_ttl"}, "positive"},
		{"cache size", func(c *Config) { c.Auth.CacheSize = -1 }, []string{"auth.cache_size"}, "got -1"},
		{"body idle timeout", func(c *Config) { c.Limits.BodyIdleTimeout = 0 }, []string{"limits.body_idle_timeout"}, "positive"},
		{"stale upload age", func(c *Config) { c.Limits.StaleUploadAge = 0 }, []string{"limits.stale_upload_age"}, "positive"},
		{"throttle off", func(c *Config) { c.Auth.MaxUserFailures, c.Auth.MaxAddressFailures = 0, 0 }, nil, ""},
		{"user failures", func(c *Config) { c.Auth.MaxUserFailures = -1 }, []string{"auth.max_user_failures"}, "got -1"},
		{"address failures", func(c *Config) { c.Auth.MaxAddressFailures = -1 }, []string{"auth.max_address_failures"}, "got -1"},
		{"failure window", func(c *Config) { c.Auth.FailureWindow = 0 }, []string{"auth.failure_window"}, "positive"},
		{"metrics listen", func(c *Config) { c.Metrics.Listen = "127.0.0.1:9090" }, nil, ""},
		{"metrics listen without port", func(c *Config) { c.Metrics.Listen = "localhost" }, []string{"metrics.listen"}, "host:port"},
		{"metrics listen is listen", func(c *Config) { c.Metrics.Listen = c.Listen }, []string{"metrics.listen"}, "must differ"},
		{"several at once", func(c *Config) { c.Listen, c.Sharing.Mode, c.Log.Level = "", "x", "" },
			[]string{"listen", "sharing.mode", "log.level"}, "listen: must not be empty\nsharing.mode:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			if got := fieldsOf(err); !slices.Equal(got, tt.fields) {
				t.Errorf("fields %q, want %q (error: %v)", got, tt.fields, err)
			}
			if tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)) {
				t.Errorf("error %v does not contain %q", err, tt.msg)
			}
			var fe *FieldError
			if tt.fields != nil && !errors.As(err, &fe) {
				t.Error("errors.As finds no *FieldError")
			}
		})
	}
}

func TestLogLevels(t *testing.T) {
	for name, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		if got := (Log{Level: name}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1h30m")); err != nil || d != Duration(90*time.Minute) {
		t.Errorf("UnmarshalText = %v, %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "1h30m0s" {
		t.Errorf("MarshalText = %s", b)
	}
	if err := d.UnmarshalText([]byte("90")); err == nil {
		t.Error("a number without a unit was accepted")
	}
}
