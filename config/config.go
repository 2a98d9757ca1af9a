package config

import (
	"fmt"
	"log/slog"
	"time"
)

// Config is davshare's whole configuration. The toml tags are the key names
// in the file; see the package documentation for the environment variables
// and flags derived from them.
type Config struct {
	Listen        string        `toml:"listen"` // host:port to serve on
	Data          string        `toml:"data"`   // the data directory
	TLS           TLS           `toml:"tls"`
	Sharing       Sharing       `toml:"sharing"`
	Notifications Notifications `toml:"notifications"`
	Files         Files         `toml:"files"`
	Limits        Limits        `toml:"limits"`
	Log           Log           `toml:"log"`
	Auth          Auth          `toml:"auth"`
	Metrics       Metrics       `toml:"metrics"`
}

// TLS selects how the server speaks HTTPS: with a certificate and key from
// files, with a self-signed certificate, or not at all (all empty).
type TLS struct {
	Cert       string `toml:"cert"`        // PEM certificate chain file
	Key        string `toml:"key"`         // PEM private key file
	SelfSigned bool   `toml:"self_signed"` // generate a self-signed certificate
}

// SharingMode is how a share reaches its sharee.
type SharingMode string

// Sharing modes.
const (
	// SharingInvite sends an invitation the sharee accepts or declines.
	SharingInvite SharingMode = "invite"
	// SharingInstant mounts the share in the sharee's InstantFolder at once.
	SharingInstant SharingMode = "instant"
)

// Sharing configures the resource-sharing behaviour.
type Sharing struct {
	Mode              SharingMode `toml:"mode"`
	InstantFolder     string      `toml:"instant_folder"`      // folder of a sharee's home that holds instant shares
	ShareesSeeSharees bool        `toml:"sharees_see_sharees"` // sharees can see who else the resource is shared with
}

// Notifications configures notification collections.
type Notifications struct {
	// StrictAccept refuses an invite reply that does not match a pending
	// invitation exactly.
	StrictAccept bool `toml:"strict_accept"`
}

// Files configures how the homes on disk are served.
type Files struct {
	// CacheListings keeps directory listings in memory behind inotify
	// watches (fs/listcache.go). Turn it off when the data directory is
	// on a network file system: inotify does not see changes made on
	// other hosts.
	CacheListings bool `toml:"cache_listings"`
}

// Limits bounds what one request or the server may cost.
type Limits struct {
	XMLBodyBytes      int64    `toml:"xml_body_bytes"`      // largest XML request body
	LockMaxTimeout    Duration `toml:"lock_max_timeout"`    // longest lock granted, infinite requests included
	ShutdownTimeout   Duration `toml:"shutdown_timeout"`    // grace period for requests in flight at shutdown
	ReadHeaderTimeout Duration `toml:"read_header_timeout"` // http.Server.ReadHeaderTimeout
	IdleTimeout       Duration `toml:"idle_timeout"`        // http.Server.IdleTimeout
	// BodyIdleTimeout is how long reading a request body may wait for the
	// next byte; each byte that arrives restarts it, so large uploads are
	// never cut while they progress.
	BodyIdleTimeout Duration `toml:"body_idle_timeout"`
	// StaleUploadAge is the age after which a temporary upload file left by
	// a crash is removed at start.
	StaleUploadAge Duration `toml:"stale_upload_age"`
}

// LogFormat is the format of log lines.
type LogFormat string

// Log formats.
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// Log configures logging.
type Log struct {
	Format LogFormat `toml:"format"`
	Level  string    `toml:"level"` // debug, info, warn or error
}

// logLevels maps the accepted level names to slog levels.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// SlogLevel returns Level as a slog.Level; an unknown name (which Validate
// refuses) gives slog.LevelInfo.
func (l Log) SlogLevel() slog.Level {
	return logLevels[l.Level]
}

// Auth configures password verification (see auth.AuthOptions) and the
// throttling of failed logins (see auth.LimiterOptions).
type Auth struct {
	CacheTTL  Duration `toml:"cache_ttl"`  // how long a verified password is remembered
	CacheSize int      `toml:"cache_size"` // how many verified passwords are remembered
	// MaxUserFailures is how many failed logins one user name may collect
	// per FailureWindow before it is throttled (429); 0 turns it off.
	MaxUserFailures int `toml:"max_user_failures"`
	// MaxAddressFailures is the same per client address; 0 turns it off.
	MaxAddressFailures int      `toml:"max_address_failures"`
	FailureWindow      Duration `toml:"failure_window"` // period over which failures count
	// TrustForwardedFor takes the client address from X-Forwarded-For (its
	// last entry); only for a server behind one reverse proxy that sets it.
	TrustForwardedFor bool `toml:"trust_forwarded_for"`
}

// Metrics configures the Prometheus endpoint /metrics.
type Metrics struct {
	// Listen is a separate host:port that serves /metrics without
	// authentication; empty serves no separate listener.
	Listen string `toml:"listen"`
	// OnMain also serves /metrics on the main listener, to authenticated
	// users only.
	OnMain bool `toml:"on_main"`
}

// Default returns the configuration used where nothing else is said.
func Default() Config {
	return Config{
		Listen: "127.0.0.1:8080",
		Data:   "./davshare-data",
		Sharing: Sharing{
			Mode:              SharingInvite,
			InstantFolder:     "Shared",
			ShareesSeeSharees: true,
		},
		Notifications: Notifications{StrictAccept: true},
		Files:         Files{CacheListings: true},
		Limits: Limits{
			XMLBodyBytes:      1 << 20,
			LockMaxTimeout:    Duration(time.Hour),
			ShutdownTimeout:   Duration(15 * time.Second),
			ReadHeaderTimeout: Duration(10 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			BodyIdleTimeout:   Duration(60 * time.Second),
			StaleUploadAge:    Duration(15 * time.Minute),
		},
		Log: Log{Format: LogText, Level: "info"},
		Auth: Auth{
			CacheTTL:           Duration(5 * time.Minute),
			CacheSize:          4096,
			MaxUserFailures:    10,
			MaxAddressFailures: 50,
			FailureWindow:      Duration(5 * time.Minute),
		},
	}
}

// Duration is a time.Duration written as a Go duration string ("90s",
// "1h30m") in TOML, the environment and flags. Convert it with
// time.Duration(d).
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"90s\" or \"1h30m\"", text)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// String returns the duration in Go's notation, such as "1h0m0s".
func (d Duration) String() string { return time.Duration(d).String() }
