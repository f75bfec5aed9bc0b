package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"callbox/board"
	"callbox/board/ports"
	"callbox/board/proslic"
	"callbox/board/si3050"
	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/firmware/lineport"
	"callbox/telephony/line"
)

// eventRing is a fixed-size queue of line events between a driver's
// service goroutine (push) and the frame clock's goroutine (pop). It never
// allocates after creation, so the tick stays allocation-free; when the
// clock falls behind by more than its size, new events are dropped and
// counted rather than blocking the driver.
type eventRing[T any] struct {
	mu      sync.Mutex
	buf     [64]T
	head, n int
	dropped atomic.Uint64
}

func (q *eventRing[T]) push(e T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == len(q.buf) {
		q.dropped.Add(1)
		return
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
}

func (q *eventRing[T]) pop() (e T, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return e, false
	}
	e = q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return e, true
}

// fxsPort adapts a running ProSLIC port of the board to line.FXSPort: the
// driver's events are queued for NextEvent and the audio passes through
// the port's place on the PCM highway.
type fxsPort struct {
	p *ports.Port
	q eventRing[line.FXSEvent]
	// ring is the port's ringing signal (frequency and amplitude of the
	// board's preset); the line code supplies the cadence.
	ring proslic.Ring
	// noBattery: the port's battery collapsed and has not come back
	// (VBATLoss until VBATRestored); the port is out of service meanwhile
	// though its driver has not given up (Port.Err is nil).
	noBattery atomic.Bool
}

// failed reports why the port cannot serve a phone now, or nil.
func (f *fxsPort) failed() error {
	if err := f.p.Err(); err != nil {
		return err
	}
	if f.noBattery.Load() {
		return errNoBattery
	}
	return nil
}

var errNoBattery = errors.New("app: fxs port: battery lost")

// newFXSPort adapts p with the ringing signal of its ring preset (the
// board description's, resolved: the port's country unless it names one).
func newFXSPort(p *ports.Port) *fxsPort {
	r, err := proslic.PresetFor(p.Description().Ring)
	if err != nil {
		r, _ = proslic.PresetFor("") // validated: not reached
	}
	return &fxsPort{p: p, ring: r}
}

// fxsLineConfig is the channel configuration the board description gives
// an FXS port: its country (tone plan, ring cadence) and its caller ID
// preset.
func fxsLineConfig(d board.Port) line.FXSConfig {
	return line.FXSConfig{Name: d.Name, Country: d.Country, CallerID: callerid.Presets[d.CallerID]}
}

// fxoLineConfig completes an FXO port's trunk settings (pbxconf's, or none)
// with what the board description says of the line: its country, and the
// FSK modem of its caller ID scheme unless the trunk names a scheme itself.
func fxoLineConfig(d board.Port, trunk line.FXOConfig) line.FXOConfig {
	c := trunk
	c.Name, c.Country = d.Name, d.Country
	if c.CallerIDModem.Baud == 0 {
		c.CallerIDModem = callerIDModem(d.CallerID)
	}
	return c
}

// callerIDModem is the FSK modem of a dsp/callerid preset (Bell 202 or
// V.23), or the zero modem for DTMF, "none" and unknown names.
func callerIDModem(preset string) fsk.Modem {
	if p := callerid.Presets[preset]; p != nil {
		return p.FSK.Modem
	}
	return fsk.Modem{}
}

// event takes a driver event from the port's service goroutine.
func (f *fxsPort) event(e proslic.Event) {
	switch e.Kind {
	case proslic.VBATLoss:
		f.noBattery.Store(true)
	case proslic.VBATRestored:
		f.noBattery.Store(false)
	}
	if ev, ok := lineport.FXSEvent(e); ok {
		f.q.push(ev)
	}
}

// NextEvent implements line.FXSPort.
func (f *fxsPort) NextEvent() (line.FXSEvent, bool) { return f.q.pop() }

// Ring implements line.FXSPort with the line's cadence on the board's
// ringing frequency and amplitude.
func (f *fxsPort) Ring(cadence []time.Duration) error {
	return lineport.Ring(f.p.FXS(), f.ring, cadence)
}

// StopRing implements line.FXSPort.
func (f *fxsPort) StopRing() error { return f.p.FXS().StopRing() }

// SetFeed implements line.FXSPort.
func (f *fxsPort) SetFeed(feed line.Feed) error { return lineport.SetFeed(f.p.FXS(), feed) }

// ReadFrame implements line.Audio: what the phone sent in the last 10 ms.
func (f *fxsPort) ReadFrame(fr *line.Frame) { readPCM(f.p, fr) }

// WriteFrame implements line.Audio.
func (f *fxsPort) WriteFrame(fr *line.Frame) { writePCM(f.p, fr) }

func readPCM(p *ports.Port, fr *line.Frame) {
	if pc := p.PCM(); pc != nil {
		if n := copy(fr[:], pc.Received()); n < len(fr) {
			clear(fr[n:])
		}
		return
	}
	clear(fr[:])
}

func writePCM(p *ports.Port, fr *line.Frame) {
	if pc := p.PCM(); pc != nil {
		pc.Send(fr[:])
	}
}

// errFXOBusy: the FXO worker has more requests queued than a line can
// sensibly make (its driver is stuck).
var errFXOBusy = errors.New("app: fxo port: driver requests backed up")

// fxoOp is a request the FXO port's worker carries out off the tick.
type fxoOp uint8

const (
	opSeize fxoOp = iota + 1
	opRelease
	opFlash
)

// fxoPort adapts a running Si3050 port to line.FXOPort. Seizing waits up
// to the driver's SeizeTimeout (500 ms) for loop current, which must not
// hold up the frame clock, so Seize, Release and Flash are handed in order
// to a worker goroutine and return at once; a seizure that finds no loop
// current is reported as a battery loss, which the line code treats as
// the end of the call.
type fxoPort struct {
	p   *ports.Port
	q   eventRing[line.FXOEvent]
	ops chan fxoOp
	wg  sync.WaitGroup
	// seized tracks the box's own hook state as last requested, so that a
	// worker failure is reported only for a seizure still wanted.
	seized atomic.Bool
	// errs counts driver failures of the worker's requests.
	errs atomic.Uint64
}

func newFXOPort(p *ports.Port) *fxoPort {
	return &fxoPort{p: p, ops: make(chan fxoOp, 16)}
}

// start runs the worker until ctx ends; stop waits for it.
func (f *fxoPort) start(ctx context.Context) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case op := <-f.ops:
				f.do(op)
			}
		}
	}()
}

func (f *fxoPort) wait() { f.wg.Wait() }

func (f *fxoPort) do(op fxoOp) {
	d := f.p.FXO()
	if d == nil {
		return
	}
	var err error
	switch op {
	case opSeize:
		err = d.Seize()
		if err != nil && f.seized.Load() {
			f.q.push(line.FXOEvent{Kind: line.BatteryLost})
		}
	case opRelease:
		err = d.Release()
	case opFlash:
		err = d.Flash(0)
	}
	if err != nil {
		f.errs.Add(1)
	}
}

// request hands op to the worker without blocking the tick; a full queue
// (a stalled driver) is reported as an error to the line code.
func (f *fxoPort) request(op fxoOp) error {
	select {
	case f.ops <- op:
		return nil
	default:
		return errFXOBusy
	}
}

// event takes a driver event from the port's service goroutine.
func (f *fxoPort) event(e si3050.Event) {
	if ev, ok := lineport.FXOEvent(e); ok {
		f.q.push(ev)
	}
}

// NextEvent implements line.FXOPort.
func (f *fxoPort) NextEvent() (line.FXOEvent, bool) { return f.q.pop() }

// Seize implements line.FXOPort; see the type's doc.
func (f *fxoPort) Seize() error {
	f.seized.Store(true)
	return f.request(opSeize)
}

// Release implements line.FXOPort.
func (f *fxoPort) Release() error {
	f.seized.Store(false)
	return f.request(opRelease)
}

// Flash implements line.FXOPort.
func (f *fxoPort) Flash() error { return f.request(opFlash) }

// LineVoltage implements line.FXOPort: one register read.
func (f *fxoPort) LineVoltage() (float64, error) { return f.p.FXO().LineVoltage() }

// ReadFrame implements line.Audio.
func (f *fxoPort) ReadFrame(fr *line.Frame) { readPCM(f.p, fr) }

// WriteFrame implements line.Audio.
func (f *fxoPort) WriteFrame(fr *line.Frame) { writePCM(f.p, fr) }
