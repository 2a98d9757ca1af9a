package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/davshare/davshare/notify"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// notifyCmd writes notifications straight into the data directory; a
// running server picks them up within seconds.
func notifyCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	data := fs.String("data", "./davshare-data", "data directory")
	var to stringList
	fs.Var(&to, "to", "recipient user (repeatable)")
	all := fs.Bool("all", false, "send to every user")
	level := fs.String("level", "low", "importance: low, medium or high")
	href := fs.String("href", "", "URL of a page that explains the notice")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || pos[0] != "send" {
		return usageError("notify: expected 'notify send TEXT'")
	}
	text := strings.Join(pos[1:], " ")
	if *all == (len(to) > 0) {
		return usageError("notify send: give either --to USER or --all")
	}
	lvl, err := notify.ParseLevel(*level)
	if err != nil {
		return err
	}
	sent, err := notify.SendSystemStatus(*data, notify.Broadcast{
		To:     to,
		All:    *all,
		Status: notify.SystemStatus{Level: lvl, Description: text, Href: *href},
	})
	if len(sent.Users) > 0 {
		fmt.Fprintf(stdout, "sent %s to %s\n", sent.Name, strings.Join(sent.Users, ", "))
	}
	return err
}
