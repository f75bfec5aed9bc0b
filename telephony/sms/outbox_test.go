package sms_test

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/telephony/sms"
	"callbox/telephony/sms/modemsim"
)

// memStore is an in-memory sms.Store.
type memStore struct {
	mu   sync.Mutex
	out  []sms.Outgoing // index ID-1
	in   []sms.Incoming
	refs map[string]uint64
}

func newMemStore() *memStore { return &memStore{refs: map[string]uint64{}} }

func (s *memStore) Queue(msgs []*sms.Outgoing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		m.ID = uint64(len(s.out) + 1)
		s.out = append(s.out, *m)
	}
	return nil
}

func (s *memStore) Due(now time.Time, limit int) ([]sms.Outgoing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []sms.Outgoing
	for _, m := range s.out {
		if m.State == sms.Queued && !m.At.After(now) {
			due = append(due, m)
		}
	}
	slices.SortStableFunc(due, func(a, b sms.Outgoing) int { return a.At.Compare(b.At) })
	if len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

func (s *memStore) Update(m sms.Outgoing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out[m.ID-1] = m
	for _, p := range m.Parts {
		if !p.Sent.IsZero() {
			s.refs[fmt.Sprint(sms.MatchKey(m.To), "/", p.Ref)] = m.ID
		}
	}
	return nil
}

func (s *memStore) FindSent(key string, ref int) (sms.Outgoing, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.refs[fmt.Sprint(key, "/", ref)]
	if !ok {
		return sms.Outgoing{}, false, nil
	}
	return s.out[id-1], true, nil
}

func (s *memStore) Receive(m *sms.Incoming) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = uint64(len(s.in) + 1)
	s.in = append(s.in, *m)
	return nil
}

func (s *memStore) Queued() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.out {
		if m.State == sms.Queued {
			n++
		}
	}
	return n, nil
}

func (s *memStore) outgoing() []sms.Outgoing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.out)
}

func (s *memStore) incoming() []sms.Incoming {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.in)
}

// clock is a real clock the test can move forward.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }
func portOf(m *modemsim.Modem, pin string) sms.Port {
	return sms.Port{Name: "emulated", PIN: pin, Open: func() (io.ReadWriteCloser, error) {
		if m.Path() == "" {
			return nil, fmt.Errorf("emulated modem unplugged")
		}
		return sms.OpenSerial(m.Path(), 115200)
	}}
}

type rig struct {
	modem *modemsim.Modem
	store *memStore
	box   *sms.Outbox
	clock *clock
}

func newRig(t *testing.T, cfg modemsim.Config, pin string) *rig {
	t.Helper()
	if testing.Short() {
		t.Skip("opens a pseudo-terminal")
	}
	m, err := modemsim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{modem: m, store: newMemStore(), clock: &clock{}}
	r.box = sms.NewOutbox(sms.Config{
		Store: r.store, Now: r.clock.now,
		CommandTimeout: 300 * time.Millisecond, SendTimeout: 2 * time.Second,
		Retry: 50 * time.Millisecond, Poll: 100 * time.Millisecond,
		Lookup: func(n string) string {
			if n == "+8613900139000" {
				return "c-42"
			}
			return ""
		},
	})
	r.box.SetPort(portOf(m, pin))
	r.box.Start(t.Context())
	t.Cleanup(func() {
		r.box.Close()
		m.Close()
	})
	return r
}

// waitFor polls cond for up to 20 s (the machine may be loaded).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) waitState(t *testing.T, state string) {
	t.Helper()
	waitFor(t, "modem "+state, func() bool { return r.box.Status().State == state })
}

func (r *rig) countState(st sms.State) int {
	n := 0
	for _, m := range r.store.outgoing() {
		if m.State == st {
			n++
		}
	}
	return n
}

// texts200 is issue 12's figure: 200 messages in Chinese and English, a
// third of them long enough to be split.
func texts200() []string {
	var out []string
	for i := range 200 {
		var t string
		switch i % 6 {
		case 0:
			t = fmt.Sprintf("Order %d: your repair crew is on the way.", i)
		case 1:
			t = fmt.Sprintf("工单%d：您的报修已受理，抢修人员正在赶往现场。", i)
		case 2:
			t = strings.Repeat(fmt.Sprintf("Notice %d: the service window is 09:00-18:00 {Mon-Fri} [holidays excepted]. ", i), 3)
		case 3:
			t = strings.Repeat(fmt.Sprintf("尊敬的客户，您的工单%d已处理完毕，如有疑问请致电客服热线。", i), 3)
		case 4:
			t = fmt.Sprintf("Hello 你好 %d €", i)
		case 5:
			t = fmt.Sprintf("Code %d", i)
		}
		out = append(out, t)
	}
	return out
}

func TestOutbox200WithUnplug(t *testing.T) {
	r := newRig(t, modemsim.Config{Reports: true, Echo: true}, "")
	r.waitState(t, sms.ModemReady)
	texts := texts200()
	var reqs []sms.Request
	for i, text := range texts {
		reqs = append(reqs, sms.Request{To: fmt.Sprintf("+86138%08d", i), Text: text})
	}
	start := time.Now()
	if _, err := r.box.Queue(reqs); err != nil {
		t.Fatal(err)
	}
	// Messages arrive meanwhile, a long one with its parts out of order.
	long := strings.Repeat("您好，我想查询一下工单的进度，谢谢。", 8)
	if err := r.modem.Receive("+8613900139000", long, 9, 2, 0, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "60 parts submitted", func() bool { return len(r.modem.Submitted()) >= 60 })
	r.modem.Unplug()
	r.waitState(t, sms.ModemAbsent)
	// A message for an unplugged modem waits on its SIM.
	if err := r.modem.Receive("13700137000", "reply while unplugged", 10); err != nil {
		t.Fatal(err)
	}
	queued := r.countState(sms.Queued)
	if queued == 0 {
		t.Fatal("every message went before the unplug: the test proves nothing")
	}
	if st := r.box.Status(); st.Queued != queued {
		t.Errorf("status shows %d queued, store %d", st.Queued, queued)
	}
	if err := r.modem.Plug(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every message sent", func() bool { return r.countState(sms.Queued) == 0 })
	elapsed := time.Since(start)
	// Reports: a report the modem had taken but the box not yet read when
	// it was pulled is lost, as with a real modem (the network counts it
	// delivered); every other one arrives.
	waitFor(t, "the reports", func() bool {
		n := r.countState(sms.Delivered)
		time.Sleep(300 * time.Millisecond)
		return n == len(texts) || n == r.countState(sms.Delivered)
	})
	delivered := r.countState(sms.Delivered)
	if delivered < len(texts)-2 || delivered+r.countState(sms.Sent) != len(texts) {
		t.Errorf("%d delivered, %d sent, of %d", delivered, r.countState(sms.Sent), len(texts))
	}

	// What reached the network, joined per message by (number, reference).
	type key struct {
		to  string
		ref uint16
	}
	got := map[key][]string{}
	parts := 0
	for _, s := range r.modem.Submitted() {
		k := key{s.Msg.Number, 0}
		seq, total := 1, 1
		if c := s.Msg.Concat; c != nil {
			k.ref, seq, total = c.Ref, c.Seq, c.Total
		}
		if got[k] == nil {
			got[k] = make([]string, total)
		}
		if got[k][seq-1] != "" {
			t.Logf("part %d of %v went twice (the modem was pulled before its +CMGS)", seq, k)
		}
		got[k][seq-1] = s.Msg.Text
		parts++
	}
	long3 := 0
	for i, m := range r.store.outgoing() {
		k := key{m.To, 0}
		if len(m.Parts) > 1 {
			k.ref = uint16(uint8(m.ID))
			long3++
		}
		if joined := strings.Join(got[k], ""); joined != texts[i] {
			t.Errorf("message %d: the network got %q, want %q", m.ID, joined, texts[i])
		}
	}
	// Every PDU the network got is the independent encoder's for that
	// message and part.
	var cases []refCase
	out := r.store.outgoing()
	for _, m := range out {
		cases = append(cases, refCase{Number: m.To, Text: m.Text, Ref: int(uint8(m.ID)), Report: true, Time: "2026-03-01T09:30:15+08:00"})
	}
	ref := referencePDUs(t, cases)
	want := map[string]bool{}
	for i := range ref {
		for _, p := range ref[i].Submit {
			want[p.Hex] = true
		}
	}
	for _, s := range r.modem.Submitted() {
		if !want[s.PDU] {
			t.Errorf("the network got %s, which the reference encoder does not make", s.PDU)
		}
	}
	in := r.store.incoming()
	if len(in) != 2 || in[0].Text != long || in[0].Customer != "c-42" || in[1].Text != "reply while unplugged" {
		t.Errorf("inbox: %+v", in)
	}
	if r.modem.Stored() != 0 {
		t.Errorf("%d messages left on the SIM after they were stored", r.modem.Stored())
	}
	t.Logf("200 messages (%d long) in %d parts through the emulated modem, unplugged after 60 parts: %v; %d reported delivered, 2 received",
		long3, parts, elapsed.Round(time.Millisecond), delivered)
}

func TestOutboxPIN(t *testing.T) {
	r := newRig(t, modemsim.Config{PIN: "1234"}, "")
	r.waitState(t, sms.ModemPINNeeded)
	if _, err := r.box.Queue([]sms.Request{{To: "13800138000", Text: "waits for the PIN"}}); err != nil {
		t.Fatal(err)
	}
	// A wrong PIN is tried once only, however often the outbox reconnects.
	r.box.SetPort(portOf(r.modem, "0000"))
	waitFor(t, "the wrong PIN tried", func() bool { return slices.Contains(r.modem.Commands(), `AT+CPIN="0000"`) })
	time.Sleep(300 * time.Millisecond) // several reconnects
	tries := 0
	for _, c := range r.modem.Commands() {
		if strings.HasPrefix(c, "AT+CPIN=") {
			tries++
		}
	}
	if tries != 1 || r.box.Status().State != sms.ModemPINNeeded || len(r.modem.Submitted()) != 0 {
		t.Errorf("wrong PIN tried %d times, state %q, %d sent", tries, r.box.Status().State, len(r.modem.Submitted()))
	}
	r.box.SetPort(portOf(r.modem, "1234"))
	waitFor(t, "sent after the PIN", func() bool { return r.countState(sms.Sent) == 1 })
}

func TestOutboxNoNetworkThenSilent(t *testing.T) {
	r := newRig(t, modemsim.Config{NoNetwork: true}, "")
	r.waitState(t, sms.ModemNoNetwork)
	if _, err := r.box.Queue([]sms.Request{{To: "13800138000", Text: "one"}, {To: "13800138001", Text: "二"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(r.modem.Submitted()); n != 0 || r.countState(sms.Queued) != 2 {
		t.Fatalf("%d submitted without a network", n)
	}
	r.modem.SetNetwork(true)
	waitFor(t, "sent once registered", func() bool { return r.countState(sms.Sent) == 2 })

	// A modem that stops answering is reported; messages wait for it.
	r.modem.SetSilent(true)
	r.waitState(t, sms.ModemNotAnswering)
	if _, err := r.box.Queue([]sms.Request{{To: "13800138002", Text: "three"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if r.countState(sms.Queued) != 1 {
		t.Fatal("the third message left the queue while the modem was silent")
	}
	r.modem.SetSilent(false)
	waitFor(t, "sent once answering", func() bool { return r.countState(sms.Sent) == 3 })

	// The network dropping at the submission itself (+CMS ERROR: 331).
	r.modem.SetNetwork(false)
	if _, err := r.box.Queue([]sms.Request{{To: "13800138003", Text: "four"}}); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, sms.ModemNoNetwork)
	r.modem.SetNetwork(true)
	waitFor(t, "sent after the network came back", func() bool { return r.countState(sms.Sent) == 4 })
	for _, m := range r.store.outgoing() {
		if m.Attempts != 0 {
			t.Errorf("message %d counted %d attempts for a missing network", m.ID, m.Attempts)
		}
	}
}

func TestOutboxRefusalsAndSchedule(t *testing.T) {
	r := newRig(t, modemsim.Config{}, "")
	r.waitState(t, sms.ModemReady)
	r.modem.FailNext(1, 500) // unassigned number (permanent), then a passing failure
	if _, err := r.box.Queue([]sms.Request{{To: "13800138000", Text: "no such number"}, {To: "13800138001", Text: "retried"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first refused for good", func() bool { return r.countState(sms.Failed) == 1 })
	waitFor(t, "the second waiting for its retry", func() bool {
		out := r.store.outgoing()
		return out[1].Attempts == 1 && out[1].State == sms.Queued
	})
	time.Sleep(200 * time.Millisecond)
	if n := len(r.modem.Submitted()); n != 0 {
		t.Fatalf("retried before its back-off: %d submitted", n)
	}
	r.clock.advance(31 * time.Second)
	r.box.Kick()
	waitFor(t, "the retry sent", func() bool { return r.countState(sms.Sent) == 1 })

	// Sent at a time: not before it.
	at := r.clock.now().Add(time.Hour)
	if _, err := r.box.Queue([]sms.Request{{To: "13800138002", Text: "later", At: at}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if r.countState(sms.Sent) != 1 {
		t.Fatal("a scheduled message went early")
	}
	r.clock.advance(time.Hour)
	waitFor(t, "the scheduled message sent", func() bool { return r.countState(sms.Sent) == 2 })

	// Bad requests store nothing.
	if _, err := r.box.Queue([]sms.Request{{To: "13800138003", Text: "ok"}, {To: "x", Text: "bad"}}); err == nil {
		t.Error("a bad number accepted")
	}
	if _, err := r.box.Queue([]sms.Request{{To: "13800138003", Text: "  "}}); err == nil {
		t.Error("empty text accepted")
	}
	if n := len(r.store.outgoing()); n != 3 {
		t.Errorf("%d messages stored after refused requests, want 3", n)
	}
}
