package sheet

// The workbook subset of Office Open XML (ECMA-376 part 1, SpreadsheetML)
// that customer lists need, over archive/zip and encoding/xml: reading the
// first worksheet's cell values (shared, inline and formula strings,
// numbers, booleans) and writing one worksheet of text cells. A general
// workbook library cost the armv7 binary 1.9 MiB for this.

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"strconv"
	"strings"
)

// Limits on what a workbook may unpack to, so a small zip cannot make the
// box inflate gigabytes (the import already caps the upload itself).
const (
	maxPartBytes     = 256 << 20 // one part (the sheet or the shared strings), uncompressed
	maxSharedStrings = 1 << 20
)

const (
	nsMain    = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsOffRels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsPkgRels = "http://schemas.openxmlformats.org/package/2006/relationships"
)

func xlsxRows(data []byte) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			yield(nil, fmt.Errorf("sheet: not a readable .xlsx workbook: %w", err))
			return
		}
		wb := workbook{files: map[string]*zip.File{}}
		for _, f := range zr.File {
			wb.files[strings.TrimPrefix(f.Name, "/")] = f
		}
		sheetPath, err := wb.firstSheet()
		if err != nil {
			yield(nil, fmt.Errorf("sheet: not a readable .xlsx workbook: %w", err))
			return
		}
		if err := wb.readSharedStrings(); err != nil {
			yield(nil, fmt.Errorf("sheet: not a readable .xlsx workbook: %w", err))
			return
		}
		rc, err := wb.open(sheetPath)
		if err != nil {
			yield(nil, fmt.Errorf("sheet: not a readable .xlsx workbook: %w", err))
			return
		}
		defer rc.Close()
		wb.sheetRows(rc, yield)
	}
}

// workbook is an opened package: its parts by name and its shared strings.
type workbook struct {
	files  map[string]*zip.File
	shared []string
}

// open opens a part, bounded to maxPartBytes.
func (wb *workbook) open(name string) (io.ReadCloser, error) {
	f := wb.files[name]
	if f == nil {
		return nil, fmt.Errorf("no part %s", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("part %s: %w", name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{&capReader{r: rc, left: maxPartBytes, name: name}, rc}, nil
}

// capReader fails once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
	name string
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, fmt.Errorf("part %s unpacks to more than %d MiB", c.name, maxPartBytes>>20)
	}
	return n, err
}

// decode unmarshals a small part into v.
func (wb *workbook) decode(name string, v any) error {
	rc, err := wb.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("part %s: %w", name, err)
	}
	return nil
}

// firstSheet follows the package relationships to the workbook and the
// workbook's to its first sheet, the one a user sees first.
func (wb *workbook) firstSheet() (string, error) {
	var rels relationships
	book := "xl/workbook.xml"
	if wb.decode("_rels/.rels", &rels) == nil {
		for _, r := range rels.Rel {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				book = strings.TrimPrefix(r.Target, "/")
			}
		}
	}
	var w struct {
		Sheets []struct {
			ID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := wb.decode(book, &w); err != nil {
		return "", err
	}
	if len(w.Sheets) == 0 {
		return "", errors.New("the workbook has no sheet")
	}
	dir, file := path.Split(book)
	rels = relationships{}
	if err := wb.decode(dir+"_rels/"+file+".rels", &rels); err != nil {
		return "", err
	}
	for _, r := range rels.Rel {
		if r.ID == w.Sheets[0].ID {
			if strings.HasPrefix(r.Target, "/") {
				return path.Clean(r.Target[1:]), nil
			}
			return path.Join(dir, r.Target), nil
		}
	}
	return "", fmt.Errorf("the first sheet (%s) has no part", w.Sheets[0].ID)
}

type relationships struct {
	Rel []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

// readSharedStrings reads xl/sharedStrings.xml when there is one: each
// <si> is a plain <t> or rich-text runs <r><t>, whose texts join; phonetic
// runs (<rPh>) are not part of the value.
func (wb *workbook) readSharedStrings() error {
	const name = "xl/sharedStrings.xml"
	if wb.files[name] == nil {
		return nil
	}
	rc, err := wb.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("part %s: %w", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
			s, err := richText(d)
			if err != nil {
				return fmt.Errorf("part %s: %w", name, err)
			}
			if len(wb.shared) == maxSharedStrings {
				return fmt.Errorf("part %s: more than %d strings", name, maxSharedStrings)
			}
			wb.shared = append(wb.shared, s)
		}
	}
}

// richText reads the rest of an <si> or <is> element: the text of its <t>
// elements outside phonetic runs.
func richText(d *xml.Decoder) (string, error) {
	var b strings.Builder
	depth, inT, inPh := 1, false, 0
	for depth > 0 {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch t.Name.Local {
			case "t":
				inT = true
			case "rPh":
				inPh++
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "t":
				inT = false
			case "rPh":
				inPh--
			}
		case xml.CharData:
			if inT && inPh == 0 {
				b.Write(t)
			}
		}
	}
	return b.String(), nil
}

// sheetRows streams the <sheetData> rows to yield. Rows missing between two
// present ones come as empty rows and cells missing in a row as empty
// cells, so positions match what the user sees; trailing empty cells are
// dropped.
func (wb *workbook) sheetRows(r io.Reader, yield func([]string, error) bool) {
	d := xml.NewDecoder(r)
	fail := func(err error) { yield(nil, fmt.Errorf("sheet: not a readable .xlsx workbook: %w", err)) }
	next := 1 // the row number expected next
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fail(err)
			return
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		num := next
		if v := attr(se, "r"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < next {
				fail(fmt.Errorf("row number %q out of order", v))
				return
			}
			num = n
		}
		row, err := wb.readRow(d)
		if err != nil {
			if errors.Is(err, errTooWide) {
				yield(nil, fmt.Errorf("sheet: row %d: %w", num, err))
			} else {
				fail(err)
			}
			return
		}
		for ; next < num; next++ {
			if !yield([]string{}, nil) {
				return
			}
		}
		next = num + 1
		if !emit(yield, row, nil) {
			return
		}
	}
}

var errTooWide = fmt.Errorf("more than %d cells", MaxCells)

// readRow reads the rest of a <row> element into its cell values.
func (wb *workbook) readRow(d *xml.Decoder) ([]string, error) {
	var row []string
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			for len(row) > 0 && row[len(row)-1] == "" {
				row = row[:len(row)-1]
			}
			return row, nil
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			col := len(row)
			if ref := attr(t, "r"); ref != "" {
				c, err := refColumn(ref)
				if err != nil {
					return nil, err
				}
				if c < col {
					return nil, fmt.Errorf("cell %s out of order", ref)
				}
				col = c
			}
			if col >= MaxCells {
				return nil, errTooWide
			}
			v, err := wb.readCell(d, attr(t, "t"))
			if err != nil {
				return nil, err
			}
			for len(row) < col {
				row = append(row, "")
			}
			row = append(row, v)
		}
	}
}

// readCell reads the rest of a <c> element of type typ into its value.
func (wb *workbook) readCell(d *xml.Decoder, typ string) (string, error) {
	var v, inline string
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return wb.cellValue(typ, v, inline)
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				var s string
				if err := d.DecodeElement(&s, &t); err != nil {
					return "", err
				}
				v = s
			case "is":
				s, err := richText(d)
				if err != nil {
					return "", err
				}
				inline = s
			default: // <f> formulas and extensions
				if err := d.Skip(); err != nil {
					return "", err
				}
			}
		}
	}
}

// cellValue is the text of a cell: strings as they are, a number in its
// shortest form (a phone number typed as a number comes back as its
// digits), booleans as Excel shows them.
func (wb *workbook) cellValue(typ, v, inline string) (string, error) {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(wb.shared) {
			return "", fmt.Errorf("shared string %q out of range", v)
		}
		return wb.shared[i], nil
	case "inlineStr":
		return inline, nil
	case "b":
		if strings.TrimSpace(v) == "1" {
			return "TRUE", nil
		}
		return "FALSE", nil
	case "", "n":
		v = strings.TrimSpace(v)
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			// Excel keeps 15 significant digits; 0.1+0.2 is stored as
			// 0.30000000000000004 and shown as 0.3.
			if g, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64); err == nil {
				return strconv.FormatFloat(g, 'f', -1, 64), nil
			}
		}
		return v, nil
	}
	return v, nil // "str" (a formula's text), "e" (an error such as #N/A), "d"
}

// attr is the value of the attribute named local, or "".
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// refColumn is the 0-based column of a cell reference such as "AB12".
func refColumn(ref string) (int, error) {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a') + 1
		if col > 16384 { // XFD, Excel's last column
			return 0, fmt.Errorf("cell reference %q out of range", ref)
		}
	}
	if i == 0 {
		return 0, fmt.Errorf("cell reference %q has no column", ref)
	}
	return col - 1, nil
}

// columnName is the letters of a 0-based column: 0 is A, 26 is AA.
func columnName(col int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}

// The fixed parts of a written workbook: one sheet, "Sheet1", no styles.
var xlsxParts = [...]struct{ name, body string }{
	{"[Content_Types].xml", xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`</Types>`},
	{"_rels/.rels", xml.Header + `<Relationships xmlns="` + nsPkgRels + `">` +
		`<Relationship Id="rId1" Type="` + nsOffRels + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
	{"xl/workbook.xml", xml.Header + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsOffRels + `">` +
		`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
	{"xl/_rels/workbook.xml.rels", xml.Header + `<Relationships xmlns="` + nsPkgRels + `">` +
		`<Relationship Id="rId1" Type="` + nsOffRels + `/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
}

// writeXLSX streams a workbook of one sheet whose cells are all inline
// text, so numbers keep their leading zeros and nothing is held in memory
// but the zip's buffers.
func writeXLSX(w io.Writer, header []string, rows iter.Seq2[[]string, error]) error {
	zw := zip.NewWriter(w)
	for _, p := range xlsxParts {
		pw, err := zw.Create(p.name)
		if err != nil {
			return fmt.Errorf("sheet: %w", err)
		}
		if _, err := io.WriteString(pw, p.body); err != nil {
			return fmt.Errorf("sheet: %w", err)
		}
	}
	sw, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	ew := &errWriter{w: sw}
	io.WriteString(ew, xml.Header+`<worksheet xmlns="`+nsMain+`"><sheetData>`)
	line := 1
	put := func(cells []string) {
		fmt.Fprintf(ew, `<row r="%d">`, line)
		for i, c := range cells {
			if c == "" {
				continue
			}
			fmt.Fprintf(ew, `<c r="%s%d" t="inlineStr"><is><t xml:space="preserve">`, columnName(i), line)
			xml.EscapeText(ew, []byte(c)) // also turns characters XML cannot hold into U+FFFD
			io.WriteString(ew, `</t></is></c>`)
		}
		io.WriteString(ew, `</row>`)
		line++
	}
	put(header)
	for row, err := range rows {
		if err != nil {
			return err
		}
		put(row)
		if ew.err != nil {
			break
		}
	}
	io.WriteString(ew, `</sheetData></worksheet>`)
	if ew.err != nil {
		return fmt.Errorf("sheet: %w", ew.err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	return nil
}

// errWriter keeps the first write error and drops later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
