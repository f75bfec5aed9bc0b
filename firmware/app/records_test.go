package app

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/cc"
	"callbox/telephony/crm"
	"callbox/telephony/crm/crmtest"
	"callbox/telephony/crm/sheet"
	"callbox/telephony/switch/cdr"
)

var (
	recAdmin = crm.Actor{Login: "root", Role: crm.RoleAdmin}
	recAgent = crm.Actor{Login: "alice", Role: crm.RoleAgent}
)

func callRecord(id, from, to string, start time.Time) cdr.Record {
	return cdr.Record{ID: id, From: from, To: to, Start: start, Answer: start.Add(time.Second), End: start.Add(time.Minute),
		Disposition: cdr.Answered, Legs: []cdr.Leg{{Channel: "fxo1", Kind: "fxo", Party: from, Start: start, End: start.Add(time.Minute)}}}
}

// TestRecordsCardCalls: the customer card lists the calls of the
// customer's numbers in any written form, both those stored before the
// records existed (indexed once at start) and those the CDR writer stores
// afterwards; the records survive a restart of the store.
func TestRecordsCardCalls(t *testing.T) {
	a := newPBXApp(t, Config{})
	w := newCDRWriter(a.db, a.log)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	w.store([]cdr.Record{callRecord("old-1", "+8613800138000", "201", t0), callRecord("other", "13900000000", "202", t0)})
	if err := a.startRecords(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.area = a.localArea
	w.store([]cdr.Record{callRecord("new-1", "013800138000", "203", t0.Add(time.Hour)),
		callRecord("new-2", "201", "8613800138000", t0.Add(2*time.Hour))})
	dir := a.rec.dir
	cat, err := dir.SaveCategory(recAdmin, crm.Category{Name: "居民"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dir.Create(recAgent, crm.Customer{Category: cat.ID, Name: "张三", Phones: []crm.Phone{{Number: "138 0013 8000"}}})
	if err != nil {
		t.Fatal(err)
	}
	card, err := dir.Card(recAgent, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, cl := range card.Calls {
		ids = append(ids, cl.ID)
	}
	if strings.Join(ids, " ") != "new-2 new-1 old-1" || len(card.Missing) != 0 {
		t.Fatalf("card calls %q (missing %v), want the three calls of 13800138000, newest first", ids, card.Missing)
	}
	// A second start does not index the old records again.
	if n, err := backfillCDRParties(a.db, a.localArea); err != nil || n != 0 {
		t.Fatalf("second backfill: %d, %v", n, err)
	}
	// Reopened, the records and the search index are back.
	a.stopRecords(t.Context())
	path := a.db.Path()
	a.db.Close()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a.db = db
	if err := a.startRecords(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := a.rec.dir.Search(recAgent, "zhangsan", 5)
	if err != nil || len(res.Customers) != 1 || res.Customers[0].ID != c.ID {
		t.Fatalf("after the restart: %+v %v", res, err)
	}
	if a.webRecords() == nil {
		t.Fatal("the web admin gets no records")
	}
}

// newRecordsStore is a fresh store with the records open and one category.
func newRecordsStore(b testing.TB) (*store.DB, *crm.Directory, uint64) {
	db, err := store.Open(filepath.Join(b.TempDir(), "callbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	dir, err := crm.Open(kvStore{db}, crm.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := dir.SaveCategory(recAdmin, crm.Category{Name: "居民"})
	if err != nil {
		b.Fatal(err)
	}
	return db, dir, cat.ID
}

func rowsSeq(rows [][]string) func(func([]string, error) bool) {
	return func(yield func([]string, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

var importColumns = []string{crm.ColName, crm.ColNumbers, crm.ColCompany, crm.ColAddress}

// BenchmarkLookup100k: the screen-pop's lookup by number among 100,000
// customers in the real store (the target is under 1 ms), and the store's
// size per customer.
func BenchmarkLookup100k(b *testing.B) {
	db, dir, cat := newRecordsStore(b)
	rows := crmtest.Rows(7, 100_000, 0)
	t0 := time.Now()
	rep, err := dir.Import(recAdmin, rowsSeq(rows), crm.ImportOptions{Columns: importColumns, Header: true, Category: cat,
		Duplicates: crm.DupKeep}, false)
	if err != nil || rep.Created != 100_000 {
		b.Fatal(rep.Created, err)
	}
	took := time.Since(t0)
	size, _ := db.Size()
	b.Logf("100,000 customers imported in one transaction in %v; store file %d bytes, %.0f bytes per customer",
		took.Round(time.Millisecond), size, float64(size)/100_000)
	nums := make([]string, 1000)
	for i := range nums {
		n := strings.Split(rows[1+i*97][1], ";")[0]
		nums[i] = "+86 " + n // as a trunk may send it
	}
	i := 0
	for b.Loop() {
		got, err := dir.Lookup(recAgent, nums[i%len(nums)])
		if err != nil || len(got) == 0 {
			b.Fatalf("lookup %s: %v %v", nums[i%len(nums)], got, err)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	b.ReportMetric(float64(size)/100_000, "store-bytes/customer")
}

// memPeak samples the live heap and the process's resident set until
// stop is called and returns the highest values seen above the levels at
// the start.
func memPeak() (stop func() (heap, rss uint64)) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	baseHeap, baseRSS := read(), residentBytes()
	var peakHeap, peakRSS atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peakHeap.Load() {
				peakHeap.Store(v)
			}
			if v := residentBytes(); v > peakRSS.Load() {
				peakRSS.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	above := func(v, base uint64) uint64 {
		if v > base {
			return v - base
		}
		return 0
	}
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		return above(peakHeap.Load(), baseHeap), above(peakRSS.Load(), baseRSS)
	}
}

// residentBytes is the process's resident set (anonymous and file pages,
// the store's map included), 0 where /proc is missing.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// BenchmarkImport50k: issue 12's figure, a 50,000-row customer file with
// 1 % bad rows, as CSV and as .xlsx: the dry run and the import (one
// transaction, bad rows skipped) into the real store, with their time,
// the peak heap above the start and the report.
func BenchmarkImport50k(b *testing.B) {
	rows := crmtest.Rows(11, 50_000, 100)
	for _, f := range []sheet.Format{sheet.CSV, sheet.XLSX} {
		var file bytes.Buffer
		if err := sheet.Write(&file, f, rows[0], rowsSeq(rows[1:])); err != nil {
			b.Fatal(err)
		}
		data := file.Bytes()
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db, dir, cat := newRecordsStore(b)
				b.StartTimer()
				opts := crm.ImportOptions{Columns: importColumns, Header: true, Category: cat, Duplicates: crm.DupSkip, SkipBad: true}
				stop := memPeak()
				t0 := time.Now()
				dry, err := dir.Import(recAdmin, sheet.Rows(data, f), opts, true)
				dryTook := time.Since(t0)
				t1 := time.Now()
				rep, err2 := dir.Import(recAdmin, sheet.Rows(data, f), opts, false)
				took := time.Since(t1)
				peak, rss := stop()
				if err != nil || err2 != nil || len(rep.Bad) != 500 || rep.Created+rep.Skipped != 49_500 || !rep.Committed {
					b.Fatalf("report %+v %v %v", rep, err, err2)
				}
				size, _ := db.Size()
				b.ReportMetric(float64(dryTook.Milliseconds()), "dry-run-ms")
				b.ReportMetric(float64(took.Milliseconds()), "import-ms")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
				b.ReportMetric(float64(len(data))/(1<<20), "file-MiB")
				b.Logf("%s %.1f MiB: dry run %v, import %v, peak heap +%.0f MiB, RSS +%.0f MiB; %d rows, %d created, %d duplicates skipped, %d bad (first: row %d %s: %s); store %d bytes",
					f, float64(len(data))/(1<<20), dryTook.Round(time.Millisecond), took.Round(time.Millisecond), float64(peak)/(1<<20), float64(rss)/(1<<20),
					rep.Rows, rep.Created, rep.Skipped, len(rep.Bad), dry.Bad[0].Row, dry.Bad[0].Field, dry.Bad[0].Reason, size)
			}
		})
	}
}

// BenchmarkImport50kMerge: the 50,000-row CSV file of BenchmarkImport50k
// into a store already holding every other row's customer, duplicates
// merged: half the rows merge into stored customers. It reports the
// import's time and its peak heap and RSS above the start.
func BenchmarkImport50kMerge(b *testing.B) {
	rows := crmtest.Rows(11, 50_000, 100)
	var file bytes.Buffer
	if err := sheet.Write(&file, sheet.CSV, rows[0], rowsSeq(rows[1:])); err != nil {
		b.Fatal(err)
	}
	data := file.Bytes()
	stored := [][]string{rows[0]}
	for i := 1; i < len(rows); i += 2 {
		stored = append(stored, rows[i])
	}
	for b.Loop() {
		b.StopTimer()
		_, dir, cat := newRecordsStore(b)
		opts := crm.ImportOptions{Columns: importColumns, Header: true, Category: cat, Duplicates: crm.DupKeep, SkipBad: true}
		if _, err := dir.Import(recAdmin, rowsSeq(stored), opts, false); err != nil {
			b.Fatal(err)
		}
		opts.Duplicates = crm.DupMerge
		b.StartTimer()
		stop := memPeak()
		t0 := time.Now()
		rep, err := dir.Import(recAdmin, sheet.Rows(data, sheet.CSV), opts, false)
		took := time.Since(t0)
		peak, rss := stop()
		if err != nil || rep.Merged < 24_000 || rep.Created+rep.Merged != 49_500 || !rep.Committed {
			b.Fatalf("report %+v %v", rep, err)
		}
		b.ReportMetric(float64(took.Milliseconds()), "import-ms")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
		b.Logf("merge import: %v, peak heap +%.0f MiB, RSS +%.0f MiB; %d created, %d merged, %d bad",
			took.Round(time.Millisecond), float64(peak)/(1<<20), float64(rss)/(1<<20), rep.Created, rep.Merged, len(rep.Bad))
	}
}

func TestCDRPartiesSkipExtensions(t *testing.T) {
	c := CDR{From: "201", To: "+86 25 8456 1234", Legs: []CDRLeg{{Party: "8613800138000"}, {Party: "*50"}}}
	if got := fmt.Sprint(cdrParties(&c, "")); got != "[02584561234 13800138000]" {
		t.Fatalf("parties %s", got)
	}
}

// TestCardRecordings: the card shows the recordings the call centre noted
// in the fact rows of the calls a communication record links, and nothing
// for a call without one or one the call centre never saw.
func TestCardRecordings(t *testing.T) {
	db, dir, cat := newRecordsStore(t)
	facts := &factStore{db}
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, f := range []cc.Fact{{Call: "cc-1", Number: "13800138000", Queued: t0, Recording: "2026-12-07/cc-1-service.wav"},
		{Call: "cc-2", Number: "13800138000", Queued: t0.Add(time.Hour)},
		{Call: "cc-3", Number: "13800138000", Queued: t0.Add(2 * time.Hour), Recording: "20261207T110000.000000Z-0a1b2c3d"}} {
		if err := facts.PutFact(f); err != nil {
			t.Fatal(err)
		}
	}
	dir.SetHistory(nil, nil, factRecordings{db: db})
	c, err := dir.Create(recAgent, crm.Customer{Category: cat, Name: "张三", Phones: []crm.Phone{{Number: "13800138000"}}})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := dir.SaveCommType(recAdmin, crm.CommType{Name: "咨询"})
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []string{"cc-1", "cc-2", "cc-1", "unknown", "cc-3"} {
		if _, err := dir.AddComm(recAgent, crm.Comm{Customer: c.ID, Type: ct.ID, Text: "来电", Call: call}); err != nil {
			t.Fatal(err)
		}
	}
	card, err := dir.Card(recAgent, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A recording of the media recorder's index has its download link.
	want := []crm.Recording{{ID: "20261207T110000.000000Z-0a1b2c3d", Call: "cc-3", Start: t0.Add(2 * time.Hour),
		URL: "/api/v1/recordings/20261207T110000.000000Z-0a1b2c3d/audio"}, {ID: "2026-12-07/cc-1-service.wav", Call: "cc-1", Start: t0}}
	if !slices.EqualFunc(card.Recordings, want, func(a, b crm.Recording) bool { return a == b }) || len(card.Missing) != 0 {
		t.Fatalf("card recordings %+v (missing %v), want %+v", card.Recordings, card.Missing, want)
	}
}
