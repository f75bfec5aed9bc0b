package kb

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kv"
)

var (
	boss  = crm.Actor{Login: "boss", Role: crm.RoleSupervisor}
	alice = crm.Actor{Login: "alice", Role: crm.RoleAgent}
)

func newBase(t testing.TB) *Base {
	t.Helper()
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	b, err := Open(kv.NewMem(), Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTokens(t *testing.T) {
	for in, want := range map[string]string{
		"小区停电了":              "小区 区停 停电 电了",
		"停电":                 "停电",
		"电":                  "电",
		"Meter reading 2026": "meter reading 2026",
		"电表Meter故障":          "电表 meter 故障",
		"ＡＢＣ１２３":             "abc123",
		"，。!?":               "",
	} {
		if got := strings.Join(tokens(in), " "); got != want {
			t.Errorf("tokens(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchAndVersions(t *testing.T) {
	b := newBase(t)
	if _, err := b.SaveCategory(alice, Category{Name: "x"}); !errors.Is(err, crm.ErrForbidden) {
		t.Fatalf("agent wrote the knowledge base: %v", err)
	}
	cat, err := b.SaveCategory(boss, Category{Name: "停电"})
	if err != nil {
		t.Fatal(err)
	}
	save := func(title, body string) Article {
		a, err := b.Save(boss, Article{Category: cat.ID, Title: title, Body: body}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	outage := save("小区停电怎么办", "# 处理步骤\n1. 询问客户地址\n2. 查询**停电信息**\n- 计划停电：告知恢复时间\n- 故障停电：受理报修")
	price := save("居民阶梯电价", "第一档电价每千瓦时0.5283元。\n第二档加价0.05元。")
	meter := save("Meter reading", "Meters are read monthly; a customer may ask for a **check** of the meter.")
	for _, tc := range []struct {
		q    string
		want []uint64
	}{
		{"停电", []uint64{outage.ID}},
		{"小区停电了怎么处理", []uint64{outage.ID}},
		{"电价", []uint64{price.ID}},
		{"阶梯", []uint64{price.ID}},
		{"meter", []uint64{meter.ID}},
		{"METERS monthly", []uint64{meter.ID}},
		{"read", []uint64{meter.ID}}, // the last word may be partial
		{"水费", nil},
	} {
		res, err := b.Search(tc.q, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, r := range res {
			got = append(got, r.Article.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if res, _ := b.Search("停电信息", 1); len(res) != 1 || !strings.Contains(res[0].Snippet, "停电信息") {
		t.Errorf("snippet: %+v", res)
	}

	// A new version replaces the indexed text and keeps the old one.
	if _, err := b.Save(boss, Article{ID: price.ID, Category: cat.ID, Title: "居民电价", Body: "统一电价"}, 2); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("save against a stale version: %v", err)
	}
	v2, err := b.Save(boss, Article{ID: price.ID, Category: cat.ID, Title: "居民电价", Body: "统一电价"}, 1)
	if err != nil || v2.Version != 2 {
		t.Fatal(v2, err)
	}
	if res, _ := b.Search("阶梯", 10); len(res) != 0 {
		t.Errorf("the old version is still found: %+v", res)
	}
	vs, _ := b.Versions(price.ID)
	if len(vs) != 2 || vs[0].Title != "居民阶梯电价" || vs[1].Body != "统一电价" {
		t.Errorf("versions %+v", vs)
	}
	if err := b.DeleteCategory(boss, cat.ID); !errors.Is(err, crm.ErrConflict) {
		t.Errorf("delete a category with articles: %v", err)
	}
	if err := b.Delete(alice, meter.ID); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("agent deletes: %v", err)
	}
	if err := b.Delete(boss, meter.ID); err != nil {
		t.Fatal(err)
	}
	if res, _ := b.Search("meter", 10); len(res) != 0 {
		t.Errorf("deleted article found: %+v", res)
	}
	// Reopened from the store, the index finds the same.
	b2, err := Open(b.st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := b2.Search("停电", 10); len(res) != 1 || res[0].Article.ID != outage.ID {
		t.Errorf("reopened: %+v", res)
	}
}

func TestBlocks(t *testing.T) {
	got := Blocks("# 标题\n第一行\n第二行\n\n- 项目**一**\n* 项目二\n10. 第十\n**粗**体")
	want := []Block{
		{Kind: "h", Spans: []Span{{Text: "标题"}}},
		{Kind: "p", Spans: []Span{{Text: "第一行\n第二行"}}},
		{Kind: "ul", Spans: []Span{{Text: "项目"}, {Text: "一", Bold: true}}},
		{Kind: "ul", Spans: []Span{{Text: "项目二"}}},
		{Kind: "ol", Spans: []Span{{Text: "第十"}}},
		{Kind: "p", Spans: []Span{{Text: "粗", Bold: true}, {Text: "体"}}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Blocks\n got %+v\nwant %+v", got, want)
	}
}

// FuzzBlocks: the blocks keep every non-markup character of the body.
func FuzzBlocks(f *testing.F) {
	for _, s := range []string{"# a\n- b\n1. c\n**d**", "****", "**a", "1.", "\r\n\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		for _, bl := range Blocks(s) {
			for _, sp := range bl.Spans {
				if sp.Text == "" {
					t.Fatalf("%q: empty span", s)
				}
				b.WriteString(sp.Text)
			}
		}
		letters := func(x string) int {
			n := 0
			for _, r := range x {
				if r != '*' && r != '#' && r != '-' && r != '.' && !unicode.IsSpace(r) && (r < '0' || r > '9') {
					n++
				}
			}
			return n
		}
		if letters(b.String()) != letters(s) {
			t.Fatalf("%q: blocks hold %q", s, b.String())
		}
	})
}

func FuzzTokens(f *testing.F) {
	for _, s := range []string{"小区停电了", "Meter 2026", "\xff", "ａ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range tokens(s) {
			if tok == "" || strings.ContainsAny(tok, " \n") {
				t.Fatalf("%q: token %q", s, tok)
			}
		}
	})
}

func BenchmarkSearch2000(b *testing.B) {
	base := newBase(b)
	cat, _ := base.SaveCategory(boss, Category{Name: "c"})
	words := []string{"停电", "电价", "电表", "故障", "报修", "缴费", "过户", "增容", "抢修", "投诉", "meter", "bill", "outage"}
	for i := range 2000 {
		var body strings.Builder
		for j := range 60 {
			body.WriteString(words[(i*7+j*3)%len(words)])
			body.WriteString("，客户咨询相关业务。")
		}
		if _, err := base.Save(boss, Article{Category: cat.ID, Title: fmt.Sprintf("第%d条 %s", i, words[i%len(words)]), Body: body.String()}, 0); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		base.Search("停电了怎么报修", 20)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}
