package crashtest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBinaryLoginThrottle drives the wiring in serve: [auth] keys from the
// environment, 429 with Retry-After, a throttled name refused even with its
// password while other users work, and the counts on the separate,
// unauthenticated metrics listener (absent from the main one).
func TestBinaryLoginThrottle(t *testing.T) {
	data := newData(t, map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	p := start(t, data, "DAVSHARE_AUTH_MAX_USER_FAILURES=3", "DAVSHARE_AUTH_MAX_ADDRESS_FAILURES=100",
		"DAVSHARE_AUTH_FAILURE_WINDOW=1h", "DAVSHARE_METRICS_LISTEN=127.0.0.1:0")
	for i := range 3 {
		if code, _, err := p.do("PROPFIND", "/dav/files/alice/", "alice", "guess", nil, "Depth", "0"); err != nil || code != 401 {
			t.Fatalf("failure %d: %d %v, want 401", i+1, code, err)
		}
	}
	req, _ := http.NewRequest("PROPFIND", p.URL+"/dav/files/alice/", nil)
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set("Depth", "0")
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || retry < 1000 || retry > 1200 {
		t.Errorf("right password after 3 failures: %d, Retry-After %q; want 429 and about 1h/3", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	p.must(t, http.StatusMultiStatus, "PROPFIND", "/dav/files/bob/", "bob", "bob-pw", nil, "Depth", "0")
	p.must(t, http.StatusNotFound, "GET", "/metrics", "bob", "bob-pw", nil)

	if p.Metrics == "" {
		t.Fatal("no metrics line printed")
	}
	resp, err = http.Get(p.Metrics) // no credentials
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("metrics listener: %d", resp.StatusCode)
	}
	for _, want := range []string{
		"davshare_auth_failures_total 3",
		"davshare_auth_throttled_total 1",
		`davshare_http_requests_total{code="429",method="PROPFIND"} 1`,
		"davshare_locks_active 0",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	p.stop(t)
}

// TestBinarySlowClients: a header dribble is cut by
// limits.read_header_timeout, and a body that stalls by
// limits.body_idle_timeout, leaving the old file and no temporary file.
func TestBinarySlowClients(t *testing.T) {
	data := newData(t, map[string]string{"alice": "alice-pw"})
	p := start(t, data, "DAVSHARE_LIMITS_READ_HEADER_TIMEOUT=1s", "DAVSHARE_LIMITS_BODY_IDLE_TIMEOUT=1s")
	p.must(t, http.StatusCreated, "PUT", "/dav/files/alice/f.txt", "alice", "alice-pw", strings.NewReader("old"))

	t.Run("header dribble", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		start := time.Now()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		closed := make(chan time.Duration, 1)
		go func() {
			io.Copy(io.Discard, c) // returns when the server closes
			closed <- time.Since(start)
		}()
		for i := 0; ; i++ {
			select {
			case took := <-closed:
				if took > 4*time.Second {
					t.Errorf("dribble cut after %v; read_header_timeout is 1s", took)
				}
				return
			case <-time.After(100 * time.Millisecond):
			}
			if time.Since(start) > 12*time.Second {
				t.Fatal("a header dribble was not cut within 12s")
			}
			fmt.Fprintf(c, "X-%d: y\r\n", i)
		}
	})

	t.Run("stalled body", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		auth := base64.StdEncoding.EncodeToString([]byte("alice:alice-pw"))
		fmt.Fprintf(c, "PUT /dav/files/alice/f.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Length: 1000000\r\n\r\n%s",
			auth, strings.Repeat("n", 50000))
		start := time.Now()
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "PUT"})
		if err != nil {
			t.Fatalf("no answer to a stalled body: %v", err)
		}
		resp.Body.Close()
		if code := resp.StatusCode; (code != http.StatusRequestTimeout && code != http.StatusBadRequest) || time.Since(start) > 5*time.Second {
			t.Errorf("stalled body: %d after %v, want 408 or 400 after about 1s", code, time.Since(start))
		}
		if b, _ := os.ReadFile(filepath.Join(data, "files", "alice", "f.txt")); string(b) != "old" {
			t.Errorf("content after a stalled upload: %q", b)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			ents, _ := os.ReadDir(filepath.Join(data, "files", "alice"))
			if len(ents) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("alice's home holds %d entries, want only f.txt", len(ents))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	p.stop(t)
}
