package sheet

import (
	"archive/zip"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// excelize, a full workbook library, is the independent reference here:
// it reads what Write makes, and makes workbooks the way Excel does
// (shared strings, numbers, booleans, rich text, gaps) for Rows to read.

func TestXLSXReadByExcelize(t *testing.T) {
	header := []string{"id", "姓名", "numbers"}
	rows := [][]string{
		{"1", "张三", "0014155550100"},
		{"2", "O'Brien, \"Pat\" <&>", "025-84561234\n转801"},
		{"", "", ""},
		{"3", "", "007", "", "far"},
		{"4", "  spaces kept  ", "tab\there"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, XLSX, header, func(yield func([]string, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("excelize cannot open the workbook: %v", err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Sheet1"}) {
		t.Errorf("sheets %q", got)
	}
	got, err := f.GetRows("Sheet1", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	want := append([][]string{header}, rows...)
	want[3] = nil // an empty row has no cells
	for i := range want {
		want[i] = trimRight(want[i])
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("excelize reads\n%q\nwant\n%q", got, want)
	}
}

func trimRight(row []string) []string {
	for len(row) > 0 && row[len(row)-1] == "" {
		row = row[:len(row)-1]
	}
	return row
}

// excelizeBook makes a workbook whose first sheet is not sheet1.xml, with
// the value kinds Excel writes.
func excelizeBook(t testing.TB) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if _, err := f.NewSheet("Other"); err != nil {
		t.Fatal(err)
	}
	f.SetCellValue("Other", "A1", "not this sheet")
	// Make "客户" the first sheet by renaming Sheet1 and moving Other after it.
	if err := f.SetSheetName("Sheet1", "客户"); err != nil {
		t.Fatal(err)
	}
	set := func(cell string, v any) {
		if err := f.SetCellValue("客户", cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("A1", "姓名")
	set("B1", "电话")
	set("C1", "金额")
	set("A2", "张三")
	set("B2", int64(13800138000)) // a phone typed as a number
	set("C2", 0.1+0.2)
	set("A3", "李四")
	set("B3", "02584561234")
	set("D3", true)
	set("A5", "after a gap") // row 4 missing
	if err := f.SetCellRichText("客户", "C5", []excelize.RichTextRun{{Text: "rich "}, {Text: "text"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellFormula("客户", "E2", `"="&A2`); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXReadsExcelize(t *testing.T) {
	data := excelizeBook(t)
	if Detect(data) != XLSX {
		t.Fatal("not detected as a workbook")
	}
	got := collect(t, data, XLSX)
	want := [][]string{
		{"姓名", "电话", "金额"},
		{"张三", "13800138000", "0.3"},
		{"李四", "02584561234", "", "TRUE"},
		{},
		{"after a gap", "", "rich text"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
}

// zipOf builds a package from parts.
func zipOf(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// minimalParts is a one-sheet package whose sheet body is given.
func minimalParts(sheetData string) map[string]string {
	parts := map[string]string{}
	for _, p := range xlsxParts {
		parts[p.name] = p.body
	}
	parts["xl/worksheets/sheet1.xml"] = `<worksheet xmlns="` + nsMain + `"><sheetData>` + sheetData + `</sheetData></worksheet>`
	return parts
}

func TestXLSXBad(t *testing.T) {
	noSheet := minimalParts("")
	delete(noSheet, "xl/worksheets/sheet1.xml")
	noBook := minimalParts("")
	delete(noBook, "xl/workbook.xml")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("PK\x03\x04 not really a zip"), "not a readable .xlsx"},
		{"no workbook", zipOf(t, noBook), "no part xl/workbook.xml"},
		{"no sheet part", zipOf(t, noSheet), "no part xl/worksheets/sheet1.xml"},
		{"shared string out of range", zipOf(t, minimalParts(`<row r="1"><c r="A1" t="s"><v>3</v></c></row>`)), "shared string"},
		{"too wide", zipOf(t, minimalParts(`<row r="1"><c r="XFD1"><v>1</v></c></row>`)), "more than 256 cells"},
		{"bad column", zipOf(t, minimalParts(`<row r="1"><c r="ZZZZ1"><v>1</v></c></row>`)), "out of range"},
		{"rows backwards", zipOf(t, minimalParts(`<row r="2"></row><row r="1"></row>`)), "out of order"},
		{"broken xml", zipOf(t, minimalParts(`<row r="1"><c>`)), "not a readable .xlsx"},
	} {
		var err error
		for _, e := range Rows(c.data, XLSX) {
			if e != nil {
				err = e
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "sheet: ") {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestColumnNames(t *testing.T) {
	for col, name := range map[int]string{0: "A", 25: "Z", 26: "AA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := columnName(col); got != name {
			t.Errorf("columnName(%d) = %s, want %s", col, got, name)
		}
		if got, err := refColumn(name + "7"); err != nil || got != col {
			t.Errorf("refColumn(%s7) = %d, %v", name, got, err)
		}
	}
}
