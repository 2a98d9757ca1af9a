package server

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"time"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/internal/davxml"
)

// maxLockOwner bounds the DAV:owner a lock keeps (clients send a name or
// a URL).
const maxLockOwner = 4 << 10

// lock answers LOCK: a new lock (RFC 4918 §9.10.1–§9.10.5), a refresh
// (§9.10.2), or a lock on an unmapped URL, which creates an empty file and
// answers 201 (§9.10.4; Finder and davfs2 rely on it).
func (q *request) lock() {
	r := q.r
	loc, ok := q.writable() // locking needs write-content (spec §5.8)
	if !ok {
		return
	}
	timeout, err := lock.ParseTimeout(r.Header.Get("Timeout"))
	if err != nil {
		q.fail(err)
		return
	}
	if timeout == 0 {
		timeout = q.s.LockMaxTimeout
	}
	body, err := davxml.ReadBody(r, q.s.BodyLimit)
	if err != nil {
		q.fail(err)
		return
	}
	now := time.Now()
	if len(bytes.TrimSpace(body)) == 0 {
		q.refresh(loc, now, timeout)
		return
	}
	li, err := davxml.ParseLockInfo(body)
	if err != nil {
		q.fail(err)
		return
	}
	if len(li.Owner) > maxLockOwner {
		// The owner is kept and echoed for the lock's lifetime; a client
		// must not pin a megabyte of memory per lock.
		davxml.WriteError(q.w, http.StatusRequestEntityTooLarge)
		return
	}
	zeroDepth := false
	switch strings.ToLower(r.Header.Get("Depth")) {
	case "", "infinity":
	case "0":
		zeroDepth = true
	default:
		davxml.WriteError(q.w, http.StatusBadRequest)
		return
	}
	fi := q.stat(loc)
	var writes []lock.Write
	if fi == nil {
		if pw, ok := q.parentWrite(loc); ok {
			writes = append(writes, pw) // creating the file adds a member
		}
	}
	if err := q.checkWrite(loc, writes...); err != nil {
		q.fail(err)
		return
	}
	l, err := q.s.Locks.Create(now, lock.Lock{
		Root:      loc.LockName(),
		Shared:    li.Shared,
		ZeroDepth: zeroDepth,
		Principal: q.user,
		OwnerXML:  li.Owner,
		Timeout:   timeout,
	})
	if err != nil {
		if errors.Is(err, lock.ErrLocked) {
			davxml.WriteError(q.w, http.StatusLocked, davxml.Empty(davxml.NS, "no-conflicting-lock"))
			return
		}
		q.fail(err)
		return
	}
	status := http.StatusOK
	if fi == nil {
		if _, err := q.ns.Put(r.Context(), q.name, http.NoBody, 0, time.Time{}); err != nil {
			q.s.Locks.Unlock(now, l.Token, q.user)
			q.failCreate(err, q.name)
			return
		}
		status = http.StatusCreated
	}
	q.w.Header().Set("Lock-Token", "<"+l.Token+">")
	q.writeLockDiscovery(status, l)
}

// refresh extends the lock whose token the If header submits.
func (q *request) refresh(loc dsfs.Location, now time.Time, timeout time.Duration) {
	h := q.r.Header.Get("If")
	if h == "" {
		davxml.WriteError(q.w, http.StatusBadRequest)
		return
	}
	ih, err := lock.ParseIf(h)
	if err != nil {
		q.fail(err)
		return
	}
	for _, list := range ih.Lists {
		for _, c := range list.Conditions {
			if c.Not || c.Token == "" {
				continue
			}
			l, ok := q.s.Locks.Lookup(now, c.Token)
			if !ok || !l.Covers(loc.LockName()) {
				continue
			}
			l, err := q.s.Locks.Refresh(now, c.Token, q.user, timeout)
			if err != nil {
				q.fail(err)
				return
			}
			q.writeLockDiscovery(http.StatusOK, l)
			return
		}
	}
	davxml.WriteError(q.w, http.StatusPreconditionFailed, davxml.Empty(davxml.NS, "lock-token-matches-request-uri"))
}

func (q *request) writeLockDiscovery(status int, l lock.Lock) {
	q.w.Header().Set("Content-Type", davxml.ContentType)
	q.w.WriteHeader(status)
	q.w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<D:prop xmlns:D="DAV:"><D:lockdiscovery>` +
		l.ActiveLockXML(davxml.Href(q.lockHref(l.Root))) + `</D:lockdiscovery></D:prop>`))
}

// unlock answers UNLOCK (RFC 4918 §9.11): only the lock's creator may
// remove it (pitfall D.16), and only through a URL the lock covers.
func (q *request) unlock() {
	tok := strings.TrimSpace(q.r.Header.Get("Lock-Token"))
	if len(tok) < 2 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		davxml.WriteError(q.w, http.StatusBadRequest)
		return
	}
	tok = tok[1 : len(tok)-1]
	loc, err := q.ns.Resolve(q.name)
	if err != nil {
		q.fail(err)
		return
	}
	now := time.Now()
	l, ok := q.s.Locks.Lookup(now, tok)
	if !ok || !l.Covers(loc.LockName()) {
		davxml.WriteError(q.w, http.StatusConflict, davxml.Empty(davxml.NS, "lock-token-matches-request-uri"))
		return
	}
	if err := q.s.Locks.Unlock(now, tok, q.user); err != nil {
		if errors.Is(err, lock.ErrForbidden) {
			davxml.WriteError(q.w, http.StatusForbidden)
			return
		}
		davxml.WriteError(q.w, http.StatusConflict, davxml.Empty(davxml.NS, "lock-token-matches-request-uri"))
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}
