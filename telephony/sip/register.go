package sip

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/registrar"
)

// Registration is one row of the registrations view.
type Registration = registrar.Binding

// Registrations lists who is registered where, until when, with which user
// agent: the view for the web admin and the console.
func (e *Endpoint) Registrations() []Registration { return e.reg.All() }

// Contacts returns the live bindings of an extension, newest first.
func (e *Endpoint) Contacts(ext string) []Registration { return e.reg.Lookup(ext, e.now()) }

func (e *Endpoint) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	to := req.To()
	if to == nil || req.CallID() == nil || req.CSeq() == nil {
		e.respond(tx, req, 400, "Bad Request")
		return
	}
	ext, ok := e.authenticate(tx, req, to.Address.User, false)
	if !ok {
		return
	}
	meta := registrar.Binding{
		Source: req.Source(), Transport: strings.ToUpper(req.Transport()),
		CallID: req.CallID().Value(), CSeq: req.CSeq().SeqNo,
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		meta.UserAgent = h.Value()
	}
	expHdr := time.Duration(-1)
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			e.respond(tx, req, 400, "Bad Request")
			return
		}
		expHdr = time.Duration(n) * time.Second
	}
	contacts := req.GetHeaders("Contact")
	now := e.now()
	var current, removed []registrar.Binding
	var err error
	switch {
	case len(contacts) == 0:
		current = e.reg.Lookup(ext.Number, now)
	case isStar(contacts):
		if len(contacts) != 1 || expHdr != 0 {
			e.respond(tx, req, 400, "Bad Request")
			return
		}
		removed, err = e.reg.RemoveAll(ext.Number, meta)
	default:
		changes := make([]registrar.Change, 0, len(contacts))
		for _, h := range contacts {
			c, ok := h.(*sip.ContactHeader)
			if !ok || c.Address.Wildcard {
				e.respond(tx, req, 400, "Bad Request")
				return
			}
			exp := expHdr
			if v, ok := c.Params.Get("expires"); ok {
				n, perr := strconv.ParseUint(v, 10, 32)
				if perr != nil {
					e.respond(tx, req, 400, "Bad Request")
					return
				}
				exp = time.Duration(n) * time.Second
			}
			switch {
			case exp < 0:
				exp = e.cfg.DefaultExpires
			case exp > 0 && exp < e.cfg.MinExpires:
				e.respond(tx, req, 423, "Interval Too Brief",
					sip.NewHeader("Min-Expires", strconv.Itoa(int(e.cfg.MinExpires/time.Second))))
				return
			case exp > e.cfg.MaxExpires:
				exp = e.cfg.MaxExpires
			}
			changes = append(changes, registrar.Change{Contact: canonicalURI(c.Address), Expires: exp})
		}
		if ext.MaxContacts > 0 {
			if n := len(e.reg.Lookup(ext.Number, now)); n+len(changes) > ext.MaxContacts {
				err = registrar.ErrTooMany
				break
			}
		}
		current, removed, err = e.reg.Apply(ext.Number, meta, now, changes)
	}
	switch {
	case errors.Is(err, registrar.ErrOutOfOrder):
		e.respond(tx, req, 500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	case errors.Is(err, registrar.ErrTooMany):
		e.respond(tx, req, 403, "Too Many Contacts")
		return
	case err != nil:
		e.respond(tx, req, 500, "Server Internal Error")
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, b := range current {
		var u sip.Uri
		if sip.ParseUri(b.Contact, &u) != nil {
			continue
		}
		h := &sip.ContactHeader{Address: u, Params: sip.NewParams()}
		h.Params.Add("expires", strconv.Itoa(int(b.Expires.Sub(now).Round(time.Second)/time.Second)))
		res.AppendHeader(h)
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	e.send(tx, res)
	if obs := e.deps.Observer; obs != nil {
		for _, b := range removed {
			obs.Unregistered(b, "unregistered")
		}
		for _, b := range current {
			if b.Refreshed.Equal(now) && b.Registered.Equal(now) {
				obs.Registered(b)
			}
		}
	}
	for _, b := range current {
		if b.Refreshed.Equal(now) && b.Registered.Equal(now) {
			e.registeredMWI(b)
		}
	}
	for _, b := range removed {
		e.clearProbe(b)
	}
}

func isStar(hs []sip.Header) bool {
	for _, h := range hs {
		if c, ok := h.(*sip.ContactHeader); ok && c.Address.Wildcard {
			return true
		}
		if strings.TrimSpace(h.Value()) == "*" {
			return true
		}
	}
	return false
}

// canonicalURI renders a contact URI in a stable form for comparison:
// scheme, user, lower-cased host, port and parameters as given.
func canonicalURI(u sip.Uri) string {
	u.Host = strings.ToLower(u.Host)
	u.Headers = nil
	return u.String()
}
