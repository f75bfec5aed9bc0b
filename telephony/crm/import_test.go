package crm

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"callbox/telephony/crm/kv"
)

func sliceRows(rows [][]string) func(func([]string, error) bool) {
	return func(yield func([]string, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func TestImportDryRunAndCommit(t *testing.T) {
	d, _ := newDir(t)
	res := mustCategory(t, d, "居民")
	mustCategory(t, d, "企业")
	d.SaveField(admin, FieldDef{Key: "account", Label: "户号", Type: FieldText})
	file := [][]string{
		{"姓名", "手机", "公司", "地址", "类别", "户号", "无关"},
		{"张三", "13800138000", "", "南京市", "", "3200001", "x"},
		{"李四", "138-0013-8001; 025-84561234", "某公司", "", "企业", "", ""},
		{"", "", "", "", "", "", ""},                      // blank line: not a row
		{"王五", "138-00ab", "", "", "", "", ""},            // bad number (line 5)
		{"赵六", "13800138002", "", "", "没有这个类别", "", ""},   // bad category (line 6)
		{"", "", "只有公司", "", "", "", ""},                  // neither name nor number (line 7)
		{"张三(重复)", "+86 13800138000", "", "", "", "", ""}, // duplicate of line 2
	}
	cols, err := d.SuggestColumns(file[0])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ColName, ColNumbers, ColCompany, ColAddress, ColCategory, "fields.account", ""}
	if !slices.Equal(cols, want) {
		t.Fatalf("suggested %q, want %q", cols, want)
	}
	opts := ImportOptions{Columns: cols, Header: true, Category: res.ID, Duplicates: DupSkip}
	if _, err := d.Import(alice, sliceRows(file), opts, true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an agent imported: %v", err)
	}
	rep, err := d.Import(sup, sliceRows(file), opts, true)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, b := range rep.Bad {
		lines = append(lines, b.Row)
	}
	if rep.Rows != 6 || rep.Created != 2 || rep.Skipped != 1 || !slices.Equal(lines, []int{5, 6, 7}) || rep.Committed {
		t.Fatalf("dry run report %+v", rep)
	}
	if n, _ := d.Stats(); n != 0 {
		t.Fatalf("the dry run stored %d customers", n)
	}
	// A real import with bad rows and no SkipBad imports nothing.
	rep, err = d.Import(sup, sliceRows(file), opts, false)
	if !errors.Is(err, ErrBadRows) || len(rep.Bad) != 3 || rep.Committed {
		t.Fatalf("import with bad rows: %+v, %v", rep, err)
	}
	if n, _ := d.Stats(); n != 0 {
		t.Fatalf("a refused import stored %d customers", n)
	}
	opts.SkipBad = true
	rep, err = d.Import(sup, sliceRows(file), opts, false)
	if err != nil || !rep.Committed || rep.Created != 2 {
		t.Fatalf("import skipping bad rows: %+v, %v", rep, err)
	}
	got, _ := d.Lookup(bob, "02584561234")
	if len(got) != 1 || got[0].Name != "李四" || got[0].Company != "某公司" || len(got[0].Phones) != 2 {
		t.Fatalf("imported 李四: %+v", got)
	}
	if res, _ := d.Search(bob, "zs", 5); len(res.Customers) != 1 || res.Customers[0].Fields["account"] != "3200001" {
		t.Fatalf("imported 张三 not in the search index: %+v", res)
	}

	// Again with merge: the duplicates fill the stored customers.
	opts.Duplicates = DupMerge
	file2 := [][]string{{"姓名", "手机", "公司", "地址", "类别", "户号", "无关"},
		{"", "13800138000;13900000000", "新公司", "", "", "", ""}}
	rep, err = d.Import(sup, sliceRows(file2), opts, false)
	if err != nil || rep.Merged != 1 || rep.Created != 0 {
		t.Fatalf("merge: %+v, %v", rep, err)
	}
	got, _ = d.Lookup(bob, "13900000000")
	if len(got) != 1 || got[0].Name != "张三" || got[0].Company != "新公司" || got[0].Version != 2 {
		t.Fatalf("merged 张三: %+v", got)
	}
}

// failingStore fails the transaction's n-th Put, as a full disk would,
// and with deletes set every Delete after it too (the box losing power
// before the import is undone); with once only that Put fails (a
// transient error: the undo then works).
type failingStore struct {
	*kv.Mem
	after   int
	deletes bool
	once    bool
}

func (f *failingStore) Update(fn func(kv.Tx) error) error {
	return f.Mem.Update(func(tx kv.Tx) error { return fn(&failingTx{Tx: tx, f: f}) })
}

type failingTx struct {
	kv.Tx
	f *failingStore
}

func (t *failingTx) Put(b kv.Bucket, k, v []byte) error {
	if t.f.after == 0 {
		if t.f.once {
			t.f.after = -1
		}
		return errors.New("disk full")
	}
	t.f.after--
	return t.Tx.Put(b, k, v)
}

func (t *failingTx) Delete(b kv.Bucket, k []byte) error {
	if t.f.after == 0 && t.f.deletes {
		return errors.New("power lost")
	}
	return t.Tx.Delete(b, k)
}

// smallBatches makes imports write 100 rows per transaction for the test.
func smallBatches(t *testing.T) {
	old := importBatch
	importBatch = 100
	t.Cleanup(func() { importBatch = old })
}

// countRecords counts every record of the directory's customer buckets and
// BucketMeta's import keys.
func countRecords(t *testing.T, m *kv.Mem) (n int) {
	t.Helper()
	m.View(func(tx kv.Tx) error {
		tx.Each(BucketCustomers, nil, func(k, v []byte) error { n++; return nil })
		tx.Each(BucketIndex, nil, func(k, v []byte) error { n++; return nil })
		tx.Each(BucketMeta, []byte{metaImport}, func(k, v []byte) error { n++; return nil })
		tx.Each(BucketMeta, []byte{metaMerged}, func(k, v []byte) error { n++; return nil })
		tx.Each(BucketMeta, []byte{metaBefore}, func(k, v []byte) error { n++; return nil })
		return nil
	})
	return n
}

func numberedRows(n int) [][]string {
	var rows [][]string
	for i := range n {
		rows = append(rows, []string{fmt.Sprintf("客户%d", i), fmt.Sprintf("139%08d", i)})
	}
	return rows
}

// TestImportAllOrNothing: a store failing in the fourth batch (three
// committed) leaves nothing of the import, neither records nor its mark.
func TestImportAllOrNothing(t *testing.T) {
	smallBatches(t)
	m := kv.NewMem()
	fs := &failingStore{Mem: m, after: -1}
	d, err := Open(fs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := mustCategory(t, d, "c")
	fs.after = 700 // each batch puts 201 records: the fourth fails
	_, err = d.Import(admin, sliceRows(numberedRows(500)), ImportOptions{Columns: []string{ColName, ColNumbers}, Category: cat.ID}, false)
	if err == nil {
		t.Fatal("the import survived a failing store")
	}
	if n, _ := d.Stats(); n != 0 {
		t.Errorf("search index holds %d customers of a failed import", n)
	}
	if n := countRecords(t, m); n != 0 {
		t.Errorf("a failed import left %d records", n)
	}
	// The directory works on: the same file imports once the disk has room.
	fs.after = -1
	rep, err := d.Import(admin, sliceRows(numberedRows(500)), ImportOptions{Columns: []string{ColName, ColNumbers}, Category: cat.ID}, false)
	if err != nil || rep.Created != 500 {
		t.Fatalf("import after the failure: %+v %v", rep, err)
	}
	if got, _ := d.Lookup(bob, "13900000499"); len(got) != 1 || got[0].Name != "客户499" {
		t.Fatalf("lookup after the import: %+v", got)
	}
}

// TestImportUndoneAtOpen: an import the box stopped in the middle of (its
// undo failing too) is hidden while the directory runs and removed when
// it opens again; or, while it runs, by the next import. A customer
// created meanwhile is seen.
func TestImportUndoneAtOpen(t *testing.T) {
	for _, reopen := range []bool{true, false} {
		t.Run(fmt.Sprint("reopen=", reopen), func(t *testing.T) { testImportUndone(t, reopen) })
	}
}

func testImportUndone(t *testing.T, reopen bool) {
	smallBatches(t)
	m := kv.NewMem()
	fs := &failingStore{Mem: m, after: -1, deletes: true}
	d, err := Open(fs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := mustCategory(t, d, "c")
	if _, err := d.Create(alice, Customer{Category: cat.ID, Name: "老客户", Phones: []Phone{{Number: "13700000000"}}}); err != nil {
		t.Fatal(err)
	}
	fs.after = 700
	if _, err := d.Import(admin, sliceRows(numberedRows(500)), ImportOptions{Columns: []string{ColName, ColNumbers}, Category: cat.ID}, false); err == nil {
		t.Fatal("the import survived a failing store")
	}
	if got, err := d.Lookup(bob, "13900000001"); err != nil || len(got) != 0 {
		t.Fatalf("a customer of the failed import is found: %+v %v", got, err)
	}
	if n := countRecords(t, m); n < 300 {
		t.Fatalf("the test's store kept only %d records: nothing to undo", n)
	}
	fs.after = -1
	if _, err := d.Create(alice, Customer{Category: cat.ID, Name: "新客户", Phones: []Phone{{Number: "13600000000"}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Lookup(bob, "13600000000"); len(got) != 1 {
		t.Fatalf("a customer created after the failed import is hidden: %+v", got)
	}
	if !reopen {
		rep, err := d.Import(admin, sliceRows(numberedRows(1)), ImportOptions{Columns: []string{ColName, ColNumbers}, Category: cat.ID}, false)
		if err != nil || rep.Created != 1 {
			t.Fatalf("the next import: %+v %v", rep, err)
		}
		if n := countRecords(t, m); n != 6 { // 老客户, 新客户, 客户0, their numbers
			t.Errorf("the next import left %d records", n)
		}
		if got, _ := d.Lookup(bob, "13900000000"); len(got) != 1 {
			t.Errorf("the next import's customer: %+v", got)
		}
		return
	}
	d2, err := Open(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := countRecords(t, m); n != 4 { // the customers created before and after, their numbers
		t.Errorf("open left %d records of the stopped import", n)
	}
	if n, _ := d2.Stats(); n != 2 {
		t.Errorf("search index holds %d customers", n)
	}
	if got, _ := d2.Lookup(bob, "13700000000"); len(got) != 1 {
		t.Errorf("the customer created before the import is gone: %+v", got)
	}
}

// TestImportHiddenUntilCommit: while an import runs, the batches it wrote
// are not found by number or id; once it commits they are.
func TestImportHiddenUntilCommit(t *testing.T) {
	smallBatches(t)
	d, _ := newDir(t)
	cat := mustCategory(t, d, "c")
	rows := numberedRows(350)
	var during []Customer
	var getErr error
	seq := func(yield func([]string, error) bool) {
		for i, r := range rows {
			if i == 250 { // two batches written
				during, _ = d.Lookup(bob, "13900000001")
				_, getErr = d.Get(bob, 1+1)
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	rep, err := d.Import(admin, seq, ImportOptions{Columns: []string{ColName, ColNumbers}, Category: cat.ID}, false)
	if err != nil || rep.Created != 350 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	if len(during) != 0 || !errors.Is(getErr, ErrNotFound) {
		t.Fatalf("during the import: lookup %+v, get %v", during, getErr)
	}
	if got, _ := d.Lookup(bob, "13900000001"); len(got) != 1 {
		t.Fatalf("after the import: lookup %+v", got)
	}
	if _, err := d.Get(bob, 2); err != nil {
		t.Fatalf("after the import: get %v", err)
	}
	if res, _ := d.Search(bob, "客户34", 50); len(res.Customers) != 11 {
		t.Fatalf("search after the import: %d customers", len(res.Customers))
	}
}

// TestImportMergeAcrossBatches: duplicates in later batches merge into a
// stored customer (its version rising once) and into a customer an
// earlier batch created, and the dry run counts as the import does.
func TestImportMergeAcrossBatches(t *testing.T) {
	smallBatches(t)
	d, _ := newDir(t)
	cat := mustCategory(t, d, "c")
	old, err := d.Create(alice, Customer{Category: cat.ID, Name: "老客户", Phones: []Phone{{Number: "13700000000"}, {Number: "13700000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	rows := numberedRows(300)
	rows[10] = []string{"", "13700000000;13600000010", "公司甲"}  // stored, batch 1
	rows[150] = []string{"", "13700000001", "", "地址乙"}         // stored by its other number, batch 2
	rows[250] = []string{"", "13900000005;13600000250", "公司丙"} // row 5, batch 3
	rows[260] = []string{"", "13600000250", "", "地址丁"}         // row 5 again, by the number row 250 added
	opts := ImportOptions{Columns: []string{ColName, ColNumbers, ColCompany, ColAddress}, Category: cat.ID, Duplicates: DupMerge}
	dry, err := d.Import(admin, sliceRows(rows), opts, true)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.Import(admin, sliceRows(rows), opts, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 296 || rep.Merged != 4 || dry.Created != rep.Created || dry.Merged != rep.Merged {
		t.Fatalf("dry run %+v, import %+v", dry, rep)
	}
	got, _ := d.Lookup(bob, "13600000010")
	if len(got) != 1 || got[0].ID != old.ID || got[0].Company != "公司甲" || got[0].Address != "地址乙" || got[0].Version != 2 || len(got[0].Phones) != 3 {
		t.Fatalf("the stored customer after the merges: %+v", got)
	}
	got, _ = d.Lookup(bob, "13600000250")
	if len(got) != 1 || got[0].Name != "客户5" || got[0].Company != "公司丙" || got[0].Address != "地址丁" {
		t.Fatalf("the new customer after the merges: %+v", got)
	}
	if res, _ := d.Search(bob, "公司甲", 5); len(res.Customers) != 1 {
		t.Fatalf("the merged customer is not searchable by its new company: %+v", res)
	}
}

func TestExportReimport(t *testing.T) {
	d, _ := newDir(t)
	cat := mustCategory(t, d, "居民")
	d.SaveField(admin, FieldDef{Key: "account", Label: "户号", Type: FieldText})
	d.Create(alice, Customer{Category: cat.ID, Name: "张三", Company: "甲", Notes: "两行\n备注",
		Phones: []Phone{{Number: "025-84561234-801"}, {Number: "13800138000"}}, Fields: map[string]string{"account": "1"}})
	d.Create(alice, Customer{Category: cat.ID, Name: "私人", Private: true})
	h, _ := d.ExportHeader()
	file := [][]string{h}
	for r, err := range d.ExportRows(sup) {
		if err != nil {
			t.Fatal(err)
		}
		file = append(file, r)
	}
	if len(file) != 2 {
		t.Fatalf("export of sup holds %d rows, want the public one only: %q", len(file)-1, file)
	}
	d2, _ := newDir(t)
	mustCategory(t, d2, "居民")
	d2.SaveField(admin, FieldDef{Key: "account", Label: "户号", Type: FieldText})
	cols, _ := d2.SuggestColumns(file[0])
	rep, err := d2.Import(admin, sliceRows(file), ImportOptions{Columns: cols, Header: true}, false)
	if err != nil || rep.Created != 1 {
		t.Fatalf("reimport: %+v %v (columns %q)", rep, err, cols)
	}
	got, _ := d2.Lookup(admin, "02584561234")
	if len(got) != 1 || got[0].Phones[0].Ext != "801" || got[0].Notes != "两行\n备注" || got[0].Fields["account"] != "1" {
		t.Fatalf("reimported %+v", got)
	}
}

// countingStore records the most records one transaction wrote.
type countingStore struct {
	*kv.Mem
	n, most int
}

func (c *countingStore) Update(fn func(kv.Tx) error) error {
	c.n = 0
	defer func() { c.most = max(c.most, c.n) }()
	return c.Mem.Update(func(tx kv.Tx) error { return fn(&countingTx{Tx: tx, c: c}) })
}

type countingTx struct {
	kv.Tx
	c *countingStore
}

func (t *countingTx) Put(b kv.Bucket, k, v []byte) error { t.c.n++; return t.Tx.Put(b, k, v) }
func (t *countingTx) Delete(b kv.Bucket, k []byte) error { t.c.n++; return t.Tx.Delete(b, k) }

// mergeFixture is a directory holding 400 customers (139 numbers) and a
// 500-row file whose rows merge into them (a 136 number and a company
// added), every fifth row a new customer (135 numbers): each batch of 100
// rows merges 80 and creates 20.
func mergeFixture(t *testing.T, st kv.Store) (*Directory, [][]string, ImportOptions) {
	t.Helper()
	d, err := Open(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := mustCategory(t, d, "c")
	opts := ImportOptions{Columns: []string{ColName, ColNumbers, ColCompany}, Category: cat.ID, Duplicates: DupKeep}
	if rep, err := d.Import(admin, sliceRows(numberedRows(400)), opts, false); err != nil || rep.Created != 400 {
		t.Fatalf("the stored customers: %+v %v", rep, err)
	}
	var rows [][]string
	m := 0
	for j := range 500 {
		if j%5 == 4 {
			rows = append(rows, []string{fmt.Sprintf("新客户%d", j), fmt.Sprintf("135%08d", j), ""})
			continue
		}
		rows = append(rows, []string{"", fmt.Sprintf("139%08d;136%08d", m, m), "新公司"})
		m++
	}
	opts.Duplicates = DupMerge
	return d, rows, opts
}

// storedState is every customer of the directory as Get shows it.
func storedState(t *testing.T, d *Directory) []Customer {
	t.Helper()
	cs, total, err := d.List(admin, 0, 10_000)
	if err != nil || total != len(cs) {
		t.Fatal(total, err)
	}
	return cs
}

// TestImportMergesBatched: an import merging 400 rows into stored
// customers writes them a batch per transaction, no transaction taking
// more than a batch's records. Before, the merges waited for one last
// transaction that wrote them all (1,600 records here).
func TestImportMergesBatched(t *testing.T) {
	smallBatches(t)
	cs := &countingStore{Mem: kv.NewMem()}
	d, rows, opts := mergeFixture(t, cs)
	cs.most = 0
	rep, err := d.Import(admin, sliceRows(rows), opts, false)
	if err != nil || rep.Merged != 400 || rep.Created != 100 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	// A batch: 80 merges (the old version kept, the customer, 2 numbers),
	// 20 new customers and their numbers, the mark.
	if limit := 80*4 + 20*2 + 1; cs.most > limit {
		t.Errorf("a transaction wrote %d records, more than a batch's %d", cs.most, limit)
	}
	got, _ := d.Lookup(bob, "13600000399")
	if len(got) != 1 || got[0].Name != "客户399" || got[0].Company != "新公司" || got[0].Version != 2 {
		t.Fatalf("a merged customer: %+v", got)
	}
	if res, _ := d.Search(bob, "新公司", 200); len(res.Customers) != 200 || !res.Truncated && len(res.Customers) < 200 {
		t.Fatalf("search for the merged company: %d", len(res.Customers))
	}
	var kept int
	cs.View(func(tx kv.Tx) error {
		return tx.Each(BucketMeta, []byte{metaBefore}, func(k, v []byte) error { kept++; return nil })
	})
	if kept != 0 {
		t.Errorf("%d old versions left after the commit", kept)
	}
}

// TestImportMergesAllOrNothing: an import with merges that fails in its
// fourth batch of five leaves every stored customer as it was, by id and
// by number, whether it is undone at once, by the next import, by the
// next change of a merged customer or when the box restarts (its undo
// failing too, as after a power cut).
func TestImportMergesAllOrNothing(t *testing.T) {
	for _, how := range []string{"at once", "next import", "next update", "restart"} {
		t.Run(how, func(t *testing.T) {
			smallBatches(t)
			m := kv.NewMem()
			fs := &failingStore{Mem: m, after: -1, deletes: how != "at once", once: how == "at once"}
			d, rows, opts := mergeFixture(t, fs)
			before := storedState(t, d)
			records := countRecords(t, m)
			// A batch puts 361 records: the fourth fails.
			fs.after = 1200
			if _, err := d.Import(admin, sliceRows(rows), opts, false); err == nil {
				t.Fatal("the import survived a failing store")
			}
			// Undone or not, nothing of it shows.
			if got, err := d.Lookup(bob, "13600000001"); err != nil || len(got) != 0 {
				t.Fatalf("a number merged by the failed import is found: %+v %v", got, err)
			}
			if got, err := d.Get(bob, before[0].ID); err != nil || got.Company != "" || got.Version != 1 {
				t.Fatalf("a customer merged into by the failed import: %+v %v", got, err)
			}
			if got, err := d.Lookup(bob, "13900000001"); err != nil || len(got) != 1 || got[0].Company != "" {
				t.Fatalf("a customer merged into, by its number: %+v %v", got, err)
			}
			fs.after = -1
			switch how {
			case "at once":
			case "next import":
				if _, err := d.Import(admin, sliceRows(nil), opts, false); err != nil {
					t.Fatal(err)
				}
			case "next update":
				c := before[1]
				c.Notes = "改过"
				got, err := d.Update(alice, c)
				if err != nil || got.Version != 2 || got.Company != "" || len(got.Phones) != 1 {
					t.Fatalf("update after the failed import: %+v %v", got, err)
				}
				before[1].Notes, before[1].Version, before[1].Updated, before[1].UpdatedBy = got.Notes, got.Version, got.Updated, got.UpdatedBy
			case "restart":
				if n := countRecords(t, m); n <= records {
					t.Fatalf("the stopped import left %d records, %d before: nothing to undo", n, records)
				}
				var err error
				if d, err = Open(m, Options{}); err != nil {
					t.Fatal(err)
				}
			}
			if n := countRecords(t, m); n != records {
				t.Errorf("%d records after the undo, %d before", n, records)
			}
			after := storedState(t, d)
			if len(after) != len(before) {
				t.Fatalf("%d customers after, %d before", len(after), len(before))
			}
			for i := range before {
				if fmt.Sprint(after[i]) != fmt.Sprint(before[i]) {
					t.Fatalf("customer %d after the undo:\n%+v\nbefore:\n%+v", before[i].ID, after[i], before[i])
				}
			}
			if got, _ := d.Lookup(bob, "13600000001"); len(got) != 0 {
				t.Fatalf("a merged number after the undo: %+v", got)
			}
			if res, _ := d.Search(bob, "新公司", 10); len(res.Customers) != 0 {
				t.Fatalf("search finds the undone merges: %+v", res.Customers)
			}
			// The file imports once the store works.
			rep, err := d.Import(admin, sliceRows(rows), opts, false)
			if err != nil || rep.Merged != 400 || rep.Created != 100 {
				t.Fatalf("the import again: %+v %v", rep, err)
			}
		})
	}
}

// TestImportMergesHiddenUntilCommit: while an import runs, the stored
// customers its batches merged into show as they were, by id, number,
// search and export; once it commits, as merged.
func TestImportMergesHiddenUntilCommit(t *testing.T) {
	smallBatches(t)
	d, rows, opts := mergeFixture(t, kv.NewMem())
	var byID, byNew, byOld []Customer
	var res SearchResult
	var exported string
	seq := func(yield func([]string, error) bool) {
		for i, r := range rows {
			if i == 250 { // two batches written
				c, err := d.Get(bob, 1)
				if err != nil {
					t.Error(err)
				}
				byID = append(byID, c)
				byNew, _ = d.Lookup(bob, "13600000000")
				byOld, _ = d.Lookup(bob, "13900000000")
				res, _ = d.Search(bob, "新公司", 10)
				for r, err := range d.ExportRows(admin) {
					if err != nil || slices.Contains(r, "新公司") {
						exported = fmt.Sprint(r, err)
						break
					}
				}
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	if rep, err := d.Import(admin, seq, opts, false); err != nil || rep.Merged != 400 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	if len(byID) != 1 || byID[0].Company != "" || byID[0].Version != 1 || len(byNew) != 0 || len(byOld) != 1 || byOld[0].Company != "" || len(res.Customers) != 0 {
		t.Fatalf("during the import: get %+v, new number %+v, old number %+v, search %d", byID, byNew, byOld, len(res.Customers))
	}
	if exported != "" {
		t.Fatalf("an export during the import: %s", exported)
	}
	if c, err := d.Get(bob, 1); err != nil || c.Company != "新公司" || len(c.Phones) != 2 {
		t.Fatalf("after the import: %+v %v", c, err)
	}
}

// TestImportKeptVersionsDroppedAtOpen: versions a committed import kept
// (the box stopped before dropping them) are dropped when the directory
// opens, the merged customers staying merged.
func TestImportKeptVersionsDroppedAtOpen(t *testing.T) {
	m := kv.NewMem()
	d, err := Open(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := mustCategory(t, d, "c")
	c, err := d.Create(alice, Customer{Category: cat.ID, Name: "合并后", Phones: []Phone{{Number: "13700000000"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(func(tx kv.Tx) error {
		return kv.PutJSON(tx, BucketMeta, metaKey(metaBefore, c.ID), Customer{ID: c.ID, Category: cat.ID, Name: "合并前"})
	}); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d2.Get(bob, c.ID); err != nil || got.Name != "合并后" {
		t.Fatalf("the merged customer after open: %+v %v", got, err)
	}
	if n := countRecords(t, m); n != 2 {
		t.Fatalf("%d records after open, want the customer and its number", n)
	}
}
