package webui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kb"
	"callbox/telephony/crm/kv"
	"callbox/telephony/crm/workorder"
)

// recordsEnv is a server with real record packages over an in-memory store
// and the users of the seeds' desks: root (admin), boss (supervisor),
// alice (the 95598 agent), bob (the repair crew's desk), carol (another
// agent).
func recordsEnv(t testing.TB, cfg Config) (*env, *Records) {
	t.Helper()
	st := kv.NewMem()
	dir, err := crm.Open(st, crm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := kb.Open(st, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	orders, err := workorder.Open(st, workorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir.SetHistory(nil, orders, nil)
	rec := &Records{Customers: dir, KB: base, Orders: orders}
	cfg.Records = rec
	e := newEnv(t, cfg)
	for _, u := range []struct{ login, role string }{{"root", RoleAdmin}, {"boss", RoleSupervisor},
		{"alice", RoleAgent}, {"bob", RoleAgent}, {"carol", RoleAgent}} {
		e.users.add(t, u.login, u.role, u.login+"-password-1")
	}
	return e, rec
}

func (e *env) as(t testing.TB, login string) *client {
	c := e.client(t)
	c.login(login, login+"-password-1")
	return c
}

func id(m map[string]any) uint64 {
	v, _ := m["id"].(float64)
	return uint64(v)
}

func TestCustomersAPI(t *testing.T) {
	e, _ := recordsEnv(t, Config{})
	root, alice, bob := e.as(t, "root"), e.as(t, "alice"), e.as(t, "bob")

	code, m := alice.api("POST", "/api/v1/customers", map[string]any{"name": "张三", "numbers": []map[string]string{{"number": "13800138000"}}})
	wantStatus(t, "create before any category", code, http.StatusBadRequest, m)
	wantField(t, "create before any category", m, "category")
	code, m = alice.api("POST", "/api/v1/customer-categories", map[string]any{"name": "居民"})
	wantStatus(t, "agent makes a category", code, http.StatusForbidden, m)
	code, cat := root.api("POST", "/api/v1/customer-categories", map[string]any{"name": "居民"})
	wantStatus(t, "admin makes a category", code, http.StatusCreated, cat)

	code, m = alice.api("POST", "/api/v1/customers", map[string]any{"category": id(cat), "name": "张三", "company": "南京供电公司",
		"numbers": []map[string]string{{"number": "+86 138-0013-8000"}, {"number": "025-84561234-801"}}})
	wantStatus(t, "create", code, http.StatusCreated, m)
	zhang := id(m)
	code, m = alice.api("POST", "/api/v1/customers", map[string]any{"category": id(cat), "name": "李四", "private": true,
		"numbers": []map[string]string{{"number": "13900000000"}}})
	wantStatus(t, "create private", code, http.StatusCreated, m)
	li := id(m)

	code, m = bob.api("GET", "/api/v1/customers/lookup?number=8613800138000", nil)
	if code != http.StatusOK || len(m["customers"].([]any)) != 1 {
		t.Fatalf("lookup: %d %v", code, m)
	}
	code, m = bob.api("GET", "/api/v1/customers?q=zs", nil)
	if code != http.StatusOK || len(m["customers"].([]any)) != 1 {
		t.Fatalf("search zs: %d %v", code, m)
	}
	code, m = bob.api("GET", fmt.Sprintf("/api/v1/customers/%d", li), nil)
	wantStatus(t, "bob reads alice's private contact", code, http.StatusNotFound, m)
	code, m = alice.api("GET", fmt.Sprintf("/api/v1/customers/%d", li), nil)
	wantStatus(t, "alice reads her private contact", code, http.StatusOK, m)

	code, m = bob.api("PUT", fmt.Sprintf("/api/v1/customers/%d", zhang), map[string]any{"category": id(cat), "name": "张三", "version": 1,
		"numbers": []map[string]string{{"number": "bad number!"}}})
	wantStatus(t, "bad number", code, http.StatusBadRequest, m)
	wantField(t, "bad number", m, "numbers[0]")
	code, m = bob.api("PUT", fmt.Sprintf("/api/v1/customers/%d", zhang), map[string]any{"category": id(cat), "name": "张三", "version": 7})
	wantStatus(t, "stale version", code, http.StatusConflict, m)
	code, m = bob.api("DELETE", fmt.Sprintf("/api/v1/customers/%d", zhang), nil)
	wantStatus(t, "agent deletes a public contact", code, http.StatusForbidden, m)

	code, m = root.api("POST", "/api/v1/comm-types", map[string]any{"name": "咨询"})
	wantStatus(t, "comm type", code, http.StatusCreated, m)
	code, m = bob.api("POST", fmt.Sprintf("/api/v1/customers/%d/comms", zhang), map[string]any{"type": id(m), "text": "询问电费", "call": "c-1"})
	wantStatus(t, "comm", code, http.StatusCreated, m)
	code, m = alice.api("GET", fmt.Sprintf("/api/v1/customers/%d/card", zhang), nil)
	if code != http.StatusOK || len(m["comms"].([]any)) != 1 {
		t.Fatalf("card: %d %v", code, m)
	}
}

func TestRecordsUnavailable(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password-1")
	c := e.client(t)
	c.login("root", "root-password-1")
	code, m := c.api("GET", "/api/v1/customers", nil)
	wantStatus(t, "no records", code, http.StatusServiceUnavailable, m)
}

// uploadCustomers posts a file to the customer import endpoint.
func (c *client) uploadCustomers(data []byte) (int, map[string]any) {
	c.t.Helper()
	req := httptest.NewRequest("POST", "http://callbox.test/api/v1/customers/imports", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(csrfHeader, c.csrf)
	rec := c.do(req)
	m := map[string]any{}
	jsonUnmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

func TestImportAPI(t *testing.T) {
	e, rec := recordsEnv(t, Config{})
	root, boss, alice := e.as(t, "root"), e.as(t, "boss"), e.as(t, "alice")
	root.api("POST", "/api/v1/customer-categories", map[string]any{"name": "居民"})
	var csv strings.Builder
	csv.WriteString("姓名,电话,地址\n")
	for i := range 200 {
		num := fmt.Sprintf("139%08d", i)
		if i%50 == 7 {
			num = "not-a-number"
		}
		fmt.Fprintf(&csv, "客户%d,%s,南京市%d号\n", i, num, i)
	}
	code, m := alice.uploadCustomers([]byte(csv.String()))
	wantStatus(t, "agent uploads", code, http.StatusForbidden, m)
	code, p := boss.uploadCustomers([]byte(csv.String()))
	wantStatus(t, "upload", code, http.StatusCreated, p)
	if fmt.Sprint(p["columns"]) != "[name numbers address]" || p["rows"].(float64) != 201 {
		t.Fatalf("preview %v", p)
	}
	cats, _ := rec.Customers.Categories()
	opts := map[string]any{"columns": p["columns"], "header": true, "category": cats[0].ID}
	path := "/api/v1/customers/imports/" + p["id"].(string)
	code, m = boss.api("POST", path, map[string]any{"options": opts, "dry_run": true})
	if code != http.StatusOK || len(m["bad_rows"].([]any)) != 4 || m["created"].(float64) != 196 {
		t.Fatalf("dry run: %d %v", code, m)
	}
	code, m = boss.api("POST", path, map[string]any{"options": opts})
	wantStatus(t, "import with bad rows", code, http.StatusBadRequest, m)
	if n, _ := rec.Customers.Stats(); n != 0 {
		t.Fatalf("a refused import stored %d customers", n)
	}
	opts["skip_bad"] = true
	code, m = boss.api("POST", path, map[string]any{"options": opts})
	if code != http.StatusOK || m["created"].(float64) != 196 || m["committed"] != true {
		t.Fatalf("import: %d %v", code, m)
	}
	code, m = boss.api("POST", path, map[string]any{"options": opts})
	wantStatus(t, "the upload is gone after the import", code, http.StatusNotFound, m)

	// Export as a workbook, read it back with excelize, import it again
	// merging: nothing new.
	req := httptest.NewRequest("GET", "http://callbox.test/api/v1/customers/export?format=xlsx", nil)
	res := boss.do(req)
	if res.Code != http.StatusOK {
		t.Fatalf("export: %d %s", res.Code, res.Body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetName(0))
	if len(rows) != 197 || rows[0][2] != "name" {
		t.Fatalf("exported %d rows, header %q", len(rows), rows[0])
	}
	code, p = boss.uploadCustomers(res.Body.Bytes())
	wantStatus(t, "upload xlsx", code, http.StatusCreated, p)
	code, m = boss.api("POST", "/api/v1/customers/imports/"+p["id"].(string),
		map[string]any{"options": map[string]any{"columns": p["columns"], "header": true, "duplicates": "merge"}})
	if code != http.StatusOK || m["created"].(float64) != 0 || m["merged"].(float64) != 196 {
		t.Fatalf("reimport merging: %d %v", code, m)
	}
	res = boss.do(httptest.NewRequest("GET", "http://callbox.test/api/v1/customers/export?format=csv", nil))
	if !strings.HasPrefix(res.Body.String(), "\ufeffid,category,name") || strings.Count(res.Body.String(), "\r\n") != 197 {
		t.Fatalf("csv export: %.200s", res.Body.String())
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestRepairFlowAPI walks seed 004's repair flow through the API with the
// refusals of each step's permissions, the acknowledgement reaching the
// creator and the banner count on the assignee's pages.
func TestRepairFlowAPI(t *testing.T) {
	e, rec := recordsEnv(t, Config{})
	boss, alice, bob, carol := e.as(t, "boss"), e.as(t, "alice"), e.as(t, "bob"), e.as(t, "carol")
	code, g := boss.api("POST", "/api/v1/workorder-groups", map[string]any{"name": "鼓楼抢修", "members": []string{"bob"}})
	wantStatus(t, "group", code, http.StatusCreated, g)
	var cat uint64
	cats, _ := rec.Orders.Categories()
	for _, c := range cats {
		if c.Name == "低压故障" {
			cat = c.ID
		}
	}
	code, o := alice.api("POST", "/api/v1/workorders", map[string]any{"category": cat, "description": "客户家中停电",
		"contact": "张三", "phone": "13800138000", "group": id(g),
		"fields": map[string]string{"place": "城区", "bureau": "鼓楼供电局", "address": "中山北路1号"}})
	wantStatus(t, "open", code, http.StatusCreated, o)
	oid := id(o)
	path := fmt.Sprintf("/api/v1/workorders/%d", oid)

	_, m := bob.api("GET", "/api/v1/pending", nil)
	if m["total"].(float64) != 1 {
		t.Fatalf("bob pending %v", m)
	}
	page := bob.get("/customers").Body.String()
	if !strings.Contains(page, "You have 1 unprocessed items.") {
		t.Fatalf("bob's pages lack the banner:\n%s", page)
	}
	code, m = carol.api("POST", path+"/ack", nil)
	wantStatus(t, "carol acks", code, http.StatusForbidden, m)
	code, m = bob.api("POST", path+"/ack", nil)
	wantStatus(t, "bob acks", code, http.StatusOK, m)
	_, m = alice.api("GET", "/api/v1/notices", nil)
	if ns := m["notices"].([]any); len(ns) != 1 || ns[0].(map[string]any)["kind"] != "ack" {
		t.Fatalf("alice's notices %v", m)
	}

	_, v := bob.api("GET", path, nil)
	if steps := v["steps"].([]any); len(steps) != 1 || steps[0].(map[string]any)["id"] != "dispatch" {
		t.Fatalf("bob may take %v", v["steps"])
	}
	_, v = alice.api("GET", path, nil)
	if steps := v["steps"].([]any); len(steps) != 0 {
		t.Fatalf("alice may take %v in state accepted", steps)
	}
	for _, s := range []struct {
		who    *client
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
		{boss, "revisit", map[string]string{"satisfaction": "不满意", "complaint": "抢修太慢"}, http.StatusOK},
		{boss, "close", nil, http.StatusOK},
		{boss, "close", nil, http.StatusConflict},
	} {
		code, m := s.who.api("POST", path+"/steps/"+s.step, map[string]any{"values": s.values})
		wantStatus(t, s.step, code, s.want, m)
		if s.step == "revisit" && code == http.StatusOK && m["opened"] == nil {
			t.Fatalf("the revisit complaint opened nothing: %v", m)
		}
	}
	_, v = alice.api("GET", path, nil)
	if v["order"].(map[string]any)["state"] != "closed" || len(v["trail"].([]any)) != 10 {
		t.Fatalf("after the flow: %v", v)
	}
	_, m = bob.api("GET", "/api/v1/pending", nil)
	if m["orders"].(float64) != 0 {
		t.Fatalf("bob pending after close %v", m)
	}
}

// TestRecordsPages renders every records page for each role.
func TestRecordsPages(t *testing.T) {
	e, rec := recordsEnv(t, Config{})
	root := e.as(t, "root")
	root.api("POST", "/api/v1/customer-categories", map[string]any{"name": "居民"})
	root.api("POST", "/api/v1/comm-types", map[string]any{"name": "咨询"})
	root.api("PUT", "/api/v1/customer-fields/account", map[string]any{"label": "户号", "type": "text"})
	_, cu := root.api("POST", "/api/v1/customers", map[string]any{"category": 1, "name": "张三", "numbers": []map[string]string{{"number": "13800138000"}}})
	_, kc := root.api("POST", "/api/v1/kb/categories", map[string]any{"name": "停电"})
	_, art := root.api("POST", "/api/v1/kb/articles", map[string]any{"category": id(kc), "title": "停电怎么办", "body": "# 步骤\n- 查询**停电信息**"})
	cats, _ := rec.Orders.Categories()
	_, o := root.api("POST", "/api/v1/workorders", map[string]any{"category": cats[1].ID, "description": "查询电费"})
	for _, login := range []string{"root", "boss", "alice"} {
		c := e.as(t, login)
		for _, p := range []string{"/customers", "/customers?q=zs", fmt.Sprintf("/customers/%d", id(cu)), "/kb", "/kb?q=停电",
			fmt.Sprintf("/kb/%d", id(art)), "/workorders", "/workorders/new", fmt.Sprintf("/workorders/new?category=%d", cats[5].ID),
			fmt.Sprintf("/workorders/%d", id(o))} {
			res := c.getURL(p)
			if res.Code != http.StatusOK {
				t.Errorf("%s GET %s: %d\n%s", login, p, res.Code, res.Body)
			}
		}
		for _, p := range []string{"/customers/import", "/customers/settings"} {
			res := c.get(p)
			want := http.StatusOK
			if login == "alice" || (login == "boss" && p == "/customers/settings") {
				want = http.StatusForbidden
			}
			if res.Code != want {
				t.Errorf("%s GET %s: %d, want %d", login, p, res.Code, want)
			}
		}
	}
	body := root.get(fmt.Sprintf("/kb/%d", id(art))).Body.String()
	if !strings.Contains(body, "<strong>停电信息</strong>") {
		t.Errorf("article formatting:\n%s", body)
	}
}

// multipartFile posts a file as the import page's form does.
func (c *client) multipartFile(path, name string, data []byte) *httptest.ResponseRecorder {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField(csrfField, c.csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req := httptest.NewRequest("POST", "http://callbox.test"+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// TestRecordsForms drives the pages' forms without JavaScript: a customer
// saved and refused, the import page's three steps, a work order step.
func TestRecordsForms(t *testing.T) {
	e, rec := recordsEnv(t, Config{})
	root, boss, alice := e.as(t, "root"), e.as(t, "boss"), e.as(t, "alice")
	res := root.form("/customers/settings", url.Values{"form": {"category"}, "name": {"居民"}})
	if res.Code != http.StatusSeeOther {
		t.Fatalf("category form: %d %s", res.Code, res.Body)
	}
	res = alice.form("/customers", url.Values{"category": {"1"}, "name": {"王五"}, "numbers": {"13700000001\nnot a number"}})
	if res.Code != http.StatusBadRequest || !strings.Contains(res.Body.String(), `class="wide bad"`) {
		t.Fatalf("bad number form: %d %s", res.Code, res.Body)
	}
	res = alice.form("/customers", url.Values{"category": {"1"}, "name": {"王五"}, "numbers": {"13700000001\n025-84561234"}})
	if res.Code != http.StatusSeeOther || !strings.HasPrefix(res.Header().Get("Location"), "/customers/") {
		t.Fatalf("customer form: %d %s", res.Code, res.Body)
	}
	if got, _ := rec.Customers.Lookup(crm.Actor{Login: "x", Role: RoleAgent}, "02584561234"); len(got) != 1 {
		t.Fatalf("the form's customer: %v", got)
	}

	csv := "姓名,电话\n甲,13800000001\n乙,bad\n丙,13800000003\n"
	res = alice.multipartFile("/customers/import", "c.csv", []byte(csv))
	if res.Code != http.StatusForbidden {
		t.Fatalf("agent's import page: %d", res.Code)
	}
	res = boss.multipartFile("/customers/import", "c.csv", []byte(csv))
	page := res.Body.String()
	if res.Code != http.StatusOK || !strings.Contains(page, `name="col1"`) {
		t.Fatalf("upload page: %d %s", res.Code, page)
	}
	upID := regexp.MustCompile(`name="id" value="([0-9a-f]+)"`).FindStringSubmatch(page)[1]
	vals := url.Values{"id": {upID}, "header": {"on"}, "category": {"1"}, "duplicates": {"skip"}, "col0": {"name"}, "col1": {"numbers"}, "dry_run": {"1"}}
	res = boss.form("/customers/import", vals)
	if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), "<td>3</td><td>numbers[0]</td>") {
		t.Fatalf("dry run page: %d %s", res.Code, res.Body)
	}
	vals.Del("dry_run")
	vals.Set("commit", "1")
	res = boss.form("/customers/import", vals)
	if res.Code != http.StatusBadRequest {
		t.Fatalf("import with a bad row and no skip: %d", res.Code)
	}
	vals.Set("skip_bad", "on")
	res = boss.form("/customers/import", vals)
	if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), "Imported") {
		t.Fatalf("import page: %d %s", res.Code, res.Body)
	}
	if n, _ := rec.Customers.Stats(); n != 3 {
		t.Fatalf("%d customers after the import, want 3", n)
	}

	res = alice.form("/kb", url.Values{"category": {"1"}, "title": {"x"}, "body": {"y"}})
	if res.Code != http.StatusForbidden {
		t.Fatalf("agent writes the knowledge base: %d", res.Code)
	}
}
