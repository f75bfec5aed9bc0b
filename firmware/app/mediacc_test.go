package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/firmware/backup"
	"callbox/telephony/acd"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
	"callbox/telephony/prompt"
	"callbox/telephony/recording"
	"callbox/telephony/sip/siptest"
	"callbox/telephony/voicemail"
)

// A queue call of a group that records its services, in the running box:
// the caller on the line fxo1 (500 Hz) reaches agent 1088 on the analog
// phone 202 (1300 Hz) through the menu; both talk at once, the caller
// hangs up. The recording is in the index with the service's details,
// and its file (read by sox) has the caller's tone alone in the first
// channel and the agent's alone in the second.
func TestCallCentreQueueCallRecorded(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets and runs sox")
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox not found (apt-get install sox): %v", err)
	}
	a := bootCC(t, 24800, ccTestPBX(), ccTestConfig(t)) // groups record by default
	svc, co, phone := lineCallFor1088(t, a)
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	time.Sleep(1500 * time.Millisecond)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "202 ringing", phone.Ringing)
	phone.OffHook()
	eventually(t, 5*time.Second, "1088 talking", func() bool {
		st, err := svc.ACD().Agent("1088")
		return err == nil && st.State == acd.Talking
	})
	time.Sleep(300 * time.Millisecond)
	co.Play(sine8k(500, 8000*3))
	phone.Speak(sine8k(1300, 8000*3))
	// The emulated line runs slower than the wall clock on a loaded
	// machine: wait for the file to hold the three seconds (two A-law
	// channels), not for a time.
	rec := a.mediaServices().rec
	eventually(t, 20*time.Second, "three seconds recorded", func() bool {
		list, err := rec.Search(recording.Query{Agent: "1088"})
		if err != nil || len(list) != 1 {
			return false
		}
		st, err := os.Stat(filepath.Join(a.cfg.DataDir, backup.RecordingDir, list[0].File))
		return err == nil && st.Size() >= 44+3*2*8000
	})
	if err := co.Hangup(si3050sim.BusyTone, 0); err != nil {
		t.Fatal(err)
	}
	var r recording.Record
	eventually(t, 10*time.Second, "the recording finished in the index", func() bool {
		list, err := rec.Search(recording.Query{Agent: "1088"})
		if err != nil || len(list) != 1 || list[0].State != recording.Done {
			return false
		}
		r = list[0]
		return true
	})
	phone.OnHook()
	if r.Group != "sales" || r.Customer != "02588886666" || r.Kind != "service" || r.Direction != recording.Inbound ||
		r.Duration < 3*time.Second {
		t.Fatalf("the record: %+v", r)
	}
	path := filepath.Join(a.cfg.DataDir, backup.RecordingDir, r.File)
	caller, agent := soxSamples(t, sox, path, "1"), soxSamples(t, sox, path, "2")
	if !containsTone(caller, 500) || containsTone(caller, 1300) {
		t.Errorf("the caller's channel: 500 Hz %v, 1300 Hz %v", containsTone(caller, 500), containsTone(caller, 1300))
	}
	if !containsTone(agent, 1300) || containsTone(agent, 500) {
		t.Errorf("the agent's channel: 1300 Hz %v, 500 Hz %v", containsTone(agent, 1300), containsTone(agent, 500))
	}
}

// A new message's notification in the running box: box 8001 calls its
// owner's mobile (sipp on the trunk's far end, the call going out through
// the trunk's route and its access code); the mobile
// answers and keys 1, the box plays the message, which is then heard, and
// hangs up.
func TestVoicemailNotificationCall(t *testing.T) {
	needSipp(t)
	t.Parallel()
	far := farUDP(t)
	conf := testPBX()
	conf.Trunks = append(conf.Trunks, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: far,
		Transport: pbxconf.TransportUDP, Username: "0215550100", Default: "203"})
	// The carrier's route first: the call centre dials an outside number
	// through the first route that takes it with its access code (8).
	conf.Routes = append([]pbxconf.Route{{Name: "carrier", Patterns: []string{"8X."}, Strip: 1,
		Trunks: []string{"carrier"}, CallerID: "0215550100"}}, conf.Routes...)
	a := bootCC(t, 26200, conf, ccTestConfig(t))
	mobile := startSipp(t, a.telephony().sipAddr(true), far, "mobile_press1.xml", "-i", "127.0.0.2",
		"-mp", strconv.Itoa(freeUDP(t)&^1))
	vm := a.mediaServices().vm
	if _, err := vm.PutBox(voicemail.BoxInput{PIN: "1234", Box: voicemail.Box{Number: "8001", Kind: voicemail.KindAgent,
		NotifyNumber: "13900139000"}}); err != nil {
		t.Fatal(err)
	}
	if err := vm.Deposit(wavCall{hz: 700}, "8001", voicemail.Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	if err := mobile.wait(); err != nil {
		t.Fatalf("the mobile: %v", err)
	}
	eventually(t, 5*time.Second, "the message heard", func() bool {
		n, sv, err := vm.Counts("8001")
		return err == nil && n == 0 && sv == 1
	})
}

// A message left from a SIP phone in the running box: baresip (301) dials
// *96 and box 8001 and says its recording (half a minute of speech) until
// it hangs up: the message is kept (a hang-up ends it), with 301 as the
// caller and what baresip said in it, and the box's analog phone 201 shows
// the lamp by FSK.
func TestVoicemailFromBaresip(t *testing.T) {
	if testing.Short() {
		t.Skip("app: starts baresip and opens sockets")
	}
	t.Parallel()
	a := bootCC(t, 26600, ccTestPBX(), ccTestConfig(t))
	vm := a.mediaServices().vm
	if _, err := vm.PutBox(voicemail.BoxInput{PIN: "1234", Box: voicemail.Box{Number: "8001", Kind: voicemail.KindAgent,
		Extensions: []string{"201"}}}); err != nil {
		t.Fatal(err)
	}
	// A recorded greeting, as the image ships: otherwise the first call
	// waits for speech synthesis, which under -race on a loaded machine
	// outlasts baresip's 12 s call before the beep.
	for _, lang := range []string{"zh-CN", "en"} {
		if _, err := a.Prompts().Put(voicemail.PromptGreeting, lang, sine8k(440, 4000), prompt.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	box := a.telephony().sipAddr(true)
	bs := siptest.StartBaresip(t, box, freeUDP(t), "301", "phone-a-7kq2m", 12, "/dial sip:*968001@"+box)
	var msgs []voicemail.Message
	eventually(t, 25*time.Second, "the message kept", func() bool {
		var err error
		msgs, err = vm.Messages("8001")
		return err == nil && len(msgs) == 1
	})
	bs.Stop()
	if m := msgs[0]; m.Caller != "301" || m.Duration < time.Second {
		t.Fatalf("message %+v", m)
	}
	x := messageAudio(t, vm, "8001", msgs[0].ID)
	var loud int
	for i := 0; i+80 <= len(x); i += 80 {
		var e int64
		for _, v := range x[i : i+80] {
			e += int64(v) * int64(v)
		}
		if e/80 > 100*100 {
			loud++
		}
	}
	if loud < 50 { // half a second of speech at least
		t.Fatalf("the message holds %d loud frames of %d", loud, len(x)/80)
	}
	phone := a.livePorts().Sim().Phone("fxs1")
	eventually(t, 15*time.Second, "201's lamp on", func() bool {
		for _, m := range phone.CallerID() {
			if m.Format == callerid.MDMFMWI && m.Waiting == callerid.IndicatorOn {
				return true
			}
		}
		return false
	})
}

// The call centre's prompts play the media services' names with a folder
// (vm/greeting) from the catalogue, in the other language when the
// caller's lacks it (the files the prompts once came from refused such
// names, so a voicemail caller heard silence).
func TestCataloguePromptsWithFolder(t *testing.T) {
	cat, err := prompt.Open(t.TempDir(), prompt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	greeting := sine8k(440, 4000)
	if _, err := cat.Put(voicemail.PromptGreeting, "zh-CN", greeting, prompt.Meta{}); err != nil {
		t.Fatal(err)
	}
	p := &catPrompts{cat: func() *prompt.Catalogue { return cat }, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	src, err := p.Source(ctx, ivr.Prompt{File: voicemail.PromptGreeting}, "en") // the other language's
	if err != nil {
		t.Fatal(err)
	}
	var got []int16
	f := make([]int16, 80)
	for !src.Done() {
		src.ReadFrame(f)
		got = append(got, f...)
	}
	if len(got) != len(greeting) || !hearsTone(got, 440) {
		t.Fatalf("played %d samples of the %d-sample greeting", len(got), len(greeting))
	}
	if _, err := p.Source(ctx, ivr.Prompt{File: "vm/none"}, "zh-CN"); !errors.Is(err, ivr.ErrPromptMissing) {
		t.Fatalf("a prompt neither has: %v", err)
	}
}
