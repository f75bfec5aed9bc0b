package sip

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/registrar"
)

// keepaliveLoop expires bindings and probes live contacts with OPTIONS
// every KeepaliveInterval; KeepaliveFailures unanswered probes in a row drop
// a contact and report it as unreachable.
func (e *Endpoint) keepaliveLoop() {
	t := time.NewTicker(e.cfg.KeepaliveInterval)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		e.keepaliveOnce()
	}
}

func probeKey(b registrar.Binding) string { return b.Extension + "\x00" + b.Contact }

func (e *Endpoint) clearProbe(b registrar.Binding) {
	e.mu.Lock()
	delete(e.probes, probeKey(b))
	e.mu.Unlock()
}

func (e *Endpoint) keepaliveOnce() {
	for _, b := range e.reg.Expire(e.now()) {
		e.clearProbe(b)
		if e.deps.Observer != nil {
			e.deps.Observer.Unregistered(b, "expired")
		}
	}
	timeout := e.cfg.KeepaliveInterval / 2
	if timeout > 5*time.Second {
		timeout = 5 * time.Second
	}
	var wg sync.WaitGroup
	for _, b := range e.reg.All() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			alive := e.probe(b, timeout)
			e.mu.Lock()
			k := probeKey(b)
			if alive {
				delete(e.probes, k)
				e.mu.Unlock()
				return
			}
			e.probes[k]++
			n := e.probes[k]
			if n >= e.cfg.KeepaliveFailures {
				delete(e.probes, k)
			}
			e.mu.Unlock()
			if n < e.cfg.KeepaliveFailures {
				return
			}
			if gone, ok := e.reg.Remove(b.Extension, b.Contact); ok {
				e.log.Info("sip: contact unreachable, dropped", "extension", b.Extension, "contact", b.Contact)
				if e.deps.Observer != nil {
					e.deps.Observer.Unregistered(gone, "unreachable")
				}
			}
		}()
	}
	wg.Wait()
}

// probe sends one OPTIONS to a binding; any response means the UA is alive.
func (e *Endpoint) probe(b registrar.Binding, timeout time.Duration) bool {
	var u sip.Uri
	if err := sip.ParseUri(b.Contact, &u); err != nil {
		return false
	}
	req := sip.NewRequest(sip.OPTIONS, u)
	req.SetTransport(b.Transport)
	req.SetDestination(reachAt(u, b.Source, b.Transport))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "callbox", Host: e.contactAddr(b.Transport).Addr().String()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: u})
	c := e.contact(b.Transport)
	req.AppendHeader(&c)
	req.AppendHeader(sip.NewHeader("User-Agent", e.cfg.UserAgent))
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	cl := e.client(b.Transport)
	if cl == nil {
		return false
	}
	res, err := cl.Do(ctx, req)
	return err == nil && res != nil
}
