package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"callbox/telephony/crm/kv"
)

// Phone is one of a customer's numbers.
type Phone struct {
	// Number is given as people write it and stored normalised (see
	// ParseNumber): digits only, national form.
	Number string `json:"number"`
	Ext    string `json:"ext,omitempty"`
	Label  string `json:"label,omitempty"` // "mobile", "office", "家里"...
}

// Customer is a contact: public (everyone sees it) or private to its owner.
type Customer struct {
	ID       uint64            `json:"id"`
	Category uint64            `json:"category"`
	Name     string            `json:"name"`
	Company  string            `json:"company,omitempty"`
	Address  string            `json:"address,omitempty"`
	Region   string            `json:"region,omitempty"` // from the first number when not given
	Notes    string            `json:"notes,omitempty"`
	Phones   []Phone           `json:"numbers"`
	Fields   map[string]string `json:"fields,omitempty"`
	// Private makes the contact its owner's alone; Owner is set from the
	// actor who made it so.
	Private bool   `json:"private,omitempty"`
	Owner   string `json:"owner,omitempty"`
	// Version counts saves. An update that names a version other than
	// the stored one is refused (ErrConflict): someone saved meanwhile.
	Version   uint64    `json:"version"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	CreatedBy string    `json:"created_by,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Numbers returns the customer's normalised numbers.
func (c *Customer) Numbers() []string {
	out := make([]string, 0, len(c.Phones))
	for _, p := range c.Phones {
		out = append(out, p.Number)
	}
	return out
}

// Index keys.
const (
	idxNumber = 'n' // 'n' number 0x00 id -> ""
	idxComm   = 'c' // 'c' customer time id -> ""
)

func custKey(id uint64) []byte { return kv.Key(nil).U64(id) }

func numberKey(digits string, id uint64) []byte { return kv.Key{idxNumber}.Str(digits).U64(id) }

// schema is what validation needs from the meta records.
type schema struct {
	cats   map[uint64]bool
	fields map[string]FieldDef
	search []string // keys of the searchable fields, sorted
}

func loadSchema(tx kv.Tx) (schema, error) {
	s := schema{cats: map[uint64]bool{}, fields: map[string]FieldDef{}}
	cats, err := kv.EachJSON[Category](tx, BucketMeta, []byte{metaCategory})
	if err != nil {
		return s, err
	}
	for _, c := range cats {
		s.cats[c.ID] = true
	}
	defs, err := kv.EachJSON[FieldDef](tx, BucketMeta, []byte{metaField})
	if err != nil {
		return s, err
	}
	for _, f := range defs {
		s.fields[f.Key] = f
		if f.Search {
			s.search = append(s.search, f.Key)
		}
	}
	return s, nil
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// clean normalises and checks c's caller-set fields.
func (d *Directory) clean(c *Customer, s schema) error {
	const e = "customer"
	if len(s.cats) == 0 {
		return Invalid(e, "category", "no customer category exists yet: an administrator must create one first")
	}
	if !s.cats[c.Category] {
		return Invalid(e, "category", "no category %d", c.Category)
	}
	c.Name, c.Company, c.Address, c.Region = strings.TrimSpace(c.Name), strings.TrimSpace(c.Company),
		strings.TrimSpace(c.Address), strings.TrimSpace(c.Region)
	for _, f := range []struct {
		name, v   string
		max       int
		multiline bool
	}{{"name", c.Name, MaxNameLen, false}, {"company", c.Company, MaxCompanyLen, false},
		{"address", c.Address, MaxAddressLen, false}, {"region", c.Region, MaxNameLen, false},
		{"notes", c.Notes, MaxNotesLen, true}} {
		if err := CheckText(e, f.name, f.v, f.max, false, f.multiline); err != nil {
			return err
		}
	}
	if len(c.Phones) > MaxNumbers {
		return Invalid(e, "numbers", "at most %d numbers", MaxNumbers)
	}
	seen := map[string]bool{}
	for i, p := range c.Phones {
		field := fmt.Sprintf("numbers[%d]", i)
		raw := p.Number
		if p.Ext != "" {
			raw += " ext " + p.Ext
		}
		n, err := ParseNumber(raw, d.LocalArea())
		if err != nil {
			return Invalid(e, field, "%s", strings.TrimPrefix(err.Error(), "crm: "))
		}
		if seen[n.String()] {
			return Invalid(e, field, "number %s given twice", n)
		}
		seen[n.String()] = true
		if err := CheckText(e, field+".label", p.Label, 32, false, false); err != nil {
			return err
		}
		c.Phones[i] = Phone{Number: n.Digits, Ext: n.Ext, Label: strings.TrimSpace(p.Label)}
	}
	if c.Name == "" && len(c.Phones) == 0 {
		return Invalid(e, "name", "a customer needs a name or a number")
	}
	if c.Region == "" && len(c.Phones) > 0 {
		c.Region = d.opts.Region(c.Phones[0].Number)
	}
	if len(c.Fields) > 0 {
		out := make(map[string]string, len(c.Fields))
		for k, v := range c.Fields {
			def, ok := s.fields[k]
			if !ok {
				return Invalid(e, "fields."+k, "no such custom field")
			}
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if err := checkFieldValue(def, v); err != nil {
				return err
			}
			out[k] = v
		}
		c.Fields = out
	}
	for _, k := range slices.Sorted(maps.Keys(s.fields)) {
		if s.fields[k].Required && c.Fields[k] == "" {
			return Invalid(e, "fields."+k, "required")
		}
	}
	if len(c.Fields) == 0 {
		c.Fields = nil
	}
	return nil
}

func checkFieldValue(def FieldDef, v string) error {
	field := "fields." + def.Key
	if err := CheckText("customer", field, v, MaxAddressLen, false, false); err != nil {
		return err
	}
	switch def.Type {
	case FieldNumber:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return Invalid("customer", field, "%q is not a number", v)
		}
	case FieldDate:
		if _, err := time.Parse(time.DateOnly, v); err != nil || !dateRE.MatchString(v) {
			return Invalid("customer", field, "%q is not a date like 2026-01-31", v)
		}
	case FieldChoice:
		if !slices.Contains(def.Choices, v) {
			return Invalid("customer", field, "%q is not one of %s", v, strings.Join(def.Choices, ", "))
		}
	}
	return nil
}

// Get returns customer id if a may see it.
func (d *Directory) Get(a Actor, id uint64) (c Customer, err error) {
	err = d.st.View(func(tx kv.Tx) error {
		c, err = d.readCustomer(tx, id)
		return err
	})
	if err == nil && (!visible(a, &c) || d.hidden(id)) {
		return Customer{}, fmt.Errorf("%w: customer %d", ErrNotFound, id)
	}
	return c, err
}

func getCustomer(tx kv.Tx, id uint64) (c Customer, err error) {
	err = Load(tx, BucketCustomers, custKey(id), fmt.Sprintf("customer %d", id), &c)
	return c, err
}

func visible(a Actor, c *Customer) bool { return !c.Private || c.Owner == a.Login }

// Create adds a customer; ID, Version and the times are set here.
func (d *Directory) Create(a Actor, c Customer) (Customer, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	var s schema
	err := d.st.Update(func(tx kv.Tx) (err error) {
		if s, err = loadSchema(tx); err != nil {
			return err
		}
		if err := d.clean(&c, s); err != nil {
			return err
		}
		if c.ID, err = tx.NextSeq(BucketCustomers); err != nil {
			return err
		}
		c.Owner = ""
		if c.Private {
			c.Owner = a.Login
		}
		c.Version, c.Created, c.Updated, c.CreatedBy, c.UpdatedBy = 1, d.now(), d.now(), a.Login, a.Login
		return putCustomer(tx, &c, nil)
	})
	if err != nil {
		return Customer{}, err
	}
	d.idx.put(&c, s.search)
	return c, nil
}

// settleMerge finishes undoing a failed import (its undo failed too)
// that merged into customer id before id is changed, so putting back its
// old version later cannot undo the change. The caller holds wmu.
func (d *Directory) settleMerge(id uint64) error {
	if !d.isMerging(id) {
		return nil
	}
	return d.undoImport()
}

// putCustomer writes c and its number keys, dropping old's.
func putCustomer(tx kv.Tx, c, old *Customer) error {
	if old != nil {
		for _, p := range old.Phones {
			if err := tx.Delete(BucketIndex, numberKey(p.Number, old.ID)); err != nil {
				return err
			}
		}
	}
	for _, p := range c.Phones {
		if err := tx.Put(BucketIndex, numberKey(p.Number, c.ID), nil); err != nil {
			return err
		}
	}
	return kv.PutJSON(tx, BucketCustomers, custKey(c.ID), c)
}

// Update replaces customer c.ID's fields with c's. A private contact is its
// owner's to change; a public one anyone's; only the owner may make a
// private contact public, and a public one stays public.
func (d *Directory) Update(a Actor, c Customer) (Customer, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.settleMerge(c.ID); err != nil {
		return Customer{}, err
	}
	var s schema
	err := d.st.Update(func(tx kv.Tx) (err error) {
		old, err := getCustomer(tx, c.ID)
		if err != nil {
			return err
		}
		if !visible(a, &old) {
			return fmt.Errorf("%w: customer %d", ErrNotFound, c.ID)
		}
		if c.Private && !old.Private {
			return Invalid("customer", "private", "a public contact cannot be made private")
		}
		if c.Version != 0 && c.Version != old.Version {
			return fmt.Errorf("%w: customer %d was changed meanwhile (version %d, yours %d)", ErrConflict, c.ID, old.Version, c.Version)
		}
		if s, err = loadSchema(tx); err != nil {
			return err
		}
		if err := d.clean(&c, s); err != nil {
			return err
		}
		c.Owner = ""
		if c.Private {
			c.Owner = old.Owner
		}
		c.Version, c.Created, c.CreatedBy, c.Updated, c.UpdatedBy = old.Version+1, old.Created, old.CreatedBy, d.now(), a.Login
		return putCustomer(tx, &c, &old)
	})
	if err != nil {
		return Customer{}, err
	}
	d.idx.put(&c, s.search)
	return c, nil
}

// Delete removes a customer and its number keys. Its communication records
// stay (they are the centre's history) and still name its id.
func (d *Directory) Delete(a Actor, id uint64) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.settleMerge(id); err != nil {
		return err
	}
	err := d.st.Update(func(tx kv.Tx) error {
		old, err := getCustomer(tx, id)
		if err != nil {
			return err
		}
		switch {
		case !visible(a, &old):
			return fmt.Errorf("%w: customer %d", ErrNotFound, id)
		case !old.Private && !a.Supervisor():
			return Forbidden(a, "delete public contacts")
		}
		for _, p := range old.Phones {
			if err := tx.Delete(BucketIndex, numberKey(p.Number, id)); err != nil {
				return err
			}
		}
		return tx.Delete(BucketCustomers, custKey(id))
	})
	if err != nil {
		return err
	}
	d.idx.remove(id)
	return nil
}

// Lookup returns the customers a may see that have number among theirs:
// the screen-pop, by the calling number (or the number called, for a DID
// service). Any written form of the number works (ParseNumber); a local
// number also finds the entry stored with the box's area code.
func (d *Directory) Lookup(a Actor, number string) ([]Customer, error) {
	n, err := ParseNumber(number, d.LocalArea())
	if err != nil {
		return nil, Invalid("lookup", "number", "%s", strings.TrimPrefix(err.Error(), "crm: "))
	}
	out := []Customer{}
	err = d.st.View(func(tx kv.Tx) error {
		var ids []uint64
		err := tx.Each(BucketIndex, kv.Key{idxNumber}.Str(n.Digits), func(k, _ []byte) error {
			id, _, err := kv.CutU64(k[len(k)-8:])
			ids = append(ids, id)
			return err
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if d.hidden(id) {
				continue
			}
			c, err := d.readCustomer(tx, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			// A number an import under way merged in is not yet theirs.
			if d.isMerging(id) && !slices.ContainsFunc(c.Phones, func(p Phone) bool { return p.Number == n.Digits }) {
				continue
			}
			if visible(a, &c) {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// SearchResult is a page of search results.
type SearchResult struct {
	Customers []Customer `json:"customers"`
	// Truncated: the query matched so many customers that only the first
	// few thousand were ranked; type more of it.
	Truncated bool `json:"truncated,omitempty"`
}

// Search finds the customers a may see that match every word of q in any
// of number, name, its pinyin (full or initials), company, address and
// searchable custom fields, as a substring (partial input works), best
// matches first: a match of a whole field before one at its start, before
// one inside it; names before numbers before companies before addresses.
func (d *Directory) Search(a Actor, q string, limit int) (SearchResult, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	hits, trunc := d.idx.search(q, a.Login, limit)
	ids := make([]uint64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	cs, err := d.load(ids)
	return SearchResult{Customers: cs, Truncated: trunc}, err
}

// List returns a page of the customers a may see, by id, from offset, and
// how many there are in all.
func (d *Directory) List(a Actor, offset, limit int) ([]Customer, int, error) {
	ids := d.idx.ids(a.Login)
	total := len(ids)
	if offset < 0 || offset > total {
		offset = total
	}
	out, err := d.load(ids[offset:min(total, offset+limit)])
	return out, total, err
}

// load reads customers by id, leaving out those deleted meanwhile.
func (d *Directory) load(ids []uint64) ([]Customer, error) {
	out := make([]Customer, 0, len(ids))
	err := d.st.View(func(tx kv.Tx) error {
		for _, id := range ids {
			c, err := d.readCustomer(tx, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// Stats reports the directory's size: live customers and the bytes of the
// search index's text.
func (d *Directory) Stats() (customers, indexBytes int) { return d.idx.size() }

// rebuild reads every customer into the search index.
func (d *Directory) rebuild() error {
	idx := newIndex()
	err := d.st.View(func(tx kv.Tx) error {
		s, err := loadSchema(tx)
		if err != nil {
			return err
		}
		return tx.Each(BucketCustomers, nil, func(k, v []byte) error {
			var c Customer
			if err := json.Unmarshal(v, &c); err != nil {
				d.opts.Log.Error("crm: damaged customer record skipped by the search index", "key", fmt.Sprintf("%x", k), "err", err)
				return nil
			}
			idx.put(&c, s.search)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("crm: open: %w", err)
	}
	d.idx.swap(idx)
	return nil
}

// reindexAll re-reads every customer, after a change of which custom
// fields are searchable.
func (d *Directory) reindexAll() error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return d.rebuild()
}
