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

// failingStore fails the transaction's n-th Put, as a full disk would.
type failingStore struct {
	*kv.Mem
	after int
}

func (f *failingStore) Update(fn func(kv.Tx) error) error {
	return f.Mem.Update(func(tx kv.Tx) error { return fn(&failingTx{Tx: tx, left: &f.after}) })
}

type failingTx struct {
	kv.Tx
	left *int
}

func (t *failingTx) Put(b kv.Bucket, k, v []byte) error {
	if *t.left == 0 {
		return errors.New("disk full")
	}
	*t.left--
	return t.Tx.Put(b, k, v)
}

func TestImportAllOrNothing(t *testing.T) {
	m := kv.NewMem()
	fs := &failingStore{Mem: m, after: -1}
	d, err := Open(fs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := mustCategory(t, d, "c")
	var rows [][]string
	for i := range 500 {
		rows = append(rows, []string{fmt.Sprintf("客户%d", i), fmt.Sprintf("139%08d", i)})
	}
	fs.after = 700 // well into the rows
	_, err = d.Import(admin, sliceRows(rows), ImportOptions{Columns: []string{ColName, ColNumbers}, Category: cat.ID}, false)
	if err == nil {
		t.Fatal("the import survived a failing store")
	}
	if n, _ := d.Stats(); n != 0 {
		t.Errorf("search index holds %d customers of a failed import", n)
	}
	m.View(func(tx kv.Tx) error {
		n := 0
		tx.Each(BucketCustomers, nil, func(k, v []byte) error { n++; return nil })
		tx.Each(BucketIndex, nil, func(k, v []byte) error { n++; return nil })
		if n != 0 {
			t.Errorf("a failed import left %d records", n)
		}
		return nil
	})
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
