package sms

import (
	"strconv"
	"strings"
	"time"
)

// Joiner puts the parts of concatenated messages back together. It keeps
// incomplete messages in memory only: the outbox deletes parts from the
// SIM once their whole message is stored, so after a restart the modem's
// list brings the missing halves back.
type Joiner struct {
	pending map[string]*partial
}

type partial struct {
	parts []string
	got   []bool
	have  int
	slots []int // the SIM's storage index of each part, -1 when unknown
	first time.Time
}

// Joined is a whole received message.
type Joined struct {
	From string
	Text string
	// Time is the service centre's time stamp of the first part.
	Time time.Time
	// Slots are the SIM storage indexes its parts came from.
	Slots []int
}

// Add takes a received deliver PDU, stored in the SIM at slot (-1 if it
// arrived without being stored), and returns the whole message once every
// part is in.
func (j *Joiner) Add(m *Message, slot int) (Joined, bool) {
	if m.Concat == nil || m.Concat.Total == 1 {
		return Joined{From: m.Number, Text: m.Text, Time: m.Time, Slots: []int{slot}}, true
	}
	if j.pending == nil {
		j.pending = make(map[string]*partial)
	}
	key := strings.Join([]string{m.Number, strconv.Itoa(int(m.Concat.Ref)), strconv.Itoa(m.Concat.Total)}, "\x00")
	p := j.pending[key]
	if p == nil {
		p = &partial{parts: make([]string, m.Concat.Total), got: make([]bool, m.Concat.Total), slots: make([]int, m.Concat.Total)}
		for i := range p.slots {
			p.slots[i] = -1
		}
		j.pending[key] = p
	}
	i := m.Concat.Seq - 1
	if !p.got[i] {
		p.got[i] = true
		p.have++
	}
	p.parts[i], p.slots[i] = m.Text, slot
	if m.Concat.Seq == 1 || p.first.IsZero() {
		p.first = m.Time
	}
	if p.have < m.Concat.Total {
		return Joined{}, false
	}
	delete(j.pending, key)
	return Joined{From: m.Number, Text: strings.Join(p.parts, ""), Time: p.first, Slots: p.slots}, true
}

// Pending returns how many messages wait for parts.
func (j *Joiner) Pending() int { return len(j.pending) }
