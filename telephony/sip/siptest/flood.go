package siptest

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Flood sends SIP requests to box from the IP address from, as fast as the
// socket takes them, each a new transaction (a fresh branch and Call-ID),
// until stop is closed or max are sent. Without inDialog they are OPTIONS
// and REGISTER without credentials (what an unauthenticated flood sends);
// with it, BYEs that match no call (which need a transaction to be
// answered). It returns how many it sent.
func Flood(box netip.AddrPort, from string, inDialog bool, max int, stop <-chan struct{}) (int, error) {
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, net.UDPAddrFromAddrPort(box))
	if err != nil {
		return 0, fmt.Errorf("siptest: flood from %s: %w", from, err)
	}
	defer c.Close()
	me := c.LocalAddr().String()
	methods, toTag := []string{"OPTIONS", "REGISTER"}, ""
	if inDialog {
		methods, toTag = []string{"BYE"}, ";tag=x"
	}
	const slot = "##########" // overwritten with a counter
	msgs := make([][]byte, len(methods))
	at := make([][]int, len(methods)) // where the counter goes in each
	for i, m := range methods {
		msgs[i] = fmt.Appendf(nil, "%s sip:201@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%s\r\n"+
			"From: <sip:201@%s>;tag=fl\r\nTo: <sip:201@%s>%s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"+
			"Contact: <sip:201@%s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			m, box, me, slot, from, box.Addr(), toTag, slot, m, me)
		for off := 0; ; {
			j := bytes.Index(msgs[i][off:], []byte(slot))
			if j < 0 {
				break
			}
			at[i] = append(at[i], off+j)
			off += j + len(slot)
		}
	}
	var digits [len(slot)]byte
	sent := 0
	for ; sent < max; sent++ {
		if sent%256 == 0 {
			select {
			case <-stop:
				return sent, nil
			default:
			}
		}
		k := sent % len(msgs)
		for i, n := len(digits)-1, sent; i >= 0; i, n = i-1, n/10 {
			digits[i] = byte('0' + n%10)
		}
		for _, j := range at[k] {
			copy(msgs[k][j:], digits[:])
		}
		if _, err := c.Write(msgs[k]); err != nil {
			time.Sleep(time.Millisecond) // ICMP refusals and full buffers: go on
		}
	}
	return sent, nil
}
