package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

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
// it would do. Every bad row is listed, whatever its number. Rows are
// streamed: a batch of them at a time is checked against the directory
// and written, each batch in its own transaction, so memory does not grow
// with the file. Until the import commits its new customers are hidden
// and the customers it merged into show as they were (pendingImport); a
// failure removes the new ones and puts the merged ones back, so all of
// it is kept or none, and with bad rows and no SkipBad nothing is
// (ErrBadRows, with the report). Read errors (a damaged file) fail the
// import whole. Other writes to the directory wait for the import.
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
	d.wmu.Lock()
	defer d.wmu.Unlock()
	// What an import that failed left, its undo failing too, goes first.
	if !dryRun {
		if err := d.undoImport(); err != nil {
			return rep, err
		}
	}
	im := &importer{d: d, a: a, policy: opts.Duplicates, rep: &rep, write: !dryRun, now: d.now(),
		seen: map[string]*target{}, byID: map[uint64]*target{}}
	err := im.read(rows, opts, catByName, s)
	if err == nil && len(rep.Bad) > 0 && !dryRun && !opts.SkipBad {
		err = fmt.Errorf("%w: %d bad rows; correct them or skip them", ErrBadRows, len(rep.Bad))
	}
	if err == nil && !dryRun {
		err = im.commit(s.search)
	}
	if err != nil {
		if !dryRun {
			if uerr := d.undoImport(); uerr != nil {
				// The next Open tries again; until then the rows stay hidden.
				d.opts.Log.Error("crm: a failed import is not yet undone", "err", uerr)
			}
		}
		return ImportReport{DryRun: dryRun, Rows: rep.Rows, Bad: rep.Bad}, err
	}
	rep.Committed = !dryRun
	return rep, nil
}

// importBatch is how many rows one transaction of an import takes on: an
// import's memory is bounded by it (and by one entry per number of the
// file, to find duplicates), not by the file. Smaller batches cost time,
// not memory: each commit rewrites the number index's pages its random
// numbers touch (50,000 rows took 3 times as long in batches of 1,000).
var importBatch = 5000

// Keys of BucketMeta an import under way keeps until it commits.
const (
	metaImport = 'i' // -> pendingImport
	metaBefore = 'b' // 'b' id -> Customer: a stored customer as it was before the import merged into it
	// metaMerged: 'm' id -> Customer, a merge not yet applied, as imports
	// of earlier firmware kept them; undoImport drops those a box stopped
	// with.
	metaMerged = 'm'
)

var importKey = []byte{metaImport}

// pendingImport marks an import under way. Its new customers (the ids
// From to Last, contiguous since other writes wait; each batch's
// transaction moves Last) are written batch by batch but hidden from Get
// and Lookup and kept out of the search index. Its merges into stored
// customers are written batch by batch too, each customer's version from
// before the first merge kept under metaBefore in the same transaction:
// Get, Lookup and the search show that one until the import commits. The
// commit deletes the mark (then the kept versions, no longer needed); a
// failed import, or Open after a crash, removes the new customers and
// puts the kept versions back (undoImport).
type pendingImport struct {
	From uint64 `json:"from"` // the first new customer's id; 0: none yet
	Last uint64 `json:"last"` // the last, as of the batch written last
}

// target is a customer later rows of the file are duplicates of.
type target struct {
	id     uint64 // 0 for a customer a dry run would create
	stored bool   // committed before the import
	saved  bool   // stored, and merged into: its version from before is under metaBefore
	phones int    // how many numbers it has (merges add up to MaxNumbers)
}

// importer is one import's state between batches.
type importer struct {
	d      *Directory
	a      Actor
	policy DupPolicy
	rep    *ImportReport
	// write: a real import that still may commit; it stops writing at a
	// bad row when bad rows are not skipped, and only lists the rest.
	write     bool
	refused   bool
	now       time.Time
	seen      map[string]*target // by number
	byID      map[uint64]*target // the stored ones, by id
	batch     []row
	from      uint64   // the first new id
	last      uint64   // the last new id
	committed uint64   // the last new id committed
	merged    []uint64 // the stored customers merged into, in order
}

// read prepares the rows and hands them to flush a batch at a time.
func (im *importer) read(rows iter.Seq2[[]string, error], opts ImportOptions, cats map[string]uint64, s schema) error {
	rep := im.rep
	line := 0
	for cells, err := range rows {
		if err != nil {
			return fmt.Errorf("crm: import: line %d: %w", line+1, err)
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
			return Invalid("import", "file", "more than %d rows", MaxImportRows)
		}
		c, err := im.d.rowCustomer(cells, opts, cats, s)
		if err != nil {
			rep.Bad = append(rep.Bad, badRow(line, err))
			// Nothing of a real import will be kept: list the rest only.
			im.refused = im.refused || (im.write && !opts.SkipBad)
			continue
		}
		im.batch = append(im.batch, row{line: line, c: c})
		if len(im.batch) == importBatch {
			if err := im.flush(); err != nil {
				return err
			}
		}
	}
	return im.flush()
}

// flush applies the rows waiting, in one transaction (a read-only one for
// a dry run).
func (im *importer) flush() error {
	defer func() { clear(im.batch); im.batch = im.batch[:0] }()
	if len(im.batch) == 0 || im.refused {
		return nil
	}
	if !im.write {
		return im.d.st.View(im.apply)
	}
	if err := im.d.st.Update(im.apply); err != nil {
		// The batch's ids were given back: hide only those committed.
		im.last = im.committed
		im.d.pendingLast.Store(im.committed)
		return err
	}
	im.committed = im.last
	return nil
}

// stored finds the stored public customer that holds num, if any.
func (im *importer) stored(tx kv.Tx, num string) (*target, error) {
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
	if t := im.byID[id]; t != nil {
		return t, nil
	}
	c, err := getCustomer(tx, id)
	if err != nil {
		return nil, err
	}
	if c.Private {
		return nil, nil // someone's private contact is not a duplicate of the public list
	}
	t := &target{id: id, stored: true, phones: len(c.Phones)}
	im.byID[id] = t
	for _, p := range c.Phones {
		if _, ok := im.seen[p.Number]; !ok {
			im.seen[p.Number] = t
		}
	}
	return t, nil
}

// apply adds the batch's rows under the duplicate policy; with write off
// (a dry run in a read transaction) it only counts.
func (im *importer) apply(tx kv.Tx) error {
	// New number keys are put in key order at the end: bbolt splits pages
	// only at commit, so keys inserted at random places move a page's
	// whole tail each time, and sorted they mostly append.
	var keys [][]byte
	for i := range im.batch {
		c := &im.batch[i].c
		var dup *target
		if im.policy != DupKeep {
			for _, p := range c.Phones {
				t, ok := im.seen[p.Number]
				if !ok {
					var err error
					if t, err = im.stored(tx, p.Number); err != nil {
						return err
					}
					im.seen[p.Number] = t // nil: no one holds it (yet)
				}
				if t != nil {
					dup = t
					break
				}
			}
		}
		switch {
		case dup == nil:
			t := &target{phones: len(c.Phones)}
			if im.write {
				if err := im.create(tx, c, &keys); err != nil {
					return err
				}
				t.id = c.ID
			}
			for _, p := range c.Phones {
				if im.seen[p.Number] == nil || im.policy == DupKeep {
					im.seen[p.Number] = t
				}
			}
			im.rep.Created++
		case im.policy == DupSkip:
			im.rep.Skipped++
		default:
			if im.write {
				if err := im.mergeInto(tx, dup, c, &keys); err != nil {
					return err
				}
			}
			for _, p := range c.Phones {
				if im.seen[p.Number] == nil && dup.phones < MaxNumbers {
					im.seen[p.Number] = dup
					dup.phones++
				}
			}
			im.rep.Merged++
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	for _, k := range keys {
		if err := tx.Put(BucketIndex, k, nil); err != nil {
			return err
		}
	}
	if im.write && (im.from != 0 || len(im.merged) > 0) {
		// The mark names the range to undo (ids after it may be anyone's)
		// and, there, that versions under metaBefore are to be put back.
		return kv.PutJSON(tx, BucketMeta, importKey, pendingImport{From: im.from, Last: im.last})
	}
	return nil
}

// create writes a new customer, hidden until the import commits.
func (im *importer) create(tx kv.Tx, c *Customer, keys *[][]byte) error {
	id, err := tx.NextSeq(BucketCustomers)
	if err != nil {
		return err
	}
	if im.from == 0 {
		im.from = id
		im.d.pending.Store(id)
	}
	im.last = id
	im.d.pendingLast.Store(id)
	c.ID, c.Owner, c.Private, c.Version = id, "", false, 1
	c.Created, c.Updated, c.CreatedBy, c.UpdatedBy = im.now, im.now, im.a.Login, im.a.Login
	if err := kv.PutJSON(tx, BucketCustomers, custKey(id), c); err != nil {
		return err
	}
	for _, p := range c.Phones {
		*keys = append(*keys, numberKey(p.Number, id))
	}
	return nil
}

// mergeInto merges row c into dup in place. A stored customer's version
// from before is kept under metaBefore the first time, to show until the
// import commits and to put back if it does not.
func (im *importer) mergeInto(tx kv.Tx, dup *target, c *Customer, keys *[][]byte) error {
	cur, err := getCustomer(tx, dup.id)
	if err != nil {
		return err
	}
	if dup.stored && !dup.saved {
		raw, err := tx.Get(BucketCustomers, custKey(dup.id))
		if err != nil {
			return err
		}
		if err := tx.Put(BucketMeta, metaKey(metaBefore, dup.id), bytes.Clone(raw)); err != nil {
			return err
		}
		cur.Version++
		dup.saved = true
		im.merged = append(im.merged, dup.id)
		// Readers switch to the kept version before this transaction
		// commits; until it has, they find the stored one (readCustomer).
		im.d.setMerging(dup.id)
	}
	merge(&cur, c)
	cur.Updated, cur.UpdatedBy = im.now, im.a.Login
	for _, p := range cur.Phones {
		*keys = append(*keys, numberKey(p.Number, cur.ID))
	}
	return kv.PutJSON(tx, BucketCustomers, custKey(cur.ID), cur)
}

// commit ends the import: deleting its mark, in one small transaction,
// makes its batches the directory's. Then what changed goes into the
// search index and the versions kept from before the merges are dropped.
func (im *importer) commit(search []string) error {
	d := im.d
	if err := d.st.Update(func(tx kv.Tx) error { return tx.Delete(BucketMeta, importKey) }); err != nil {
		return err
	}
	d.pending.Store(0)
	d.pendingLast.Store(0)
	d.clearMerging()
	var ids []uint64
	if im.from != 0 {
		for id := im.from; id <= im.last; id++ {
			ids = append(ids, id)
			if len(ids) == importBatch {
				d.reindex(ids, search)
				ids = ids[:0]
			}
		}
	}
	d.reindex(append(ids, im.merged...), search)
	if err := d.dropBefore(); err != nil {
		// Committed all the same; the next import or Open drops them.
		d.opts.Log.Error("crm: an import's kept versions not yet dropped", "err", err)
	}
	return nil
}

// reindex puts customers ids in the search index, those still there.
func (d *Directory) reindex(ids []uint64, search []string) {
	for len(ids) > 0 {
		n := min(len(ids), importBatch)
		cs, err := d.load(ids[:n])
		if err != nil {
			// Committed but not searchable until the next start; Lookup finds them.
			d.opts.Log.Error("crm: imported customers not in the search index", "err", err)
		}
		for i := range cs {
			d.idx.put(&cs[i], search)
		}
		ids = ids[n:]
	}
}

// undoImport removes what an import that did not commit wrote, a batch
// per transaction: its new customers and their numbers, then puts back
// the customers it merged into, and last deletes its mark. Without a mark
// it only drops the versions a committed import kept (a stop before
// commit had dropped them).
func (d *Directory) undoImport() error {
	var p pendingImport
	var found bool
	if err := d.st.View(func(tx kv.Tx) (err error) {
		found, err = kv.GetJSON(tx, BucketMeta, importKey, &p)
		return err
	}); err != nil {
		return err
	}
	if !found {
		return d.dropBefore()
	}
	// Until it is undone the import's customers stay hidden: those of a
	// failed import are (its range); those of a crash, before Open reads.
	if d.pending.Load() == 0 {
		d.pending.Store(p.From)
		d.pendingLast.Store(p.Last)
	}
	for id := p.From; id != 0 && id <= p.Last; id += uint64(importBatch) {
		err := d.st.Update(func(tx kv.Tx) error {
			for n := id; n <= p.Last && n < id+uint64(importBatch); n++ {
				raw, err := tx.Get(BucketCustomers, custKey(n))
				if errors.Is(err, kv.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				var c Customer
				_ = json.Unmarshal(raw, &c) // a damaged record's numbers stay, pointing nowhere
				for _, ph := range c.Phones {
					if err := tx.Delete(BucketIndex, numberKey(ph.Number, n)); err != nil {
						return err
					}
				}
				if err := tx.Delete(BucketCustomers, custKey(n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("crm: undo an import: %w", err)
		}
	}
	if err := d.eachBatch(metaBefore, restoreBefore); err != nil {
		return fmt.Errorf("crm: undo an import: %w", err)
	}
	if err := d.eachBatch(metaMerged, nil); err != nil {
		return fmt.Errorf("crm: undo an import: %w", err)
	}
	if err := d.st.Update(func(tx kv.Tx) error { return tx.Delete(BucketMeta, importKey) }); err != nil {
		return fmt.Errorf("crm: undo an import: %w", err)
	}
	d.pending.Store(0)
	d.pendingLast.Store(0)
	d.clearMerging()
	return nil
}

// restoreBefore puts back the customer kept under key k (metaBefore) as
// it was, with its numbers, in place of the merged one.
func restoreBefore(tx kv.Tx, k, v []byte) error {
	id, _, err := kv.CutU64(k[1:])
	if err != nil {
		return err
	}
	if cur, err := getCustomer(tx, id); err == nil {
		for _, ph := range cur.Phones {
			if err := tx.Delete(BucketIndex, numberKey(ph.Number, id)); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid) {
		return err
	}
	var old Customer
	_ = json.Unmarshal(v, &old) // a damaged record goes back as it was, without numbers
	for _, ph := range old.Phones {
		if err := tx.Put(BucketIndex, numberKey(ph.Number, id), nil); err != nil {
			return err
		}
	}
	return tx.Put(BucketCustomers, custKey(id), v)
}

// dropBefore deletes the versions kept from before a committed import's
// merges; it writes nothing when there are none.
func (d *Directory) dropBefore() error {
	if err := d.eachBatch(metaBefore, nil); err != nil {
		return fmt.Errorf("crm: drop an import's kept versions: %w", err)
	}
	return nil
}

// eachBatch deletes BucketMeta's records of kind, importBatch per
// transaction, handing each to fn first (nil: none). With no such records
// it writes nothing.
func (d *Directory) eachBatch(kind byte, fn func(tx kv.Tx, k, v []byte) error) error {
	var any bool
	if err := d.st.View(func(tx kv.Tx) error {
		err := tx.Each(BucketMeta, []byte{kind}, func(k, _ []byte) error { any = true; return errStop })
		if err == errStop {
			err = nil
		}
		return err
	}); err != nil || !any {
		return err
	}
	for done := false; !done; {
		err := d.st.Update(func(tx kv.Tx) error {
			var keys, vals [][]byte
			err := tx.Each(BucketMeta, []byte{kind}, func(k, v []byte) error {
				keys, vals = append(keys, bytes.Clone(k)), append(vals, bytes.Clone(v))
				if len(keys) == importBatch {
					return errStop
				}
				return nil
			})
			if err != nil && err != errStop {
				return err
			}
			for i, k := range keys {
				if fn != nil {
					if err := fn(tx, k, vals[i]); err != nil {
						return err
					}
				}
				if err := tx.Delete(BucketMeta, k); err != nil {
					return err
				}
			}
			done = len(keys) < importBatch
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// setMerging notes that id was merged into by the import under way: until
// it commits, readers see its version kept under metaBefore.
func (d *Directory) setMerging(id uint64) {
	d.mmu.Lock()
	if d.merging == nil {
		d.merging = map[uint64]struct{}{}
	}
	d.merging[id] = struct{}{}
	d.mmu.Unlock()
}

func (d *Directory) clearMerging() {
	d.mmu.Lock()
	d.merging = nil
	d.mmu.Unlock()
}

func (d *Directory) isMerging(id uint64) bool {
	d.mmu.RLock()
	_, ok := d.merging[id]
	d.mmu.RUnlock()
	return ok
}

// readCustomer reads customer id as readers see it: a customer an import
// under way merged into as it was before (the merged one while the batch
// that kept the old version has not committed).
func (d *Directory) readCustomer(tx kv.Tx, id uint64) (Customer, error) {
	if d.isMerging(id) {
		var c Customer
		found, err := kv.GetJSON(tx, BucketMeta, metaKey(metaBefore, id), &c)
		if err != nil || found {
			return c, err
		}
	}
	return getCustomer(tx, id)
}

// hidden reports whether id is a customer of an import not yet committed.
func (d *Directory) hidden(id uint64) bool {
	p := d.pending.Load()
	return p != 0 && id >= p && id <= d.pendingLast.Load()
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
					c, err := d.readCustomer(tx, id)
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
