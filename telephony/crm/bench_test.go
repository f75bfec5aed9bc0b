package crm_test

import (
	"testing"

	"callbox/telephony/crm"
	"callbox/telephony/crm/crmtest"
	"callbox/telephony/crm/kv"
)

// benchDir is a directory of n synthetic customers, imported in one
// transaction as a file would be.
func benchDir(b testing.TB, n int) (*crm.Directory, [][]string) {
	d, err := crm.Open(kv.NewMem(), crm.Options{})
	if err != nil {
		b.Fatal(err)
	}
	admin := crm.Actor{Login: "root", Role: crm.RoleAdmin}
	cat, err := d.SaveCategory(admin, crm.Category{Name: "居民"})
	if err != nil {
		b.Fatal(err)
	}
	rows := crmtest.Rows(1, n, 0)
	rep, err := d.Import(admin, func(yield func([]string, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, crm.ImportOptions{Columns: []string{crm.ColName, crm.ColNumbers, crm.ColCompany, crm.ColAddress},
		Header: true, Category: cat.ID, Duplicates: crm.DupKeep}, false)
	if err != nil || rep.Created != n {
		b.Fatal(rep.Created, err)
	}
	return d, rows[1:]
}

// BenchmarkSearch100k: search among 100,000 customers (the target is
// under 20 ms per query, reported as ms/op).
func BenchmarkSearch100k(b *testing.B) {
	d, rows := benchDir(b, 100_000)
	customers, arena := d.Stats()
	b.Logf("%d customers, search text %d bytes (%.0f bytes per customer)", customers, arena, float64(arena)/float64(customers))
	agent := crm.Actor{Login: "bob", Role: crm.RoleAgent}
	for _, q := range []struct{ name, q string }{
		{"chinese-name", rows[500][0]},
		{"pinyin-full", "zhangwei"},
		{"pinyin-initials", "wjg"},
		{"partial-number", rows[777][1][3:9]},
		{"company", "无锡科技"},
		{"address", "中山路12号"},
		{"two-words", "南京 王"},
		{"no-match", "qqqqzzzz"},
		{"one-letter", "w"},
	} {
		b.Run(q.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				res, err := d.Search(agent, q.q, 20)
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Customers)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			b.ReportMetric(float64(n), "hits")
		})
	}
}
