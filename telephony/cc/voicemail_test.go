package cc_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/wav"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/internal/memkv"
	"callbox/telephony/pin"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/voicemail"
)

// The voicemail prompts are rig tones too.
func init() {
	pin.Params.Memory, pin.Params.Passes = 64, 1
	for name, hz := range map[string]float64{
		voicemail.PromptGreeting: 1180, voicemail.PromptSaved: 1210, voicemail.PromptPIN: 1480,
		voicemail.PromptYouHave: 1520, voicemail.PromptNewMessages: 1640, voicemail.PromptSavedMessages: 1660,
		voicemail.PromptMainMenu: 1680, voicemail.PromptMessage: 1720, voicemail.PromptFrom: 1780,
		voicemail.PromptMessageMenu: 1800, voicemail.PromptGoodbye: 1820, voicemail.PromptNoMore: 1840,
		voicemail.PromptNotify: 1880,
	} {
		promptHz[name] = hz
	}
}

// fxsLamps lights the rig's FXS phones: box extensions 201-204 are fxs1-4.
type fxsLamps struct {
	mu sync.Mutex
	sw *callswitch.Switch
}

func (l *fxsLamps) MessageWaiting(b voicemail.Box, n, _ int) {
	l.mu.Lock()
	sw := l.sw
	l.mu.Unlock()
	if sw == nil {
		return
	}
	for _, ext := range b.Extensions {
		port := map[string]string{"201": "fxs1", "202": "fxs2", "203": "fxs3", "204": "fxs4"}[ext]
		sw.Do(func() {
			if ch := sw.FXS(port); ch != nil {
				ch.MessageWaiting(n > 0, n)
			}
		})
	}
}

func lastMWI(msgs []callerid.Message) (callerid.Indicator, int) {
	var w callerid.Indicator
	n := 0
	for _, m := range msgs {
		if m.Format == callerid.MDMFMWI {
			w, n = m.Waiting, m.Messages
		}
	}
	return w, n
}

// A PSTN caller routed to box 8001 hears the greeting and the beep, says
// something and falls silent: the message is kept (what the caller said,
// in the file), 201's lamp lights by FSK on the emulated phone; 201 dials
// *97, its PIN, 1, and hears the message; the lamp goes out.
func TestVoicemailOnTheBoard(t *testing.T) {
	lamps := &fxsLamps{}
	vm, err := voicemail.New(voicemail.Config{Dir: t.TempDir(), Store: memkv.New(), MWI: lamps})
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if _, err := vm.PutBox(voicemail.BoxInput{Box: voicemail.Box{Number: "8001", Kind: voicemail.KindAgent, Extensions: []string{"201"}}, PIN: "1234"}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.InboundRoutes[1].Target = ccconf.Target{Kind: ccconf.TargetVoicemail, Mailbox: "8001"}
	r := newRigWith(t, cfg, nil, cc.Options{Voicemail: vm})
	lamps.mu.Lock()
	lamps.sw = r.sw
	lamps.mu.Unlock()

	co := r.ring("fxo2", "13800138000")
	r.untilAnswered(co)
	recordCO(co, 20*time.Second)
	r.run(2 * time.Second) // the greeting and the beep
	co.Play(sine(480, 6000, 24000))
	r.run(10 * time.Second) // three seconds said, then silence ends it
	if got := heardPrompts(co.Heard()); !slices.Equal(got, []string{voicemail.PromptGreeting, voicemail.PromptSaved}) {
		t.Fatalf("the caller heard %v", got)
	}
	msgs, err := vm.Messages("8001")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages %v %v", msgs, err)
	}
	m := msgs[0]
	// Three seconds said, after the wait from the beep to the caller's
	// first word, and a short tail of the silence that ended it.
	if m.Caller != "13800138000" || m.Duration < 3*time.Second || m.Duration > 5*time.Second {
		t.Fatalf("message %+v", m)
	}
	p, _, err := vm.OpenMessage("8001", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := readAllClose(p)
	x, err := wav.Decode(raw)
	if err != nil || share(x[2000:20000], 480) < 0.5 {
		t.Fatalf("the message holds %.2f of the caller's tone (%v)", share(x[2000:20000], 480), err)
	}
	r.run(3 * time.Second)
	if w, n := lastMWI(r.phone("201").CallerID()); w != callerid.IndicatorOn || n != 1 {
		t.Fatalf("201's lamp: %v (%d); decoded %+v", w, n, r.phone("201").CallerID())
	}

	// Retrieval from 201: *97, the PIN, 1 for new messages.
	r.dial("201", "*97")
	r.run(time.Second)
	r.keys("201", "1234#")
	r.run(4 * time.Second)
	r.phone("201").ClearHeard()
	r.keys("201", "1")
	r.run(6 * time.Second)
	heard := heardBy(r.phone("201"))
	if hears(heard, 480) != "480" && share(heard, 480) < 0.1 {
		t.Fatalf("201 did not hear the message: %s", hears(heard, 480, 1720, 1800))
	}
	r.phone("201").OnHook()
	r.run(4 * time.Second)
	if msgs, _ := vm.Messages("8001"); msgs[0].State != voicemail.StateSaved {
		t.Fatalf("the message after it was heard: %+v", msgs[0])
	}
	if w, _ := lastMWI(r.phone("201").CallerID()); w != callerid.IndicatorOff {
		t.Fatalf("201's lamp after listening: %v", w)
	}
}

func readAllClose(f interface {
	Read([]byte) (int, error)
	Close() error
}) ([]byte, error) {
	defer f.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(f)
	return b.Bytes(), err
}

var (
	_ = os.Remove
	_ = filepath.Join
)

// A caller who hangs up while still speaking leaves the message said so
// far: the call's end reaching the service before the dialogue does not
// lose it (it did: the take ended with the dialogue's cancellation).
func TestVoicemailHangupKeepsMessage(t *testing.T) {
	vm, err := voicemail.New(voicemail.Config{Dir: t.TempDir(), Store: memkv.New()})
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if _, err := vm.PutBox(voicemail.BoxInput{Box: voicemail.Box{Number: "8001", Kind: voicemail.KindGeneral}, PIN: "1234"}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.InboundRoutes[1].Target = ccconf.Target{Kind: ccconf.TargetVoicemail, Mailbox: "8001"}
	r := newRigWith(t, cfg, nil, cc.Options{Voicemail: vm})
	co := r.ring("fxo2", "13800138000")
	r.untilAnswered(co)
	r.run(2 * time.Second)
	co.Play(sine(480, 6000, 80000))
	r.run(4 * time.Second)
	if err := co.Hangup(1, 0); err != nil {
		t.Fatal(err)
	}
	r.run(10 * time.Second)
	msgs, err := vm.Messages("8001")
	if err != nil || len(msgs) != 1 || msgs[0].Duration < 3*time.Second {
		t.Fatalf("messages %+v %v", msgs, err)
	}
}
