// Package sheet reads and writes the tables customer imports and exports
// travel in: CSV (UTF-8 with or without a byte-order mark, or the GB18030
// that Excel on Chinese Windows saves) and Excel workbooks (.xlsx, through
// github.com/xuri/excelize/v2, first sheet).
package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Format is a table's file format.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ContentType is the MIME type of a format.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Detect tells a workbook (a zip file) from CSV by the first bytes.
func Detect(b []byte) Format {
	if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		return XLSX
	}
	return CSV
}

// MaxCells bounds the cells of one row.
const MaxCells = 256

// Rows reads the rows of data (a whole file) in format f. Rows are yielded
// as read; an error ends the sequence.
func Rows(data []byte, f Format) iter.Seq2[[]string, error] {
	if f == XLSX {
		return xlsxRows(data)
	}
	return csvRows(data)
}

func csvRows(data []byte) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		var r io.Reader = bytes.NewReader(data)
		if !utf8.Valid(data) {
			// Excel on Chinese Windows saves CSV in the ANSI code page.
			r = transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
		}
		cr := csv.NewReader(bufio.NewReader(r))
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		cr.ReuseRecord = false
		if sep := sniffComma(data); sep != 0 {
			cr.Comma = sep
		}
		for {
			row, err := cr.Read()
			if errors.Is(err, io.EOF) || !emit(yield, row, err) {
				return
			}
		}
	}
}

// emit yields a row read, or the error reading it; false ends the rows.
func emit(yield func([]string, error) bool, row []string, err error) bool {
	switch {
	case err != nil:
		yield(nil, fmt.Errorf("sheet: %w", err))
		return false
	case len(row) > MaxCells:
		yield(nil, fmt.Errorf("sheet: a row of %d cells; at most %d", len(row), MaxCells))
		return false
	}
	return yield(row, nil)
}

// sniffComma picks ';' or tab when the first line has more of them than
// commas (exports from some European or older tools).
func sniffComma(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	c, s, t := bytes.Count(line, []byte(",")), bytes.Count(line, []byte(";")), bytes.Count(line, []byte("\t"))
	switch {
	case t > c && t >= s:
		return '\t'
	case s > c:
		return ';'
	}
	return 0
}

func xlsxRows(data []byte) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			yield(nil, fmt.Errorf("sheet: not a readable .xlsx workbook: %w", err))
			return
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			yield(nil, errors.New("sheet: the workbook has no sheet"))
			return
		}
		rows, err := f.Rows(sheets[0])
		if err != nil {
			yield(nil, fmt.Errorf("sheet: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			row, err := rows.Columns()
			if !emit(yield, row, err) {
				return
			}
		}
		if err := rows.Error(); err != nil {
			yield(nil, fmt.Errorf("sheet: %w", err))
		}
	}
}

// Write writes header and rows to w in format f. CSV starts with a UTF-8
// byte-order mark, so Excel shows the Chinese right; a workbook is
// streamed row by row.
func Write(w io.Writer, f Format, header []string, rows iter.Seq2[[]string, error]) error {
	if f == XLSX {
		return writeXLSX(w, header, rows)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("\ufeff")
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	for row, err := range rows {
		if err != nil {
			return err
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("sheet: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	return nil
}

func writeXLSX(w io.Writer, header []string, rows iter.Seq2[[]string, error]) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	line := 1
	put := func(cells []string) error {
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = c // as text, so numbers keep their leading zeros
		}
		cell, err := excelize.CoordinatesToCellName(1, line)
		if err != nil {
			return err
		}
		line++
		return sw.SetRow(cell, vals)
	}
	if err := put(header); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	for row, err := range rows {
		if err != nil {
			return err
		}
		if err := put(row); err != nil {
			return fmt.Errorf("sheet: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	return nil
}
