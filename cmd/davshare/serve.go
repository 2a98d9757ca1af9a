package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/davshare/davshare/auth"
	"github.com/davshare/davshare/config"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/server"
	"github.com/davshare/davshare/sharing"
)

// serve runs the server until SIGINT or SIGTERM.
func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgFile := fs.String("config", "", "TOML configuration file")
	apply := config.BindFlags(fs)
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError(fmt.Sprintf("serve: unexpected argument %q", pos[0]))
	}
	cfg, err := config.Load(*cfgFile, os.LookupEnv)
	if err != nil {
		return err
	}
	if err := apply(&cfg); err != nil {
		return err
	}
	logBuf := newLogBuffer(stderr)
	defer logBuf.Flush()
	flushCtx, stopFlush := context.WithCancel(context.Background())
	defer stopFlush()
	go logBuf.flushEvery(flushCtx, logFlushEvery)
	log := newLogger(cfg.Log, logBuf)

	if err := os.MkdirAll(filepath.Join(cfg.Data, "files"), 0o750); err != nil {
		return err
	}
	if err := dsfs.ProbeXattrs(cfg.Data); err != nil {
		return err
	}
	accounts, err := auth.Open(cfg.Data, log)
	if err != nil {
		return err
	}
	firstPassword := ""
	if accounts.Len() == 0 {
		if firstPassword, err = createAdmin(accounts); err != nil {
			return err
		}
	}
	notes, err := notify.Open(cfg.Data, notify.Options{}, log)
	if err != nil {
		return err
	}
	defer notes.Close()
	homes := dsfs.NewHomes(filepath.Join(cfg.Data, "files"))
	defer homes.Close()
	if !cfg.Files.CacheListings {
		homes.DisableListingCache()
	}
	shares, err := sharing.Open(context.Background(), sharing.Options{
		Trees:         homes,
		Accounts:      accounts,
		Notifier:      notes,
		Mode:          sharing.Mode(cfg.Sharing.Mode),
		InstantFolder: cfg.Sharing.InstantFolder,
		HideSharees:   !cfg.Sharing.ShareesSeeSharees,
		Logger:        log,
	})
	if err != nil {
		return err
	}
	defer shares.Close()
	accounts.Subscribe(shares.AccountsChanged) // pending mailto: invitations (spec §7.2)
	var metrics *server.Metrics                // nil: no metrics
	if cfg.Metrics.Listen != "" || cfg.Metrics.OnMain {
		metrics = server.NewMetrics()
		if err := metrics.GaugeFunc("davshare_shares", "Shared originals.", func() float64 {
			return float64(shares.ShareCount())
		}); err != nil {
			return err
		}
	}
	limiter := auth.NewLimiter(auth.LimiterOptions{
		MaxUserFailures:    cfg.Auth.MaxUserFailures,
		MaxAddressFailures: cfg.Auth.MaxAddressFailures,
		Window:             time.Duration(cfg.Auth.FailureWindow),
		TrustForwardedFor:  cfg.Auth.TrustForwardedFor,
	})
	authn := auth.NewAuthenticator(accounts, auth.AuthOptions{
		CacheTTL:  time.Duration(cfg.Auth.CacheTTL),
		CacheSize: cfg.Auth.CacheSize,
		Limiter:   metrics.Limiter(limiter),
	})
	srv := server.New(server.Options{
		Accounts:        accounts,
		Auth:            authn,
		Homes:           homes,
		Locks:           lock.NewManager(time.Duration(cfg.Limits.LockMaxTimeout)),
		Logger:          log,
		BodyLimit:       cfg.Limits.XMLBodyBytes,
		LockMaxTimeout:  time.Duration(cfg.Limits.LockMaxTimeout),
		BodyIdleTimeout: time.Duration(cfg.Limits.BodyIdleTimeout),
		Metrics:         metrics,
		MetricsOnMain:   cfg.Metrics.OnMain,
		Notifications: notify.NewHandler(notes, notify.HandlerOptions{
			StrictAccept: cfg.Notifications.StrictAccept,
			BodyLimit:    cfg.Limits.XMLBodyBytes,
		}, log, shares),
		Mounts:   shares,
		Observer: shares,
		Shares:   shares,
		Sharing:  true,
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go accounts.Watch(ctx, time.Second)
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		if err := notes.Watch(ctx); err != nil && ctx.Err() == nil {
			log.Error("notification watcher stopped", "err", err)
		}
	}()
	defer func() { stop(); <-watching }() // the store closes only after its watcher
	go func() {
		// Temporary files of uploads cut short by a crash: invisible, but
		// they take space (fs.SweepStaleUploads).
		for _, dir := range []string{"files", "notifications"} {
			n, err := dsfs.SweepStaleUploads(ctx, filepath.Join(cfg.Data, dir), time.Duration(cfg.Limits.StaleUploadAge))
			if err != nil && ctx.Err() == nil {
				log.Warn("sweeping stale temporary files", "dir", dir, "err", err)
			}
			log.Info("stale temporary files swept", "dir", dir, "removed", n)
		}
	}()
	sharesWatching := make(chan struct{})
	go func() {
		defer close(sharesWatching)
		shares.Watch(ctx) // originals changed by other programs
	}()
	defer func() { stop(); <-sharesWatching }()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	ln = server.CorkListener(ln)
	certFile, keyFile := cfg.TLS.Cert, cfg.TLS.Key
	if cfg.TLS.SelfSigned {
		host, _ := os.Hostname()
		if certFile, keyFile, err = server.SelfSignedCert(filepath.Join(cfg.Data, "tls"), []string{host, listenHost(ln)}); err != nil {
			return err
		}
	}
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String()
	if firstPassword != "" {
		fmt.Fprintf(stdout, "created user admin with password %s (shown once; change it with 'davshare user passwd admin --password-stdin')\n", firstPassword)
		fmt.Fprintf(stdout, "mount %s/dav/files/admin/ as user admin\n", base)
	}
	if cfg.Metrics.Listen != "" {
		stopMetrics, err := serveMetrics(cfg.Metrics.Listen, metrics, cfg.Limits, log, stdout)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	// The serving line comes last: whoever waits for it (a supervisor, a
	// test) has everything else already.
	fmt.Fprintf(stdout, "davshare serving %s on %s\n", cfg.Data, base)
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: time.Duration(cfg.Limits.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(cfg.Limits.IdleTimeout),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return auth.ConnContext(server.ConnContext(ctx, c), c)
		},
	}
	err = server.Run(ctx, httpSrv, func() error {
		if certFile != "" {
			return httpSrv.ServeTLS(ln, certFile, keyFile) // HTTP/2 is negotiated by ALPN
		}
		return httpSrv.Serve(ln)
	}, time.Duration(cfg.Limits.ShutdownTimeout))
	if errors.Is(err, server.ErrShutdownForced) {
		log.Warn("shutdown grace period over", "err", err)
		err = nil
	}
	log.Info("stopped")
	return err
}

// serveMetrics serves /metrics without authentication on a listener of its
// own (metrics.listen), meant for a loopback or management address.
func serveMetrics(addr string, m *server.Metrics, lim config.Limits, log *slog.Logger, stdout io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: time.Duration(lim.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(lim.IdleTimeout),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go srv.Serve(ln)
	fmt.Fprintf(stdout, "davshare metrics on http://%s/metrics\n", ln.Addr())
	return func() { srv.Close() }, nil
}

// createAdmin makes the first account on an empty data directory.
func createAdmin(accounts *auth.Store) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(b[:])
	_, err := accounts.Add("admin", "admin@localhost", "Administrator", pw)
	return pw, err
}

// newLogger logs to buf (see logbuf.go): Warn and above at once, the rest
// within logFlushEvery.
func newLogger(c config.Log, buf *logBuffer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	var h slog.Handler = slog.NewTextHandler(buf, opts)
	if c.Format == config.LogJSON {
		h = slog.NewJSONHandler(buf, opts)
	}
	return slog.New(flushAtWarn{h, buf})
}

// listenHost is the host part of the listening address, for the
// self-signed certificate's names.
func listenHost(ln net.Listener) string {
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	return host
}
