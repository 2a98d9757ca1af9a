// Command davbench measures a WebDAV server: PROPFIND on large folders,
// small and large GET and PUT, MKCOL+DELETE and MOVE. It creates its
// fixtures over WebDAV, runs every scenario for a bounded time at a fixed
// concurrency and prints a table and one JSON object per scenario and
// target. With --baseline it also starts a bare golang.org/x/net/webdav
// server in-process, runs every scenario against both servers interleaved
// and prints each figure as a ratio to the baseline. See docs/performance.md.
//
//	davbench --url http://127.0.0.1:8080/dav/files/alice/bench/ --user alice \
//	    [--password PW | DAVBENCH_PASSWORD=PW] [--baseline] [--server-pid PID] \
//	    [--mount-url URL --mount-user U --mount-password PW] [--duration 5s] \
//	    [--rounds N] [--scenarios a,b,…] [--big=false] [--json FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == serveBaselineArg {
		os.Exit(serveBaseline(os.Args[2:], os.Stdin, os.Stdout))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is everything one run needs. The sizes are fixed for the command
// line (the scenario names say them) and smaller in tests.
type config struct {
	url, user, password                string
	mountURL, mountUser, mountPassword string
	baseline, baselineProcess, ceiling bool
	duration                           time.Duration
	rounds                             int
	scenarios                          string
	jsonPath                           string
	serverPID                          int
	big                                bool
	maxRequests                        int64
	timeout                            time.Duration
	fixtureConc                        int
	insecure                           bool
	allowRemote                        bool
	sizes                              sizes
}

// sizes are the fixture sizes: folder entry counts and file sizes.
type sizes struct {
	dirLarge, dirMedium, dirHuge int   // PROPFIND Depth 1 folders
	entry                        int64 // size of each file in those folders
	small                        int64 // GET, PUT and PROPFIND Depth 0 file
	getBig, putBig               int64 // large GET and PUT
}

var defaultSizes = sizes{
	dirLarge:  10_000,
	dirMedium: 1_000,
	dirHuge:   100_000,
	entry:     128,
	small:     4 << 10,
	getBig:    64 << 20,
	putBig:    256 << 20,
}

const usageText = `usage: davbench --url URL --user NAME [flags]
       davbench --baseline [flags]          (the x/net baseline alone)

Creates fixtures under URL (a folder; created if missing) over WebDAV, then
runs each scenario for --duration at a fixed concurrency and prints a table
and JSON lines. With --baseline, every scenario also runs against an
in-process golang.org/x/net/webdav server, interleaved, with ratios.

flags:
`

// run parses the flags, runs the benchmark and returns the exit code:
// 0 done, 1 failed (unreachable server, wrong URL or credentials, a fixture
// that could not be made), 2 bad usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "davbench: %v\n", err)
		return 2
	}
	if err := bench(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "davbench: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{sizes: defaultSizes}
	fs := flag.NewFlagSet("davbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nscenarios (default: all but %s):\n", hugeNote(cfg.sizes))
		for _, sc := range scenarios(cfg.sizes) {
			fmt.Fprintf(stderr, "  %-15s %s\n", sc.id, sc.desc)
		}
	}
	fs.StringVar(&cfg.url, "url", "", "base `URL` of a folder on the server under test, e.g. http://127.0.0.1:8080/dav/files/alice/bench/")
	fs.StringVar(&cfg.user, "user", "", "user `name` for Basic authentication")
	fs.StringVar(&cfg.password, "password", "", "password (default $DAVBENCH_PASSWORD)")
	fs.StringVar(&cfg.mountURL, "mount-url", "", "a second `URL` showing the same folder through a share mount (e.g. bob's view of alice's folder)")
	fs.StringVar(&cfg.mountUser, "mount-user", "", "user `name` for --mount-url (default --user)")
	fs.StringVar(&cfg.mountPassword, "mount-password", "", "password for --mount-url (default $DAVBENCH_MOUNT_PASSWORD, else the --url password)")
	fs.BoolVar(&cfg.baseline, "baseline", false, "also run every scenario against an in-process golang.org/x/net/webdav server and print ratios")
	fs.BoolVar(&cfg.baselineProcess, "baseline-process", false, "run the baseline server in a child process instead of in davbench's own (implies --baseline)")
	fs.BoolVar(&cfg.ceiling, "ceiling", true, "with --baseline, also run the small GET scenario on a net/http handler in the baseline server that answers from memory: the most any net/http server reaches here")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long each scenario runs on each target")
	fs.IntVar(&cfg.rounds, "rounds", 1, "rounds of all scenarios; figures are medians over rounds")
	fs.StringVar(&cfg.scenarios, "scenarios", "", "comma-separated scenario `names` to run, or \"all\" (default: all but the 100,000-entry PROPFIND)")
	fs.StringVar(&cfg.jsonPath, "json", "", "write the JSON lines to `FILE` instead of standard output")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "`PID` of the server under test, to sample its peak RSS from /proc")
	fs.BoolVar(&cfg.big, "big", true, "run the 64 MiB GET and 256 MiB PUT scenarios")
	fs.Int64Var(&cfg.maxRequests, "max-requests", 1_000_000, "most operations of one scenario on one target")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "how long a request may run past the end of its scenario")
	fs.IntVar(&cfg.fixtureConc, "fixture-concurrency", 16, "concurrent PUTs while creating fixtures")
	fs.BoolVar(&cfg.insecure, "insecure", false, "accept any TLS certificate (for --tls-self-signed servers)")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow a --url or --mount-url that is not a loopback address")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	if cfg.baselineProcess {
		cfg.baseline = true
	}
	if cfg.password == "" {
		cfg.password = getenv("DAVBENCH_PASSWORD")
	}
	if cfg.mountUser == "" {
		cfg.mountUser = cfg.user
	}
	if cfg.mountPassword == "" {
		cfg.mountPassword = getenv("DAVBENCH_MOUNT_PASSWORD")
	}
	if cfg.mountPassword == "" {
		cfg.mountPassword = cfg.password
	}
	switch {
	case cfg.url == "" && !cfg.baseline:
		return cfg, errors.New("--url is required (or --baseline alone, to measure the x/net baseline)")
	case cfg.mountURL != "" && cfg.url == "":
		return cfg, errors.New("--mount-url needs --url: the fixtures are made through --url")
	case cfg.duration <= 0 || cfg.duration > time.Hour:
		return cfg, fmt.Errorf("--duration %v: want more than 0 and at most 1h", cfg.duration)
	case cfg.rounds < 1 || cfg.rounds > 100:
		return cfg, fmt.Errorf("--rounds %d: want 1 to 100", cfg.rounds)
	case cfg.maxRequests < 1:
		return cfg, fmt.Errorf("--max-requests %d: want at least 1", cfg.maxRequests)
	case cfg.timeout <= 0:
		return cfg, fmt.Errorf("--timeout %v: want more than 0", cfg.timeout)
	case cfg.fixtureConc < 1 || cfg.fixtureConc > 256:
		return cfg, fmt.Errorf("--fixture-concurrency %d: want 1 to 256", cfg.fixtureConc)
	case cfg.serverPID < 0:
		return cfg, fmt.Errorf("--server-pid %d: want a process id", cfg.serverPID)
	}
	if _, err := selectScenarios(cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func hugeNote(s sizes) string { return "propfind-" + countLabel(s.dirHuge) }

// selectScenarios resolves --scenarios and --big into the scenarios to run,
// in the canonical order.
func selectScenarios(cfg config) ([]*scenario, error) {
	all := scenarios(cfg.sizes)
	want := map[string]bool{}
	if names := strings.TrimSpace(cfg.scenarios); names != "" && names != "all" {
		known := map[string]bool{}
		for _, sc := range all {
			known[sc.id] = true
		}
		for _, n := range strings.Split(names, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if !known[n] {
				ids := make([]string, len(all))
				for i, sc := range all {
					ids[i] = sc.id
				}
				return nil, fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", n, strings.Join(ids, ", "))
			}
			want[n] = true
		}
	}
	var out []*scenario
	for _, sc := range all {
		switch {
		case len(want) > 0 && !want[sc.id]:
		case len(want) == 0 && sc.optIn && cfg.scenarios != "all":
		case sc.big && !cfg.big:
		default:
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--scenarios: nothing selected (the large transfers need --big)")
	}
	return out, nil
}
