package cc_test

import (
	"slices"
	"testing"
	"time"

	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
)

// The recording consent prompt per group: a caller who keys 1 for sales
// hears "this call may be recorded" before agent 1088's phone rings only
// when the group records and says so, or leaves it to the box's default
// and that is on (the configuration's, or a consent prompt the recording
// settings name). Before, the box had one switch for every recorded group.
func TestConsentPerGroup(t *testing.T) {
	const notice = "text:Your call may be recorded."
	for _, tc := range []struct {
		name       string
		boxDefault bool
		named      string // the recording settings' consent prompt
		consent    string // the group's
		records    bool
		want       string // the prompt heard, "" none
	}{
		{"default off", false, "", "", true, ""},
		{"default on", true, "", "", true, notice},
		{"default on, group off", true, "", ccconf.ConsentOff, true, ""},
		{"default off, group on", false, "", ccconf.ConsentOn, true, notice},
		{"group on, not recorded", false, "", ccconf.ConsentOn, false, ""},
		{"named prompt turns the default on", false, "welcome", "", true, "welcome"},
		{"named prompt, group off", false, "welcome", ccconf.ConsentOff, true, ""},
		{"named prompt, group on", false, "welcome", ccconf.ConsentOn, true, "welcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Settings.Consent = tc.boxDefault
			cfg.Groups[0].Recording = &tc.records
			cfg.Groups[0].Consent = tc.consent
			r := newRigWith(t, cfg, nil, cc.Options{Recorder: &memRecorder{}, Consent: func() string { return tc.named }}, mainFlow)
			r.login("1088", "202")
			co := r.ring("fxo1", "13800138000")
			r.untilAnswered(co)
			if err := co.SendDTMF("1"); err != nil {
				t.Fatal(err)
			}
			r.untilRinging("202")
			played := r.prompts.take()
			heard := ""
			for _, p := range []string{notice, "welcome"} {
				if slices.Contains(played, p) {
					heard = p
				}
			}
			if heard != tc.want {
				t.Fatalf("heard %q before the agent rang, want %q (played %q)", heard, tc.want, played)
			}
			r.answer("202")
			r.run(time.Second)
		})
	}
}
