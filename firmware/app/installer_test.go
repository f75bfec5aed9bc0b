package app

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"callbox/firmware/cli"
	"callbox/firmware/control"
)

// TestInstallerSettings: the console's (control socket's) net and time
// commands and the web API store and show the settings, refuse bad ones
// naming the field, and the factory reset asks for a code, then erases the
// box so that it starts as new.
func TestInstallerSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a, out := newApp(t, Config{Board: "sim"})
	stop := start(t, a)
	w := newWebAdmin(t, a)
	ctl := func(want int, args ...string) string {
		t.Helper()
		var o, e bytes.Buffer
		code, err := control.Run(context.Background(), control.Path(a.cfg.DataDir), args, cli.IO{Out: &o, Err: &e})
		if err != nil || code != want {
			t.Fatalf("%v: exit %d (want %d) %v\n%s%s", args, code, want, err, o.String(), e.String())
		}
		return o.String() + e.String()
	}
	ctl(0, "net", "static", "192.168.10.5/24", "192.168.10.1", "192.168.10.1")
	ctl(0, "time", "zone", "Asia/Shanghai")
	if got := ctl(0, "net"); !strings.Contains(got, "lan: static 192.168.10.5/24, gateway 192.168.10.1") {
		t.Fatalf("net: %s", got)
	}
	if got := ctl(0, "time"); !strings.Contains(got, "zone Asia/Shanghai") || !strings.Contains(got, "CST") || !strings.Contains(got, "no NTP server") {
		t.Fatalf("time: %s", got)
	}
	if got := ctl(1, "net", "static", "192.168.10.5/24", "10.0.0.1", "192.168.10.1"); !strings.Contains(got, "network.gateway") {
		t.Fatalf("bad gateway: %s", got)
	}
	var doc map[string]any
	w.do("GET", "/api/v1/installer", "", nil, http.StatusOK, &doc)
	if doc["time"].(map[string]any)["zone"] != "Asia/Shanghai" {
		t.Fatalf("web: %v", doc)
	}
	var refused map[string]any
	w.do("PUT", "/api/v1/installer", "application/json", strings.NewReader(`{"network":{"mode":"dhcp"},"time":{"zone":"Nowhere/City","ntp":[]}}`), http.StatusBadRequest, &refused)
	if refused["field"] != "time.zone" {
		t.Fatalf("web refusal: %v", refused)
	}
	w.do("PUT", "/api/v1/installer", "application/json", strings.NewReader(`{"network":{"mode":"dhcp"},"time":{"zone":"Europe/Berlin","ntp":[]}}`), http.StatusOK, &doc)
	if got := ctl(0, "net"); !strings.Contains(got, "lan: dhcp") {
		t.Fatalf("after the web change: %s", got)
	}

	// Factory reset: a wrong code does nothing but issue a new one; the
	// right one erases.
	codeRE := regexp.MustCompile(`factory-reset (\d{4})`)
	ctl(0, "factory-reset")
	msg := ctl(1, "factory-reset", "0000")
	code := codeRE.FindStringSubmatch(msg)
	if code == nil {
		t.Fatalf("no code: %s", msg)
	}
	first := a.WebAddr()
	ctl(0, "factory-reset", code[1])
	waitFor(t, "the restart", 10*time.Second, func() bool { return a.WebAddr() != "" && a.WebAddr() != first })
	waitFor(t, "a new setup code", 10*time.Second, func() bool { return strings.Count(out.String(), "setup code") >= 1 })
	if has, err := a.hasAdmin(); err != nil || has {
		t.Fatalf("after the reset: admin %v %v", has, err)
	}
	if got := ctl(0, "time"); !strings.Contains(got, "zone UTC") {
		t.Fatalf("settings survived the reset: %s", got)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
}
