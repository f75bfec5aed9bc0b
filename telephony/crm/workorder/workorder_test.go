package workorder

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kv"
)

var (
	admin = crm.Actor{Login: "root", Role: crm.RoleAdmin}
	boss  = crm.Actor{Login: "boss", Role: crm.RoleSupervisor}
	alice = crm.Actor{Login: "alice", Role: crm.RoleAgent} // the 95598 desk agent who takes the call
	bob   = crm.Actor{Login: "bob", Role: crm.RoleAgent}   // the repair desk of the bureau
	carol = crm.Actor{Login: "carol", Role: crm.RoleAgent} // another agent, not in the crew's group
)

func newService(t testing.TB) *Service {
	t.Helper()
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s, err := Open(kv.NewMem(), Options{Now: func() time.Time { clock = clock.Add(time.Minute); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func category(t testing.TB, s *Service, path string) Category {
	t.Helper()
	parent, sub, _ := strings.Cut(path, "/")
	cs, _ := s.Categories()
	var pid uint64
	for _, c := range cs {
		if c.Parent == 0 && c.Name == parent {
			pid = c.ID
		}
	}
	for _, c := range cs {
		if c.Parent == pid && c.Name == sub {
			return c
		}
	}
	t.Fatalf("no category %s", path)
	return Category{}
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// TestRepairFlow walks the seed's fault-repair flow (seed 004) with the
// permissions of each step, the acknowledgement, the pending counts and the
// revisit complaint that opens a linked complaint order.
func TestRepairFlow(t *testing.T) {
	s := newService(t)
	crew, err := s.SaveGroup(boss, Group{Name: "鼓楼供电局抢修", Members: []string{"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveGroup(alice, Group{Name: "x"}); !errors.Is(err, crm.ErrForbidden) {
		t.Fatalf("agent made a group: %v", err)
	}
	cat := category(t, s, "故障报修/低压故障")
	in := NewOrder{Category: cat.ID, Description: "客户家中停电", Contact: "张三", Phone: "13800138000", Customer: 42,
		Fields: map[string]string{"place": "城区", "bureau": "鼓楼供电局"}}
	_, err = s.Create(alice, in)
	var fe *crm.FieldError
	if !errors.As(err, &fe) || fe.Field != "fields.address" {
		t.Fatalf("order without the 大类's required 故障地址: %v", err)
	}
	in.Fields["address"] = "南京市中山北路1号"
	in.Group = crew.ID
	in.Due = time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	o, err := s.Create(alice, in)
	if err != nil {
		t.Fatal(err)
	}
	if o.State != "accepted" || o.Lifecycle != LifecycleRepair || o.Title != "低压故障 · 张三" {
		t.Fatalf("created %+v", o)
	}
	if p, _ := s.PendingFor("bob"); p.Orders != 1 {
		t.Fatalf("bob (in the crew's group) has %+v pending", p)
	}
	if p, _ := s.PendingFor("carol"); p.Total() != 0 {
		t.Fatalf("carol has %+v pending", p)
	}

	// The crew's desk acknowledges: alice, the creator, is told.
	wantErr(t, "carol acknowledges", func() error { _, err := s.Ack(carol, o.ID); return err }(), crm.ErrForbidden)
	if o, err = s.Ack(bob, o.ID); err != nil || o.AckedBy != "bob" {
		t.Fatalf("ack: %+v %v", o, err)
	}
	ns, _ := s.Notices("alice")
	if len(ns) != 1 || ns[0].Kind != NoticeAck || ns[0].By != "bob" || ns[0].Order != o.ID {
		t.Fatalf("alice's notices: %+v", ns)
	}
	if p, _ := s.PendingFor("alice"); p.Notices != 1 {
		t.Fatalf("alice pending %+v", p)
	}
	s.MarkRead("alice")
	if p, _ := s.PendingFor("alice"); p.Notices != 0 {
		t.Fatalf("alice pending after reading %+v", p)
	}

	step := func(who crm.Actor, id string, vals map[string]string) (Order, uint64, error) {
		return s.Take(who, o.ID, id, 0, vals)
	}
	for _, tc := range []struct {
		who    crm.Actor
		step   string
		vals   map[string]string
		want   error  // nil: the step is taken
		state  string // then the order's state
		detail string
	}{
		{alice, "dispatch", map[string]string{"crew": "王师傅"}, crm.ErrForbidden, "", "the desk agent is not the crew"},
		{carol, "dispatch", map[string]string{"crew": "王师傅"}, crm.ErrForbidden, "", "nor is another agent"},
		{bob, "dispatch", map[string]string{}, crm.ErrInvalid, "", "the crew is required"},
		{bob, "arrive", nil, crm.ErrConflict, "", "not before dispatch"},
		{bob, "dispatch", map[string]string{"crew": "王师傅", "vehicle": "苏A12345"}, nil, "dispatched", ""},
		{bob, "arrive", map[string]string{"ownership": "客户", "situation": "表后线烧断"}, nil, "on_site", ""},
		{bob, "repair", map[string]string{"result": "更换表后线"}, nil, "repaired", ""},
		{bob, "reply", map[string]string{"reply": "已修复"}, crm.ErrForbidden, "", "the crew does not reply to the customer"},
		{alice, "reply", map[string]string{"reply": "已修复，请确认"}, nil, "replied", ""},
		{alice, "revisit", map[string]string{"satisfaction": "满意"}, crm.ErrForbidden, "", "only the supervisor revisits"},
		{boss, "revisit", map[string]string{"satisfaction": "很好"}, crm.ErrInvalid, "", "not a choice"},
		{boss, "revisit", map[string]string{"satisfaction": "不满意", "complaint": "抢修太慢"}, nil, "revisited", ""},
		{alice, "close", nil, crm.ErrForbidden, "", "only the supervisor closes"},
		{boss, "close", nil, nil, "closed", ""},
		{boss, "close", nil, crm.ErrConflict, "", "closed stays closed"},
	} {
		got, opened, err := step(tc.who, tc.step, tc.vals)
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Fatalf("%s takes %s (%s): %v, want %v", tc.who.Login, tc.step, tc.detail, err, tc.want)
			}
			continue
		}
		if err != nil || got.State != tc.state {
			t.Fatalf("%s takes %s: state %q, %v; want %q", tc.who.Login, tc.step, got.State, err, tc.state)
		}
		if tc.step == "revisit" {
			if opened == 0 {
				t.Fatal("the revisit complaint opened no order")
			}
			c, err := s.Get(opened)
			if err != nil || c.State != "accepted" || c.Description != "抢修太慢" || c.Customer != 42 ||
				!slices.Contains(c.Links, Link{Kind: LinkComplaintOf, Order: o.ID}) {
				t.Fatalf("complaint order %+v %v", c, err)
			}
			if !slices.Contains(got.Links, Link{Kind: LinkComplaint, Order: opened}) {
				t.Fatalf("the repair order does not link its complaint: %+v", got.Links)
			}
		}
		o = got
	}
	if o.Steps["dispatch"]["crew"] != "王师傅" || o.Steps["dispatch"]["vehicle"] != "苏A12345" || o.Steps["dispatch"]["time"] == "" {
		t.Errorf("dispatch recorded %v", o.Steps["dispatch"])
	}
	if o.Closed.IsZero() {
		t.Error("closed order has no close time")
	}
	if p, _ := s.PendingFor("bob"); p.Orders != 0 {
		t.Errorf("bob still has %+v pending after the close", p)
	}
	trail, _ := s.Trail(o.ID)
	var actions []string
	for _, a := range trail {
		actions = append(actions, a.Action+":"+a.Step+":"+a.Actor)
	}
	want := []string{"create::alice", "assign::alice", "ack::bob", "step:dispatch:bob", "step:arrive:bob", "step:repair:bob",
		"step:reply:alice", "step:revisit:boss", "link::boss", "step:close:boss"}
	if !slices.Equal(actions, want) {
		t.Errorf("trail\n got %q\nwant %q", actions, want)
	}
	refs, _ := s.CustomerOrders(42, 10)
	if len(refs) != 2 || refs[1].State != "已关闭" || refs[0].State != "已受理" {
		t.Errorf("customer 42's orders: %+v", refs)
	}
}

func TestEnquiryClosedAtOnce(t *testing.T) {
	s := newService(t)
	cat := category(t, s, "信息咨询/电价咨询")
	o, err := s.Create(alice, NewOrder{Category: cat.ID, Description: "咨询居民阶梯电价", Group: 0})
	if err != nil {
		t.Fatal(err)
	}
	if o.State != "closed" || o.Closed.IsZero() {
		t.Fatalf("enquiry %+v", o)
	}
	open, _ := s.List(alice, Filter{Open: true})
	if len(open) != 0 {
		t.Errorf("an enquiry is on the open list: %+v", open)
	}
	all, _ := s.List(alice, Filter{})
	if len(all) != 1 {
		t.Errorf("list: %+v", all)
	}
	parent := category(t, s, "信息咨询/电价咨询").Parent
	if _, err := s.Create(alice, NewOrder{Category: parent, Description: "x"}); !errors.Is(err, crm.ErrInvalid) {
		t.Errorf("order on a 大类 with 小类: %v", err)
	}
}

func TestAssignAndEdit(t *testing.T) {
	s := newService(t)
	cat := category(t, s, "用电业务受理/新装增容")
	o, err := s.Create(alice, NewOrder{Category: cat.ID, Description: "申请新装"})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "carol assigns alice's order", func() error { _, err := s.Assign(carol, o.ID, "bob", 0, time.Time{}); return err }(), crm.ErrForbidden)
	due := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	if o, err = s.Assign(alice, o.ID, "bob", 0, due); err != nil || o.Assignee != "bob" || !o.Due.Equal(due) {
		t.Fatalf("assign: %+v %v", o, err)
	}
	if ns, _ := s.Notices("bob"); len(ns) != 1 || ns[0].Kind != NoticeAssigned {
		t.Fatalf("bob's notices %+v", ns)
	}
	mine, _ := s.List(bob, Filter{Mine: true})
	if len(mine) != 1 || mine[0].ID != o.ID {
		t.Fatalf("bob's list %+v", mine)
	}
	// bob hands it on to carol; it leaves his list.
	if _, err := s.Assign(bob, o.ID, "carol", 0, due); err != nil {
		t.Fatal(err)
	}
	if mine, _ := s.List(bob, Filter{Mine: true}); len(mine) != 0 {
		t.Fatalf("bob's list after handing on %+v", mine)
	}
	desc := "申请新装，200kVA"
	if _, err := s.Update(bob, o.ID, 0, Edit{Description: &desc}); !errors.Is(err, crm.ErrForbidden) {
		t.Fatalf("bob, no longer the assignee, edits: %v", err)
	}
	o, err = s.Update(carol, o.ID, 0, Edit{Description: &desc})
	if err != nil || o.Description != desc {
		t.Fatal(o, err)
	}
	trail, _ := s.Trail(o.ID)
	last := trail[len(trail)-1]
	if last.Action != "edit" || last.Data["description"] != "申请新装 → "+desc {
		t.Errorf("edit audit %+v", last)
	}
	if _, err := s.LinkCall(carol, o.ID, CallLink{Call: "c-1", Number: "13800138000", Recording: "r-1"}); err != nil {
		t.Fatal(err)
	}
	o, _ = s.Get(o.ID)
	if len(o.Calls) != 1 || o.Calls[0].Recording != "r-1" {
		t.Errorf("calls %+v", o.Calls)
	}
}

func TestLifecycleValidation(t *testing.T) {
	ok := builtinLifecycles()[0]
	for _, tc := range []struct {
		edit  func(l *Lifecycle)
		field string
	}{
		{func(l *Lifecycle) { l.ID = "Bad" }, "id"},
		{func(l *Lifecycle) { l.Initial = "nope" }, "initial"},
		{func(l *Lifecycle) { l.States[6].Final = false }, "states"},
		{func(l *Lifecycle) { l.Steps[0].From = []string{"nope"} }, "steps[0].from[0]"},
		{func(l *Lifecycle) { l.Steps[0].From = []string{"closed"} }, "steps[0].from[0]"},
		{func(l *Lifecycle) { l.Steps[0].To = "nope" }, "steps[0].to"},
		{func(l *Lifecycle) { l.Steps[0].Who = []string{"anyone"} }, "steps[0].who[0]"},
		{func(l *Lifecycle) { l.Steps[1].ID = "dispatch" }, "steps[1].id"},
		{func(l *Lifecycle) { l.Steps[0].Fields[0].Type = "blob" }, "steps[0].fields[0].type"},
		{func(l *Lifecycle) { l.Steps[5].Opens.When = "nope" }, "steps[5].opens.when"},
	} {
		l := builtinLifecycles()[0]
		tc.edit(&l)
		err := l.Validate()
		var fe *crm.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("want an error on %s, got %v", tc.field, err)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	s := newService(t)
	if _, err := s.SaveLifecycle(alice, ok); !errors.Is(err, crm.ErrForbidden) {
		t.Fatalf("agent saved a lifecycle: %v", err)
	}
	// A lifecycle may not drop a state an open order is in.
	cat := category(t, s, "故障报修/高压故障")
	if _, err := s.Create(alice, NewOrder{Category: cat.ID, Description: "x",
		Fields: map[string]string{"place": "城区", "bureau": "b", "address": "a"}}); err != nil {
		t.Fatal(err)
	}
	smaller := builtinLifecycles()[0]
	smaller.Initial = "closed"
	smaller.States = smaller.States[6:]
	smaller.Steps = nil
	if _, err := s.SaveLifecycle(admin, smaller); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("dropping the state of an open order: %v", err)
	}
}

// FuzzLifecycle: a lifecycle read from any JSON either is refused or keeps
// the invariants the service relies on: its initial state exists, every
// step leaves non-final states it has for a state it has.
func FuzzLifecycle(f *testing.F) {
	for _, l := range builtinLifecycles() {
		b, _ := json.Marshal(l)
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x","name":"x","initial":"a","states":[{"id":"a","name":"A","final":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l Lifecycle
		if json.Unmarshal(data, &l) != nil || l.Validate() != nil {
			return
		}
		if _, ok := l.State(l.Initial); !ok {
			t.Fatalf("initial %q missing", l.Initial)
		}
		for _, st := range l.Steps {
			if _, ok := l.State(st.To); !ok {
				t.Fatalf("step %s goes to a missing state", st.ID)
			}
			for _, from := range st.From {
				if s, ok := l.State(from); !ok || s.Final {
					t.Fatalf("step %s leaves %q", st.ID, from)
				}
			}
		}
	})
}

// TestCrewContacts: the repair flow's dispatch records the crew's phone;
// the order then offers the customer's number and the crew's, named, and
// a bad phone is refused with its field.
func TestCrewContacts(t *testing.T) {
	s := newService(t)
	cat := category(t, s, "故障报修/低压故障")
	o, err := s.Create(alice, NewOrder{Category: cat.ID, Description: "客户家中停电", Contact: "张三", Phone: "13800138000",
		Fields: map[string]string{"place": "城区", "bureau": "鼓楼供电局", "address": "中山北路1号"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ phone, field string }{
		{"1390000000012345678901", "crew_phone"}, // 22 characters
		{"139abc", "crew_phone"},
		{"86+139", "crew_phone"},
		{"+", "crew_phone"},
	} {
		_, _, err := s.Take(boss, o.ID, "dispatch", 0, map[string]string{"crew": "王师傅", "crew_phone": tc.phone})
		var fe *crm.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Fatalf("crew phone %q: %v", tc.phone, err)
		}
	}
	if _, _, err := s.Take(boss, o.ID, "dispatch", 0, map[string]string{"crew": "王师傅", "crew_phone": "139-0000 0001", "vehicle": "苏A12345"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Contacts(o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Contact{{Key: ContactCustomer, Name: "张三", Number: "13800138000"},
		{Key: "steps.dispatch.crew_phone", Label: "抢修人员电话", Name: "王师傅", Number: "13900000001"}}
	if !slices.Equal(got, want) {
		t.Fatalf("contacts %+v, want %+v", got, want)
	}
	if c, err := s.Contact(o.ID, "steps.dispatch.crew_phone"); err != nil || c.Number != "13900000001" {
		t.Fatalf("the crew's contact: %+v %v", c, err)
	}
	if _, err := s.Contact(o.ID, "steps.arrive.x"); !errors.Is(err, crm.ErrInvalid) {
		t.Fatalf("an unknown contact: %v", err)
	}
	for _, n := range []string{"+8613900000001", "*50#", "01234567890123456789"} {
		if got, err := CleanPhone(n); err != nil || got != n {
			t.Errorf("CleanPhone(%q) = %q %v", n, got, err)
		}
	}
}

// TestSeedUpgradesRepairCrewPhone: a store seeded before the crew's phone
// existed gets it in its repair flow when the flow is untouched; one the
// administrator changed stays as it is.
func TestSeedUpgradesRepairCrewPhone(t *testing.T) {
	for _, changed := range []bool{false, true} {
		m := kv.NewMem()
		s, err := Open(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Seed(); err != nil {
			t.Fatal(err)
		}
		old := builtinLifecycles()[0]
		for i := range old.Steps {
			old.Steps[i].Fields = slices.DeleteFunc(old.Steps[i].Fields, func(f FieldDef) bool { return f.Key == "crew_phone" })
		}
		if changed {
			old.Name = "抢修"
		}
		if err := m.Update(func(tx kv.Tx) error {
			return kv.PutJSON(tx, BucketMeta, kv.Key{metaLifecycle}.Str(LifecycleRepair), old)
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Seed(); err != nil {
			t.Fatal(err)
		}
		ls, _ := s.Lifecycles()
		i := slices.IndexFunc(ls, func(l Lifecycle) bool { return l.ID == LifecycleRepair })
		st, _ := ls[i].Step("dispatch")
		has := slices.ContainsFunc(st.Fields, func(f FieldDef) bool { return f.Key == "crew_phone" })
		if has == changed {
			t.Errorf("changed=%v: the dispatch step's fields after the seed: %+v", changed, st.Fields)
		}
	}
}
