package server

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"testing"
)

// TestCorkOverflow: what a corked connection cannot hold (past corkMax,
// which a GET of a small file never reaches) still goes out whole and in
// order, through Write and through ReadFrom (sendfile's way).
func TestCorkOverflow(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ln = CorkListener(ln)
	got := make(chan []byte, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cc := c.(*corkConn)
	data := make([]byte, 3*corkMax)
	rand.Read(data)
	parts := [][]byte{data[:100], data[100 : corkMax-10], data[corkMax-10 : corkMax+5000]}
	cc.cork()
	for _, p := range parts {
		if n, err := cc.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	rest := data[corkMax+5000:]
	if n, err := cc.ReadFrom(bytes.NewReader(rest[:100])); n != 100 || err != nil {
		t.Fatalf("ReadFrom (held): %d, %v", n, err)
	}
	if n, err := cc.ReadFrom(bytes.NewReader(rest[100:])); n != int64(len(rest)-100) || err != nil {
		t.Fatalf("ReadFrom (past corkMax): %d, %v", n, err)
	}
	if err := cc.uncork(); err != nil {
		t.Fatal(err)
	}
	cc.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("the peer read %d bytes, not the %d written in order", len(b), len(data))
	}
}
