// Package registrar keeps the location service of the box's SIP registrar:
// which contacts each extension has registered, until when, and from where
// (RFC 3261 section 10.3). It is pure bookkeeping with the time passed in;
// package sip does the protocol around it.
package registrar

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors the protocol layer maps to responses.
var (
	// ErrOutOfOrder: same Call-ID with a CSeq not above the binding's (RFC 3261
	// 10.3 step 7); answered 500 so the client retries with a fresh CSeq.
	ErrOutOfOrder = errors.New("registrar: request out of order")
	// ErrTooMany: the extension would exceed its contact limit.
	ErrTooMany = errors.New("registrar: too many contacts")
)

// Binding is one registered contact of an extension.
type Binding struct {
	Extension string
	// Contact is the contact URI in canonical form; it identifies the binding.
	Contact string
	// Source is the address the REGISTER came from (ip:port), where requests
	// are sent when the contact is behind NAT, and Transport its transport.
	Source    string
	Transport string
	UserAgent string
	CallID    string
	CSeq      uint32
	// Registered is when the binding was first made, Refreshed when last.
	Registered time.Time
	Refreshed  time.Time
	Expires    time.Time
}

// Change is one Contact of a REGISTER: its canonical URI and granted expiry
// (0 removes the binding).
type Change struct {
	Contact string
	Expires time.Duration
}

// Table is the location service. The zero value is not usable; call New.
type Table struct {
	max int

	mu    sync.Mutex
	byExt map[string][]Binding
	// sources counts the bindings registered from each source address.
	sources map[string]int
}

// New returns a table allowing at most maxPerExt contacts per extension
// (0 means 10).
func New(maxPerExt int) *Table {
	if maxPerExt <= 0 {
		maxPerExt = 10
	}
	return &Table{max: maxPerExt, byExt: make(map[string][]Binding), sources: make(map[string]int)}
}

// Apply performs the contact changes of one REGISTER from ext atomically:
// either all apply or none. meta carries Source, Transport, UserAgent,
// CallID and CSeq for new and refreshed bindings. It returns the extension's
// bindings afterwards (for the 200 OK) and the ones it removed.
func (t *Table) Apply(ext string, meta Binding, now time.Time, changes []Change) (current, removed []Binding, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.byExt[ext]
	next := slices.Clone(old)
	for _, ch := range changes {
		i := slices.IndexFunc(next, func(b Binding) bool { return b.Contact == ch.Contact })
		if i >= 0 && next[i].CallID == meta.CallID && meta.CSeq <= next[i].CSeq {
			return nil, nil, ErrOutOfOrder
		}
		if ch.Expires <= 0 {
			if i >= 0 {
				removed = append(removed, next[i])
				next = slices.Delete(next, i, i+1)
			}
			continue
		}
		b := meta
		b.Extension, b.Contact, b.Refreshed, b.Expires = ext, ch.Contact, now, now.Add(ch.Expires)
		b.Registered = now
		if i >= 0 {
			b.Registered = next[i].Registered
			next[i] = b
			continue
		}
		next = append(next, b)
	}
	if len(next) > t.max {
		return nil, nil, ErrTooMany
	}
	t.store(ext, next)
	return slices.Clone(next), removed, nil
}

func (t *Table) store(ext string, bs []Binding) {
	for _, b := range t.byExt[ext] {
		if t.sources[b.Source]--; t.sources[b.Source] <= 0 {
			delete(t.sources, b.Source)
		}
	}
	for _, b := range bs {
		t.sources[b.Source]++
	}
	if len(bs) == 0 {
		delete(t.byExt, ext)
		return
	}
	t.byExt[ext] = bs
}

// RemoveAll handles "Contact: *" with Expires 0: it removes every binding of
// ext unless one has the same Call-ID and a CSeq not below meta's.
func (t *Table) RemoveAll(ext string, meta Binding) ([]Binding, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.byExt[ext]
	for _, b := range old {
		if b.CallID == meta.CallID && meta.CSeq <= b.CSeq {
			return nil, ErrOutOfOrder
		}
	}
	t.store(ext, nil)
	return old, nil
}

// Remove drops one binding, for example a contact that stopped answering.
func (t *Table) Remove(ext, contact string) (Binding, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	bs := t.byExt[ext]
	i := slices.IndexFunc(bs, func(b Binding) bool { return b.Contact == contact })
	if i < 0 {
		return Binding{}, false
	}
	b := bs[i]
	t.store(ext, slices.Delete(slices.Clone(bs), i, i+1))
	return b, true
}

// Lookup returns the live bindings of ext at now, most recently refreshed first.
func (t *Table) Lookup(ext string, now time.Time) []Binding {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Binding
	for _, b := range t.byExt[ext] {
		if now.Before(b.Expires) {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(a, b Binding) int { return b.Refreshed.Compare(a.Refreshed) })
	return out
}

// Expire removes and returns the bindings that have expired at now.
func (t *Table) Expire(now time.Time) []Binding {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []Binding
	for ext, bs := range t.byExt {
		keep := bs[:0:0]
		for _, b := range bs {
			if now.Before(b.Expires) {
				keep = append(keep, b)
			} else {
				gone = append(gone, b)
			}
		}
		if len(keep) != len(bs) {
			t.store(ext, keep)
		}
	}
	sortBindings(gone)
	return gone
}

// All returns every binding, ordered by extension then contact: the
// Registrations view of the web admin and console.
func (t *Table) All() []Binding {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Binding
	for _, bs := range t.byExt {
		out = append(out, bs...)
	}
	sortBindings(out)
	return out
}

// HasSource reports whether some binding was registered from src (ip:port)
// and has not been removed (expired bindings count until Expire removes
// them). The SIP guard asks it for every message of a banned source, so it
// is one map lookup.
func (t *Table) HasSource(src string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sources[src] > 0
}

// Len returns the number of bindings.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, bs := range t.byExt {
		n += len(bs)
	}
	return n
}

func sortBindings(bs []Binding) {
	slices.SortFunc(bs, func(a, b Binding) int {
		if c := strings.Compare(a.Extension, b.Extension); c != 0 {
			return c
		}
		return strings.Compare(a.Contact, b.Contact)
	})
}
