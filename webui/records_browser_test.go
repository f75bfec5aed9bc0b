package webui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/telephony/crm"
	"callbox/telephony/crm/workorder"
)

// hasForm reports whether the page has a form posting to action.
func (b *browser) hasForm(action string) bool {
	b.t.Helper()
	return string(b.eval(fmt.Sprintf("document.querySelector('form[action=%q]') !== null", action))) == "true"
}

// TestBrowserRepairFlow walks seed 004's fault-repair flow in a real
// browser, through the pages' forms, as the three desks would: alice (the
// 95598 agent) opens the order for the repair crew's group; bob (the
// crew's desk) sees the banner, acknowledges, dispatches, arrives and
// finishes; alice replies to the customer; boss (the supervisor) revisits,
// the customer's complaint opening a linked complaint order, and closes.
// Each page offers only the steps its user may take, and a step forged by
// another user is refused (403).
func TestBrowserRepairFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	e, rec := recordsEnv(t, Config{Addr: "127.0.0.1:0"})
	crew, err := rec.Orders.SaveGroup(crm.Actor{Login: "boss", Role: RoleSupervisor}, workorder.Group{Name: "鼓楼抢修班", Members: []string{"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	var cat uint64
	cats, _ := rec.Orders.Categories()
	for _, c := range cats {
		if c.Name == "低压故障" {
			cat = c.ID
		}
	}
	box := startServer(t, e)
	b := startBrowser(t, "--lang=zh-CN", "--accept-lang=zh-CN")
	shots := os.Getenv("CALLBOX_SCREENSHOTS")

	login := func(who string) {
		t.Helper()
		b.navigate(box + "/lang/zh-CN?next=/login")
		b.submitForm("/login", map[string]string{"login": who, "password": who + "-password-1"})
	}
	logout := func() {
		t.Helper()
		b.submitForm("/logout", nil)
	}
	text := func(sel string) string {
		t.Helper()
		return b.evalString(fmt.Sprintf("(document.querySelector(%q) || {textContent: ''}).textContent.trim()", sel))
	}
	shot := func(name string) {
		if shots != "" {
			var res struct {
				Data []byte `json:"data"`
			}
			b.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &res)
			path := filepath.Join(shots, name+".png")
			if err := os.WriteFile(path, res.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path)
		}
	}

	// alice opens the order from the new-order page.
	login("alice")
	b.navigate(fmt.Sprintf("%s/workorders/new?category=%d", box, cat))
	b.submitForm("/workorders", map[string]string{"contact": "张三", "phone": "13800138000", "description": "客户家中停电",
		"f_place": "城区", "f_bureau": "鼓楼供电局", "f_address": "中山北路1号", "group": fmt.Sprint(crew.ID)})
	loc := b.evalString("location.pathname")
	if !strings.HasPrefix(loc, "/workorders/") || text("#state") != "已受理" {
		t.Fatalf("after opening: at %s, state %q\n%s", loc, text("#state"), b.evalString("document.body.innerText"))
	}
	order := loc
	if b.hasForm(order + "/steps/dispatch") {
		t.Fatal("alice is offered the crew's dispatch step")
	}
	// A dispatch forged by alice is refused.
	status := b.evaluate(fmt.Sprintf(`fetch(%q, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
		body: "csrf_token=" + encodeURIComponent(document.querySelector("input[name=csrf_token]").value) + "&v_crew=x"}).then(r => r.status)`,
		order+"/steps/dispatch"), true)
	if string(status) != "403" {
		t.Fatalf("alice's forged dispatch: %s, want 403", status)
	}
	logout()

	// bob's desk: the banner, the receipt, the crew's three steps.
	login("bob")
	if got := text("p.pending"); got != "您有 1 个未处理事件。" {
		t.Fatalf("bob's banner %q", got)
	}
	shot("workorder-banner-zh")
	b.navigate(box + order)
	if b.hasForm(order+"/steps/reply") || !b.hasForm(order+"/ack") {
		t.Fatal("bob's page offers the wrong actions")
	}
	b.submitForm(order+"/ack", nil)
	b.submitForm(order+"/steps/dispatch", map[string]string{"v_crew": "王师傅", "v_vehicle": "苏A12345"})
	if text("#state") != "已派工" {
		t.Fatalf("after dispatch: %q %s", text("#state"), text("p.error"))
	}
	b.submitForm(order+"/steps/arrive", map[string]string{"v_ownership": "客户", "v_situation": "表后线烧断"})
	b.submitForm(order+"/steps/repair", map[string]string{"v_result": ""})
	if text("p.error") == "" || text("#state") != "正在现场抢修" {
		t.Fatalf("repair without its required result: state %q, error %q", text("#state"), text("p.error"))
	}
	b.submitForm(order+"/steps/repair", map[string]string{"v_result": "更换表后线"})
	if text("#state") != "抢修完成" || b.hasForm(order+"/steps/reply") {
		t.Fatalf("after repair: %q", text("#state"))
	}
	logout()

	// alice hears of the receipt and replies to the customer.
	login("alice")
	b.navigate(box + "/workorders")
	if !strings.Contains(text("ul.notices"), "bob 已确认接收") {
		t.Fatalf("alice's notices: %q", text("ul.notices"))
	}
	b.navigate(box + order)
	if b.hasForm(order + "/steps/revisit") {
		t.Fatal("alice is offered the supervisor's revisit")
	}
	b.submitForm(order+"/steps/reply", map[string]string{"v_reply": "已修复，请确认"})
	logout()

	// boss revisits: the complaint opens a linked order; then closes.
	login("boss")
	b.navigate(box + order)
	b.submitForm(order+"/steps/revisit", map[string]string{"v_satisfaction": "不满意", "v_complaint": "抢修太慢"})
	if !strings.Contains(text("p.notice"), "已生成工单") {
		t.Fatalf("after the revisit: notice %q, error %q", text("p.notice"), text("p.error"))
	}
	if strings.Contains(b.evalString("document.body.innerText"), "%!") {
		t.Fatalf("a message was formatted wrong:\n%s", b.evalString("document.body.innerText"))
	}
	b.submitForm(order+"/steps/close", nil)
	if text("#state") != "已关闭" {
		t.Fatalf("after close: %q", text("#state"))
	}
	rows := b.evalString(`String(document.querySelectorAll("table.trail tbody tr").length)`)
	if rows != "10" {
		t.Fatalf("trail has %s rows, want 10", rows)
	}
	if strings.Contains(b.evalString("document.body.innerText"), "%!") {
		t.Fatalf("a message was formatted wrong:\n%s", b.evalString("document.body.innerText"))
	}
	shot("workorder-closed-zh")
	open, err := rec.Orders.List(crm.Actor{}, workorder.Filter{Open: true})
	if err != nil || len(open) != 1 || open[0].Links[0].Kind != workorder.LinkComplaintOf {
		t.Fatalf("open orders after the flow: %+v %v", open, err)
	}
}
