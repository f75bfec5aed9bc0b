package rtcp

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestMarshalKnownBytes(t *testing.T) {
	r := Report{SSRC: 0x11223344, Sender: true,
		Info: SenderInfo{NTP: 0xe5c8a1b2_80000000, RTPTime: 0x1000, Packets: 50, Octets: 8000}}
	r.NBlocks = 1
	r.Blocks[0] = ReportBlock{SSRC: 0xaabbccdd, FractionLost: 25, TotalLost: -2, HighestSeq: 0x10005,
		Jitter: 12, LSR: 0xa1b28000, DLSR: 0x18000}
	buf := make([]byte, 200)
	n, err := r.MarshalTo(buf, "cb@1")
	if err != nil {
		t.Fatal(err)
	}
	// Written out by hand from RFC 3550 figures 6.4.1 and 6.5.
	want := strings.Join([]string{
		"81c8000c", "11223344", // SR, 1 block, 13 words
		"e5c8a1b280000000", "00001000", "00000032", "00001f40", // sender info
		"aabbccdd", "19fffffe", "00010005", "0000000c", "a1b28000", "00018000", // block
		"81ca0003", "11223344", "0104", "63624031", "0000", // SDES CNAME "cb@1", end, pad
	}, "")
	if got := hex.EncodeToString(buf[:n]); got != want {
		t.Errorf("wire\n got %s\nwant %s", got, want)
	}
	var back Report
	if err := back.Unmarshal(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if back.SSRC != r.SSRC || !back.Sender || back.Info != r.Info || back.NBlocks != 1 ||
		back.Blocks[0] != r.Blocks[0] || string(back.CNAME) != "cb@1" || back.Bye {
		t.Errorf("round trip: %+v", back)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	rr := func() []byte {
		r := Report{SSRC: 1, Bye: true}
		b := make([]byte, 100)
		n, _ := r.MarshalTo(b, "x")
		return b[:n]
	}
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"rr sdes bye", rr(), true},
		{"empty", nil, false},
		{"version 1", append([]byte{0x40}, rr()[1:]...), false},
		{"starts with sdes", rr()[8:], false},
		{"truncated", rr()[:len(rr())-2], false},
		{"length too long", func() []byte { b := rr(); b[3] = 9; return b }(), false},
		{"padding on the first", func() []byte { b := rr(); b[0] |= 0x20; return b }(), false},
		{"blocks beyond length", func() []byte { b := rr(); b[0] |= 2; return b }(), false},
		{"app after rr is skipped", append(rr(), 0x80, 204, 0, 2, 0, 0, 0, 1, 'n', 'a', 'm', 'e'), true},
	}
	for _, tc := range tests {
		var r Report
		err := r.Unmarshal(tc.b)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if tc.ok && (!r.Bye || string(r.CNAME) != "x") {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
}

// arrival scripts one packet: sequence number, timestamp, arrival time.
type arrival struct {
	seq     uint16
	ts, arr uint32
}

func TestReceiverFigures(t *testing.T) {
	seqs := func(from, to int, skip func(int) bool) []arrival {
		var a []arrival
		for i := from; i <= to; i++ {
			if skip != nil && skip(i) {
				continue
			}
			a = append(a, arrival{uint16(i), uint32(i * 160), uint32(i*160 + 1000)})
		}
		return a
	}
	tests := []struct {
		name     string
		pkts     []arrival
		want     Stats
		fraction uint8
	}{
		// A.1: the first packet is probation, the second becomes base_seq.
		{"clean", seqs(0, 99, nil), Stats{Received: 99, Expected: 99, Lost: 0, HighestSeq: 99}, 0},
		// 10 of 99 lost: fraction 10*256/99 = 25.
		{"ten lost", seqs(0, 99, func(i int) bool { return i >= 10 && i < 20 }),
			Stats{Received: 89, Expected: 99, Lost: 10, HighestSeq: 99}, 25},
		{"wrap", seqs(65530, 65545, nil),
			Stats{Received: 15, Expected: 15, Lost: 0, HighestSeq: 65536 + 9}, 0},
		{"duplicates make loss negative", append(seqs(0, 9, nil), arrival{5, 800, 1800}, arrival{6, 960, 1960}),
			Stats{Received: 11, Expected: 9, Lost: -2, HighestSeq: 9}, 0},
		// A jump of 10000 is believed only when the next packet follows it.
		{"restart", append(seqs(0, 9, nil), arrival{10010, 0, 3000}, arrival{10011, 160, 3160}, arrival{10012, 320, 3320}),
			Stats{Received: 2, Expected: 2, Lost: 0, HighestSeq: 10012}, 0},
		// A.8 by hand: transits 1040, 1000, 1040 after probation: J = 40,
		// then 40 + 40 - (48>>4) = 77, in sixteenths: 77>>4 = 4.
		{"jitter", []arrival{{0, 0, 1000}, {1, 160, 1200}, {2, 320, 1320}, {3, 480, 1520}},
			Stats{Received: 3, Expected: 3, HighestSeq: 3, Jitter: 4}, 0},
	}
	for _, tc := range tests {
		var r Receiver
		for _, p := range tc.pkts {
			r.Packet(p.seq, p.ts, p.arr)
		}
		if got := r.Stats(); got != tc.want {
			t.Errorf("%s: stats %+v, want %+v", tc.name, got, tc.want)
		}
		b := r.Block(time.Now())
		if b.FractionLost != tc.fraction || b.TotalLost != tc.want.Lost || b.HighestSeq != tc.want.HighestSeq {
			t.Errorf("%s: block %+v", tc.name, b)
		}
	}
}

func TestJitterConverges(t *testing.T) {
	// Arrivals alternately on time and 80 units late: |D| = 80 every
	// packet, so J tends to 80.
	var r Receiver
	for i := range 400 {
		r.Packet(uint16(i), uint32(i*160), uint32(i*160+80*(i%2)))
	}
	if j := r.Stats().Jitter; j < 78 || j > 80 {
		t.Errorf("jitter %d, want about 80", j)
	}
}

func TestFractionPerInterval(t *testing.T) {
	var r Receiver
	now := time.Now()
	for i := range 51 {
		r.Packet(uint16(i), 0, 0)
	}
	if b := r.Block(now); b.FractionLost != 0 {
		t.Fatalf("first interval: %d", b.FractionLost)
	}
	// Next interval: 50 expected, 25 received (every other one).
	for i := 51; i <= 100; i++ {
		if i%2 == 0 {
			r.Packet(uint16(i), 0, 0)
		}
	}
	if b := r.Block(now); b.FractionLost != 128 || b.TotalLost != 25 {
		t.Errorf("second interval: %+v", b)
	}
}

func TestLSRDLSRAndRTT(t *testing.T) {
	var r Receiver
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ntp := NTP(t0)
	r.SenderReport(ntp, t0)
	b := r.Block(t0.Add(1500 * time.Millisecond))
	if b.LSR != Middle(ntp) || b.DLSR != 98304 { // 1.5 * 65536
		t.Errorf("LSR %x DLSR %d", b.LSR, b.DLSR)
	}
	// The SR left the peer at t0 - 40 ms... we are the peer now: our SR
	// went out at t0, the block comes back at t0 + 1.5 s + 60 ms.
	rtt, ok := RTT(b, NTP(t0.Add(1560*time.Millisecond)))
	if !ok || rtt < 59*time.Millisecond || rtt > 61*time.Millisecond {
		t.Errorf("rtt %v", rtt)
	}
	if _, ok := RTT(ReportBlock{}, ntp); ok {
		t.Error("rtt without an SR")
	}
	// NTP of the Unix epoch is 2208988800 s.
	if got := NTP(time.Unix(0, 500_000_000)); got != 2208988800<<32|1<<31 {
		t.Errorf("NTP(epoch+0.5s) = %x", got)
	}
}

// FuzzUnmarshal: accepted packets have at most MaxBlocks blocks and marshal
// back to a packet that reads the same.
func FuzzUnmarshal(f *testing.F) {
	r := Report{SSRC: 7, Sender: true, NBlocks: 2, Bye: true}
	b := make([]byte, 300)
	n, _ := r.MarshalTo(b, "seed")
	f.Add(b[:n])
	f.Add([]byte{0x80, 201, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0xa0, 201, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Report
		if err := r.Unmarshal(data); err != nil {
			return
		}
		if r.NBlocks < 0 || r.NBlocks > MaxBlocks || len(r.CNAME) > 255 {
			t.Fatalf("report out of bounds: %d blocks", r.NBlocks)
		}
		out := make([]byte, 1500)
		n, err := r.MarshalTo(out, string(r.CNAME))
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := back.Unmarshal(out[:n]); err != nil {
			t.Fatal(err)
		}
		if back.SSRC != r.SSRC || back.Sender != r.Sender || back.NBlocks != r.NBlocks ||
			!bytes.Equal(back.CNAME, r.CNAME) || back.Bye != r.Bye {
			t.Fatalf("round trip differs")
		}
		for i := range r.NBlocks {
			want := r.Blocks[i]
			want.TotalLost = clampLost(want.TotalLost)
			if back.Blocks[i] != want {
				t.Fatalf("block %d differs", i)
			}
		}
	})
}

func BenchmarkReport(b *testing.B) {
	var r Receiver
	buf := make([]byte, 200)
	var rep Report
	now := time.Now()
	b.ReportAllocs()
	for i := range b.N {
		r.Packet(uint16(i), uint32(i*160), uint32(i*160))
		if i%250 == 0 {
			rep.NBlocks = 1
			rep.Blocks[0] = r.Block(now)
			n, _ := rep.MarshalTo(buf, "callbox")
			rep.Unmarshal(buf[:n])
		}
	}
}

// FuzzReceiver feeds arbitrary sequence numbers and times: the figures stay
// consistent (loss is expected minus received, the fraction fits).
func FuzzReceiver(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 5, 0, 4})
	f.Add([]byte{0xff, 0xfe, 0xff, 0xff, 0, 0, 0, 1})
	f.Add([]byte{0, 1, 0, 2, 0x80, 0, 0x80, 1, 0x80, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Receiver
		for i := 0; i+1 < len(data); i += 2 {
			seq := uint16(data[i])<<8 | uint16(data[i+1])
			r.Packet(seq, uint32(seq)*160, uint32(i)*80+uint32(data[i])*8)
		}
		s := r.Stats()
		if s.Lost != int32(s.Expected-s.Received) && s.Expected != 0 {
			t.Fatalf("lost %d, expected %d, received %d", s.Lost, s.Expected, s.Received)
		}
		b := r.Block(time.Now())
		if b.TotalLost != clampLost(s.Lost) || b.HighestSeq != s.HighestSeq {
			t.Fatalf("block %+v, stats %+v", b, s)
		}
	})
}
