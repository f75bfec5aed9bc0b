package sip

import "net/netip"

// SignalAddr is the address the leg's peer signals from and is reached
// at: the source of its INVITE (or its Contact's port there), the source
// its extension registered from, or the trunk's proxy. It is invalid when
// the trunk is named by a host name. The media engine lets a phone behind
// NAT send RTP from this IP (rtpstream's Config.NAT).
func (l *Leg) SignalAddr() netip.AddrPort {
	l.mu.Lock()
	dest := l.dest
	l.mu.Unlock()
	a, err := netip.ParseAddrPort(dest)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
