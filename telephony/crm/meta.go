package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"callbox/telephony/crm/kv"
)

// Category is a kind of customer (VIP, 居民, 企业...). At least one must
// exist before agents add customers, as the seed's guide says.
type Category struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
}

// FieldType is the kind of value a custom field holds.
type FieldType string

// The custom field types.
const (
	FieldText   FieldType = "text"
	FieldNumber FieldType = "number" // a decimal number
	FieldDate   FieldType = "date"   // 2006-01-02
	FieldChoice FieldType = "choice" // one of Choices
)

// FieldDef is an admin-defined customer field (户号, 用电类别...).
type FieldDef struct {
	Key      string    `json:"key"` // a-z, 0-9, _ ; the JSON key in Customer.Fields
	Label    string    `json:"label"`
	Type     FieldType `json:"type"`
	Choices  []string  `json:"choices,omitempty"`
	Required bool      `json:"required,omitempty"`
	// Search puts the field's values in the search index.
	Search bool `json:"search,omitempty"`
}

// CommType is a communication type (沟通类型): a kind of question or
// request the centre records (咨询, 报修, 投诉...).
type CommType struct {
	ID       uint64 `json:"id"`
	Name     string `json:"name"`
	Disabled bool   `json:"disabled,omitempty"`
}

// Keys of BucketMeta.
const (
	metaCategory = 'g'
	metaField    = 'f'
	metaCommType = 't'
)

// Limits of names and texts, in characters.
const (
	MaxNameLen    = 64
	MaxCompanyLen = 128
	MaxAddressLen = 256
	MaxNotesLen   = 2000
	MaxTextLen    = 4000
	MaxNumbers    = 8
	MaxFields     = 32
	maxChoices    = 64
)

// CheckText refuses a text that is too long or holds control characters
// other than line breaks and tabs (when multiline). The record packages
// use it for every text field.
func CheckText(entity, field, s string, max int, required, multiline bool) error {
	if !utf8.ValidString(s) {
		return Invalid(entity, field, "not valid UTF-8")
	}
	if required && strings.TrimSpace(s) == "" {
		return Invalid(entity, field, "required")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return Invalid(entity, field, "%d characters, at most %d", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return Invalid(entity, field, "control character %U", r)
		}
	}
	return nil
}

func metaKey(kind byte, id uint64) []byte { return kv.Key{kind}.U64(id) }

// Load decodes the record under key into v; a missing one gives an error
// wrapping ErrNotFound that names what. The record packages (kb,
// workorder) load theirs with it too.
func Load(tx kv.Tx, b kv.Bucket, key []byte, what string, v any) error {
	found, err := kv.GetJSON(tx, b, key, v)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return err
}

// Categories lists the customer categories, oldest first.
func (d *Directory) Categories() (out []Category, err error) {
	err = d.st.View(func(tx kv.Tx) error {
		out, err = kv.EachJSON[Category](tx, BucketMeta, []byte{metaCategory})
		return err
	})
	return out, err
}

// SaveCategory creates a category (ID 0) or renames one. Names are unique.
func (d *Directory) SaveCategory(a Actor, c Category) (Category, error) {
	if !a.Admin() {
		return c, Forbidden(a, "edit customer categories")
	}
	c.Name = strings.TrimSpace(c.Name)
	if err := CheckText("category", "name", c.Name, MaxNameLen, true, false); err != nil {
		return c, err
	}
	err := d.st.Update(func(tx kv.Tx) error {
		all, err := kv.EachJSON[Category](tx, BucketMeta, []byte{metaCategory})
		if err != nil {
			return err
		}
		found := c.ID == 0
		for _, o := range all {
			if o.ID != c.ID && strings.EqualFold(o.Name, c.Name) {
				return fmt.Errorf("%w: category %q exists", ErrConflict, c.Name)
			}
			found = found || o.ID == c.ID
		}
		if !found {
			return fmt.Errorf("%w: category %d", ErrNotFound, c.ID)
		}
		if c.ID == 0 {
			if c.ID, err = tx.NextSeq(BucketMeta); err != nil {
				return err
			}
		}
		return kv.PutJSON(tx, BucketMeta, metaKey(metaCategory, c.ID), c)
	})
	return c, err
}

// DeleteCategory removes a category no customer is in.
func (d *Directory) DeleteCategory(a Actor, id uint64) error {
	if !a.Admin() {
		return Forbidden(a, "edit customer categories")
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if n := d.idx.inCategory(id); n > 0 {
		return fmt.Errorf("%w: category %d holds %d customers", ErrConflict, id, n)
	}
	return d.st.Update(func(tx kv.Tx) error {
		if _, err := tx.Get(BucketMeta, metaKey(metaCategory, id)); err != nil {
			return fmt.Errorf("%w: category %d", ErrNotFound, id)
		}
		return tx.Delete(BucketMeta, metaKey(metaCategory, id))
	})
}

var fieldKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Fields lists the custom field definitions in key order.
func (d *Directory) Fields() (out []FieldDef, err error) {
	err = d.st.View(func(tx kv.Tx) error {
		out, err = kv.EachJSON[FieldDef](tx, BucketMeta, []byte{metaField})
		return err
	})
	return out, err
}

// SaveField creates or replaces a custom field definition. Values already
// stored are kept; they are checked against the new definition when their
// customer is next saved.
func (d *Directory) SaveField(a Actor, f FieldDef) (FieldDef, error) {
	if !a.Admin() {
		return f, Forbidden(a, "edit custom fields")
	}
	if !fieldKeyRE.MatchString(f.Key) {
		return f, Invalid("field", "key", "1-32 of a-z, 0-9 and _, starting with a letter")
	}
	f.Label = strings.TrimSpace(f.Label)
	if err := CheckText("field", "label", f.Label, MaxNameLen, true, false); err != nil {
		return f, err
	}
	switch f.Type {
	case FieldText, FieldNumber, FieldDate:
		f.Choices = nil
	case FieldChoice:
		if len(f.Choices) == 0 || len(f.Choices) > maxChoices {
			return f, Invalid("field", "choices", "1 to %d choices", maxChoices)
		}
		for i, c := range f.Choices {
			if err := CheckText("field", fmt.Sprintf("choices[%d]", i), c, MaxNameLen, true, false); err != nil {
				return f, err
			}
			if slices.Index(f.Choices, c) != i {
				return f, Invalid("field", fmt.Sprintf("choices[%d]", i), "repeated")
			}
		}
	default:
		return f, Invalid("field", "type", "text, number, date or choice")
	}
	err := d.st.Update(func(tx kv.Tx) error {
		all, err := kv.EachJSON[FieldDef](tx, BucketMeta, []byte{metaField})
		if err != nil {
			return err
		}
		n := len(all)
		for _, o := range all {
			if o.Key == f.Key {
				n--
			}
		}
		if n >= MaxFields {
			return Invalid("field", "key", "at most %d custom fields", MaxFields)
		}
		return kv.PutJSON(tx, BucketMeta, kv.Key{metaField}.Str(f.Key), f)
	})
	if err != nil {
		return f, err
	}
	// Whether the field is searchable may have changed.
	return f, d.reindexAll()
}

// DeleteField removes a custom field definition; values stored under it
// stay in the records until each customer is next saved.
func (d *Directory) DeleteField(a Actor, key string) error {
	if !a.Admin() {
		return Forbidden(a, "edit custom fields")
	}
	err := d.st.Update(func(tx kv.Tx) error {
		k := kv.Key{metaField}.Str(key)
		if _, err := tx.Get(BucketMeta, k); err != nil {
			return fmt.Errorf("%w: field %q", ErrNotFound, key)
		}
		return tx.Delete(BucketMeta, k)
	})
	if err != nil {
		return err
	}
	return d.reindexAll()
}

// CommTypes lists the communication types, oldest first.
func (d *Directory) CommTypes() (out []CommType, err error) {
	err = d.st.View(func(tx kv.Tx) error {
		out, err = kv.EachJSON[CommType](tx, BucketMeta, []byte{metaCommType})
		return err
	})
	return out, err
}

// SaveCommType creates (ID 0) or changes a communication type. A type in
// use is disabled rather than deleted, so old records keep their name.
func (d *Directory) SaveCommType(a Actor, t CommType) (CommType, error) {
	if !a.Admin() {
		return t, Forbidden(a, "edit communication types")
	}
	t.Name = strings.TrimSpace(t.Name)
	if err := CheckText("comm_type", "name", t.Name, MaxNameLen, true, false); err != nil {
		return t, err
	}
	err := d.st.Update(func(tx kv.Tx) error {
		all, err := kv.EachJSON[CommType](tx, BucketMeta, []byte{metaCommType})
		if err != nil {
			return err
		}
		found := t.ID == 0
		for _, o := range all {
			if o.ID != t.ID && strings.EqualFold(o.Name, t.Name) {
				return fmt.Errorf("%w: communication type %q exists", ErrConflict, t.Name)
			}
			found = found || o.ID == t.ID
		}
		if !found {
			return fmt.Errorf("%w: communication type %d", ErrNotFound, t.ID)
		}
		if t.ID == 0 {
			if t.ID, err = tx.NextSeq(BucketMeta); err != nil {
				return err
			}
		}
		return kv.PutJSON(tx, BucketMeta, metaKey(metaCommType, t.ID), t)
	})
	return t, err
}

// DeleteCommType removes a communication type no record uses.
func (d *Directory) DeleteCommType(a Actor, id uint64) error {
	if !a.Admin() {
		return Forbidden(a, "edit communication types")
	}
	return d.st.Update(func(tx kv.Tx) error {
		if _, err := tx.Get(BucketMeta, metaKey(metaCommType, id)); err != nil {
			return fmt.Errorf("%w: communication type %d", ErrNotFound, id)
		}
		inUse := errors.New("in use")
		err := tx.Each(BucketComms, nil, func(k, v []byte) error {
			var c struct {
				Type uint64 `json:"type"`
			}
			if json.Unmarshal(v, &c) == nil && c.Type == id {
				return inUse
			}
			return nil
		})
		if err == inUse {
			return fmt.Errorf("%w: communication type %d is used by records; disable it instead", ErrConflict, id)
		}
		if err != nil {
			return err
		}
		return tx.Delete(BucketMeta, metaKey(metaCommType, id))
	})
}
