package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Socket drops: the kernel counts, per UDP socket, the datagrams it threw
// away because the socket's receive buffer was full (/proc/net/udp's last
// column). Summed by who owns the socket, they say where RTP was lost on
// loopback: at the box's own sockets (the box too slow to read), at the far
// end's echo socket (sipp too slow), or neither (a gap the sender made).

// sockKey identifies one socket in /proc/net/udp.
type sockKey struct {
	local string // hex address:port as the kernel prints it
	inode string
}

// udpSocket is one /proc/net/udp row.
type udpSocket struct {
	ip    [4]byte
	port  int
	drops uint64
}

// readUDPSockets parses /proc/net/udp (IPv4 sockets only).
func readUDPSockets(r io.Reader) map[sockKey]udpSocket {
	out := map[sockKey]udpSocket{}
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 {
			continue
		}
		addr, port, ok := strings.Cut(f[1], ":")
		if !ok || len(addr) != 8 {
			continue
		}
		a, err1 := strconv.ParseUint(addr, 16, 32)
		p, err2 := strconv.ParseUint(port, 16, 16)
		d, err3 := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		// The kernel prints the address as a little-endian word.
		s := udpSocket{ip: [4]byte{byte(a), byte(a >> 8), byte(a >> 16), byte(a >> 24)}, port: int(p), drops: d}
		out[sockKey{f[1], f[9]}] = s
	}
	return out
}

// dropWatch polls the socket table and keeps each socket's highest drop
// count (a socket's counter goes when it closes, so the last poll before
// that is what it dropped).
type dropWatch struct {
	max  map[sockKey]udpSocket
	done chan struct{}
}

// watchDrops polls every interval until ctx ends; result is valid after
// wait.
func watchDrops(ctx context.Context, interval time.Duration) *dropWatch {
	w := &dropWatch{max: map[sockKey]udpSocket{}, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			w.poll()
			select {
			case <-ctx.Done():
				w.poll()
				return
			case <-time.After(interval):
			}
		}
	}()
	return w
}

func (w *dropWatch) poll() {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return
	}
	defer f.Close()
	for k, s := range readUDPSockets(f) {
		if old, ok := w.max[k]; !ok || s.drops > old.drops {
			w.max[k] = s
		}
	}
}

// wait waits for the watcher to stop.
func (w *dropWatch) wait() { <-w.done }

// sum adds the drops of the sockets that match.
func (w *dropWatch) sum(match func(udpSocket) bool) uint64 {
	var n uint64
	for _, s := range w.max {
		if match(s) {
			n += s.drops
		}
	}
	return n
}

func (s udpSocket) String() string {
	return fmt.Sprintf("%d.%d.%d.%d:%d", s.ip[0], s.ip[1], s.ip[2], s.ip[3], s.port)
}
