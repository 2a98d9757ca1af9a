// Command davshare serves each user's home directory over WebDAV and lets
// users share files and folders with each other. See README.md.
//
//	davshare serve [--config FILE] [--data DIR] [--listen ADDR]
//	davshare user add NAME --data DIR --email ADDR [--display-name TEXT] --password-stdin
//	davshare user list|passwd|del …
//	davshare notify send --data DIR (--to USER | --all) --level low|medium|high TEXT [--href URL]
//	davshare check [--config FILE] [--data DIR]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  davshare serve [--config FILE] [--data DIR] [--listen ADDR]
  davshare user add NAME --data DIR --email ADDR [--display-name TEXT] --password-stdin
  davshare user list --data DIR
  davshare user passwd NAME --data DIR --password-stdin
  davshare user del NAME --data DIR
  davshare notify send --data DIR (--to USER | --all) --level low|medium|high TEXT [--href URL]
  davshare check [--config FILE] [--data DIR]
`

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stdout, stderr)
	case "user":
		err = userCmd(args[1:], stdin, stdout)
	case "notify":
		err = notifyCmd(args[1:], stdout)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "davshare: %v\n", err)
		if _, ok := err.(usageError); ok {
			fmt.Fprint(stderr, usage)
		}
		return 1
	}
	return 0
}

type usageError string

func (e usageError) Error() string { return string(e) }

// parseInterleaved parses flags that may come before or after positional
// arguments ("user add bob --data d" and "user --data d add bob" alike).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
