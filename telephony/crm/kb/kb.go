// Package kb is the knowledge base (知识库): categories and articles in
// plain text with simple formatting, every saved version kept, and a
// search that works for Chinese (no spaces between words: character
// bigrams) and English (words), opened from the agent's desk.
//
// Everyone reads; supervisors and administrators write. Records live in a
// kv.Store (Buckets); the search index is in memory, built at Open.
// Errors use crm's sentinels.
package kb

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kv"
)

// BucketKB holds categories, articles and their versions.
const BucketKB kv.Bucket = "kb"

// Buckets lists every bucket the package uses.
var Buckets = []kv.Bucket{BucketKB}

const (
	keyCategory = 'c' // id -> Category
	keyArticle  = 'a' // id -> Article (the current version)
	keyVersion  = 'v' // id version -> Article (every version)
)

// Category groups articles; Parent 0 is a top category.
type Category struct {
	ID     uint64 `json:"id"`
	Parent uint64 `json:"parent,omitempty"`
	Name   string `json:"name"`
}

// Article is a piece of knowledge. Body is plain text with simple
// formatting (see Blocks).
type Article struct {
	ID       uint64    `json:"id"`
	Category uint64    `json:"category"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Version  uint64    `json:"version"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	By       string    `json:"by"` // who saved this version
}

// Limits.
const (
	MaxTitleLen = 128
	MaxBodyLen  = 20000
)

// Options tunes a Base.
type Options struct {
	Now func() time.Time
}

// Base is the knowledge base. It is safe for concurrent use.
type Base struct {
	st  kv.Store
	now func() time.Time
	mu  sync.Mutex // serialises writes with the index
	idx *index
}

// Open builds the search index from st.
func Open(st kv.Store, opts Options) (*Base, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Base{st: st, now: func() time.Time { return opts.Now().UTC() }, idx: newIndex()}
	err := st.View(func(tx kv.Tx) error {
		return tx.Each(BucketKB, []byte{keyArticle}, func(k, v []byte) error {
			var a Article
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("kb: article %x: damaged record: %w", k, err)
			}
			b.idx.put(&a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("kb: open: %w", err)
	}
	return b, nil
}

func canWrite(a crm.Actor) bool { return a.Supervisor() }

func get[T any](tx kv.Tx, key []byte, what string) (T, error) {
	var t T
	err := crm.Load(tx, BucketKB, key, what, &t)
	return t, err
}

func put(tx kv.Tx, key []byte, v any) error { return kv.PutJSON(tx, BucketKB, key, v) }

func each[T any](tx kv.Tx, prefix []byte) ([]T, error) { return kv.EachJSON[T](tx, BucketKB, prefix) }

// Categories lists the categories by id.
func (b *Base) Categories() (out []Category, err error) {
	err = b.st.View(func(tx kv.Tx) error {
		out, err = each[Category](tx, []byte{keyCategory})
		return err
	})
	return out, err
}

// SaveCategory creates (ID 0) or renames a category.
func (b *Base) SaveCategory(a crm.Actor, c Category) (Category, error) {
	if !canWrite(a) {
		return c, crm.Forbidden(a, "edit the knowledge base")
	}
	c.Name = strings.TrimSpace(c.Name)
	if err := crm.CheckText("kb_category", "name", c.Name, crm.MaxNameLen, true, false); err != nil {
		return c, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.st.Update(func(tx kv.Tx) error {
		all, err := each[Category](tx, []byte{keyCategory})
		if err != nil {
			return err
		}
		found := c.ID == 0
		parentOK := c.Parent == 0
		for _, o := range all {
			found = found || o.ID == c.ID
			parentOK = parentOK || (o.ID == c.Parent && o.ID != c.ID)
			if o.ID != c.ID && o.Parent == c.Parent && strings.EqualFold(o.Name, c.Name) {
				return fmt.Errorf("%w: category %q exists", crm.ErrConflict, c.Name)
			}
		}
		if !found {
			return fmt.Errorf("%w: category %d", crm.ErrNotFound, c.ID)
		}
		if !parentOK {
			return crm.Invalid("kb_category", "parent", "no category %d", c.Parent)
		}
		if c.ID == 0 {
			if c.ID, err = tx.NextSeq(BucketKB); err != nil {
				return err
			}
		}
		return put(tx, kv.Key{keyCategory}.U64(c.ID), c)
	})
	return c, err
}

// DeleteCategory removes an empty category.
func (b *Base) DeleteCategory(a crm.Actor, id uint64) error {
	if !canWrite(a) {
		return crm.Forbidden(a, "edit the knowledge base")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.Update(func(tx kv.Tx) error {
		if _, err := get[Category](tx, kv.Key{keyCategory}.U64(id), fmt.Sprintf("category %d", id)); err != nil {
			return err
		}
		cats, err := each[Category](tx, []byte{keyCategory})
		if err != nil {
			return err
		}
		for _, c := range cats {
			if c.Parent == id {
				return fmt.Errorf("%w: category %d has sub-categories", crm.ErrConflict, id)
			}
		}
		if b.idx.inCategory(id) > 0 {
			return fmt.Errorf("%w: category %d holds articles", crm.ErrConflict, id)
		}
		return tx.Delete(BucketKB, kv.Key{keyCategory}.U64(id))
	})
}

// Get returns an article's current version.
func (b *Base) Get(id uint64) (a Article, err error) {
	err = b.st.View(func(tx kv.Tx) error {
		a, err = get[Article](tx, kv.Key{keyArticle}.U64(id), fmt.Sprintf("article %d", id))
		return err
	})
	return a, err
}

// Versions returns every saved version of an article, oldest first.
func (b *Base) Versions(id uint64) (out []Article, err error) {
	err = b.st.View(func(tx kv.Tx) error {
		if _, err := get[Article](tx, kv.Key{keyArticle}.U64(id), fmt.Sprintf("article %d", id)); err != nil {
			return err
		}
		out, err = each[Article](tx, kv.Key{keyVersion}.U64(id))
		return err
	})
	return out, err
}

// Save creates (ID 0) or changes an article, keeping the new version
// beside the old ones. version, when not 0, must be the current one.
func (b *Base) Save(a crm.Actor, art Article, version uint64) (Article, error) {
	if !canWrite(a) {
		return art, crm.Forbidden(a, "edit the knowledge base")
	}
	art.Title = strings.TrimSpace(art.Title)
	if err := crm.CheckText("article", "title", art.Title, MaxTitleLen, true, false); err != nil {
		return art, err
	}
	if err := crm.CheckText("article", "body", art.Body, MaxBodyLen, true, true); err != nil {
		return art, err
	}
	art.Body = strings.ReplaceAll(art.Body, "\r\n", "\n")
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.st.Update(func(tx kv.Tx) error {
		if _, err := get[Category](tx, kv.Key{keyCategory}.U64(art.Category), ""); err != nil {
			return crm.Invalid("article", "category", "no category %d", art.Category)
		}
		now := b.now()
		if art.ID == 0 {
			id, err := tx.NextSeq(BucketKB)
			if err != nil {
				return err
			}
			art.ID, art.Version, art.Created = id, 1, now
		} else {
			old, err := get[Article](tx, kv.Key{keyArticle}.U64(art.ID), fmt.Sprintf("article %d", art.ID))
			if err != nil {
				return err
			}
			if version != 0 && version != old.Version {
				return fmt.Errorf("%w: article %d was saved meanwhile (version %d, yours %d)", crm.ErrConflict, art.ID, old.Version, version)
			}
			art.Version, art.Created = old.Version+1, old.Created
		}
		art.Updated, art.By = now, a.Login
		if err := put(tx, kv.Key{keyVersion}.U64(art.ID).U64(art.Version), art); err != nil {
			return err
		}
		return put(tx, kv.Key{keyArticle}.U64(art.ID), art)
	})
	if err != nil {
		return Article{}, err
	}
	b.idx.put(&art)
	return art, nil
}

// Delete removes an article and its versions.
func (b *Base) Delete(a crm.Actor, id uint64) error {
	if !canWrite(a) {
		return crm.Forbidden(a, "edit the knowledge base")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.st.Update(func(tx kv.Tx) error {
		if _, err := get[Article](tx, kv.Key{keyArticle}.U64(id), fmt.Sprintf("article %d", id)); err != nil {
			return err
		}
		var keys [][]byte
		if err := tx.Each(BucketKB, kv.Key{keyVersion}.U64(id), func(k, _ []byte) error {
			keys = append(keys, append([]byte{}, k...))
			return nil
		}); err != nil {
			return err
		}
		keys = append(keys, kv.Key{keyArticle}.U64(id))
		for _, k := range keys {
			if err := tx.Delete(BucketKB, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		b.idx.remove(id)
	}
	return err
}

// List returns the articles of a category (0: all), by title.
func (b *Base) List(category uint64) ([]Article, error) {
	var out []Article
	err := b.st.View(func(tx kv.Tx) error {
		all, err := each[Article](tx, []byte{keyArticle})
		for _, a := range all {
			if category == 0 || a.Category == category {
				a.Body = ""
				out = append(out, a)
			}
		}
		return err
	})
	sortByTitle(out)
	return out, err
}

// Result is a search hit.
type Result struct {
	Article Article `json:"article"`
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
}

// Search finds articles for q, best first: Chinese by overlapping
// character pairs (so 停电 finds 小区停电了 without word breaking),
// English and numbers by words (a word of the query also matches words it
// begins: "meter" finds "meters"). An article must hold at least half of
// the query's terms; title matches count three times.
func (b *Base) Search(q string, limit int) ([]Result, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	hits := b.idx.search(q, limit)
	out := make([]Result, 0, len(hits))
	err := b.st.View(func(tx kv.Tx) error {
		for _, h := range hits {
			a, err := get[Article](tx, kv.Key{keyArticle}.U64(h.id), "")
			if errors.Is(err, crm.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, Result{Article: a, Score: h.score, Snippet: snippet(a.Body, q)})
		}
		return nil
	})
	return out, err
}
