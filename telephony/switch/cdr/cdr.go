// Package cdr is the call detail record the switch leaves for every call,
// the sink interface it hands records to (firmware/app stores them in
// bbolt) and an in-memory sink for tests.
package cdr

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Disposition is how a call ended, in the terms of call logs and billing.
type Disposition uint8

// Dispositions.
const (
	Answered  Disposition = iota + 1 // somebody answered
	Busy                             // the called party was busy (or DND)
	NoAnswer                         // it rang and nobody answered
	Failed                           // not placed: invalid, blocked, no trunk, fault
	Cancelled                        // the caller gave up before an answer
)

var dispositionNames = [...]string{"", "answered", "busy", "no answer", "failed", "cancelled"}

// String names the disposition ("no answer", as call logs print it).
func (d Disposition) String() string {
	if d != 0 && int(d) < len(dispositionNames) {
		return dispositionNames[d]
	}
	return fmt.Sprintf("disposition(%d)", d)
}

// Leg is one channel's part in a call.
type Leg struct {
	Channel string // "fxs1", "fxo2", "sip/<leg id>"
	Kind    string // "fxs", "fxo", "sip"
	Party   string // the number or extension on that leg
	Trunk   string // the trunk it ran over, if any
	Start   time.Time
	Answer  time.Time // zero if never answered
	End     time.Time
	Cause   string
}

// Record is one call: every leg it had, who called whom, when, and how it
// ended. Duration runs from Start to End, Billable from Answer to End.
type Record struct {
	ID          string
	Legs        []Leg
	From, To    string
	Start       time.Time
	Answer      time.Time // zero if never answered
	End         time.Time
	Disposition Disposition
	// Trunk or port of the outside leg ("fxo1", a SIP trunk's name), or
	// the originating port for internal calls.
	Trunk    string
	Duration time.Duration
	Billable time.Duration
	Cause    string // hangup cause: "normal", "busy", "no answer", "blocked pattern 00.", ...
}

// Finish fills Duration and Billable from the times.
func (r *Record) Finish() {
	r.Duration = r.End.Sub(r.Start)
	r.Billable = 0
	if !r.Answer.IsZero() && r.End.After(r.Answer) {
		r.Billable = r.End.Sub(r.Answer)
	}
}

// BillableSeconds is Billable rounded up to whole seconds, the unit
// carriers bill in.
func (r *Record) BillableSeconds() int64 {
	return int64((r.Billable + time.Second - 1) / time.Second)
}

// Sink takes finished records. Write is called from the switch's goroutine
// (the frame clock's), so it must not block: queue and store elsewhere.
type Sink interface {
	Write(r Record)
}

// Memory is a Sink that keeps records in memory, for tests and the
// simulation. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	records []Record
}

// Write implements Sink.
func (m *Memory) Write(r Record) {
	r.Legs = slices.Clone(r.Legs)
	m.mu.Lock()
	m.records = append(m.records, r)
	m.mu.Unlock()
}

// Records returns a copy of the records written so far, oldest first.
func (m *Memory) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records)
}

// Reset forgets every record.
func (m *Memory) Reset() {
	m.mu.Lock()
	m.records = nil
	m.mu.Unlock()
}
