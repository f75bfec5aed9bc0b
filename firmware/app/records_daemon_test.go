package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/firmware/store"
	"callbox/telephony/cc"
)

// bootRecordsDaemon runs the whole daemon on the sim board with the test
// PBX in dir, and returns it with the admin's web client: a new box is set
// up through the setup code, a box already set up is logged into; stop
// stops it.
func bootRecordsDaemon(t *testing.T, dir string, fresh bool) (a *App, admin *webClient, stop func() (time.Duration, error)) {
	t.Helper()
	a, out := newApp(t, Config{DataDir: dir, Board: "sim", SIPAddr: "127.0.0.1:0", NoWatchdog: true,
		RTPMin: 27000, RTPMax: 27399, Import: writePBX(t, testPBX())})
	stop = start(t, a)
	if fresh {
		return a, adminClient(t, a, out), stop
	}
	return a, loginClient(t, a, "boss", "Kettle-Drum-42"), stop
}

// loginClient is a web client of a logged in as login, reading English
// (the box speaks zh-CN unless asked).
func loginClient(t *testing.T, a *App, login, password string) *webClient {
	t.Helper()
	c := loginAs(t, "http://"+a.WebAddr(), login, password)
	c.lang = "en"
	return c
}

// deskPassword is each desk user's password.
var deskPassword = map[string]string{"alice": "Kettle-Lamp-31", "bob": "Copper-Wire-58", "sue": "Garden-Gate-74"}

func idOf(m map[string]any) uint64 {
	v, _ := m["id"].(float64)
	return uint64(v)
}

// TestRecordsThroughDaemon: a user's day with the customer records on the
// running box, through its REST API and its bbolt store. The admin makes
// the users, a customer category and a communication type; an agent saves
// a customer (refused before any category exists); a call from the
// customer's number into the box, answered at an extension, is on the
// customer's card, found by the number in another written form and by
// pinyin; a knowledge-base article is found by a Chinese phrase; the seed's
// repair flow is walked by the agent, the crew's desk and the supervisor
// with each wrong hand refused, the revisit complaint opening a linked
// order; a call-centre callback linked to the order shows its recording,
// once kept, on the order and the card; and an enquiry closes on saving. After a restart of the daemon on
// the same store everything is still there.
func TestRecordsThroughDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon in real time with sockets")
	}
	dir := t.TempDir()
	a, admin, stop := bootRecordsDaemon(t, dir, true)
	users := map[string]string{"alice": "agent", "bob": "agent", "sue": "supervisor"}
	for login, role := range users {
		admin.call("POST", "/api/v1/users", map[string]any{"login": login, "role": role, "password": deskPassword[login]}, http.StatusCreated)
	}
	alice := loginClient(t, a, "alice", deskPassword["alice"])
	bob := loginClient(t, a, "bob", deskPassword["bob"])
	sue := loginClient(t, a, "sue", deskPassword["sue"])

	// Customers: the box is in Nanjing (local numbers take 025), a
	// category comes first, then the customer with two numbers.
	admin.call("PUT", "/api/v1/customer-settings", map[string]any{"local_area": "025"}, http.StatusOK)
	customer := map[string]any{"name": "张三", "company": "南京供电公司", "address": "中山北路1号",
		"numbers": []map[string]string{{"number": "+86 138-0013-8000"}, {"number": "025-84561234"}}}
	if st, m := alice.try("POST", "/api/v1/customers", customer); st != http.StatusBadRequest || m["field"] != "category" {
		t.Fatalf("a customer before any category: %d %v", st, m)
	}
	alice.call("POST", "/api/v1/customer-categories", map[string]any{"name": "居民"}, http.StatusForbidden)
	cat := admin.call("POST", "/api/v1/customer-categories", map[string]any{"name": "居民"}, http.StatusCreated)
	customer["category"] = idOf(cat)
	zhang := idOf(alice.call("POST", "/api/v1/customers", customer, http.StatusCreated))

	// A call from the customer's mobile over the exchange line, answered
	// at 203 (the trunk's default).
	sb := a.livePorts().Sim()
	if sb == nil {
		t.Fatal("no simulated board")
	}
	co, p := sb.CO("fxo1"), sb.Phone("fxs3")
	msg := callerid.Message{Format: callerid.MDMF, Time: "12071300", Number: "13800138000", Name: "ZHANG SAN"}
	if err := co.Ring(si3050sim.Call{CallerID: &msg}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "203 ringing with the caller's number", func() bool { return len(p.CallerID()) > 0 && p.Ringing() })
	p.OffHook()
	eventually(t, 3*time.Second, "the box answering the line", co.Answered)
	time.Sleep(300 * time.Millisecond)
	p.OnHook()
	call := cdrFrom(t, a, "13800138000")
	eventually(t, 3*time.Second, "the line released", func() bool { return !co.BoxOffHook() })

	// The screen-pop: lookup by the number as the exchange wrote it, and
	// in international form, and the office number dialled locally;
	// search by pinyin initials.
	for _, n := range []string{"13800138000", "008613800138000", "84561234"} {
		m := bob.call("GET", "/api/v1/customers/lookup?number="+url.QueryEscape(n), nil, http.StatusOK)
		if list := m["customers"].([]any); len(list) != 1 || idOf(list[0].(map[string]any)) != zhang {
			t.Fatalf("lookup %s: %v", n, m)
		}
	}
	if m := bob.call("GET", "/api/v1/customers?q=zs", nil, http.StatusOK); len(m["customers"].([]any)) != 1 {
		t.Fatalf("search zs: %v", m)
	}

	// A communication type and a record of this call.
	ct := admin.call("POST", "/api/v1/comm-types", map[string]any{"name": "咨询"}, http.StatusCreated)
	bob.call("POST", fmt.Sprintf("/api/v1/customers/%d/comms", zhang),
		map[string]any{"type": idOf(ct), "text": "询问停电原因", "call": call.ID}, http.StatusCreated)

	// The knowledge base: the supervisor writes, an agent finds it by a
	// Chinese phrase without word spaces and by an English word.
	alice.call("POST", "/api/v1/kb/categories", map[string]any{"name": "停电"}, http.StatusForbidden)
	kcat := sue.call("POST", "/api/v1/kb/categories", map[string]any{"name": "停电"}, http.StatusCreated)
	sue.call("POST", "/api/v1/kb/articles", map[string]any{"category": idOf(kcat), "title": "计划停电查询",
		"body": "客户询问计划停电时，先查询停电公告，再告知恢复送电时间。\nSee the outage notice."}, http.StatusCreated)
	for _, q := range []string{"恢复送电", "outage"} {
		m := alice.call("GET", "/api/v1/kb/articles?q="+url.QueryEscape(q), nil, http.StatusOK)
		if res, _ := m["results"].([]any); len(res) != 1 {
			t.Fatalf("kb search %q: %v", q, m)
		}
	}

	// The repair flow: alice opens it for the crew's group, bob's desk.
	grp := sue.call("POST", "/api/v1/workorder-groups", map[string]any{"name": "鼓楼抢修", "members": []string{"bob"}}, http.StatusCreated)
	cats := alice.call("GET", "/api/v1/workorder-categories", nil, http.StatusOK)
	catID := map[string]uint64{}
	for _, c := range cats["categories"].([]any) {
		c := c.(map[string]any)
		catID[c["name"].(string)] = idOf(c)
	}
	if catID["低压故障"] == 0 || catID["电价咨询"] == 0 {
		t.Fatalf("the seed's categories: %v", cats)
	}
	o := alice.call("POST", "/api/v1/workorders", map[string]any{"category": catID["低压故障"], "description": "客户家中停电",
		"customer": zhang, "contact": "张三", "phone": "13800138000", "group": idOf(grp),
		"fields": map[string]string{"place": "城区", "bureau": "鼓楼供电局", "address": "中山北路1号"}}, http.StatusCreated)
	path := fmt.Sprintf("/api/v1/workorders/%d", idOf(o))
	if m := bob.call("GET", "/api/v1/pending", nil, http.StatusOK); m["total"].(float64) != 1 {
		t.Fatalf("bob's pending items: %v", m)
	}
	if page := bob.page("/customers"); !strings.Contains(page, "You have 1 unprocessed items.") {
		t.Fatalf("bob's page lacks the banner:\n%.2000s", page)
	}
	bob.call("POST", path+"/ack", nil, http.StatusOK)
	if m := alice.call("GET", "/api/v1/notices", nil, http.StatusOK); len(m["notices"].([]any)) != 1 {
		t.Fatalf("alice's acknowledgement: %v", m)
	}
	var complaint uint64
	for _, s := range []struct {
		who    *webClient
		step   string
		values map[string]string
		want   int
	}{
		{alice, "dispatch", map[string]string{"crew": "王师傅"}, http.StatusForbidden},
		{bob, "dispatch", map[string]string{}, http.StatusBadRequest},
		{bob, "dispatch", map[string]string{"crew": "王师傅", "vehicle": "苏A12345"}, http.StatusOK},
		{bob, "arrive", map[string]string{"situation": "表后线烧断"}, http.StatusOK},
		{bob, "repair", map[string]string{"result": "已更换"}, http.StatusOK},
		{bob, "reply", map[string]string{"reply": "已修复"}, http.StatusForbidden},
		{alice, "reply", map[string]string{"reply": "已修复"}, http.StatusOK},
		{alice, "revisit", map[string]string{"satisfaction": "满意"}, http.StatusForbidden},
		{sue, "revisit", map[string]string{"satisfaction": "不满意", "complaint": "抢修太慢"}, http.StatusOK},
		{sue, "close", nil, http.StatusOK},
		{sue, "close", nil, http.StatusConflict},
	} {
		m := s.who.call("POST", path+"/steps/"+s.step, map[string]any{"values": s.values}, s.want)
		if s.step == "revisit" && s.want == http.StatusOK {
			opened, _ := m["opened"].(float64)
			if complaint = uint64(opened); complaint == 0 {
				t.Fatalf("the revisit complaint opened nothing: %v", m)
			}
		}
	}
	// The supervisor calls the customer back from the order: the desk
	// links the call centre's call while it runs, the call centre notes
	// its recording in the call's fact row when it ends, and the order
	// and the customer's card show the recording.
	sue.call("POST", path+"/calls", map[string]any{"call": "cc-cb-1", "number": "13800138000"}, http.StatusOK)
	err := a.withDB(func(db *store.DB) error {
		return (&factStore{db}).PutFact(cc.Fact{Call: "cc-cb-1", Number: "13800138000", Queued: time.Now(),
			Disposition: "answered", Recording: "2026-12-07/cc-cb-1-service.wav"})
	})
	if err != nil {
		t.Fatal(err)
	}
	sue.call("POST", fmt.Sprintf("/api/v1/customers/%d/comms", zhang),
		map[string]any{"type": idOf(ct), "text": "回访不满意，已致歉", "call": "cc-cb-1", "work_order": idOf(o)}, http.StatusCreated)
	enquiry := alice.call("POST", "/api/v1/workorders", map[string]any{"category": catID["电价咨询"], "description": "询问电价",
		"customer": zhang}, http.StatusCreated)
	if enquiry["state"] != "closed" {
		t.Fatalf("the enquiry was not closed on saving: %v", enquiry)
	}

	// checkDay reads back what the day left, through c.
	checkDay := func(c *webClient, when string) {
		t.Helper()
		v := c.call("GET", path, nil, http.StatusOK)
		order := v["order"].(map[string]any)
		if order["state"] != "closed" || len(v["trail"].([]any)) != 11 {
			t.Fatalf("%s: the repair order %v", when, v)
		}
		if calls, _ := order["calls"].([]any); len(calls) != 1 || calls[0].(map[string]any)["recording"] != "2026-12-07/cc-cb-1-service.wav" {
			t.Fatalf("%s: the order's calls %v", when, order["calls"])
		}
		v = c.call("GET", fmt.Sprintf("/api/v1/workorders/%d", complaint), nil, http.StatusOK)
		if v["order"].(map[string]any)["state"] == "closed" {
			t.Fatalf("%s: the complaint order %v", when, v)
		}
		card := c.call("GET", fmt.Sprintf("/api/v1/customers/%d/card", zhang), nil, http.StatusOK)
		calls, _ := card["calls"].([]any)
		if len(calls) != 1 || calls[0].(map[string]any)["id"] != call.ID {
			t.Fatalf("%s: the card's calls %v, want %s", when, card["calls"], call.ID)
		}
		if recs, _ := card["recordings"].([]any); len(recs) != 1 || recs[0].(map[string]any)["call"] != "cc-cb-1" {
			t.Fatalf("%s: the card's recordings %v", when, card["recordings"])
		}
		if comms, _ := card["comms"].([]any); len(comms) != 2 {
			t.Fatalf("%s: the card's communications %v", when, card["comms"])
		}
		if orders, _ := card["work_orders"].([]any); len(orders) != 3 {
			t.Fatalf("%s: the card's work orders %v, want the repair, its complaint and the enquiry", when, card["work_orders"])
		}
		if missing, _ := card["missing"].([]any); len(missing) != 0 {
			t.Fatalf("%s: the card misses %v", when, missing)
		}
		if m := c.call("GET", "/api/v1/customers?q=zhangsan", nil, http.StatusOK); len(m["customers"].([]any)) != 1 {
			t.Fatalf("%s: search zhangsan: %v", when, m)
		}
		if m := c.call("GET", "/api/v1/kb/articles?q="+url.QueryEscape("停电公告"), nil, http.StatusOK); len(m["results"].([]any)) != 1 {
			t.Fatalf("%s: kb search: %v", when, m)
		}
	}
	checkDay(alice, "before the restart")

	// The same store after a restart of the daemon.
	if _, err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	b, _, _ := bootRecordsDaemon(t, dir, false)
	checkDay(loginClient(t, b, "alice", deskPassword["alice"]), "after the restart")
}
