package server

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// namesThisServer reports whether u, the URL of a Destination header or of
// a tagged If list, names this server, so that its path may be taken as
// ours. A URL without a host does. One with a host does when that host is
// the one the client addressed: the request's Host or, behind a reverse
// proxy that rewrites Host, an X-Forwarded-Host the proxy added. Hosts
// compare without case and without the scheme's default port, as URLs do
// (RFC 3986 §6.2.2–6.2.3): a client that writes "https://NAS.example:443/"
// in Destination means the server it sent the request to.
//
// x/net/webdav compares Host byte for byte, which answers every MOVE behind
// a proxy with 502 (pitfall E.23). Trusting X-Forwarded-Host from anyone is
// safe here: the path is resolved in the caller's own namespace either way,
// so a forged header reaches nothing a relative Destination could not.
func namesThisServer(r *http.Request, u *url.URL) bool {
	if u.Host == "" {
		return true
	}
	want := hostKey(u.Host, u.Scheme)
	if want == hostKey(r.Host, "") {
		return true
	}
	for _, v := range r.Header.Values("X-Forwarded-Host") {
		for h := range strings.SplitSeq(v, ",") {
			if want == hostKey(strings.TrimSpace(h), "") {
				return true
			}
		}
	}
	return false
}

// hostKey is host (host[:port]) in the form two names of one server share:
// lower case, without a trailing dot, and without the port when it is the
// default of scheme, or when scheme is "" (a Host header, whose scheme the
// proxy may have changed) either default.
func hostKey(host, scheme string) string {
	host = strings.ToLower(host)
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = host, ""
	}
	switch {
	case port == "80" && (scheme == "http" || scheme == ""),
		port == "443" && (scheme == "https" || scheme == ""):
		port = ""
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	if port == "" {
		return name
	}
	return net.JoinHostPort(name, port)
}

// clientOrigin is the scheme and host the client addressed
// ("https://nas.example"), for the absolute URLs an answer gives: what a
// reverse proxy reports in X-Forwarded-Proto and X-Forwarded-Host (their
// first entries, the proxy nearest the client), else the request's own.
func clientOrigin(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if p := firstForwarded(r, "X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	if h := firstForwarded(r, "X-Forwarded-Host"); h != "" && !strings.ContainsAny(h, "/?#@\\ ") {
		host = h
	}
	return scheme + "://" + host
}

func firstForwarded(r *http.Request, header string) string {
	v, _, _ := strings.Cut(r.Header.Get(header), ",")
	return strings.ToLower(strings.TrimSpace(v))
}
