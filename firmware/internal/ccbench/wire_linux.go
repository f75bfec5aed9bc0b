package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// wire watches the INVITEs the box sends to the agents' sipp as they pass
// through the loopback interface, with the kernel's receive time: the
// moment the INVITE left the box, which the routing delay ends at.
// sipp's own message log adds the time sipp takes to read and log it. It
// needs a raw socket (root or CAP_NET_RAW); without one the bench reports
// sipp's times only.
type wire struct {
	fd     int
	port   uint16
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	invites []wireInvite
}

// wireInvite is one INVITE to an agent seen on the wire.
type wireInvite struct {
	at          time.Time
	from, agent string
}

// startWire starts watching UDP packets to port on the loopback.
func startWire(ctx context.Context, port int) (*wire, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("ccbench: raw socket for the wire's times: %w", err)
	}
	for _, o := range []struct{ opt, v int }{{syscall.SO_TIMESTAMPNS, 1}, {syscall.SO_RCVBUF, 4 << 20}} {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, o.opt, o.v); err != nil {
			syscall.Close(fd)
			return nil, fmt.Errorf("ccbench: raw socket option %d: %w", o.opt, err)
		}
	}
	// A timeout lets the reader see the end of the run.
	tv := syscall.NsecToTimeval(int64(200 * time.Millisecond))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("ccbench: raw socket timeout: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &wire{fd: fd, port: uint16(port), cancel: cancel, done: make(chan struct{})}
	go w.read(ctx)
	return w, nil
}

func (w *wire) read(ctx context.Context) {
	defer close(w.done)
	buf, oob := make([]byte, 65536), make([]byte, 256)
	for ctx.Err() == nil {
		n, oobn, _, _, err := syscall.Recvmsg(w.fd, buf, oob, 0)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			return
		}
		inv, ok := parseWire(buf[:n], oob[:oobn], w.port)
		if ok {
			w.mu.Lock()
			w.invites = append(w.invites, inv)
			w.mu.Unlock()
		}
	}
}

// parseWire reads an IPv4 packet with its control messages: an INVITE to
// port, and the kernel's time of it.
func parseWire(pkt, oob []byte, port uint16) (wireInvite, bool) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return wireInvite{}, false
	}
	ihl := int(pkt[0]&0xf) * 4
	if len(pkt) < ihl+8 || binary.BigEndian.Uint16(pkt[ihl+2:]) != port {
		return wireInvite{}, false
	}
	msg := pkt[ihl+8:]
	if !bytes.HasPrefix(msg, []byte("INVITE ")) {
		return wireInvite{}, false
	}
	cms, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return wireInvite{}, false
	}
	for _, cm := range cms {
		if cm.Header.Level == syscall.SOL_SOCKET && cm.Header.Type == syscall.SO_TIMESTAMPNS && len(cm.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(cm.Data))
			nsec := int64(binary.NativeEndian.Uint64(cm.Data[8:]))
			return wireInvite{at: time.Unix(sec, nsec), from: fromUser(msg), agent: requestUser(msg)}, true
		}
	}
	return wireInvite{}, false
}

// stop ends the watch and returns the INVITEs seen.
func (w *wire) stop() []wireInvite {
	w.cancel()
	<-w.done
	syscall.Close(w.fd)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.invites
}
