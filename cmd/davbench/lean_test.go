package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scripted is a TCP server that answers the requests on each connection
// with the next of its canned responses, closing the connection after a
// response marked so; it records the requests' header blocks.
type scripted struct {
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	replies  []reply
	requests []string
}

type reply struct {
	raw   string
	close bool
}

func newScripted(t *testing.T, replies ...reply) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{ln: ln, replies: replies}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			go s.serve(c)
		}
	}()
	return s
}

func (s *scripted) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		var head strings.Builder
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(l)
			if l == "\r\n" {
				break
			}
		}
		s.mu.Lock()
		s.requests = append(s.requests, head.String())
		if len(s.replies) == 0 {
			s.mu.Unlock()
			return
		}
		r := s.replies[0]
		s.replies = s.replies[1:]
		s.mu.Unlock()
		if _, err := io.WriteString(c, r.raw); err != nil || r.close {
			return
		}
	}
}

func ok4k(extra string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + extra + "Content-Length: 4096\r\n\r\n" + strings.Repeat("x", 4096)
}

// TestLeanGet: the small-GET client reuses its connection, sends the
// credentials, and counts as an error whatever is not a whole 200.
func TestLeanGet(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replies  []reply
		calls    int
		wantErr  string // in the last call's error; "" for none
		accepted int64
	}{
		{"keep-alive", []reply{{ok4k(""), false}, {ok4k(""), false}, {ok4k(""), false}}, 3, "", 1},
		{"lower-case header names", []reply{{"HTTP/1.1 200 OK\r\ncontent-length: 4096\r\n\r\n" + strings.Repeat("x", 4096), false}}, 1, "", 1},
		{"Connection: close dials again", []reply{{ok4k("Connection: close\r\n"), true}, {ok4k(""), false}}, 2, "", 2},
		{"401", []reply{{"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 13\r\n\r\nunauthorized\n", false}}, 1, "401 Unauthorized", 1},
		{"500 after a 200", []reply{{ok4k(""), false}, {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", false}}, 2, "500", 1},
		{"short body", []reply{{"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + strings.Repeat("x", 100), true}}, 1, "body of 100 bytes, 4096 announced", 1},
		{"cut in the headers", []reply{{"HTTP/1.1 200 OK\r\nContent-Le", true}}, 1, "unexpected EOF", 1},
		{"chunked", []reply{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false}}, 1, "cannot frame", 1},
		{"no length", []reply{{"HTTP/1.1 200 OK\r\n\r\n", true}}, 1, "no Content-Length", 1},
		{"not HTTP", []reply{{"SSH-2.0-OpenSSH\r\n", true}}, 1, "status line", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(t, tc.replies...)
			tg, err := newTarget("davshare", "http://"+s.ln.Addr().String()+"/dav/files/alice/bench/", testUser, testPassword, false)
			if err != nil {
				t.Fatal(err)
			}
			w := &worker{}
			defer w.closeLean()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for i := range tc.calls {
				n, err := tg.leanGet(ctx, w, "file-4096.bin")
				last := i == tc.calls-1
				switch {
				case !last || tc.wantErr == "":
					if err != nil || n != 4096 {
						t.Fatalf("call %d: %d bytes, %v; want 4096, no error", i, n, err)
					}
				case err == nil || !strings.Contains(err.Error(), tc.wantErr):
					t.Fatalf("call %d: %d bytes, error %v; want an error with %q", i, n, err, tc.wantErr)
				}
			}
			if got := s.accepted.Load(); got != tc.accepted {
				t.Errorf("%d connections, want %d", got, tc.accepted)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPassword)) + "\r\n"
			for _, r := range s.requests {
				if !strings.HasPrefix(r, "GET /dav/files/alice/bench/file-4096.bin HTTP/1.1\r\n") ||
					!strings.Contains(r, "\r\nHost: "+s.ln.Addr().String()+"\r\n") || !strings.Contains(r, auth) {
					t.Errorf("request:\n%s", r)
				}
			}
		})
	}
}

// TestLeanGetNetHTTP: against net/http's server, the right password gets
// the file and a wrong one is an error that names the 401.
func TestLeanGetNetHTTP(t *testing.T) {
	srv := newDAVServer(t, nil)
	tg := srv.target(t)
	if err := putFile(context.Background(), tg, "file-4096.bin", 4096); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		password string
		wantErr  bool
	}{{testPassword, false}, {"wrong", true}, {testPassword, false}} {
		bad := *tg
		bad.password = tc.password
		w := &worker{}
		n, err := bad.leanGet(context.Background(), w, "file-4096.bin")
		w.closeLean()
		var se *statusError
		switch {
		case !tc.wantErr && (err != nil || n != 4096):
			t.Errorf("password %q: %d bytes, %v", tc.password, n, err)
		case tc.wantErr && (!errors.As(err, &se) || se.status != http.StatusUnauthorized):
			t.Errorf("password %q: %v, want a 401", tc.password, err)
		}
	}
}
