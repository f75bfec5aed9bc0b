package app

import (
	"context"
	"io"
	"testing"
	"time"

	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/wav"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/prompt"
	"callbox/telephony/voicemail"
)

// The recording consent prompt in the running box: with the recording
// settings naming a prompt (a 1700 Hz tone here), a caller on the line who
// keys 1 for the sales group (which records its services) hears it before
// agent 1088's phone rings. Before, the setting was kept and never played.
func TestRecordingConsentPrompt(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a := bootCC(t, 27800, ccTestPBX(), ccTestConfig(t))
	if _, err := a.Prompts().Put("consent-1", "zh-CN", sine8k(1700, 8000), prompt.Meta{}); err != nil {
		t.Fatal(err)
	}
	rec := a.mediaServices().rec
	st := rec.Settings()
	st.Consent = "consent-1"
	if err := rec.SetSettings(st); err != nil {
		t.Fatal(err)
	}
	if !hearsBeforeAgent(t, a, 1700) {
		t.Fatal("the caller did not hear the consent prompt before the agent's phone rang")
	}
}

// The consent prompt as the group's own setting in the running box: the
// sales group says "on" while the box's default is off and the recording
// settings name no prompt, so the caller hears the system's notice
// (rec/notice, a 1900 Hz tone here) before agent 1088's phone rings.
// Before, a group had no say and nothing was played without a named
// prompt.
func TestRecordingConsentPerGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	c := ccTestConfig(t)
	c.Groups[0].Consent = ccconf.ConsentOn
	a := bootCC(t, 32400, ccTestPBX(), c)
	if _, err := a.Prompts().Put("rec/notice", "zh-CN", sine8k(1900, 8000), prompt.Meta{}); err != nil {
		t.Fatal(err)
	}
	if !hearsBeforeAgent(t, a, 1900) {
		t.Fatal("the caller did not hear the group's recording notice before the agent's phone rang")
	}
}

// loginAgent logs an agent in on an extension of the running box.
func loginAgent(t *testing.T, a *App, agent acd.AgentID, ext string) *cc.Service {
	t.Helper()
	svc, _ := a.CallCentre()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Login(ctx, agent, cc.Device{Extension: ext}); err != nil {
		t.Fatal(err)
	}
	return svc
}

// lineCallFor1088 logs agent 1088 in on 202 (the sim's fxs2) and rings the
// box on the line fxo1 from 02588886666.
func lineCallFor1088(t *testing.T, a *App) (*cc.Service, *si3050sim.CO, *proslicsim.Phone) {
	t.Helper()
	svc := loginAgent(t, a, "1088", "202")
	sb := a.livePorts().Sim()
	co, phone := sb.CO("fxo1"), sb.Phone("fxs2")
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "02588886666"}}); err != nil {
		t.Fatal(err)
	}
	return svc, co, phone
}

// messageAudio returns a voicemail message's audio.
func messageAudio(t *testing.T, vm *voicemail.Service, box, id string) []int16 {
	t.Helper()
	f, _, err := vm.OpenMessage(box, id)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(f)
	f.Close()
	x, derr := wav.Decode(raw)
	if err != nil || derr != nil {
		t.Fatal(err, derr)
	}
	return x
}
