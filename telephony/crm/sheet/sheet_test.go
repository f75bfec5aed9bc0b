package sheet

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func collect(t testing.TB, data []byte, f Format) [][]string {
	t.Helper()
	var out [][]string
	for row, err := range Rows(data, f) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	return out
}

func TestCSVVariants(t *testing.T) {
	want := [][]string{{"姓名", "电话"}, {"张三", "13800138000"}, {"李四", "025-84561234\n转801"}}
	plain := "姓名,电话\r\n张三,13800138000\r\n李四,\"025-84561234\n转801\"\r\n"
	gbk, err := simplifiedchinese.GB18030.NewEncoder().String(plain)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"utf8":      plain,
		"bom":       "\ufeff" + plain,
		"gb18030":   gbk, // Excel on Chinese Windows
		"semicolon": strings.ReplaceAll(plain, ",", ";"),
		"tab":       strings.ReplaceAll(plain, ",", "\t"),
	} {
		if Detect([]byte(data)) != CSV {
			t.Errorf("%s: not detected as CSV", name)
		}
		if got := collect(t, []byte(data), CSV); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: %q", name, got)
		}
	}
	if _, err := func() (any, error) {
		for _, err := range Rows([]byte("a,\"b\n"), CSV) {
			if err != nil {
				return nil, err
			}
		}
		return nil, nil
	}(); err != nil {
		t.Logf("unterminated quote: %v (lazy quotes accept it)", err)
	}
}

func TestRoundTrip(t *testing.T) {
	header := []string{"id", "name", "numbers"}
	rows := [][]string{{"1", "张三", "02584561234;13800138000"}, {"2", "O'Brien, \"Pat\"", "0014155550100"}, {"3", "", "007"}}
	seq := func(yield func([]string, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
	for _, f := range []Format{CSV, XLSX} {
		var buf bytes.Buffer
		if err := Write(&buf, f, header, seq); err != nil {
			t.Fatal(err)
		}
		if Detect(buf.Bytes()) != f {
			t.Errorf("%s: detected as %s", f, Detect(buf.Bytes()))
		}
		got := collect(t, buf.Bytes(), f)
		want := append([][]string{header}, rows...)
		// A workbook drops trailing empty cells; compare trimmed.
		for i := range got {
			for len(got[i]) < len(want[i]) {
				got[i] = append(got[i], "")
			}
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s round trip: %q", f, got)
		}
	}
}

func TestBadWorkbook(t *testing.T) {
	for _, err := range Rows([]byte("PK\x03\x04 not really a zip"), XLSX) {
		if err == nil || !strings.Contains(err.Error(), "xlsx") {
			t.Fatalf("a broken workbook: %v", err)
		}
		return
	}
	t.Fatal("a broken workbook gave no error")
}

// FuzzRows: any file reads without panicking, into rows of at most
// MaxCells valid cells; a CSV of one row written back reads the same.
func FuzzRows(f *testing.F) {
	for _, s := range []string{"a,b\n1,2", "\ufeff姓名;电话\n", "\"x\ny\",z", "PK\x03\x04", "\xb0\xa1,\xb0\xa2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for row, err := range Rows(data, Detect(data)) {
			if err != nil {
				return
			}
			if len(row) > MaxCells {
				t.Fatalf("%d cells", len(row))
			}
			for _, c := range row {
				if Detect(data) == CSV && !utf8.ValidString(c) {
					t.Fatalf("cell %q is not UTF-8", c)
				}
			}
		}
	})
}
