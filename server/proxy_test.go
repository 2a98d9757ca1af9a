package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/davshare/davshare/sharing"
)

// TestBehindReverseProxy: a client that reaches the server through a
// reverse proxy writes the proxy's URL in Destination and in tagged If
// lists. Through a real httputil.ReverseProxy: a proxy that keeps the Host
// header, or rewrites it and says so in X-Forwarded-Host, gets MOVE and
// lock-checked PUT answered as if direct; one that rewrites Host silently
// gets 502 for a Destination naming the public host (RFC 4918 §9.9.4),
// and the file stays where it was.
func TestBehindReverseProxy(t *testing.T) {
	e := newEnv(t)
	backend, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	const home = "/dav/files/alice/"
	for _, tc := range []struct {
		name    string
		rewrite func(*httputil.ProxyRequest)
		move    int
	}{
		{"keeps Host", func(pr *httputil.ProxyRequest) { pr.SetURL(backend); pr.Out.Host = pr.In.Host }, 201},
		{"rewrites Host, sets X-Forwarded-Host", func(pr *httputil.ProxyRequest) { pr.SetURL(backend); pr.SetXForwarded() }, 201},
		{"rewrites Host silently", func(pr *httputil.ProxyRequest) { pr.SetURL(backend) }, 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			front := httptest.NewServer(&httputil.ReverseProxy{Rewrite: tc.rewrite})
			defer front.Close()
			call := func(want int, method, path, body string, hdr ...string) *http.Response {
				t.Helper()
				resp, got := send(t, http.DefaultClient, newRequest(t, method, front.URL+path, "alice", passwords["alice"], body, hdr...))
				if resp.StatusCode != want {
					t.Fatalf("%s %s through the proxy: %d, want %d: %s", method, path, resp.StatusCode, want, got)
				}
				return resp
			}
			call(201, "PUT", home+"a.txt", "a")
			call(tc.move, "MOVE", home+"a.txt", "", "Destination", front.URL+home+"b.txt")
			_, moved := e.file("alice", "b.txt")
			_, stayed := e.file("alice", "a.txt")
			if moved != (tc.move == 201) || stayed == moved {
				t.Fatalf("after MOVE (%d): a.txt there %v, b.txt there %v", tc.move, stayed, moved)
			}
			left := "a.txt"
			if moved {
				left = "b.txt"
			}
			e.expect(204, "DELETE", home+left, "alice", "")
			if tc.move != 201 {
				return
			}

			// A lock taken through the proxy is confirmed by an If list
			// tagged with the proxy's URL, and still enforced without one.
			call(201, "PUT", home+"c.txt", "c")
			tok := call(200, "LOCK", home+"c.txt", lockBody(false)).Header.Get("Lock-Token")
			call(423, "PUT", home+"c.txt", "c2")
			call(204, "PUT", home+"c.txt", "c3", "If", "<"+front.URL+home+"c.txt> ("+tok+")")
			call(204, "UNLOCK", home+"c.txt", "", "Lock-Token", tok)
			e.expect(204, "DELETE", home+"c.txt", "alice", "")
		})
	}
}

// TestAcceptBehindReverseProxy: the absolute Location of a share accepted
// through a proxy that reports the public host (X-Forwarded-Host) names
// the proxy, not the address the proxy reached the server at.
func TestAcceptBehindReverseProxy(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	setupApollo(e)
	backend, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(backend)
		pr.SetXForwarded()
	}})
	defer front.Close()
	e.share(204, apollo, "alice", sharee("/dav/principals/bob/", "read"))
	resp, _ := e.expect(201, "POST", front.URL+e.invite("bob"), "bob", acceptBody("/dav/files/bob/", ""), "Content-Type", davsharing)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, front.URL+"/dav/files/bob/") {
		t.Fatalf("Location %q; want it under the proxy's URL %s", loc, front.URL)
	}
}
