package rfc4733

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	tests := []struct {
		p    Payload
		wire [4]byte
	}{
		// RFC 4733 figure 1 layout: event, E|R|volume, duration.
		{Payload{Event: 5, Volume: 10, Duration: 800}, [4]byte{5, 10, 0x03, 0x20}},
		{Payload{Event: 11, End: true, Volume: 63, Duration: 0xffff}, [4]byte{11, 0xbf, 0xff, 0xff}},
		{Payload{Event: 16}, [4]byte{16, 0, 0, 0}},
	}
	for _, tc := range tests {
		var b [4]byte
		if n, err := tc.p.MarshalTo(b[:]); err != nil || n != 4 || b != tc.wire {
			t.Errorf("%+v marshals to % x (%v), want % x", tc.p, b, err, tc.wire)
		}
		var q Payload
		if err := q.Unmarshal(tc.wire[:]); err != nil || q != tc.p {
			t.Errorf("% x unmarshals to %+v (%v)", tc.wire, q, err)
		}
	}
	var q Payload
	if err := q.Unmarshal([]byte{1, 2, 3}); err != ErrShort {
		t.Errorf("short payload: %v", err)
	}
	// The R bit is reserved: ignored on receipt.
	if err := q.Unmarshal([]byte{1, 0x40 | 7, 0, 8}); err != nil || q.Volume != 7 || q.End {
		t.Errorf("reserved bit: %+v", q)
	}
}

func TestCodes(t *testing.T) {
	for i, d := range []byte("0123456789*#ABCD") {
		c, ok := Code(d)
		if !ok || int(c) != i {
			t.Errorf("Code(%q) = %d", d, c)
		}
		back, ok := Digit(c)
		if !ok || back != d {
			t.Errorf("Digit(%d) = %q", c, back)
		}
	}
	if c, ok := Code('b'); !ok || c != 13 {
		t.Errorf("lower case b: %d %v", c, ok)
	}
	if _, ok := Code('x'); ok {
		t.Error("x accepted")
	}
	if _, ok := Digit(16); ok {
		t.Error("flash is not a digit")
	}
}

// wirePkt is one sent packet as the network sees it.
type wirePkt struct {
	ts      uint32
	marker  bool
	payload [4]byte
}

// send runs a sender over ticks packet intervals and returns what it sent.
func send(t *testing.T, s *Sender, interval uint32, ticks int) []wirePkt {
	t.Helper()
	var out []wirePkt
	ts := uint32(0xffffff00) // wraps
	for range ticks {
		p, evTS, marker, ok := s.Next(ts, interval)
		if ok {
			var w wirePkt
			w.ts, w.marker = evTS, marker
			p.MarshalTo(w.payload[:])
			out = append(out, w)
		}
		ts += interval
	}
	return out
}

func describe(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Kind == Start {
			fmt.Fprintf(&b, "+%c ", e.Digit)
		} else {
			fmt.Fprintf(&b, "-%c/%d", e.Digit, e.Duration)
			if e.Lost {
				b.WriteString("!")
			}
			b.WriteString(" ")
		}
	}
	return strings.TrimSpace(b.String())
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		digits   string
		dur      uint32
		interval uint32
		mangle   func([]wirePkt) []wirePkt
		want     string
	}{
		{"one digit 20 ms", "5", 800, 160, nil, "+5 -5/800"},
		{"ptime 10", "#", 800, 80, nil, "+# -#/800"},
		{"ptime 30 rounds to the requested end", "*", 800, 240, nil, "+* -*/800"},
		{"string", "123A", 640, 160, nil, "+1 -1/640 +2 -2/640 +3 -3/640 +A -A/640"},
		{"first packet lost", "7", 800, 160, func(p []wirePkt) []wirePkt { return p[1:] }, "+7 -7/800"},
		{"all end packets lost", "9", 800, 160, func(p []wirePkt) []wirePkt {
			var q []wirePkt
			for _, w := range p {
				if w.payload[1]&0x80 == 0 {
					q = append(q, w)
				}
			}
			return q
		}, "+9 -9/640!"},
		{"end packets of the first digit lost", "12", 800, 160, func(p []wirePkt) []wirePkt {
			var q []wirePkt
			for _, w := range p {
				if w.payload[0] == 2 || w.payload[1]&0x80 == 0 {
					q = append(q, w)
				}
			}
			return q
		}, "+1 -1/640! +2 -2/800"},
		{"reordered and duplicated", "4", 800, 160, func(p []wirePkt) []wirePkt {
			p[1], p[2] = p[2], p[1]
			return append(p[:3], append([]wirePkt{p[2], p[0]}, p[3:]...)...)
		}, "+4 -4/800"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSender(0)
			for _, d := range []byte(tc.digits) {
				if err := s.Send(d, tc.dur); err != nil {
					t.Fatal(err)
				}
			}
			pkts := send(t, s, tc.interval, 200)
			if s.Busy() {
				t.Fatal("sender still busy")
			}
			// Markers: exactly one per digit, on its first packet.
			markers, ends := 0, 0
			for i, w := range pkts {
				if w.marker {
					markers++
					if i > 0 && pkts[i-1].ts == w.ts {
						t.Error("marker not on the first packet of an event")
					}
				}
				if w.payload[1]&0x80 != 0 {
					ends++
				}
			}
			if markers != len(tc.digits) || ends != EndRepeats*len(tc.digits) {
				t.Errorf("%d markers and %d end packets for %d digits", markers, ends, len(tc.digits))
			}
			if tc.mangle != nil {
				pkts = tc.mangle(pkts)
			}
			r := NewReceiver(0)
			var evs []Event
			for _, w := range pkts {
				var err error
				if evs, err = r.Packet(w.ts, w.payload[:], evs); err != nil {
					t.Fatal(err)
				}
				evs = r.Advance(tc.interval, evs)
			}
			for range 20 {
				evs = r.Advance(tc.interval, evs)
			}
			if got := describe(evs); got != tc.want {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSenderPausesBetweenDigits(t *testing.T) {
	s := NewSender(400)
	s.Send('1', 320)
	s.Send('2', 320)
	var sent []bool
	ts := uint32(0)
	for range 12 {
		_, _, _, ok := s.Next(ts, 160)
		sent = append(sent, ok)
		ts += 160
	}
	// 320 units at 160 per packet: 2 packets, the second with E, then two
	// more end packets; 400 units of pause is three audio packets.
	want := []bool{true, true, true, true, false, false, false, true, true, true, true, false}
	if fmt.Sprint(sent) != fmt.Sprint(want) {
		t.Errorf("event packets %v, want %v", sent, want)
	}
}

func TestSenderRejects(t *testing.T) {
	s := NewSender(0)
	if err := s.Send('x', 0); err == nil {
		t.Error("x queued")
	}
	for range maxQueue {
		if err := s.Send('1', 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send('1', 0); err != ErrQueueFull {
		t.Errorf("full queue: %v", err)
	}
}

// FuzzReceiver feeds arbitrary packet sequences: every End follows a Start of
// the same digit, Starts and Ends alternate, and state stays one event.
func FuzzReceiver(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 5, 10, 0, 160, 0, 0, 0, 1, 5, 0x8a, 0x03, 0x20})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 9, 11, 0x80, 0, 0, 0, 0, 0, 5, 3, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReceiver(0)
		var evs []Event
		for len(data) >= 8 {
			ts := binary.BigEndian.Uint32(data)
			var err error
			evs, err = r.Packet(ts, data[4:8], evs)
			if err != nil {
				t.Fatal(err)
			}
			evs = r.Advance(uint32(data[7]), evs)
			data = data[8:]
		}
		if len(data) < PayloadLen {
			if _, err := r.Packet(0, data, nil); err != ErrShort {
				t.Fatalf("short payload: %v", err)
			}
		}
		open := false
		var digit byte
		for _, e := range evs {
			switch e.Kind {
			case Start:
				if open {
					t.Fatalf("two starts: %s", describe(evs))
				}
				open, digit = true, e.Digit
			case End:
				if !open || e.Digit != digit {
					t.Fatalf("end without start: %s", describe(evs))
				}
				open = false
			}
		}
		if open != r.Active() {
			t.Fatalf("receiver active %v, events say %v", r.Active(), open)
		}
	})
}

func BenchmarkSendReceive(b *testing.B) {
	s := NewSender(0)
	r := NewReceiver(0)
	evs := make([]Event, 0, 8)
	var buf [4]byte
	ts := uint32(0)
	b.ReportAllocs()
	for range b.N {
		if !s.Busy() {
			s.Send('5', 0)
		}
		p, evTS, _, ok := s.Next(ts, 160)
		if ok {
			p.MarshalTo(buf[:])
			evs, _ = r.Packet(evTS, buf[:], evs[:0])
		}
		ts += 160
	}
}
