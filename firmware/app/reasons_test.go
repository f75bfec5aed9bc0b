package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"callbox/firmware/installer"
	"callbox/firmware/ota"
	"callbox/webui/i18n"
)

// TestSettingReasonsTranslated: every refusal of the installer's and the
// update check's settings carries a reason code the catalogues word in
// every language, with the values it gives (no fmt complaints).
func TestSettingReasonsTranslated(t *testing.T) {
	cs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	static := func(mod func(*installer.Settings)) error {
		s := installer.Settings{Network: installer.Network{Mode: "static", Address: "192.168.1.20/24", Gateway: "192.168.1.1",
			DNS: []string{"192.168.1.1"}}, Time: installer.Time{Zone: "Asia/Shanghai"}}
		mod(&s)
		return s.Validate()
	}
	check := func(s ota.CheckSettings) error { return s.Validate() }
	errs := []error{
		static(func(s *installer.Settings) { s.Network.Mode = "ppp" }),
		static(func(s *installer.Settings) { s.Network.Mode = "dhcp" }),
		static(func(s *installer.Settings) { s.Network.Address = "192.168.1.20" }),
		static(func(s *installer.Settings) { s.Network.Address = "192.168.1.0/24" }),
		static(func(s *installer.Settings) { s.Network.Gateway = "10.0.0.1" }),
		static(func(s *installer.Settings) { s.Network.DNS = nil }),
		static(func(s *installer.Settings) { s.Network.DNS = []string{"dns.example"} }),
		static(func(s *installer.Settings) { s.Time.Zone = "../x" }),
		static(func(s *installer.Settings) { s.Time.Zone = "Mars/Olympus" }),
		static(func(s *installer.Settings) { s.Time.NTP = []string{"a", "b", "c", "d", "e"} }),
		static(func(s *installer.Settings) { s.Time.NTP = []string{"bad host"} }),
		check(ota.CheckSettings{IntervalHours: 0}),
		check(ota.CheckSettings{Enabled: true, IntervalHours: 1}),
		check(ota.CheckSettings{URL: "ftp://x", IntervalHours: 1}),
	}
	u, err := ota.Open(ota.Config{DataDir: t.TempDir(), Sim: true, Running: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	errs = append(errs, u.SetFloor("newest"))
	for i, err := range errs {
		var rc interface{ ReasonCode() (string, []any) }
		if !errors.As(err, &rc) {
			t.Errorf("%d: %v has no reason code", i, err)
			continue
		}
		code, args := rc.ReasonCode()
		for _, lang := range cs.Langs() {
			text, ok := cs[lang]["reason."+code]
			if !ok {
				t.Errorf("%v: no reason.%s in %s", err, code, lang)
				continue
			}
			if got := fmt.Sprintf(text, args...); strings.Contains(got, "%!") {
				t.Errorf("%v: reason.%s in %s formats as %q", err, code, lang, got)
			}
		}
	}
}
