package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/davshare/davshare/config"
	"github.com/davshare/davshare/datadir"
)

// checkCmd verifies a data directory and reports what is wrong and what
// repairs it, changing nothing (datadir.Check); it works while the server
// runs. Exit status: 0 clean, 1 problems found, 2 the check could not run.
func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "TOML configuration file (for data and limits.stale_upload_age)")
	data := fs.String("data", "", "data directory (default: from the configuration, ./davshare-data)")
	pos, err := parseInterleaved(fs, args)
	if err == flag.ErrHelp {
		return 0
	}
	if err == nil && len(pos) > 0 {
		err = usageError(fmt.Sprintf("check: unexpected argument %q", pos[0]))
	}
	var cfg config.Config
	if err == nil {
		cfg, err = config.Load(*cfgFile, os.LookupEnv)
	}
	if err != nil {
		fmt.Fprintf(stderr, "davshare: %v\n", err)
		if _, ok := err.(usageError); ok {
			fmt.Fprint(stderr, usage)
		}
		return 2
	}
	if *data != "" {
		cfg.Data = *data
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := datadir.Check(ctx, datadir.Options{Dir: cfg.Data, StaleAge: time.Duration(cfg.Limits.StaleUploadAge)})
	if err != nil {
		fmt.Fprintf(stderr, "davshare: check: %v\n", err)
		return 2
	}
	if err := r.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "davshare: %v\n", err)
		return 2
	}
	if !r.Clean() {
		return 1
	}
	return 0
}
