package pcm

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"callbox/dsp/g711"
)

func openFake(t testing.TB, k *fakeKernel, cfg ALSAConfig) *ALSA {
	t.Helper()
	a, err := openALSA(cfg, k.open)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestALSAOpenSequence(t *testing.T) {
	for _, tt := range []struct {
		format   Format
		channels int
	}{{ALaw, 32}, {MuLaw, 32}, {S16LE, 16}, {S32LE, 8}} {
		t.Run(tt.format.String(), func(t *testing.T) {
			k := newFakeKernel()
			k.channels = uint32(tt.channels)
			k.gen = func(int, []byte) {}
			a := openFake(t, k, ALSAConfig{Format: tt.format, Slots: 32, Card: 1, Device: 2})
			hw := "HW_PARAMS format=" + tt.format.String() + " channels=" + strconv.Itoa(tt.channels) + " rate=8000 period=80 periods=4"
			for name, start := range map[string]string{"pcmC1D2c": "1", "pcmC1D2p": "160"} {
				want := []string{"PVERSION", "HW_REFINE", hw, "SW_PARAMS avail_min=80 start=" + start + " stop=320"}
				if got := k.logged(name); !slices.Equal(got, want) {
					t.Errorf("%s: ioctls\n%q\nwant\n%q", name, got, want)
				}
			}
			a.Close()
			if got := k.logged("pcmC1D2p"); got[len(got)-1] != "close" {
				t.Errorf("playback not closed: %q", got)
			}
		})
	}
}

func TestALSAOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  ALSAConfig
		hw   func(k *fakeKernel)
		want string
	}{
		{"refused", ALSAConfig{Format: ALaw, Slots: 32}, func(k *fakeKernel) { k.formats, k.channels = []Format{S16LE}, 2 },
			"pcm: pcmC0D0c: hw params: device refuses A_LAW x 32 channels at 8000 Hz, 4 periods of 80 frames: invalid argument (it offers RW_INTERLEAVED, formats S16_LE, channels 2..2, rate 8000..8000 Hz, period 16..4096 frames, periods 2..16)"},
		{"period too small", ALSAConfig{Format: S16LE, Slots: 64}, func(k *fakeKernel) { k.periodMin = 128 }, "period 128..4096 frames"},
		{"no device", ALSAConfig{Format: ALaw, Slots: 32, Dir: "/nowhere"}, nil, "pcm: pcmC0D0c: open: no such file or directory"},
		{"odd slots", ALSAConfig{Format: S16LE, Slots: 31}, nil, "pcm: alsa: slots 31: S16_LE carries timeslots in groups of 2"},
		{"S32 slots", ALSAConfig{Format: S32LE, Slots: 6}, nil, "pcm: alsa: slots 6: S32_LE carries timeslots in groups of 4"},
		{"format", ALSAConfig{Format: Format(7), Slots: 32}, nil, "pcm: alsa: format format(7)"},
		{"prefill", ALSAConfig{Format: ALaw, Slots: 32, Periods: 3, Prefill: 3}, nil, "prefill 3: want 1..periods-1 (2)"},
		{"slots", ALSAConfig{Format: ALaw}, nil, "slots 0: want 1..256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newFakeKernel()
			if tt.hw != nil {
				tt.hw(k)
			}
			_, err := openALSA(tt.cfg, k.open)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			}
			for name, s := range k.streams {
				if !s.closed {
					t.Errorf("%s left open after a failed open", name)
				}
			}
		})
	}
}

// layoutCase is a set of ports on a 32-timeslot bus.
var layoutPorts = []struct {
	slot  int
	codec Codec
}{{0, Alaw}, {3, Ulaw}, {6, Linear}, {9, Linear}, {12, Alaw}, {31, Ulaw}}

// chipSample is what the chip at port i sends in capture frame f.
func chipSample(i, f int) int16 { return int16((i+1)*2900 - 11000 + 97*f%4000) }

// wireBytes is the test's model of the bus: the 8-bit timeslots of one
// 125 us frame as the chips drive them, MSB first for linear ports.
// Unowned timeslots carry junk the box must ignore.
func wireBytes(f int) []byte {
	w := make([]byte, 32)
	for n := range w {
		w[n] = byte(0x40 + n + f)
	}
	for i, p := range layoutPorts {
		v := chipSample(i, f)
		switch p.codec {
		case Alaw:
			w[p.slot] = g711.EncodeAlawSample(v)
		case Ulaw:
			w[p.slot] = g711.EncodeUlawSample(v)
		case Linear:
			w[p.slot], w[p.slot+1] = byte(uint16(v)>>8), byte(v)
		}
	}
	return w
}

// toALSA lays a wire frame out as ALSA's interleaved frame: one byte per
// channel for 8-bit formats; for S16_LE and S32_LE one little-endian
// channel per 2 or 4 timeslots, the earliest timeslot its most significant
// byte.
func toALSA(format Format, w []byte, b []byte) {
	switch format {
	case S16LE:
		for c := 0; c < len(w)/2; c++ {
			binary.LittleEndian.PutUint16(b[2*c:], binary.BigEndian.Uint16(w[2*c:]))
		}
	case S32LE:
		for c := 0; c < len(w)/4; c++ {
			binary.LittleEndian.PutUint32(b[4*c:], binary.BigEndian.Uint32(w[4*c:]))
		}
	default:
		copy(b, w)
	}
}

// fromALSA is the inverse of toALSA.
func fromALSA(format Format, b []byte) []byte {
	w := make([]byte, len(b))
	switch format {
	case S16LE:
		for c := 0; c < len(w)/2; c++ {
			binary.BigEndian.PutUint16(w[2*c:], binary.LittleEndian.Uint16(b[2*c:]))
		}
	case S32LE:
		for c := 0; c < len(w)/4; c++ {
			binary.BigEndian.PutUint32(w[4*c:], binary.LittleEndian.Uint32(b[4*c:]))
		}
	default:
		copy(w, b)
	}
	return w
}

func decodeWire(c Codec, w []byte, slot int) int16 {
	switch c {
	case Alaw:
		return g711.DecodeAlawSample(w[slot])
	case Ulaw:
		return g711.DecodeUlawSample(w[slot])
	}
	return int16(uint16(w[slot])<<8 | uint16(w[slot+1]))
}

func TestALSAInterleave(t *testing.T) {
	for _, format := range []Format{ALaw, MuLaw, S16LE, S32LE} {
		t.Run(format.String(), func(t *testing.T) {
			k := newFakeKernel()
			k.channels = uint32(32 / format.channelBytes())
			k.gen = func(f int, b []byte) { toALSA(format, wireBytes(f), b) }
			a := openFake(t, k, ALSAConfig{Format: format, Slots: 32})
			var ports []*Port
			for _, lp := range layoutPorts {
				p, err := a.Attach(lp.slot, lp.codec)
				if err != nil {
					t.Fatal(err)
				}
				ports = append(ports, p)
			}
			const ticks = 4
			ctx, cancel := context.WithCancel(context.Background())
			var rx [ticks][][]int16
			a.SetHandler(func(tk Tick) {
				for i, p := range ports {
					rx[tk.Seq] = append(rx[tk.Seq], slices.Clone(p.Received()))
					tx := make([]int16, FrameSize)
					for j := range tx {
						tx[j] = -chipSample(i, int(tk.Seq)*FrameSize+j)
					}
					p.Send(tx)
				}
				if tk.Seq == ticks-1 {
					cancel()
				}
			})
			if err := a.Run(ctx); err != nil {
				t.Fatal(err)
			}
			for tick := range ticks {
				for i, lp := range layoutPorts {
					for j := range FrameSize {
						f := tick*FrameSize + j
						want := decodeWire(lp.codec, wireBytes(f), lp.slot)
						if got := rx[tick][i][j]; got != want {
							t.Fatalf("tick %d port at slot %d (%s) sample %d: received %d, want %d", tick, lp.slot, lp.codec, j, got, want)
						}
					}
				}
			}
			// Playback: Prefill periods of idle, then the ports' frames.
			// The last tick's write may meet the stream already dropped by
			// the cancellation.
			out := k.stream("pcmC0D0p").written
			period := 32 * FrameSize
			if len(out) != (2+ticks)*period && len(out) != (1+ticks)*period {
				t.Fatalf("playback got %d bytes, want %d (or a period less)", len(out), (2+ticks)*period)
			}
			idle := format.idle()
			for f := range len(out) / 32 {
				w := fromALSA(format, out[f*32:(f+1)*32])
				owned := make([]bool, 32)
				if f >= 2*FrameSize {
					tf := f - 2*FrameSize
					for i, lp := range layoutPorts {
						want := -chipSample(i, tf)
						switch lp.codec {
						case Alaw:
							want = g711.DecodeAlawSample(g711.EncodeAlawSample(want))
						case Ulaw:
							want = g711.DecodeUlawSample(g711.EncodeUlawSample(want))
						}
						if got := decodeWire(lp.codec, w, lp.slot); got != want {
							t.Fatalf("playback frame %d port at slot %d (%s): %d, want %d", tf, lp.slot, lp.codec, got, want)
						}
						for s := lp.slot; s < lp.slot+lp.codec.Width(); s++ {
							owned[s] = true
						}
					}
				}
				for s, b := range w {
					if !owned[s] && b != idle {
						t.Fatalf("playback frame %d: unowned timeslot %d carries %#x, want idle %#x", f, s, b, idle)
					}
				}
			}
		})
	}
}

// runUntil runs a until the handler has seen n ticks, returning Run's error.
func runUntil(a *ALSA, n int, each func(Tick)) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := 0
	a.SetHandler(func(tk Tick) {
		if each != nil {
			each(tk)
		}
		if seen++; seen == n {
			cancel()
		}
	})
	return a.Run(ctx)
}

func TestALSAXruns(t *testing.T) {
	k := newFakeKernel()
	k.gen = func(f int, b []byte) { b[0] = byte(f) }
	k.readFault = map[int]syscall.Errno{2: syscall.EPIPE}
	k.wrFault = map[int]syscall.Errno{4: syscall.EPIPE} // transfers 0, 1 are the prefill
	a := openFake(t, k, ALSAConfig{Format: ALaw, Slots: 8})
	p, _ := a.Attach(0, Alaw)
	var seqs []uint64
	err := runUntil(a, 5, func(tk Tick) {
		seqs = append(seqs, tk.Seq)
		p.Send(p.Received())
	})
	if err != nil {
		t.Fatal(err)
	}
	st := a.Stats()
	if st.Ticks != 5 || st.Overruns != 1 || st.Dropped != 1 || st.PlaybackXruns != 1 || st.Underruns != 0 {
		t.Fatalf("stats %+v, want 5 ticks, 1 overrun, 1 dropped, 1 playback xrun", st)
	}
	if want := []uint64{0, 1, 3, 4, 5}; !slices.Equal(seqs, want) {
		t.Fatalf("tick Seqs %v, want %v (a gap after the capture overrun)", seqs, want)
	}
	// The cancellation's DROP races with the last tick's write: leave it
	// out, and allow that write to be missing.
	wantC := []string{"PREPARE", "READI 80", "READI 80", "READI broken pipe", "PREPARE", "READI 80", "READI 80", "READI 80"}
	if got := withoutDrop(k.logged("pcmC0D0c")[4:]); !slices.Equal(got, wantC) {
		t.Errorf("capture ioctls after set-up\n%q\nwant\n%q", got, wantC)
	}
	wantP := []string{"PREPARE", "WRITEI 80", "WRITEI 80", "WRITEI 80", "WRITEI 80",
		"WRITEI broken pipe", "PREPARE", "WRITEI 80", "WRITEI 80", "WRITEI 80", "WRITEI 80", "WRITEI 80"}
	got := withoutDrop(k.logged("pcmC0D0p")[4:])
	if !slices.Equal(got, wantP) && !slices.Equal(got, wantP[:len(wantP)-1]) {
		t.Errorf("playback ioctls after set-up\n%q\nwant\n%q", got, wantP)
	}
}

func withoutDrop(log []string) []string {
	return slices.DeleteFunc(log, func(l string) bool { return l == "DROP" })
}

// TestALSALateness: after each read the kernel's capture delay says how
// much audio is already waiting; a whole period or more is an overrun.
func TestALSALateness(t *testing.T) {
	k := newFakeKernel()
	k.gen = func(int, []byte) {}
	k.delay = map[int]int{1: 40, 2: 120, 3: 200, 4: 79}
	a := openFake(t, k, ALSAConfig{Format: ALaw, Slots: 2})
	var late []time.Duration
	if err := runUntil(a, 6, func(tk Tick) { late = append(late, tk.Late) }); err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	if want := []time.Duration{0, 5 * ms, 15 * ms, 25 * ms, 9875 * time.Microsecond, 0}; !slices.Equal(late, want) {
		t.Fatalf("Tick.Late %v, want %v", late, want)
	}
	if st := a.Stats(); st.Overruns != 2 || st.MaxLate != 25*ms || st.Dropped != 0 {
		t.Fatalf("stats %+v, want 2 overruns, max late 25ms", st)
	}
}

func TestALSAPartialTransfers(t *testing.T) {
	k := newFakeKernel()
	// Each capture frame carries its frame number in timeslots 0-1.
	k.gen = func(f int, b []byte) { b[0], b[1] = byte(f>>8), byte(f) }
	k.readShort = map[int]int{1: 30, 2: 50}
	k.readFault = map[int]syscall.Errno{4: syscall.EINTR}
	a := openFake(t, k, ALSAConfig{Format: ALaw, Slots: 4})
	p, _ := a.Attach(0, Linear)
	var got []int16
	if err := runUntil(a, 3, func(Tick) { got = append(got, p.Received()...) }); err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if int(v) != i {
			t.Fatalf("sample %d carries frame %d: periods not reassembled", i, v)
		}
	}
	if st := a.Stats(); st.Overruns != 0 || st.Ticks != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestALSAFatal(t *testing.T) {
	k := newFakeKernel()
	k.gen = func(int, []byte) {}
	k.readFault = map[int]syscall.Errno{1: syscall.EIO}
	a := openFake(t, k, ALSAConfig{Format: MuLaw, Slots: 4})
	err := runUntil(a, 10, nil)
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "pcm: pcmC0D0c: transfer: input/output error") {
		t.Fatalf("Run returned %v, want the capture EIO", err)
	}
	if a.Stats().Ticks != 1 {
		t.Fatalf("ticks %d, want 1 before the failure", a.Stats().Ticks)
	}
}

func TestALSAXrunStorm(t *testing.T) {
	for _, dir := range []string{"capture", "playback"} {
		t.Run(dir, func(t *testing.T) {
			k := newFakeKernel()
			k.gen = func(int, []byte) {}
			faults := map[int]syscall.Errno{}
			for i := 3; i < 100; i++ {
				faults[i] = syscall.EPIPE
			}
			want := "pcm: pcmC0D0c: 9 overruns in a row"
			if dir == "capture" {
				k.readFault = faults
			} else {
				k.wrFault = faults
				want = "pcm: pcmC0D0p: 9 underruns in a row"
			}
			a := openFake(t, k, ALSAConfig{Format: ALaw, Slots: 2})
			err := runUntil(a, 100, nil)
			if err == nil || err.Error() != want {
				t.Fatalf("Run: %v, want %q", err, want)
			}
		})
	}
}

// TestALSACloseWakesRun blocks the capture read in the "kernel" as a dead
// bus clock would; Close and context cancellation must still stop Run.
func TestALSACloseWakesRun(t *testing.T) {
	for _, how := range []string{"close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			k := newFakeKernel()
			k.gen = func(int, []byte) {}
			k.block = true
			a := openFake(t, k, ALSAConfig{Format: ALaw, Slots: 4})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			for {
				k.mu.Lock()
				b := k.blocked
				k.mu.Unlock()
				if b > 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if how == "close" {
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				cancel()
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v, want nil after %s", err, how)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Run still blocked 5 s after %s", how)
			}
		})
	}
}

func TestALSANoAllocs(t *testing.T) {
	k := newFakeKernel()
	k.noLog = true
	k.gen = func(f int, b []byte) { b[0] = byte(f) }
	a := openFake(t, k, ALSAConfig{Format: ALaw, Slots: 32})
	for _, s := range []*stream{&a.capture, &a.playback} {
		s.f.ioctl(ioctlPrepare, nil)
	}
	k.stream("pcmC0D0p").written = make([]byte, 0, 1<<20)
	var ports []*Port
	for i := range 6 {
		p, _ := a.Attach(i*2, Codec(i%3))
		ports = append(ports, p)
	}
	a.SetHandler(echo(ports))
	n := testing.AllocsPerRun(100, func() {
		if err := a.readPeriod(); err != nil {
			t.Fatal(err)
		}
		a.process(time.Now(), a.backlog())
		if err := a.writePeriod(); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per tick, want 0", n)
	}
}

// BenchmarkALSATick measures one period through the hardware path on the
// fake device: the read and write ioctls (memory copies here), decoding,
// the handler and encoding.
func BenchmarkALSATick(b *testing.B) {
	for _, n := range []int{6, 32} {
		b.Run("slots="+strconv.Itoa(n), func(b *testing.B) {
			k := newFakeKernel()
			k.noLog = true
			k.gen = func(f int, buf []byte) {}
			a := openFake(b, k, ALSAConfig{Format: ALaw, Slots: 32})
			for _, s := range []*stream{&a.capture, &a.playback} {
				s.f.ioctl(ioctlPrepare, nil)
			}
			var ports []*Port
			for i := range n {
				p, _ := a.Attach(i, Alaw)
				ports = append(ports, p)
			}
			a.SetHandler(echo(ports))
			pb := k.stream("pcmC0D0p")
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				a.readPeriod()
				a.process(start, a.backlog())
				a.writePeriod()
				pb.written = pb.written[:0]
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/tick")
		})
	}
}

// FuzzALSALoopback feeds arbitrary capture periods and port layouts through
// decode, an echoing handler and encode: every attached port's timeslots
// must come back as they went in (G.711 decode-encode is the identity,
// except mu-law's negative zero 0x7F, which re-encodes as 0xFF) and every
// other timeslot must be idle.
func FuzzALSALoopback(f *testing.F) {
	f.Add(uint8(0), []byte{0, 1, 2, 3, 4, 5, 6, 7}, []byte{0x7f, 0x80, 0xff, 0, 0xd5, 0x55})
	f.Add(uint8(2), []byte{2, 2, 1, 0}, []byte{1, 2, 3})
	f.Add(uint8(3), []byte{2, 1, 2, 0, 1}, []byte{0x12, 0x34, 0x56, 0x78, 0x9a})
	f.Add(uint8(1), []byte{}, []byte{9})
	f.Fuzz(func(t *testing.T, fsel uint8, layout, data []byte) {
		format := []Format{ALaw, MuLaw, S16LE, S32LE}[int(fsel)%4]
		const slots = 8
		k := newFakeKernel()
		k.channels = uint32(slots / format.channelBytes())
		a, err := openALSA(ALSAConfig{Format: format, Slots: slots}, k.open)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		var ports []*Port
		for i, c := range layout {
			if p, err := a.Attach(i%slots, Codec(c%4)); err == nil {
				ports = append(ports, p)
			}
		}
		for i := range a.in {
			if len(data) > 0 {
				a.in[i] = data[i%len(data)] + byte(i/len(data))
			}
		}
		a.SetHandler(echo(ports))
		a.process(time.Time{}, 0)
		in, out := fromALSA(format, a.in), fromALSA(format, a.out)
		owner := make([]*Port, slots)
		for _, p := range ports {
			for s := p.slot; s < p.slot+p.codec.Width(); s++ {
				owner[s] = p
			}
		}
		for i := range in {
			s := i % slots
			want := format.idle()
			if p := owner[s]; p != nil {
				want = in[i]
				if p.codec == Ulaw && want == 0x7f {
					want = 0xff
				}
			}
			if out[i] != want {
				t.Fatalf("frame %d timeslot %d: out %#x, want %#x (in %#x)", i/slots, s, out[i], want, in[i])
			}
		}
	})
}

// TestALSARealDevice runs the highway on a real ALSA device when this
// machine has a capture+playback pair (e.g. snd-aloop, or the box's TDM
// card), and skips, saying why, when it has none.
func TestALSARealDevice(t *testing.T) {
	caps, _ := filepath.Glob("/dev/snd/pcmC*D*c")
	re := regexp.MustCompile(`pcmC(\d+)D(\d+)c$`)
	for _, c := range caps {
		if _, err := os.Stat(strings.TrimSuffix(c, "c") + "p"); err != nil {
			continue
		}
		m := re.FindStringSubmatch(c)
		card, _ := strconv.Atoi(m[1])
		dev, _ := strconv.Atoi(m[2])
		a, err := OpenALSA(ALSAConfig{Card: card, Device: dev, Format: S16LE, Slots: 4})
		if err != nil {
			if strings.Contains(err.Error(), "refuses") {
				t.Logf("%s cannot run 2 x S16_LE at 8 kHz: %v", c, err)
				continue
			}
			t.Fatal(err)
		}
		p, _ := a.Attach(0, Linear)
		start := time.Now()
		err = runUntil(a, 30, func(Tick) { p.Send(p.Received()) })
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < 250*time.Millisecond {
			t.Fatalf("%s: 30 periods in %v: not paced by the device", c, el)
		}
		t.Logf("%s: 30 ticks, stats %+v", c, a.Stats())
		return
	}
	t.Skip("no ALSA capture+playback pair under /dev/snd that takes 8 kHz S16_LE: real-device test skipped")
}
