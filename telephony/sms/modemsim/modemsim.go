// Package modemsim is a GSM modem on a pseudo-terminal for tests: the AT
// command set an SMS outbox uses (27.005 PDU mode), a SIM's message
// storage, a service centre that answers +CMGS and sends status reports,
// and the failures of real modems: no network, a SIM that wants its PIN,
// a modem that stops answering, and one unplugged in the middle of a queue.
//
// Every submitted PDU is decoded and kept, so a test checks what reached
// the network, not what the driver meant to send.
package modemsim

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"callbox/telephony/sms"
)

// Config sets the emulated modem's starting state.
type Config struct {
	// PIN, when set, must be entered (AT+CPIN) before the SIM is usable.
	PIN string
	// NoNetwork starts the modem unregistered.
	NoNetwork bool
	// Reports sends a status report after each part that asks for one,
	// ReportDelay after the +CMGS.
	Reports     bool
	ReportDelay time.Duration
	// SendDelay is the network's time to answer a +CMGS.
	SendDelay time.Duration
	// Echo starts with command echo on, as real modems do.
	Echo bool
}

// Submitted is one part that reached the service centre.
type Submitted struct {
	Ref int
	PDU string // as the driver wrote it
	Msg *sms.Message
}

// Modem is the emulator. Its methods are safe for concurrent use.
type Modem struct {
	cfg Config

	mu        sync.Mutex
	master    *os.File
	path      string
	unplugged bool
	silent    bool
	network   bool
	unlocked  bool
	echo      bool
	mr        int
	submitted []Submitted
	storage   map[int]string
	failNext  []int // +CMS codes for the next submissions
	commands  []string
	wg        sync.WaitGroup
}

// Start plugs in a modem on a new pseudo-terminal.
func Start(cfg Config) (*Modem, error) {
	m := &Modem{cfg: cfg, network: !cfg.NoNetwork, unlocked: cfg.PIN == "", echo: cfg.Echo, storage: map[int]string{}}
	if err := m.Plug(); err != nil {
		return nil, err
	}
	return m, nil
}

// Path is the slave side the driver opens ("" while unplugged).
func (m *Modem) Path() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unplugged {
		return ""
	}
	return m.path
}

// Open opens the modem's current port as the box would, or fails as a
// missing device does while it is unplugged.
func (m *Modem) Open() (*os.File, error) {
	p := m.Path()
	if p == "" {
		return nil, fmt.Errorf("modemsim: %w", os.ErrNotExist)
	}
	return os.OpenFile(p, os.O_RDWR|0x100 /* O_NOCTTY */, 0)
}

// Plug connects the modem (again) on a fresh pseudo-terminal; the SIM
// keeps its messages, the PIN must be entered again.
func (m *Modem) Plug() error {
	master, path, err := openPTY()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.master, m.path, m.unplugged = master, path, false
	m.unlocked = m.cfg.PIN == ""
	m.echo = m.cfg.Echo
	m.mu.Unlock()
	m.wg.Add(1)
	go m.serve(master)
	return nil
}

// Unplug pulls the modem out: its port goes away mid-command if need be.
func (m *Modem) Unplug() {
	m.mu.Lock()
	master := m.master
	m.unplugged, m.master = true, nil
	m.mu.Unlock()
	if master != nil {
		master.Close()
	}
	m.wg.Wait()
}

// Close unplugs the modem for good.
func (m *Modem) Close() { m.Unplug() }

// SetNetwork registers the modem on a network or loses it.
func (m *Modem) SetNetwork(up bool) {
	m.mu.Lock()
	m.network = up
	m.mu.Unlock()
}

// SetSilent makes the modem stop answering (a firmware hang) or resume.
func (m *Modem) SetSilent(silent bool) {
	m.mu.Lock()
	m.silent = silent
	m.mu.Unlock()
}

// FailNext makes the next submissions fail with these +CMS ERROR codes,
// one each.
func (m *Modem) FailNext(codes ...int) {
	m.mu.Lock()
	m.failNext = append(m.failNext, codes...)
	m.mu.Unlock()
}

// Submitted returns every part the service centre accepted, in order.
func (m *Modem) Submitted() []Submitted {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Submitted(nil), m.submitted...)
}

// Commands returns every command line the modem received.
func (m *Modem) Commands() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.commands...)
}

// Stored returns how many messages the SIM holds.
func (m *Modem) Stored() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.storage)
}

// Receive has the network deliver a message from number: its parts go to
// the SIM's storage, each announced with +CMTI. order, when given, is the
// order the parts arrive in (indexes into the parts).
func (m *Modem) Receive(from, text string, ref uint8, order ...int) error {
	pdus, err := sms.EncodeDeliver(from, text, time.Now(), ref)
	if err != nil {
		return err
	}
	if order == nil {
		for i := range pdus {
			order = append(order, i)
		}
	}
	for _, i := range order {
		m.mu.Lock()
		idx := 0
		for m.storage[idx] != "" {
			idx++
		}
		m.storage[idx] = pdus[i]
		m.mu.Unlock()
		m.unsolicited("+CMTI: \"SM\"," + strconv.Itoa(idx))
	}
	return nil
}

// unsolicited sends a result code and reports whether the modem could.
func (m *Modem) unsolicited(s string) bool {
	m.mu.Lock()
	master, silent := m.master, m.silent
	m.mu.Unlock()
	if master == nil || silent {
		return false
	}
	_, err := master.WriteString("\r\n" + s + "\r\n")
	return err == nil
}

// serve reads commands from one plugging-in until the master closes.
func (m *Modem) serve(master *os.File) {
	defer m.wg.Done()
	r := bufio.NewReader(master)
	var line []byte
	pduLen := -1 // >= 0 while reading a PDU after the prompt
	for {
		b, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			// EIO while no one has the slave open: wait for the driver.
			time.Sleep(5 * time.Millisecond)
			m.mu.Lock()
			gone := m.master != master
			m.mu.Unlock()
			if gone {
				return
			}
			continue
		}
		m.mu.Lock()
		silent, echo := m.silent, m.echo
		m.mu.Unlock()
		if silent {
			line, pduLen = line[:0], -1
			continue
		}
		if pduLen >= 0 {
			switch b {
			case 0x1A:
				m.submit(master, string(line), pduLen)
				line, pduLen = line[:0], -1
			case 0x1B:
				line, pduLen = line[:0], -1
				write(master, "\r\nOK\r\n")
			case '\r', '\n':
			default:
				line = append(line, b)
			}
			continue
		}
		if b == 0x1B {
			line = line[:0]
			continue
		}
		if b != '\r' {
			if b != '\n' {
				line = append(line, b)
			}
			continue
		}
		cmd := strings.TrimSpace(string(line))
		line = line[:0]
		if cmd == "" {
			continue
		}
		if echo {
			write(master, cmd+"\r")
		}
		m.mu.Lock()
		m.commands = append(m.commands, cmd)
		m.mu.Unlock()
		if n, ok := strings.CutPrefix(strings.ToUpper(cmd), "AT+CMGS="); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 1 || v > 180 {
				write(master, "\r\n+CMS ERROR: 304\r\n")
				continue
			}
			if e := m.ready(); e != "" {
				write(master, e)
				continue
			}
			pduLen = v
			write(master, "\r\n> ")
			continue
		}
		write(master, m.command(cmd))
	}
}

func write(f *os.File, s string) { _, _ = f.WriteString(s) }

// ready returns the error a command that needs the SIM gets, or "".
func (m *Modem) ready() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.unlocked {
		return "\r\n+CME ERROR: 11\r\n" // SIM PIN required
	}
	return ""
}

// command answers one command line (not AT+CMGS).
func (m *Modem) command(cmd string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	const ok = "\r\nOK\r\n"
	up := strings.ToUpper(cmd)
	switch {
	case up == "AT":
		return ok
	case up == "ATE0" || up == "ATE1":
		m.echo = up == "ATE1"
		return ok
	case strings.HasPrefix(up, "AT+CMEE="), strings.HasPrefix(up, "AT+CNMI="), up == "AT+CMGF=0":
		return ok
	case up == "AT+CPIN?":
		if m.unlocked {
			return "\r\n+CPIN: READY\r\n" + ok
		}
		return "\r\n+CPIN: SIM PIN\r\n" + ok
	case strings.HasPrefix(up, "AT+CPIN="):
		if strings.Trim(cmd[8:], `"`) != m.cfg.PIN {
			return "\r\n+CME ERROR: 16\r\n" // incorrect password
		}
		m.unlocked = true
		return ok
	}
	if !m.unlocked {
		return "\r\n+CME ERROR: 11\r\n"
	}
	switch {
	case up == "AT+CREG?":
		if m.network {
			return "\r\n+CREG: 0,1\r\n" + ok
		}
		return "\r\n+CREG: 0,2\r\n" + ok // searching
	case up == "AT+CSQ":
		if m.network {
			return "\r\n+CSQ: 21,99\r\n" + ok
		}
		return "\r\n+CSQ: 99,99\r\n" + ok
	case up == "AT+COPS?":
		if m.network {
			return "\r\n+COPS: 0,0,\"CHINA MOBILE\",7\r\n" + ok
		}
		return "\r\n+COPS: 0\r\n" + ok
	case up == "AT+CMGL=4":
		var b strings.Builder
		idxs := make([]int, 0, len(m.storage))
		for i := range m.storage {
			idxs = append(idxs, i)
		}
		sort.Ints(idxs)
		for _, i := range idxs {
			p := m.storage[i]
			fmt.Fprintf(&b, "\r\n+CMGL: %d,0,,%d\r\n%s", i, len(p)/2-1, p)
		}
		return b.String() + "\r\n" + ok
	case strings.HasPrefix(up, "AT+CMGD="):
		i, err := strconv.Atoi(strings.Split(cmd[8:], ",")[0])
		if err != nil {
			return "\r\n+CMS ERROR: 321\r\n"
		}
		delete(m.storage, i)
		return ok
	}
	return "\r\nERROR\r\n"
}

// submit is the service centre's answer to a PDU.
func (m *Modem) submit(master *os.File, hexPDU string, tpduLen int) {
	m.mu.Lock()
	network, delay := m.network, m.cfg.SendDelay
	var fail int
	if len(m.failNext) > 0 {
		fail, m.failNext = m.failNext[0], m.failNext[1:]
	}
	m.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	msg, err := sms.Decode(hexPDU)
	switch {
	case err != nil || msg.Kind != sms.Submit || len(hexPDU) != 2+2*tpduLen:
		write(master, "\r\n+CMS ERROR: 304\r\n")
		return
	case !network:
		write(master, "\r\n+CMS ERROR: 331\r\n")
		return
	case fail != 0:
		write(master, "\r\n+CMS ERROR: "+strconv.Itoa(fail)+"\r\n")
		return
	}
	m.mu.Lock()
	m.mr = (m.mr + 1) % 256
	ref := m.mr
	m.submitted = append(m.submitted, Submitted{Ref: ref, PDU: hexPDU, Msg: msg})
	report := m.cfg.Reports && msg.ReportRequested
	m.mu.Unlock()
	write(master, "\r\n+CMGS: "+strconv.Itoa(ref)+"\r\n\r\nOK\r\n")
	if report {
		now := time.Now()
		rep, err := sms.EncodeStatusReport(ref, msg.Number, now, now, 0)
		if err == nil {
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				time.Sleep(m.cfg.ReportDelay)
				if !m.unsolicited(fmt.Sprintf("+CDS: %d\r\n%s", len(rep)/2-1, rep)) {
					// The network tries again later: the report waits in
					// the SIM, as one sent while the modem was away would.
					m.mu.Lock()
					idx := 0
					for m.storage[idx] != "" {
						idx++
					}
					m.storage[idx] = rep
					m.mu.Unlock()
				}
			}()
		}
	}
}
