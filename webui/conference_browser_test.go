package webui

import (
	"strings"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
)

// TestBrowserConferenceLive: the live conference page follows the event
// stream. A party joins (the conference service publishes it on the bus)
// and the page shows its row with no action in the page; the party
// leaves and the row goes. Before, the page changed only when reloaded.
func TestBrowserConferenceLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	bus := ccevent.New(64, nil)
	conf := newMemConf()
	pe := newPagesEnv(t, func(c *Config) {
		withMedia(c)
		c.Conferences = conf
		c.Events = busEvents{bus}
	})
	b := startBrowser(t)
	b.navigate(pe.url + "/login")
	b.submitForm("/login", map[string]string{"login": "sue", "password": "sue-password"})
	b.navigate(pe.url + "/conference")
	waitFor(t, func() bool { return bus.Subscribers() == 1 })
	rows := func() string {
		return b.evalString(`[...document.querySelectorAll("[data-live-conference] tr[data-party]")].map(r => r.dataset.party).join(" ")`)
	}
	if r := rows(); r != "1 2" {
		t.Fatalf("the page starts with parties %q", r)
	}

	b.eval(`window.stayed = "yes"; 1`)
	conf.mu.Lock()
	conf.live[0].Parties = append(conf.live[0].Parties, ConfParty{ID: 3, Number: "13900139000", Joined: time.Now()})
	conf.mu.Unlock()
	bus.Publish(ccevent.Event{Type: "conference.joined", Target: "7001", Number: "13900139000",
		Detail: map[string]string{"party": "3", "parties": "3"}})
	waitFor(t, func() bool { return rows() == "1 2 3" })
	if !strings.Contains(b.evalString(`document.querySelector("[data-live-conference]").innerText`), "13900139000") {
		t.Fatal("the new party's number is not shown")
	}

	conf.mu.Lock()
	conf.live[0].Parties = conf.live[0].Parties[:2]
	conf.mu.Unlock()
	bus.Publish(ccevent.Event{Type: "conference.left", Target: "7001", Detail: map[string]string{"party": "3", "parties": "2"}})
	waitFor(t, func() bool { return rows() == "1 2" })
	// No reload: the page's window is the one it was.
	if b.evalString(`window.stayed || ""`) != "yes" {
		t.Fatal("the page was reloaded")
	}
}
