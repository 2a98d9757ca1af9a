package notify

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// Level is the importance of a DAV:systemstatus (NT-03 §5.1.1).
type Level string

// Levels in rising importance; LevelLow is the default.
const (
	LevelLow    Level = "low"
	LevelMedium Level = "medium"
	LevelHigh   Level = "high"
)

// ParseLevel reads a level name as the admin CLI gets it.
func ParseLevel(s string) (Level, error) {
	switch l := Level(strings.ToLower(strings.TrimSpace(s))); l {
	case LevelLow, LevelMedium, LevelHigh:
		return l, nil
	}
	return "", fmt.Errorf("%w: level must be low, medium or high", ErrMalformed)
}

// SystemStatus is DAV:systemstatus (NT-03 §5.1, spec §8.3). At least one of
// Href and Description is required.
type SystemStatus struct {
	Level       Level // "" means LevelLow
	Href        string
	Description string
	Lang        string // xml:lang of Description, optional
}

func (s *SystemStatus) level() Level {
	if s.Level == "" {
		return LevelLow
	}
	return s.Level
}

// Type implements Payload.
func (s *SystemStatus) Type() TypeElement {
	te := TypeElement{Name: TypeSystemStatus}
	te.Attrs = append(te.Attrs, xmlAttr("", "type", string(s.level())))
	return te
}

func (s *SystemStatus) validate() error {
	switch s.level() {
	case LevelLow, LevelMedium, LevelHigh:
	default:
		return fmt.Errorf("%w: systemstatus type must be low, medium or high", ErrMalformed)
	}
	if s.Href == "" && s.Description == "" {
		return errMissing("DAV:href or DAV:description in DAV:systemstatus")
	}
	return nil
}

func (s *SystemStatus) build(parent *etree.Element) error {
	if err := s.validate(); err != nil {
		return err
	}
	e := parent.CreateElement("D:systemstatus")
	e.CreateAttr("type", string(s.level()))
	if s.Href != "" {
		e.CreateElement("D:href").SetText(s.Href)
	}
	if s.Description != "" {
		d := e.CreateElement("D:description")
		if s.Lang != "" {
			d.CreateAttr("xml:lang", s.Lang)
		}
		d.SetText(s.Description)
	}
	return nil
}

func parseSystemStatus(e *etree.Element) (*SystemStatus, error) {
	s := &SystemStatus{Level: LevelLow}
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == "type" {
			s.Level = Level(a.Value)
			if s.Level == "" {
				return nil, fmt.Errorf("%w: empty systemstatus type", ErrMalformed)
			}
		}
	}
	for _, c := range e.ChildElements() {
		switch {
		case isDAV(c, "href"):
			s.Href = strings.TrimSpace(text(c))
		case isDAV(c, "description"):
			s.Description = text(c)
			s.Lang = xmlLang(c)
		}
	}
	if s.Description == "" {
		s.Lang = "" // Build drops a language without a description
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}
