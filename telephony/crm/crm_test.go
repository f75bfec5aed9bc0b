package crm

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"callbox/telephony/crm/kv"
)

var (
	admin = Actor{Login: "root", Role: RoleAdmin}
	sup   = Actor{Login: "boss", Role: RoleSupervisor}
	alice = Actor{Login: "alice", Role: RoleAgent}
	bob   = Actor{Login: "bob", Role: RoleAgent}
)

func newDir(t testing.TB) (*Directory, *kv.Mem) {
	t.Helper()
	m := kv.NewMem()
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	d, err := Open(m, Options{LocalArea: "025", Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return d, m
}

func mustCategory(t testing.TB, d *Directory, name string) Category {
	t.Helper()
	c, err := d.SaveCategory(admin, Category{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func TestCategoryFirst(t *testing.T) {
	d, _ := newDir(t)
	_, err := d.Create(alice, Customer{Name: "张三", Phones: []Phone{{Number: "13800138000"}}})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "category" {
		t.Fatalf("create before any category: %v, want a category field error", err)
	}
	if _, err := d.SaveCategory(alice, Category{Name: "居民"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("agent made a category: %v", err)
	}
	cat := mustCategory(t, d, "居民")
	if _, err := d.SaveCategory(admin, Category{Name: "居民"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate category: %v", err)
	}
	c, err := d.Create(alice, Customer{Category: cat.ID, Name: "张三", Phones: []Phone{{Number: "+86 138 0013 8000"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Phones[0].Number != "13800138000" || c.Region != "mobile" || c.Version != 1 || c.CreatedBy != "alice" {
		t.Fatalf("created %+v", c)
	}
	wantErr(t, "delete a category in use", d.DeleteCategory(admin, cat.ID), ErrConflict)
}

func TestLookupVariants(t *testing.T) {
	d, _ := newDir(t)
	cat := mustCategory(t, d, "企业")
	c, err := d.Create(alice, Customer{Category: cat.ID, Name: "南京某某公司", Phones: []Phone{
		{Number: "025-8456 1234", Label: "office"}, {Number: "13912345678"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "南京" {
		t.Errorf("region %q, want 南京 (area code 025)", c.Region)
	}
	for _, q := range []string{"02584561234", "+86 25 84561234", "008602584561234", "84561234", "+8613912345678", "013912345678", "8613912345678"} {
		got, err := d.Lookup(bob, q)
		if err != nil || len(got) != 1 || got[0].ID != c.ID {
			t.Errorf("Lookup(%q) = %v, %v", q, got, err)
		}
	}
	if got, _ := d.Lookup(bob, "13912345679"); len(got) != 0 {
		t.Errorf("a different number found %v", got)
	}
	// A number removed from the customer no longer finds it.
	c.Phones = c.Phones[:1]
	if _, err := d.Update(bob, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Lookup(bob, "13912345678"); len(got) != 0 {
		t.Errorf("removed number still finds %v", got)
	}
}

func TestPrivateContacts(t *testing.T) {
	d, _ := newDir(t)
	cat := mustCategory(t, d, "个人")
	priv, err := d.Create(alice, Customer{Category: cat.ID, Name: "王五", Private: true, Phones: []Phone{{Number: "13700000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	if priv.Owner != "alice" {
		t.Fatalf("owner %q", priv.Owner)
	}
	pub, _ := d.Create(bob, Customer{Category: cat.ID, Name: "王六", Phones: []Phone{{Number: "13700000002"}}})
	for _, who := range []Actor{bob, sup, admin} {
		if _, err := d.Get(who, priv.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s sees alice's private contact: %v", who.Login, err)
		}
		if got, _ := d.Lookup(who, "13700000001"); len(got) != 0 {
			t.Errorf("%s looks up alice's private contact", who.Login)
		}
		if res, _ := d.Search(who, "王", 10); len(res.Customers) != 1 {
			t.Errorf("%s searching 王 finds %d, want only the public one", who.Login, len(res.Customers))
		}
		wantErr(t, who.Login+" deletes a private contact", d.Delete(who, priv.ID), ErrNotFound)
	}
	if res, _ := d.Search(alice, "wang", 10); len(res.Customers) != 2 {
		t.Errorf("alice finds %d, want her private one and the public one", len(res.Customers))
	}
	wantErr(t, "agent deletes a public contact", d.Delete(alice, pub.ID), ErrForbidden)
	if err := d.Delete(sup, pub.ID); err != nil {
		t.Fatal(err)
	}
	pub2, _ := d.Create(bob, Customer{Category: cat.ID, Name: "赵七"})
	pub2.Private = true
	if _, err := d.Update(bob, pub2); !errors.Is(err, ErrInvalid) {
		t.Errorf("public made private: %v", err)
	}
	priv.Private = false
	if p, err := d.Update(alice, priv); err != nil || p.Owner != "" {
		t.Fatalf("alice publishes her contact: %+v %v", p, err)
	}
	if _, err := d.Get(bob, priv.ID); err != nil {
		t.Errorf("bob does not see the published contact: %v", err)
	}
	if err := d.Delete(alice, pub2.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("alice deleted bob's public contact: %v", err)
	}
}

func TestCustomFields(t *testing.T) {
	d, _ := newDir(t)
	cat := mustCategory(t, d, "居民")
	for _, f := range []FieldDef{
		{Key: "account", Label: "户号", Type: FieldText, Required: true, Search: true},
		{Key: "kind", Label: "用电类别", Type: FieldChoice, Choices: []string{"居民", "商业"}},
		{Key: "since", Label: "开户日期", Type: FieldDate},
		{Key: "load", Label: "容量", Type: FieldNumber},
	} {
		if _, err := d.SaveField(admin, f); err != nil {
			t.Fatal(err)
		}
	}
	base := Customer{Category: cat.ID, Name: "李四", Fields: map[string]string{"account": "3200123456"}}
	for _, tc := range []struct {
		fields map[string]string
		field  string
	}{
		{map[string]string{}, "fields.account"},
		{map[string]string{"account": "1", "kind": "工业"}, "fields.kind"},
		{map[string]string{"account": "1", "since": "2026-13-01"}, "fields.since"},
		{map[string]string{"account": "1", "load": "ten"}, "fields.load"},
		{map[string]string{"account": "1", "nope": "x"}, "fields.nope"},
	} {
		c := base
		c.Fields = tc.fields
		_, err := d.Create(alice, c)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("fields %v: %v, want an error on %s", tc.fields, err, tc.field)
		}
	}
	c, err := d.Create(alice, base)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := d.Search(bob, "3200123", 5); len(res.Customers) != 1 || res.Customers[0].ID != c.ID {
		t.Errorf("search by a searchable custom field: %+v", res)
	}
	if _, err := d.SaveField(admin, FieldDef{Key: "Bad Key", Label: "x", Type: FieldText}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad key accepted: %v", err)
	}
}

func TestVersionConflict(t *testing.T) {
	d, _ := newDir(t)
	cat := mustCategory(t, d, "c")
	c, _ := d.Create(alice, Customer{Category: cat.ID, Name: "a"})
	c1, c2 := c, c
	c1.Notes = "first"
	if _, err := d.Update(alice, c1); err != nil {
		t.Fatal(err)
	}
	c2.Notes = "second"
	wantErr(t, "stale update", func() error { _, err := d.Update(bob, c2); return err }(), ErrConflict)
}

func TestSearch(t *testing.T) {
	d, _ := newDir(t)
	cat := mustCategory(t, d, "居民")
	add := func(name, company, addr string, nums ...string) uint64 {
		var ps []Phone
		for _, n := range nums {
			ps = append(ps, Phone{Number: n})
		}
		c, err := d.Create(alice, Customer{Category: cat.ID, Name: name, Company: company, Address: addr, Phones: ps})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	zhang := add("张三", "南京供电公司", "南京市鼓楼区中山北路1号", "13800138000")
	zhangs := add("张三丰", "武当山", "湖北省十堰市", "13900001111")
	zeng := add("曾小贤", "", "", "02584561234")
	smith := add("John Smith", "Acme Ltd", "1 Main Street", "+1 415 555 0100")
	li := add("李四", "中山电器", "上海市", "13700000000")
	for _, tc := range []struct {
		q    string
		want []uint64 // the first results, in order
		not  []uint64
	}{
		{"张三", []uint64{zhang, zhangs}, nil},
		{"zhangsan", []uint64{zhang, zhangs}, nil},
		{"zs", []uint64{zhang}, nil},
		{"zsf", []uint64{zhangs}, []uint64{zhang}},
		{"zhangs", []uint64{zhang, zhangs}, nil},
		{"zengxiaoxian", []uint64{zeng}, nil},
		{"0013 8000", []uint64{zhang}, nil},
		{"8456", []uint64{zeng}, nil},
		{"+86 25 8456", []uint64{zeng}, nil},
		{"smith", []uint64{smith}, nil},
		{"ACME", []uint64{smith}, nil},
		{"main street", []uint64{smith}, nil},
		{"中山", []uint64{li, zhang}, nil}, // company before address
		{"gdgs", []uint64{zhang}, nil},   // company initials
		{"南京 张", []uint64{zhang}, []uint64{zhangs}},
		// Chinese with characters left out, within one field.
		{"南京公司", []uint64{zhang}, nil},
		{"鼓楼中山", []uint64{zhang}, nil},
		{"张丰", []uint64{zhangs}, []uint64{zhang}},
		{"湖北十堰", []uint64{zhangs}, nil},
		{"中山", []uint64{li, zhang}, nil},                         // exact matches only
		{"南号", nil, []uint64{zhang}},                             // too far apart
		{"南京中山", []uint64{zhang}, nil},                           // within the address
		{"张三 电器", nil, []uint64{zhang, zhangs, zeng, smith, li}}, // every term must match
		{"nobody", nil, []uint64{zhang, zhangs, zeng, smith, li}},
		{"  ", nil, nil},
	} {
		res, err := d.Search(bob, tc.q, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, c := range res.Customers {
			got = append(got, c.ID)
		}
		if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
			t.Errorf("Search(%q) = %v, want first %v", tc.q, got, tc.want)
		}
		for _, n := range tc.not {
			if slices.Contains(got, n) {
				t.Errorf("Search(%q) = %v, should not hold %d", tc.q, got, n)
			}
		}
	}
	// Deleting and renaming reach the index.
	if err := d.Delete(sup, zhangs); err != nil {
		t.Fatal(err)
	}
	c, _ := d.Get(bob, zhang)
	c.Name = "张叁"
	d.Update(bob, c)
	if res, _ := d.Search(bob, "张三", 10); len(res.Customers) != 0 {
		t.Errorf("after delete and rename, 张三 finds %v", res.Customers)
	}
	// The index rebuilt from the store finds the same.
	d2, err := Open(d.st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := d2.Search(bob, "zhangsan", 10); len(res.Customers) != 1 || res.Customers[0].ID != zhang {
		t.Errorf("reopened: %v", res.Customers)
	}
}

func TestCommsAndCard(t *testing.T) {
	d, _ := newDir(t)
	cat := mustCategory(t, d, "居民")
	c, _ := d.Create(alice, Customer{Category: cat.ID, Name: "张三", Phones: []Phone{{Number: "13800138000"}}})
	if _, err := d.AddComm(alice, Comm{Customer: c.ID, Type: 99, Text: "问电费"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("comm with an unknown type: %v", err)
	}
	if _, err := d.SaveCommType(alice, CommType{Name: "咨询"}); !errors.Is(err, ErrForbidden) {
		t.Fatal("agent made a communication type")
	}
	ty, _ := d.SaveCommType(admin, CommType{Name: "咨询"})
	for i := range 3 {
		if _, err := d.AddComm(alice, Comm{Customer: c.ID, Type: ty.ID, Text: fmt.Sprintf("问电费 %d", i), Call: "call-1", WorkOrder: 7}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.AddComm(alice, Comm{Customer: c.ID, Type: ty.ID, Text: "  "}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty text: %v", err)
	}
	wantErr(t, "delete a type in use", d.DeleteCommType(admin, ty.ID), ErrConflict)

	d.SetHistory(fakeCalls{}, failingOrders{}, nil)
	card, err := d.Card(bob, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Comms) != 3 || card.Comms[0].Text != "问电费 2" || card.Comms[0].Agent != "alice" {
		t.Errorf("comms on the card: %+v", card.Comms)
	}
	if len(card.Calls) != 1 || card.Calls[0].From != "13800138000" {
		t.Errorf("calls on the card: %+v", card.Calls)
	}
	if !slices.Equal(card.Missing, []string{"work_orders"}) || card.Orders == nil {
		t.Errorf("a failing order source: missing %v, orders %v", card.Missing, card.Orders)
	}
}

type fakeCalls struct{}

func (fakeCalls) Calls(numbers []string, limit int) ([]Call, error) {
	return []Call{{ID: "call-1", From: numbers[0], To: "201"}}, nil
}

type failingOrders struct{}

func (failingOrders) CustomerOrders(uint64, int) ([]OrderRef, error) {
	return nil, errors.New("work orders unavailable")
}

func TestSettings(t *testing.T) {
	m := kv.NewMem()
	d, _ := Open(m, Options{})
	if _, err := d.SaveSettings(alice, Settings{LocalArea: "025"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("agent changed settings: %v", err)
	}
	if _, err := d.SaveSettings(admin, Settings{LocalArea: "25"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad area code: %v", err)
	}
	if _, err := d.SaveSettings(admin, Settings{LocalArea: "025"}); err != nil {
		t.Fatal(err)
	}
	cat := mustCategory(t, d, "c")
	d.Create(alice, Customer{Category: cat.ID, Name: "local", Phones: []Phone{{Number: "84561234"}}})
	d2, _ := Open(m, Options{})
	if d2.LocalArea() != "025" {
		t.Fatalf("reopened local area %q", d2.LocalArea())
	}
	if got, _ := d2.Lookup(bob, "02584561234"); len(got) != 1 {
		t.Fatalf("the local number was not stored with the area code: %v", got)
	}
}

// FuzzSearch: any query runs, and finds only customers the searcher may
// see.
func FuzzSearch(f *testing.F) {
	d, _ := newDir(f)
	cat := mustCategory(f, d, "c")
	for _, c := range []Customer{
		{Name: "张三", Company: "南京供电", Phones: []Phone{{Number: "13800138000"}}},
		{Name: "Smith", Address: "1 Main St", Phones: []Phone{{Number: "02584561234"}}},
		{Name: "私人", Private: true},
	} {
		c.Category = cat.ID
		if _, err := d.Create(alice, c); err != nil {
			f.Fatal(err)
		}
	}
	for _, q := range []string{"zs", "张", "+86 25", "main st", "\x00\x02", "，，", "ｚｓ"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		res, err := d.Search(bob, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Customers {
			if c.Private {
				t.Fatalf("%q found a private contact", q)
			}
		}
	})
}
