package sms

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tarm/serial"
)

// Errors a caller branches on.
var (
	// ErrNotAnswering is returned when the modem does not finish a command
	// in time or its port failed: the outbox closes the port and opens it
	// again.
	ErrNotAnswering = errors.New("sms: modem not answering")
	// ErrPINNeeded is returned by Init when the SIM asks for a PIN and none
	// is set, or the set one was refused.
	ErrPINNeeded = errors.New("sms: SIM PIN needed")
	// ErrPINRefused is returned by Init when the SIM refused the set PIN;
	// it wraps ErrPINNeeded. The outbox does not try that PIN again, since
	// three wrong tries lock the SIM.
	ErrPINRefused = fmt.Errorf("%w: the SIM refused the PIN", ErrPINNeeded)
	// ErrNoNetwork is returned by Init when the modem is not registered.
	ErrNoNetwork = errors.New("sms: modem not registered on a network")
)

// ATError is a modem's ERROR, +CME ERROR or +CMS ERROR (Code -1 for a
// plain ERROR).
type ATError struct {
	Command string
	Kind    string // "ERROR", "CME" or "CMS"
	Code    int
}

func (e *ATError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("sms: %s: ERROR", e.Command)
	}
	return fmt.Sprintf("sms: %s: +%s ERROR: %d", e.Command, e.Kind, e.Code)
}

// Unsolicited is a result code the modem sends on its own.
type Unsolicited struct {
	// Kind is "+CMTI" (a message stored at Index), "+CDS" (a status report
	// in PDU) or "+CMT" (a message in PDU, not stored).
	Kind  string
	Index int
	PDU   string
}

// OpenSerial opens a serial port for a modem (8N1, no flow control). Reads
// return every 200 ms so that Close is never stuck behind one.
func OpenSerial(path string, baud int) (io.ReadWriteCloser, error) {
	if baud == 0 {
		baud = 115200
	}
	p, err := serial.OpenPort(&serial.Config{Name: path, Baud: baud, ReadTimeout: 200 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("sms: open %s: %w", path, err)
	}
	return p, nil
}

// Modem speaks AT commands to one modem over an open port, one command at
// a time. A reader goroutine, started by NewModem and waited for by Close,
// splits what the modem sends into responses and unsolicited codes.
type Modem struct {
	port    io.ReadWriteCloser
	timeout time.Duration

	lines  chan string // response lines
	prompt chan struct{}
	urc    chan Unsolicited
	dead   chan struct{} // closed when the reader stops
	wg     sync.WaitGroup
	once   sync.Once
	mu     sync.Mutex // one command at a time
	closed chan struct{}
}

// NewModem starts reading port. timeout bounds a plain command (zero: 5 s).
func NewModem(port io.ReadWriteCloser, timeout time.Duration) *Modem {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	m := &Modem{
		port: port, timeout: timeout,
		lines:  make(chan string, 256),
		prompt: make(chan struct{}, 1),
		urc:    make(chan Unsolicited, 64),
		dead:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	m.wg.Add(1)
	go m.read()
	return m
}

// Unsolicited delivers the modem's unsolicited result codes. An
// indication that finds the channel full is dropped: the outbox also
// lists the SIM's messages on every reconnect and at intervals.
func (m *Modem) Unsolicited() <-chan Unsolicited { return m.urc }

// Dead is closed once the port failed or the modem was closed.
func (m *Modem) Dead() <-chan struct{} { return m.dead }

// Close closes the port and waits for the reader.
func (m *Modem) Close() error {
	var err error
	m.once.Do(func() {
		close(m.closed)
		err = m.port.Close()
	})
	m.wg.Wait()
	return err
}

// read splits the modem's output into lines; "> " (no line end) is the
// prompt for a PDU. An unsolicited code that a PDU line follows (+CMT,
// +CDS) is delivered with it.
func (m *Modem) read() {
	defer m.wg.Done()
	defer close(m.dead)
	r := bufio.NewReaderSize(m.port, 1024)
	var line []byte
	var pending *Unsolicited // waiting for its PDU line
	for {
		b, err := r.ReadByte()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			if errors.Is(err, io.EOF) {
				// A serial read timing out with nothing (VTIME) reads as EOF.
				continue
			}
			return
		}
		switch b {
		case '\r', '\n':
			if len(line) == 0 {
				continue
			}
			s := string(line)
			line = line[:0]
			if pending != nil {
				pending.PDU = s
				m.sendURC(*pending)
				pending = nil
				continue
			}
			if u, more := parseUnsolicited(s); u != nil {
				if more {
					pending = u
				} else {
					m.sendURC(*u)
				}
				continue
			}
			select {
			case m.lines <- s:
			default: // nobody is reading: a stray line after a timeout
			}
		default:
			line = append(line, b)
			if len(line) == 2 && bytes.Equal(line, []byte("> ")) {
				line = line[:0]
				select {
				case m.prompt <- struct{}{}:
				default:
				}
			}
		}
	}
}

func (m *Modem) sendURC(u Unsolicited) {
	select {
	case m.urc <- u:
	default:
	}
}

// parseUnsolicited recognises the codes the outbox uses; more is set when
// a PDU line follows.
func parseUnsolicited(s string) (u *Unsolicited, more bool) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return nil, false
	}
	switch kind {
	case "+CMTI", "+CDSI":
		f := strings.Split(rest, ",")
		idx, err := strconv.Atoi(strings.TrimSpace(f[len(f)-1]))
		if err != nil {
			return nil, false
		}
		return &Unsolicited{Kind: "+CMTI", Index: idx}, false
	case "+CDS", "+CMT":
		return &Unsolicited{Kind: kind}, true
	}
	return nil, false
}

// Command sends an AT command and returns the lines before its final OK.
func (m *Modem) Command(ctx context.Context, cmd string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	if err := m.write(cmd + "\r"); err != nil {
		return nil, err
	}
	return m.collect(ctx, cmd, m.timeout)
}

// drain drops lines left from a command that timed out.
func (m *Modem) drain() {
	for {
		select {
		case <-m.lines:
		case <-m.prompt:
		default:
			return
		}
	}
}

func (m *Modem) write(s string) error {
	if _, err := io.WriteString(m.port, s); err != nil {
		return fmt.Errorf("%w: write: %v", ErrNotAnswering, err)
	}
	return nil
}

// collect reads response lines up to the final result code.
func (m *Modem) collect(ctx context.Context, cmd string, timeout time.Duration) ([]string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	var out []string
	for {
		select {
		case s := <-m.lines:
			switch {
			case s == "OK":
				return out, nil
			case s == "ERROR":
				return nil, &ATError{Command: cmd, Kind: "ERROR", Code: -1}
			case strings.HasPrefix(s, "+CME ERROR:"), strings.HasPrefix(s, "+CMS ERROR:"):
				code, err := strconv.Atoi(strings.TrimSpace(s[11:]))
				if err != nil {
					code = -1
				}
				return nil, &ATError{Command: cmd, Kind: s[1:4], Code: code}
			case s == cmd || s == "> ":
				// The modem's echo of the command (before ATE0 took).
			default:
				out = append(out, s)
			}
		case <-t.C:
			return nil, fmt.Errorf("%w: %s: no answer in %v", ErrNotAnswering, cmd, timeout)
		case <-m.dead:
			return nil, fmt.Errorf("%w: %s: port closed", ErrNotAnswering, cmd)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Send sends one part with AT+CMGS and returns the message reference the
// modem reports. sendTimeout bounds the wait for +CMGS (the network's
// answer), which is longer than a plain command's.
func (m *Modem) Send(ctx context.Context, p PDU, sendTimeout time.Duration) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	cmd := "AT+CMGS=" + strconv.Itoa(p.TPDULen)
	if err := m.write(cmd + "\r"); err != nil {
		return 0, err
	}
	t := time.NewTimer(m.timeout)
	defer t.Stop()
	for waiting := true; waiting; {
		select {
		case <-m.prompt:
			waiting = false
		case s := <-m.lines:
			if s != cmd {
				// An error instead of the prompt (SIM not ready, say).
				m.lines <- s
				_, err := m.collect(ctx, cmd, m.timeout)
				if err == nil {
					err = fmt.Errorf("sms: %s: no prompt", cmd)
				}
				return 0, err
			}
		case <-t.C:
			_ = m.write("\x1b") // cancel, in case the prompt was lost
			return 0, fmt.Errorf("%w: %s: no prompt in %v", ErrNotAnswering, cmd, m.timeout)
		case <-m.dead:
			return 0, fmt.Errorf("%w: %s: port closed", ErrNotAnswering, cmd)
		case <-ctx.Done():
			_ = m.write("\x1b")
			return 0, ctx.Err()
		}
	}
	if err := m.write(p.Hex + "\x1a"); err != nil {
		return 0, err
	}
	if sendTimeout <= 0 {
		sendTimeout = 60 * time.Second
	}
	lines, err := m.collect(ctx, cmd, sendTimeout)
	if err != nil {
		return 0, err
	}
	for _, s := range lines {
		if v, ok := strings.CutPrefix(s, "+CMGS:"); ok {
			mr, err := strconv.Atoi(strings.TrimSpace(strings.Split(v, ",")[0]))
			if err != nil {
				return 0, fmt.Errorf("sms: %s: reference %q", cmd, v)
			}
			return mr, nil
		}
	}
	return 0, fmt.Errorf("sms: %s: OK without +CMGS", cmd)
}

// Stored is a message held in the modem's storage.
type Stored struct {
	Index int
	PDU   string
}

// List returns every message in the modem's storage (AT+CMGL=4).
func (m *Modem) List(ctx context.Context) ([]Stored, error) {
	lines, err := m.Command(ctx, "AT+CMGL=4")
	if err != nil {
		return nil, err
	}
	var out []Stored
	for i := 0; i < len(lines); i++ {
		v, ok := strings.CutPrefix(lines[i], "+CMGL:")
		if !ok || i+1 == len(lines) {
			continue
		}
		idx, err := strconv.Atoi(strings.TrimSpace(strings.Split(v, ",")[0]))
		if err != nil {
			continue
		}
		i++
		out = append(out, Stored{Index: idx, PDU: lines[i]})
	}
	return out, nil
}

// Delete removes the message at index from the modem's storage.
func (m *Modem) Delete(ctx context.Context, index int) error {
	_, err := m.Command(ctx, "AT+CMGD="+strconv.Itoa(index))
	return err
}

// Info is what Init learns about the modem.
type Info struct {
	Operator string
	// Signal is +CSQ's RSSI: 0-31, 99 unknown.
	Signal int
}

// Init prepares the modem for the outbox: echo off, numeric errors, the
// SIM unlocked with pin if it asks, PDU mode, new-message and status
// report indications, and checks that it is registered.
func (m *Modem) Init(ctx context.Context, pin string) (Info, error) {
	var info Info
	// A modem may still be booting or mid-PDU: AT twice, the second must answer.
	_ = m.write("\x1b\r")
	if _, err := m.Command(ctx, "AT"); err != nil {
		if _, err := m.Command(ctx, "AT"); err != nil {
			return info, err
		}
	}
	for _, c := range []string{"ATE0", "AT+CMEE=1"} {
		if _, err := m.Command(ctx, c); err != nil {
			return info, err
		}
	}
	if err := m.unlock(ctx, pin); err != nil {
		return info, err
	}
	for _, c := range []string{"AT+CMGF=0", "AT+CNMI=2,1,0,1,0"} {
		if _, err := m.Command(ctx, c); err != nil {
			return info, err
		}
	}
	if lines, err := m.Command(ctx, "AT+CSQ"); err == nil {
		for _, s := range lines {
			if v, ok := strings.CutPrefix(s, "+CSQ:"); ok {
				info.Signal, _ = strconv.Atoi(strings.TrimSpace(strings.Split(v, ",")[0]))
			}
		}
	}
	if lines, err := m.Command(ctx, "AT+COPS?"); err == nil {
		for _, s := range lines {
			if v, ok := strings.CutPrefix(s, "+COPS:"); ok {
				if f := strings.Split(v, ","); len(f) >= 3 {
					info.Operator = strings.Trim(f[2], `" `)
				}
			}
		}
	}
	return info, m.Registered(ctx)
}

// Registered checks +CREG: home (1) or roaming (5) is registered.
func (m *Modem) Registered(ctx context.Context) error {
	lines, err := m.Command(ctx, "AT+CREG?")
	if err != nil {
		return err
	}
	for _, s := range lines {
		if v, ok := strings.CutPrefix(s, "+CREG:"); ok {
			f := strings.Split(v, ",")
			if len(f) >= 2 {
				if st := strings.TrimSpace(f[1]); st == "1" || st == "5" {
					return nil
				}
				return fmt.Errorf("%w (+CREG status %s)", ErrNoNetwork, strings.TrimSpace(f[1]))
			}
		}
	}
	return fmt.Errorf("%w (no +CREG answer)", ErrNoNetwork)
}

func (m *Modem) unlock(ctx context.Context, pin string) error {
	state := func() (string, error) {
		lines, err := m.Command(ctx, "AT+CPIN?")
		if err != nil {
			return "", err
		}
		for _, s := range lines {
			if v, ok := strings.CutPrefix(s, "+CPIN:"); ok {
				return strings.TrimSpace(v), nil
			}
		}
		return "", fmt.Errorf("sms: AT+CPIN?: no +CPIN answer")
	}
	st, err := state()
	if err != nil {
		return err
	}
	switch st {
	case "READY":
		return nil
	case "SIM PIN":
		if pin == "" {
			return ErrPINNeeded
		}
		// One try per Init: a wrong PIN repeated would lock the SIM (PUK).
		if _, err := m.Command(ctx, `AT+CPIN="`+pin+`"`); err != nil {
			var at *ATError
			if errors.As(err, &at) {
				return fmt.Errorf("%w (%v)", ErrPINRefused, err)
			}
			return err
		}
		if st, err = state(); err != nil {
			return err
		}
		if st == "READY" {
			return nil
		}
	}
	return fmt.Errorf("%w: the SIM asks for %s", ErrPINNeeded, st)
}
