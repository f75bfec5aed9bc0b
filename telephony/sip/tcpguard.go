package sip

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// TCP connections reach sipgo through a listener that refuses banned
// sources and sources over Limits.MaxTCPPerSource (or the box over
// Limits.MaxTCP), and each through a connection that frames the byte
// stream into messages itself, so that
//
//   - each message passes the same guard as a UDP datagram (screen);
//   - a stranger's connection that sends no complete message for
//     Limits.TCPIdleTimeout, and anyone's whose message does not end
//     within Limits.TCPMessageTimeout (slow loris), is closed;
//   - a message over Limits.MaxMessage closes the connection after one
//     brief log line, without the parser ever holding it;
//   - a peer that stops reading cannot block the box's writers for long.

// tcpWriteTimeout bounds one write to a TCP peer.
const tcpWriteTimeout = 10 * time.Second

var errFraming = errors.New("sip: tcp message framing")

// tcpListener admits connections for sipgo's TCP transport.
type tcpListener struct {
	net.Listener
	e *Endpoint
}

// Accept returns the next admitted connection. Temporary accept errors
// (out of file descriptors) are waited out rather than returned, since
// sipgo stops serving TCP on the first error.
func (l *tcpListener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			if l.e.logDue(netip.Addr{}, logAccept, l.e.now()) {
				l.e.log.Warn("sip: tcp accept failing", "error", err)
			}
			time.Sleep(delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		if gc := l.e.admitConn(c); gc != nil {
			return gc, nil
		}
	}
}

// admitConn wraps an accepted connection, or closes it and returns nil
// when its source is banned or over its caps.
func (e *Endpoint) admitConn(c net.Conn) net.Conn {
	src := addrPortOf(c.RemoteAddr())
	ip, now := src.Addr(), e.now()
	refuse := func(key netip.Addr, kind logKind, msg string) net.Conn {
		if e.logDue(key, kind, now) {
			e.log.Warn(msg, "source", src)
		}
		c.Close()
		return nil
	}
	if banned, _ := e.g.sources.Banned(ip, now); banned && !e.reg.HasSource(src.String()) {
		return refuse(ip, logBanned, "sip: refusing tcp connection from a banned source")
	}
	if limit := e.cfg.Limits.MaxTCP; limit > 0 && e.tcpOpen.Load() >= int64(limit) {
		return refuse(netip.Addr{}, logTCPCap, "sip: tcp connections at their limit, refusing")
	}
	if !e.g.sources.Acquire(ip, now) {
		return refuse(ip, logTCPSource, "sip: source at its tcp connection limit, refusing")
	}
	e.tcpOpen.Add(1)
	t := time.Now()
	return &guardConn{Conn: c, e: e, src: src, rbuf: make([]byte, 4096), lastMsg: t}
}

// guardConn is one accepted TCP connection as sipgo reads it: only
// screened, whole messages come out of Read.
type guardConn struct {
	net.Conn
	e         *Endpoint
	src       netip.AddrPort
	closeOnce sync.Once

	// The read side belongs to sipgo's one reader goroutine.
	rbuf         []byte
	in           []byte // received bytes not yet framed
	out          []byte // screened messages not yet read
	outOff       int
	lastMsg      time.Time // when the last complete message (or the connection) came
	partialSince time.Time // when the message in c.in began
	lfRun        int       // line feeds in a row between messages (CRLF keepalives)
}

// Read hands sipgo the next screened bytes.
func (c *guardConn) Read(b []byte) (int, error) {
	for c.outOff == len(c.out) {
		c.out, c.outOff = c.out[:0], 0
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, c.out[c.outOff:])
	c.outOff += n
	return n, nil
}

// fill frames what is buffered and, when that yields nothing to read,
// reads more from the peer within the deadline that applies.
func (c *guardConn) fill() error {
	if err := c.frame(); err != nil {
		c.Close()
		return io.EOF
	}
	if len(c.out) > 0 {
		return nil
	}
	for {
		dl := c.deadline()
		if !dl.IsZero() && !time.Now().Before(dl) {
			c.timedOut()
			return io.EOF
		}
		if err := c.Conn.SetReadDeadline(dl); err != nil {
			return err
		}
		n, err := c.Conn.Read(c.rbuf)
		if n > 0 {
			if len(c.in) == 0 {
				c.partialSince = time.Now()
			}
			c.in = append(c.in, c.rbuf[:n]...)
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue // the deadline may have moved (the source became known)
		}
		if err == nil {
			err = io.EOF
		}
		return err
	}
}

// deadline is when the connection must have delivered more: the end of
// the message it is in the middle of, or for a stranger the end of its
// idle time; zero for none.
func (c *guardConn) deadline() time.Time {
	l := c.e.cfg.Limits
	if len(c.in) > 0 {
		if l.TCPMessageTimeout <= 0 {
			return time.Time{}
		}
		return c.partialSince.Add(l.TCPMessageTimeout)
	}
	if l.TCPIdleTimeout <= 0 || c.e.g.sources.Trusted(c.src.Addr(), c.e.now()) || c.e.trunkAt(c.src) {
		return time.Time{}
	}
	return c.lastMsg.Add(l.TCPIdleTimeout)
}

func (c *guardConn) timedOut() {
	what := "idle"
	if len(c.in) > 0 {
		what = "message unfinished"
	}
	if c.e.logDue(c.src.Addr(), logTCPIdle, c.e.now()) {
		c.e.log.Warn("sip: closing tcp connection", "source", c.src, "why", what)
	}
	c.Close()
}

// frame moves every whole message at the front of c.in through the guard:
// passed ones to c.out, answers back to the peer. Line feeds between
// messages are keepalives; a double CRLF is answered with CRLF (RFC 5626
// 3.5.1). It fails when the stream cannot go on.
func (c *guardConn) frame() error {
	for len(c.in) > 0 {
		i := 0
		for i < len(c.in) && (c.in[i] == '\r' || c.in[i] == '\n') {
			if c.in[i] == '\n' {
				if c.lfRun++; c.lfRun == 2 {
					_, _ = c.Write([]byte("\r\n"))
					c.lfRun = 0
				}
			}
			i++
		}
		if i > 0 {
			c.in = append(c.in[:0], c.in[i:]...)
			c.partialSince = time.Now()
			continue
		}
		c.lfRun = 0
		n, err := frameLen(c.in, c.e.cfg.Limits.MaxMessage)
		if err != nil {
			if c.e.logDue(c.src.Addr(), logSize, c.e.now()) {
				c.e.log.Warn("sip: tcp message refused, closing", "source", c.src, "bytes", len(c.in), "error", err)
			}
			return err
		}
		if n == 0 {
			break
		}
		v, reply := c.e.screen(c.src, "TCP", c.in[:n])
		if reply != nil {
			if _, err := c.Write(reply); err != nil {
				return err
			}
		}
		switch v {
		case pass:
			c.out = append(c.out, c.in[:n]...)
		case dropped:
			return errFraming // over a limit: TCP has no dropping a message
		}
		c.lastMsg = time.Now()
		c.in = append(c.in[:0], c.in[n:]...)
		c.partialSince = c.lastMsg
	}
	if len(c.in) == 0 && cap(c.in) > 8<<10 {
		c.in = nil // an idle connection keeps no large buffer
	}
	return nil
}

// frameLen returns the length of the first whole message in b: its
// header, the blank line and Content-Length bytes of body (RFC 3261
// 18.3), 0 when b holds only part of it, or an error when the message
// is longer than max or its Content-Length is unusable.
func frameLen(b []byte, max int) (int, error) {
	if max <= 0 {
		max = 1 << 16
	}
	end, sep := bytes.Index(b, []byte("\r\n\r\n")), 4
	if lf := bytes.Index(b, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
		end, sep = lf, 2
	}
	if end < 0 {
		if len(b) > max {
			return 0, errors.New("sip: message header over the size limit")
		}
		return 0, nil
	}
	cl, err := contentLength(b[:end])
	if err != nil {
		return 0, err
	}
	total := end + sep + cl
	if total > max {
		return 0, errors.New("sip: message over the size limit")
	}
	if len(b) < total {
		return 0, nil
	}
	return total, nil
}

// contentLength reads the Content-Length (or l) header of a message head;
// none means 0.
func contentLength(head []byte) (int, error) {
	for _, line := range bytes.Split(head, []byte("\n"))[1:] {
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if !bytes.EqualFold(name, []byte("content-length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
		if err != nil || n < 0 || n > 1<<24 {
			return 0, errors.New("sip: bad content-length")
		}
		return n, nil
	}
	return 0, nil
}

// Write sends to the peer within tcpWriteTimeout.
func (c *guardConn) Write(b []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	return c.Conn.Write(b)
}

// Close closes the connection and gives back its places in the caps.
// Closing again is no error: sipgo closes what the guard closed first.
func (c *guardConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		err = c.Conn.Close()
		c.e.g.sources.Release(c.src.Addr())
		c.e.tcpOpen.Add(-1)
	})
	return err
}
