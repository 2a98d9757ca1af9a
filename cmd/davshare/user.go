package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/davshare/davshare/auth"
)

type userFlags struct {
	set                  *flag.FlagSet
	data, email, display *string
	pwStdin              *bool
}

func newUserFlags() userFlags {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	return userFlags{
		set:     fs,
		data:    fs.String("data", "./davshare-data", "data directory"),
		email:   fs.String("email", "", "e-mail address (user add)"),
		display: fs.String("display-name", "", "display name (user add)"),
		pwStdin: fs.Bool("password-stdin", false, "read the password from the first line of standard input"),
	}
}

// userCmd manages accounts. It works while the server runs: the server
// picks changes up within seconds.
func userCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	f := newUserFlags()
	data, email, display, pwStdin := f.data, f.email, f.display, f.pwStdin
	pos, err := parseInterleaved(f.set, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("user: missing subcommand")
	}
	name := func() (auth.Username, error) {
		if len(pos) != 2 {
			return "", usageError(fmt.Sprintf("user %s: expected one NAME", pos[0]))
		}
		return auth.Username(pos[1]), nil
	}
	password := func() (string, error) {
		if !*pwStdin {
			return "", usageError("the password is read from standard input: pass --password-stdin")
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	// Everything the command line says is checked before the data
	// directory is touched, and only "add" creates one: a mistyped
	// command or --data leaves nothing behind.
	var n auth.Username
	var pw string
	switch pos[0] {
	case "add":
		if n, err = name(); err == nil && *email == "" {
			err = usageError("user add: --email is required")
		}
		if err == nil {
			pw, err = password()
		}
	case "passwd":
		if n, err = name(); err == nil {
			pw, err = password()
		}
	case "del":
		n, err = name()
	case "list":
		if len(pos) != 1 {
			err = usageError("user list: takes no NAME")
		}
	default:
		err = usageError(fmt.Sprintf("user: unknown subcommand %q", pos[0]))
	}
	if err != nil {
		return err
	}
	if pos[0] != "add" {
		if _, err := os.Stat(*data); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no data directory at %s (davshare user add creates one)", *data)
		}
	}
	store, err := auth.Open(*data, nil)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "add":
		acct, err := store.Add(n, *email, *display, pw)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added user %s <%s>\n", acct.Name, acct.Email)
	case "passwd":
		if err := store.SetPassword(n, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "changed the password of %s\n", n)
	case "del":
		if err := store.Delete(n); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted user %s; the files in %s/files/%s are kept\n", n, *data, n)
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tEMAIL\tDISPLAY NAME")
		for _, a := range store.List() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Email, a.DisplayName)
		}
		return tw.Flush()
	}
	return nil
}
