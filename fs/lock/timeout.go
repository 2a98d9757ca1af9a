package lock

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxSeconds is the largest Second-N RFC 4918 §10.7 allows: 2^32-1.
const maxSeconds = 1<<32 - 1

// ParseTimeout parses a Timeout request header (RFC 4918 §10.7): a comma
// list of "Second-N" and "Infinite", of which the first one understood wins
// ("Second-" and "Infinite" match case-insensitively). It returns N seconds,
// InfiniteTimeout for Infinite, and 0 for an empty header, which means "the
// server's default"; Manager treats 0, InfiniteTimeout and anything above its
// cap alike and grants its maximum timeout. "Second-0" is understood and
// therefore also returns 0. Elements it does not understand (other words,
// N above 2^32-1, which the RFC forbids) are skipped; a header with no
// element understood fails with ErrMalformed.
func ParseTimeout(h string) (time.Duration, error) {
	if strings.TrimSpace(h) == "" {
		return 0, nil
	}
	for elem := range strings.SplitSeq(h, ",") {
		elem = strings.TrimSpace(elem)
		if strings.EqualFold(elem, "Infinite") {
			return InfiniteTimeout, nil
		}
		const prefix = "Second-"
		if len(elem) <= len(prefix) || !strings.EqualFold(elem[:len(prefix)], prefix) {
			continue
		}
		digits := elem[len(prefix):]
		if strings.TrimLeft(digits, "0123456789") != "" {
			continue // also rejects the signs ParseUint would not, for clarity
		}
		n, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || n > maxSeconds {
			continue
		}
		return time.Duration(n) * time.Second, nil
	}
	return 0, fmt.Errorf("%w: Timeout header %q", ErrMalformed, h)
}

// FormatTimeout renders d as a DAV:timeout value: "Infinite" when d is
// negative, "Second-N" otherwise, with N rounded up so that a lock with a
// fraction of a second left does not read as expired.
func FormatTimeout(d time.Duration) string {
	if d < 0 {
		return "Infinite"
	}
	n := d / time.Second
	if d%time.Second != 0 {
		n++
	}
	return "Second-" + strconv.FormatInt(int64(n), 10)
}
