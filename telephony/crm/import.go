package crm

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"callbox/telephony/crm/kv"
)

// Import targets: what a column of an import file holds. A mapping gives
// one per column; "" ignores the column. Several columns may hold numbers.
const (
	ColName     = "name"
	ColCompany  = "company"
	ColAddress  = "address"
	ColRegion   = "region"
	ColNotes    = "notes"
	ColCategory = "category" // a category's name (or id)
	ColNumbers  = "numbers"  // one or more, split at ; , / 、
	ColFieldPfx = "fields."  // "fields.account": a custom field
)

// DupPolicy says what an import does with a row whose number belongs to a
// customer already stored (or to an earlier row of the file).
type DupPolicy string

// The duplicate policies.
const (
	// DupSkip leaves the existing customer as it is and skips the row.
	DupSkip DupPolicy = "skip"
	// DupMerge fills the existing customer from the row: its non-empty
	// cells replace the stored values and its new numbers are added.
	DupMerge DupPolicy = "merge"
	// DupKeep adds the row as another customer sharing the number (a
	// company's switchboard, say).
	DupKeep DupPolicy = "keep"
)

// ImportOptions is the mapping step's outcome.
type ImportOptions struct {
	// Columns maps each column of the file to a target (ColName...), in
	// column order; extra columns are ignored.
	Columns []string `json:"columns"`
	// Header: the first row names the columns and is not data.
	Header bool `json:"header"`
	// Category is the category of rows without a category cell.
	Category uint64 `json:"category"`
	// Duplicates is the duplicate policy; empty is DupSkip.
	Duplicates DupPolicy `json:"duplicates"`
	// SkipBad imports the good rows when some are bad; without it one bad
	// row stops the whole import.
	SkipBad bool `json:"skip_bad"`
}

// BadRow is a row an import refuses, and why.
type BadRow struct {
	Row    int    `json:"row"` // 1-based line of the file, header included
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ImportReport tells what an import did, or would do in a dry run.
type ImportReport struct {
	DryRun  bool     `json:"dry_run"`
	Rows    int      `json:"rows"` // data rows read
	Created int      `json:"created"`
	Merged  int      `json:"merged"`
	Skipped int      `json:"skipped"` // duplicates skipped
	Bad     []BadRow `json:"bad_rows"`
	// Committed: the import was applied (never for a dry run).
	Committed bool `json:"committed"`
}

// MaxImportRows bounds one import file.
const MaxImportRows = 200_000

// ErrBadRows: a real import found bad rows and ImportOptions.SkipBad was
// off, so nothing was imported; the report lists them.
var ErrBadRows = fmt.Errorf("%w: the file has bad rows", ErrInvalid)

// CanImport reports whether a may import and export the public contacts.
func CanImport(a Actor) bool { return a.Supervisor() }

// headerWords are the column names SuggestColumns recognises.
var headerWords = map[string]string{
	"name": ColName, "姓名": ColName, "名字": ColName, "客户名称": ColName, "客户姓名": ColName, "联系人": ColName, "用户名称": ColName,
	"company": ColCompany, "公司": ColCompany, "单位": ColCompany, "公司名称": ColCompany, "工作单位": ColCompany,
	"address": ColAddress, "地址": ColAddress, "联系地址": ColAddress, "住址": ColAddress, "用电地址": ColAddress,
	"region": ColRegion, "地区": ColRegion, "区域": ColRegion,
	"notes": ColNotes, "备注": ColNotes, "说明": ColNotes, "remark": ColNotes, "remarks": ColNotes,
	"category": ColCategory, "分类": ColCategory, "类别": ColCategory, "客户类别": ColCategory, "客户分类": ColCategory,
	"numbers": ColNumbers, "number": ColNumbers, "phone": ColNumbers, "phones": ColNumbers, "mobile": ColNumbers, "tel": ColNumbers,
	"telephone": ColNumbers, "电话": ColNumbers, "手机": ColNumbers, "号码": ColNumbers, "联系电话": ColNumbers, "电话号码": ColNumbers,
	"手机号码": ColNumbers, "手机号": ColNumbers, "固定电话": ColNumbers, "办公电话": ColNumbers,
}

// SuggestColumns proposes a mapping from a header row: known column names
// in Chinese or English and the custom fields' keys and labels.
func (d *Directory) SuggestColumns(header []string) ([]string, error) {
	defs, err := d.Fields()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(header))
	used := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		t := headerWords[h]
		for _, f := range defs {
			if h == f.Key || h == strings.ToLower(f.Label) {
				t = ColFieldPfx + f.Key
			}
		}
		if t != "" && (t == ColNumbers || !used[t]) {
			out[i], used[t] = t, true
		}
	}
	return out, nil
}

// checkColumns refuses a mapping naming unknown targets or a target twice.
func checkColumns(cols []string, s schema) error {
	seen := map[string]bool{}
	hasData := false
	for i, t := range cols {
		f := fmt.Sprintf("columns[%d]", i)
		switch {
		case t == "":
			continue
		case t == ColName, t == ColCompany, t == ColAddress, t == ColRegion, t == ColNotes, t == ColCategory, t == ColNumbers:
		case strings.HasPrefix(t, ColFieldPfx):
			if _, ok := s.fields[strings.TrimPrefix(t, ColFieldPfx)]; !ok {
				return Invalid("import", f, "no custom field %q", strings.TrimPrefix(t, ColFieldPfx))
			}
		default:
			return Invalid("import", f, "unknown target %q", t)
		}
		if seen[t] && t != ColNumbers {
			return Invalid("import", f, "%q mapped twice", t)
		}
		seen[t] = true
		hasData = hasData || t == ColName || t == ColNumbers
	}
	if !hasData {
		return Invalid("import", "columns", "map at least a name or a number column")
	}
	return nil
}

// splitNumbers splits a cell holding several numbers.
func splitNumbers(cell string) []string {
	return strings.FieldsFunc(cell, func(r rune) bool { return strings.ContainsRune(";；,，/、|\n", r) })
}

// row is one prepared data row.
type row struct {
	line int
	c    Customer
}

// Import reads rows (the file's cells, header included when opts.Header)
// and adds the customers they describe, or with dryRun only reports what
// it would do. Every bad row is listed, whatever its number. A real
// import is one store transaction: all of it is kept or none, and with bad
// rows and no SkipBad nothing is (ErrBadRows, with the report). Read
// errors (a damaged file) fail the import whole.
func (d *Directory) Import(a Actor, rows iter.Seq2[[]string, error], opts ImportOptions, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun, Bad: []BadRow{}}
	if !CanImport(a) {
		return rep, Forbidden(a, "import customers")
	}
	switch opts.Duplicates {
	case "":
		opts.Duplicates = DupSkip
	case DupSkip, DupMerge, DupKeep:
	default:
		return rep, Invalid("import", "duplicates", "skip, merge or keep")
	}
	var s schema
	var catByName map[string]uint64
	if err := d.st.View(func(tx kv.Tx) (err error) {
		if s, err = loadSchema(tx); err != nil {
			return err
		}
		cats, err := kv.EachJSON[Category](tx, BucketMeta, []byte{metaCategory})
		catByName = map[string]uint64{}
		for _, c := range cats {
			catByName[strings.ToLower(c.Name)] = c.ID
		}
		return err
	}); err != nil {
		return rep, err
	}
	if err := checkColumns(opts.Columns, s); err != nil {
		return rep, err
	}
	if opts.Category != 0 && !s.cats[opts.Category] {
		return rep, Invalid("import", "category", "no category %d", opts.Category)
	}
	var good []row
	line := 0
	for cells, err := range rows {
		if err != nil {
			return rep, fmt.Errorf("crm: import: line %d: %w", line+1, err)
		}
		line++
		if line == 1 && opts.Header {
			continue
		}
		if emptyRow(cells) {
			continue
		}
		rep.Rows++
		if rep.Rows > MaxImportRows {
			return rep, Invalid("import", "file", "more than %d rows", MaxImportRows)
		}
		c, err := d.rowCustomer(cells, opts, catByName, s)
		if err != nil {
			rep.Bad = append(rep.Bad, badRow(line, err))
			continue
		}
		good = append(good, row{line: line, c: c})
	}
	if len(rep.Bad) > 0 && !dryRun && !opts.SkipBad {
		return rep, fmt.Errorf("%w: %d bad rows; correct them or skip them", ErrBadRows, len(rep.Bad))
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	var changed []Customer
	apply := func(tx kv.Tx) (err error) {
		changed, err = d.applyImport(tx, a, good, opts.Duplicates, &rep, !dryRun)
		return err
	}
	var err error
	if dryRun {
		err = d.st.View(apply)
	} else {
		err = d.st.Update(apply)
	}
	if err != nil {
		return ImportReport{DryRun: dryRun, Rows: rep.Rows, Bad: rep.Bad}, err
	}
	if !dryRun {
		rep.Committed = true
		for i := range changed {
			d.idx.put(&changed[i], s.search)
		}
	}
	return rep, nil
}

func emptyRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func badRow(line int, err error) BadRow {
	var fe *FieldError
	if errors.As(err, &fe) {
		return BadRow{Row: line, Field: fe.Field, Reason: fe.Reason}
	}
	return BadRow{Row: line, Reason: err.Error()}
}

// rowCustomer builds and checks the customer of one row.
func (d *Directory) rowCustomer(cells []string, opts ImportOptions, cats map[string]uint64, s schema) (Customer, error) {
	c := Customer{Category: opts.Category}
	for i, t := range opts.Columns {
		if t == "" || i >= len(cells) {
			continue
		}
		v := strings.TrimSpace(cells[i])
		switch {
		case t == ColName:
			c.Name = v
		case t == ColCompany:
			c.Company = v
		case t == ColAddress:
			c.Address = v
		case t == ColRegion:
			c.Region = v
		case t == ColNotes:
			c.Notes = cells[i]
		case t == ColCategory:
			if v == "" {
				continue
			}
			id, ok := cats[strings.ToLower(v)]
			if !ok {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil || !s.cats[n] {
					return c, Invalid("customer", "category", "no category %q", v)
				}
				id = n
			}
			c.Category = id
		case t == ColNumbers:
			for _, n := range splitNumbers(v) {
				c.Phones = append(c.Phones, Phone{Number: n})
			}
		case strings.HasPrefix(t, ColFieldPfx):
			if v != "" {
				if c.Fields == nil {
					c.Fields = map[string]string{}
				}
				c.Fields[strings.TrimPrefix(t, ColFieldPfx)] = v
			}
		}
	}
	if c.Category == 0 {
		return c, Invalid("customer", "category", "no category: map a category column or choose a default")
	}
	err := d.clean(&c, s)
	return c, err
}

// applyImport adds the prepared rows under policy and returns the
// customers it created or changed (for the search index). With write off
// (a dry run in a read transaction) it only counts.
func (d *Directory) applyImport(tx kv.Tx, a Actor, rows []row, policy DupPolicy, rep *ImportReport, write bool) ([]Customer, error) {
	now := d.now()
	// byNumber finds the customer (stored, or earlier in the file) that
	// holds a number first.
	type target struct {
		c       *Customer
		stored  bool
		changed bool
	}
	seen := map[string]*target{}
	var order []*target
	stored := func(num string) (*target, error) {
		var id uint64
		err := tx.Each(BucketIndex, kv.Key{idxNumber}.Str(num), func(k, _ []byte) error {
			id, _, _ = kv.CutU64(k[len(k)-8:])
			return errStop
		})
		if err != nil && err != errStop {
			return nil, err
		}
		if id == 0 {
			return nil, nil
		}
		c, err := getCustomer(tx, id)
		if err != nil {
			return nil, err
		}
		if c.Private {
			return nil, nil // someone's private contact is not a duplicate of the public list
		}
		return &target{c: &c, stored: true}, nil
	}
	for i := range rows {
		c := &rows[i].c
		var dup *target
		if policy != DupKeep {
			for _, p := range c.Phones {
				if t, ok := seen[p.Number]; ok {
					dup = t
					break
				}
				t, err := stored(p.Number)
				if err != nil {
					return nil, err
				}
				if t != nil {
					seen[p.Number], dup = t, t
					order = append(order, t)
					break
				}
			}
		}
		switch {
		case dup == nil:
			c.Owner, c.Private, c.Version = "", false, 1
			c.Created, c.Updated, c.CreatedBy, c.UpdatedBy = now, now, a.Login, a.Login
			t := &target{c: c, changed: true}
			order = append(order, t)
			for _, p := range c.Phones {
				if _, ok := seen[p.Number]; !ok || policy == DupKeep {
					seen[p.Number] = t
				}
			}
			rep.Created++
		case policy == DupSkip:
			rep.Skipped++
		default:
			merge(dup.c, c)
			if !dup.changed && dup.stored {
				dup.c.Version++
			}
			dup.changed = true
			dup.c.Updated, dup.c.UpdatedBy = now, a.Login
			for _, p := range dup.c.Phones {
				if _, ok := seen[p.Number]; !ok {
					seen[p.Number] = dup
				}
			}
			rep.Merged++
		}
	}
	if !write {
		return nil, nil
	}
	// Records first (new ids ascend, so they append), then the number keys
	// in key order: bbolt splits pages only at commit, so keys inserted at
	// random places of one huge transaction move the page's whole tail each
	// time, and sorted they mostly append.
	var out []Customer
	var keys [][]byte
	for _, t := range order {
		if !t.changed {
			continue
		}
		if t.stored {
			old, err := getCustomer(tx, t.c.ID)
			if err != nil {
				return nil, err
			}
			for _, p := range old.Phones {
				if err := tx.Delete(BucketIndex, numberKey(p.Number, old.ID)); err != nil {
					return nil, err
				}
			}
		} else {
			id, err := tx.NextSeq(BucketCustomers)
			if err != nil {
				return nil, err
			}
			t.c.ID = id
		}
		if err := kv.PutJSON(tx, BucketCustomers, custKey(t.c.ID), t.c); err != nil {
			return nil, err
		}
		for _, p := range t.c.Phones {
			keys = append(keys, numberKey(p.Number, t.c.ID))
		}
		out = append(out, *t.c)
	}
	slices.SortFunc(keys, bytes.Compare)
	for _, k := range keys {
		if err := tx.Put(BucketIndex, k, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var errStop = errors.New("stop")

// merge fills dst from src: src's non-empty values win, its numbers are
// added (up to MaxNumbers).
func merge(dst, src *Customer) {
	for _, f := range []struct{ d, s *string }{{&dst.Name, &src.Name}, {&dst.Company, &src.Company},
		{&dst.Address, &src.Address}, {&dst.Notes, &src.Notes}} {
		if *f.s != "" {
			*f.d = *f.s
		}
	}
	if src.Category != 0 {
		dst.Category = src.Category
	}
	for _, p := range src.Phones {
		if len(dst.Phones) < MaxNumbers && !slices.ContainsFunc(dst.Phones, func(q Phone) bool { return q.Number == p.Number && q.Ext == p.Ext }) {
			dst.Phones = append(dst.Phones, p)
		}
	}
	if len(src.Fields) > 0 && dst.Fields == nil {
		dst.Fields = map[string]string{}
	}
	maps.Copy(dst.Fields, src.Fields)
}

// ExportHeader is the first row of an export; ExportRows the rest. The
// columns map back onto themselves on import (SuggestColumns).
func (d *Directory) ExportHeader() ([]string, error) {
	defs, err := d.Fields()
	if err != nil {
		return nil, err
	}
	h := []string{"id", ColCategory, ColName, ColCompany, ColAddress, ColRegion, ColNumbers, ColNotes}
	for _, f := range defs {
		h = append(h, f.Key)
	}
	return h, nil
}

// ExportRows yields the public customers (and a's private ones) as rows
// of ExportHeader's columns, by id.
func (d *Directory) ExportRows(a Actor) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		if !CanImport(a) {
			yield(nil, Forbidden(a, "export customers"))
			return
		}
		defs, err := d.Fields()
		if err != nil {
			yield(nil, err)
			return
		}
		cats, err := d.Categories()
		if err != nil {
			yield(nil, err)
			return
		}
		catName := map[uint64]string{}
		for _, c := range cats {
			catName[c.ID] = c.Name
		}
		ids := d.idx.ids(a.Login)
		const batch = 500
		for len(ids) > 0 {
			n := min(batch, len(ids))
			var page []Customer
			err := d.st.View(func(tx kv.Tx) error {
				for _, id := range ids[:n] {
					c, err := getCustomer(tx, id)
					if errors.Is(err, ErrNotFound) {
						continue
					}
					if err != nil {
						return err
					}
					page = append(page, c)
				}
				return nil
			})
			if err != nil {
				yield(nil, err)
				return
			}
			ids = ids[n:]
			for _, c := range page {
				nums := make([]string, len(c.Phones))
				for i, p := range c.Phones {
					nums[i] = Number{Digits: p.Number, Ext: p.Ext}.String()
				}
				r := []string{strconv.FormatUint(c.ID, 10), catName[c.Category], c.Name, c.Company, c.Address, c.Region,
					strings.Join(nums, ";"), c.Notes}
				for _, f := range defs {
					r = append(r, c.Fields[f.Key])
				}
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}
