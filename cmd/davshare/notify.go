package main

import (
	"fmt"
	"io"
)

// notifyCmd sends notifications from the command line.
func notifyCmd(args []string, stdout io.Writer) error {
	return fmt.Errorf("notify: not available yet")
}
