package server_test

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Slow clients and lying bodies against the real router on a real
// listener, with raw connections so that nothing on the client side fixes
// what the test sends wrong. Every wait is bounded.

const (
	testBodyIdle   = 400 * time.Millisecond
	testHeaderWait = 500 * time.Millisecond
)

func newSlowEnv(t *testing.T) *opsEnv {
	return newOpsEnv(t, opsConfig{bodyIdleTimeout: testBodyIdle, readHeaderTimeout: testHeaderWait})
}

func (e *opsEnv) dial() net.Conn {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", e.srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(45 * time.Second)) // the bound on everything below
	return c
}

// putHeader is the head of a PUT by alice announcing length bytes.
func (e *opsEnv) putHeader(name string, length int) string {
	auth := base64.StdEncoding.EncodeToString([]byte("alice:alice-secret"))
	return fmt.Sprintf("PUT /dav/files/alice/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\n\r\n",
		name, e.srv.Listener.Addr(), auth, length)
}

// homeFiles lists alice's home on disk, temporary files included.
func (e *opsEnv) homeFiles() []string {
	e.t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.data, "files", "alice"))
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

// expectOnly waits (bounded) until alice's home holds exactly want on disk:
// no temporary file left behind.
func (e *opsEnv) expectOnly(want ...string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := e.homeFiles()
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("files in alice's home: %q, want %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *opsEnv) mustPut(name, content string) {
	e.t.Helper()
	if code, body := e.call("PUT", "/dav/files/alice/"+name, "alice", "alice-secret", content); code != 201 && code != 204 {
		e.t.Fatalf("PUT %s: %d %s", name, code, body)
	}
}

func (e *opsEnv) content(name string) string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.data, "files", "alice", name))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// TestBodyStallKeepsOldFile: a client announces more than it sends and
// waits. The server gives up after the idle timeout with an error, the
// old content stays, and no temporary file is left.
func TestBodyStallKeepsOldFile(t *testing.T) {
	e := newSlowEnv(t)
	e.mustPut("f.txt", "old content")
	c := e.dial()
	start := time.Now()
	io.WriteString(c, e.putHeader("f.txt", 100000)+strings.Repeat("x", 1000))
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "PUT"})
	if err != nil {
		t.Fatalf("no response to a stalled body: %v", err)
	}
	resp.Body.Close()
	took := time.Since(start)
	// 408 from the body wrapper, or 400 where fs.Namespace.Put reports the
	// stalled source as an incomplete upload: either says it failed.
	if resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("stalled body: status %d, want 408 or 400", resp.StatusCode)
	}
	if took < testBodyIdle*3/4 || took > testBodyIdle+20*time.Second {
		t.Errorf("stalled body answered after %v; the idle timeout is %v", took, testBodyIdle)
	}
	// The connection is closed after the answer.
	if n, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("connection still open after the answer (read %d bytes, %v)", n, err)
	}
	if got := e.content("f.txt"); got != "old content" {
		t.Errorf("content after a stalled upload: %q", got)
	}
	e.expectOnly("f.txt")
}

// TestUnreadBodyStall: the handler answers without reading the body (here
// 401); net/http then reads what is left of it to keep the connection, and
// a client that stalls must not hold that read, and the connection, for ever.
func TestUnreadBodyStall(t *testing.T) {
	e := newSlowEnv(t)
	c := e.dial()
	fmt.Fprintf(c, "PUT /dav/files/alice/f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "PUT"})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
	start := time.Now()
	if _, err := br.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("connection still open %v after the answer (%v)", time.Since(start), err)
	}
	if took := time.Since(start); took > testBodyIdle+20*time.Second {
		t.Errorf("connection closed after %v; the idle timeout is %v", took, testBodyIdle)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestBodyShortAndClosed: a client announces more than it sends and closes
// its side. The upload is refused with 400, the old content stays, and no
// temporary file is left.
func TestBodyShortAndClosed(t *testing.T) {
	e := newSlowEnv(t)
	e.mustPut("f.txt", "old content")
	c := e.dial()
	io.WriteString(c, e.putHeader("f.txt", 100000)+strings.Repeat("y", 5000))
	c.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "PUT"})
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("short body: status %d, want 400", resp.StatusCode)
		}
	} // else: the server may also just close; what matters is the disk
	if got := e.content("f.txt"); got != "old content" {
		t.Errorf("content after a short upload: %q", got)
	}
	e.expectOnly("f.txt")

	// The same with the connection dropped outright.
	c = e.dial()
	io.WriteString(c, e.putHeader("f.txt", 100000)+strings.Repeat("z", 5000))
	c.Close()
	time.Sleep(100 * time.Millisecond)
	if got := e.content("f.txt"); got != "old content" {
		t.Errorf("content after a dropped upload: %q", got)
	}
	e.expectOnly("f.txt")
}

// TestSlowUploadProgressing: an upload that keeps making progress is never
// cut, however long it takes in all (here 6 idle timeouts).
func TestSlowUploadProgressing(t *testing.T) {
	e := newSlowEnv(t)
	e.mustPut("big.bin", "old")
	const chunks, size = 12, 4096
	c := e.dial()
	io.WriteString(c, e.putHeader("big.bin", chunks*size))
	var want strings.Builder
	for i := range chunks {
		chunk := strings.Repeat(string(rune('a'+i)), size)
		want.WriteString(chunk)
		time.Sleep(testBodyIdle / 2)
		if _, err := io.WriteString(c, chunk); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "PUT"})
	if err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("slow upload: status %d, want 204", resp.StatusCode)
	}
	if e.content("big.bin") != want.String() {
		t.Error("slow upload stored the wrong content")
	}
	e.expectOnly("big.bin")
}

// TestSlowlorisHeaders: a client that dribbles its header lines is cut by
// ReadHeaderTimeout, however steadily it sends.
func TestSlowlorisHeaders(t *testing.T) {
	e := newSlowEnv(t)
	c := e.dial()
	start := time.Now()
	io.WriteString(c, "PROPFIND /dav/files/alice/ HTTP/1.1\r\nHost: x\r\n")
	closed := make(chan time.Duration, 1)
	go func() {
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				closed <- time.Since(start)
				return
			}
		}
	}()
	for i := 0; ; i++ {
		select {
		case took := <-closed:
			if took > testHeaderWait+3*time.Second {
				t.Errorf("header dribble cut after %v; ReadHeaderTimeout is %v", took, testHeaderWait)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a header dribble was not cut within 10s")
		}
		fmt.Fprintf(c, "X-Dribble-%d: y\r\n", i) // errors once the server has closed
	}
}

// TestExpectContinue: the body wrapper must leave net/http's own view of
// the request alone. Refused without reading the body, an Expect:
// 100-continue request gets its answer and the connection is closed once
// net/http has waited, at most the idle timeout, for a body the client
// need not send; accepted, it gets 100 Continue first.
func TestExpectContinue(t *testing.T) {
	e := newSlowEnv(t)
	c := e.dial()
	br := bufio.NewReader(c)
	fmt.Fprintf(c, "PUT /dav/files/alice/e.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	resp, err := http.ReadResponse(br, &http.Request{Method: "PUT"})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated: %d, want 401", resp.StatusCode)
	}
	start := time.Now()
	if _, err := br.ReadByte(); err == nil || isTimeout(err) || time.Since(start) > testBodyIdle+20*time.Second {
		t.Errorf("connection not closed after a refused Expect request (%v after %v)", err, time.Since(start))
	}

	c = e.dial()
	br = bufio.NewReader(c)
	auth := base64.StdEncoding.EncodeToString([]byte("alice:alice-secret"))
	fmt.Fprintf(c, "PUT /dav/files/alice/e.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", auth)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("authenticated: first line %q (%v), want 100 Continue", line, err)
	}
	br.ReadString('\n') // the blank line after 100 Continue
	io.WriteString(c, "hello")
	resp, err = http.ReadResponse(br, &http.Request{Method: "PUT"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || e.content("e.txt") != "hello" {
		t.Errorf("after 100 Continue: %d, content %q", resp.StatusCode, e.content("e.txt"))
	}
}
