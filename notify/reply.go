package notify

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// ShareReply is DAV:share-reply-notification (RS-04 §4.6.2, §5.4; spec
// §5.4), written into the sharer's collection when a sharee answers.
type ShareReply struct {
	// Sharee is the sharee's href as DAV:invite lists it.
	Sharee string
	// Status is InviteAccepted or InviteDeclined.
	Status InviteStatus
	// Href is the sharer's original resource.
	Href string
	// Comment is the sharee's message. Built at the top level; when parsing,
	// a comment inside DAV:sharee is used if there is none at the top level
	// (spec §12 #13).
	Comment string
}

// Type implements Payload.
func (*ShareReply) Type() TypeElement { return TypeElement{Name: TypeShareReply} }

func (r *ShareReply) validate() error {
	switch {
	case r.Sharee == "":
		return errMissing("DAV:sharee/DAV:href")
	case r.Status != InviteAccepted && r.Status != InviteDeclined:
		return fmt.Errorf("%w: reply status must be invite-accepted or invite-declined", ErrMalformed)
	case r.Href == "":
		return errMissing("DAV:href of the shared resource")
	}
	return nil
}

func (r *ShareReply) build(parent *etree.Element) error {
	if err := r.validate(); err != nil {
		return err
	}
	e := parent.CreateElement("D:share-reply-notification")
	s := e.CreateElement("D:sharee")
	s.CreateElement("D:href").SetText(r.Sharee)
	s.CreateElement("D:" + string(r.Status))
	e.CreateElement("D:href").SetText(r.Href)
	if r.Comment != "" {
		e.CreateElement("D:comment").SetText(r.Comment)
	}
	return nil
}

func parseReply(e *etree.Element) (*ShareReply, error) {
	r := &ShareReply{}
	var inner string
	sharees := 0
	for _, c := range e.ChildElements() {
		switch {
		case isDAV(c, "sharee"):
			sharees++
			r.Sharee = hrefOf(c)
			statuses := 0
			for _, sc := range c.ChildElements() {
				switch {
				case isDAV(sc, string(InviteAccepted)), isDAV(sc, string(InviteDeclined)):
					r.Status = InviteStatus(sc.Tag)
					statuses++
				case isDAV(sc, "comment"):
					inner = text(sc)
				}
			}
			if statuses != 1 {
				return nil, fmt.Errorf("%w: DAV:sharee needs exactly one status", ErrMalformed)
			}
		case isDAV(c, "href"):
			r.Href = strings.TrimSpace(text(c))
		case isDAV(c, "comment"):
			r.Comment = text(c)
		}
	}
	if sharees != 1 {
		return nil, fmt.Errorf("%w: a reply names exactly one DAV:sharee", ErrMalformed)
	}
	if r.Comment == "" {
		r.Comment = inner
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}
