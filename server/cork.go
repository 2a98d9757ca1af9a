package server

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync"
)

// A small GET answer leaves net/http in two writes, so two TCP segments:
// the header block from its 4 KiB buffer, then the body (sendfile, or
// whatever did not fit). Each segment costs a pass through the TCP stack
// on both sides, about as much as everything else the server does for a
// 4 KiB GET. A corkable connection lets a handler hold its writes and send
// them in one write(2) at the end (Linux's TCP_CORK would cost two
// setsockopt calls and still two copies into the socket).

// CorkListener wraps a TCP listener so that GET handlers can cork the
// connections it accepts; serve with ConnContext set to ConnContext, over
// TLS too (tls.Server wraps the corkable connection).
func CorkListener(ln net.Listener) net.Listener {
	return &corkListener{Listener: ln, pool: &sync.Pool{New: func() any { b := make([]byte, 0, corkMax); return &b }}}
}

// ConnContext is the http.Server.ConnContext that lets handlers find the
// connection CorkListener made.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*corkConn); ok {
		return context.WithValue(ctx, corkKey{}, cc)
	}
	return ctx
}

type corkKey struct{}

// corkFrom returns the request's connection if it can be corked.
func corkFrom(ctx context.Context) *corkConn {
	cc, _ := ctx.Value(corkKey{}).(*corkConn)
	return cc
}

// corkMax bounds what a corked connection holds; past it, writes go out.
const corkMax = 80 << 10

type corkListener struct {
	net.Listener
	pool *sync.Pool
}

func (l *corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(tcpConn)
	if !ok {
		return c, nil
	}
	return &corkConn{tcpConn: tc, pool: l.pool}, nil
}

// tcpConn is what net/http uses of a *net.TCPConn: ReadFrom reaches
// sendfile(2), CloseWrite ends a response gracefully.
type tcpConn interface {
	net.Conn
	io.ReaderFrom
	CloseWrite() error
}

// corkConn is a TCP connection whose writes can be held. Under HTTP/1
// only the request's own goroutine writes; the mutex keeps a misuse from
// corrupting the stream.
type corkConn struct {
	tcpConn
	pool *sync.Pool
	mu   sync.Mutex
	buf  *[]byte // non-nil while corked
}

// cork holds writes until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// uncork sends what was held, in one write.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return nil
	}
	err := c.flushLocked()
	c.pool.Put(c.buf)
	c.buf = nil
	return err
}

func (c *corkConn) flushLocked() error {
	b := *c.buf
	*c.buf = b[:0]
	if len(b) == 0 {
		return nil
	}
	_, err := c.tcpConn.Write(b)
	return err
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return c.tcpConn.Write(p)
	}
	if len(*c.buf)+len(p) > corkMax {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		return c.tcpConn.Write(p)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// ReadFrom is how net/http sends a file body. Corked, a small body is read
// into the held bytes (one read(2) in place of sendfile(2)); otherwise, or
// once past corkMax, it goes out with sendfile as before.
func (c *corkConn) ReadFrom(r io.Reader) (int64, error) {
	c.mu.Lock()
	if c.buf == nil {
		c.mu.Unlock()
		return c.tcpConn.ReadFrom(r)
	}
	var n int64
	for {
		b := *c.buf
		if len(b) == cap(b) {
			break
		}
		m, err := r.Read(b[len(b):cap(b)])
		*c.buf = b[:len(b)+m]
		n += int64(m)
		if err == io.EOF {
			c.mu.Unlock()
			return n, nil
		}
		if err != nil {
			c.mu.Unlock()
			return n, err
		}
	}
	// More than fits: send what is held, then the rest with sendfile.
	err := c.flushLocked()
	c.mu.Unlock()
	if err != nil {
		return n, err
	}
	m, err := c.tcpConn.ReadFrom(r)
	return n + m, err
}
