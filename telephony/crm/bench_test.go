package crm

import (
	"math/rand/v2"
	"testing"
)

// benchDir is a directory of n synthetic customers, filled through the
// directory's own API (one store transaction per thousand, as an import
// does).
func benchDir(b testing.TB, n int) (*Directory, []Customer) {
	d, _ := newDir(b)
	cat := mustCategory(b, d, "居民")
	r := rand.New(rand.NewPCG(1, 2))
	cs := make([]Customer, n)
	for i := range cs {
		cs[i] = synthCustomer(r, cat.ID)
	}
	if _, err := d.importCustomers(admin, cs, DupKeep); err != nil {
		b.Fatal(err)
	}
	return d, cs
}

// BenchmarkSearch100k: search among 100,000 customers (the target is
// under 20 ms per query, reported as ms/op).
func BenchmarkSearch100k(b *testing.B) {
	d, cs := benchDir(b, 100_000)
	customers, arena := d.Stats()
	b.Logf("%d customers, search text %d bytes (%.0f bytes per customer)", customers, arena, float64(arena)/float64(customers))
	for _, q := range []struct{ name, q string }{
		{"chinese-name", cs[500].Name},
		{"pinyin-full", "zhangwei"},
		{"pinyin-initials", "wjg"},
		{"partial-number", cs[777].Phones[0].Number[3:9]},
		{"company", "无锡科技"},
		{"address", "中山路12号"},
		{"two-words", "南京 王"},
		{"no-match", "qqqqzzzz"},
		{"one-letter", "w"},
	} {
		b.Run(q.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				res, err := d.Search(bob, q.q, 20)
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
