package crm

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"callbox/telephony/crm/pinyin"
)

// The search index is every customer's searchable text, lower-cased and
// with the pinyin of its Chinese, laid end to end in one byte arena, and
// for each customer a 256-bit signature of the byte pairs of its text. A
// query keeps the customers whose signature holds every byte pair of its
// terms (a few AND operations per customer: well under a millisecond for
// 100,000), then finds each term in the text of those few. A substring
// match is what makes partial input work in every field at once (the
// middle digits of a number, "zhangs", the initials "zs", a street name),
// with no word breaking for Chinese; the signature makes it fast without
// the tens of megabytes an n-gram posting list would take.
//
// Each customer's text starts with entrySep; each field starts with its
// tag byte, so no match spans two fields or customers (queries hold no
// control characters) and a hit's field is the tag before it.
const entrySep = 0x00

// Field tags in the arena, and the weight of a match in each.
const (
	tagName = 0x02 + iota
	tagNamePinyin
	tagNameInitials
	tagCompany
	tagCompanyPinyin
	tagCompanyInitials
	tagAddress
	tagField
	tagNumber
	tagLast
)

var tagWeight = [tagLast]int{
	tagName: 100, tagNumber: 95, tagNamePinyin: 80, tagNameInitials: 80,
	tagCompany: 60, tagCompanyPinyin: 50, tagCompanyInitials: 50, tagField: 45, tagAddress: 40,
}

// Bonuses for a match that is the whole field or starts it.
const (
	bonusExact  = 30
	bonusPrefix = 15
	bonusCover  = 10
)

// maxCandidates bounds the customers one search ranks: a one-letter query
// matches most of the directory, and ranking all of it helps nobody.
const maxCandidates = 5000

// sig is a customer's byte-pair signature.
type sig [4]uint64

// addPairs sets the bits of the byte pairs of text that lie within one
// field (no tag or separator byte).
func (g *sig) addPairs(text []byte) {
	for i := 0; i+1 < len(text); i++ {
		if text[i] < 0x20 || text[i+1] < 0x20 {
			continue
		}
		h := (uint32(text[i])<<8 | uint32(text[i+1])) * 0x9E3779B1 >> 24
		g[h>>6] |= 1 << (h & 63)
	}
}

func (g *sig) holds(q *sig) bool {
	return g[0]&q[0] == q[0] && g[1]&q[1] == q[1] && g[2]&q[2] == q[2] && g[3]&q[3] == q[3]
}

type entry struct {
	sig      sig
	id       uint64
	category uint64
	start    uint32 // offset of the entry's entrySep in the arena
	owner    uint32 // index into owners; 0 is public
	dead     bool
}

type index struct {
	mu       sync.RWMutex
	arena    []byte
	entries  []entry // in arena order
	byID     map[uint64]int
	owners   []string
	ownerIdx map[string]uint32
	cats     map[uint64]int // live customers per category
	dead     int
}

func newIndex() *index {
	return &index{byID: map[uint64]int{}, owners: []string{""}, ownerIdx: map[string]uint32{"": 0}, cats: map[uint64]int{}}
}

// text appends c's searchable text to buf.
func (x *index) text(buf []byte, c *Customer, searchFields []string) []byte {
	buf = append(buf, entrySep)
	field := func(tag byte, s string) {
		if s == "" {
			return
		}
		buf = append(buf, tag)
		buf = appendFolded(buf, s)
	}
	field(tagName, c.Name)
	if hasHan(c.Name) {
		sp := pinyin.Name(c.Name)
		field(tagNamePinyin, sp.Full)
		field(tagNameInitials, sp.Initials)
	}
	field(tagCompany, c.Company)
	if hasHan(c.Company) {
		sp := pinyin.Text(c.Company)
		field(tagCompanyPinyin, sp.Full)
		field(tagCompanyInitials, sp.Initials)
	}
	field(tagAddress, c.Address)
	for _, k := range searchFields {
		field(tagField, c.Fields[k])
	}
	for _, p := range c.Phones {
		field(tagNumber, p.Number)
		if p.Ext != "" {
			field(tagNumber, p.Number+p.Ext)
		}
	}
	return buf
}

// appendFolded appends s lower-cased, full-width ASCII folded, control
// characters dropped.
func appendFolded(buf []byte, s string) []byte {
	for _, r := range foldWidth(s) {
		switch {
		case r < utf8.RuneSelf:
			c := byte(r)
			if c < 0x20 || c == 0x7f {
				continue
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
		case unicode.IsControl(r):
		default:
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		}
	}
	return buf
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func (x *index) ownerOf(login string) uint32 {
	if i, ok := x.ownerIdx[login]; ok {
		return i
	}
	x.owners = append(x.owners, login)
	i := uint32(len(x.owners) - 1)
	x.ownerIdx[login] = i
	return i
}

// swap takes over o's contents (a rebuilt index).
func (x *index) swap(o *index) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.arena, x.entries, x.byID, x.owners, x.ownerIdx, x.cats, x.dead = o.arena, o.entries, o.byID, o.owners, o.ownerIdx, o.cats, o.dead
}

// put adds or replaces c. The caller holds the directory's write lock.
func (x *index) put(c *Customer, searchFields []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(c.ID)
	e := entry{id: c.ID, category: c.Category, start: uint32(len(x.arena)), owner: x.ownerOf(c.Owner)}
	x.arena = x.text(x.arena, c, searchFields)
	e.sig.addPairs(x.arena[e.start:])
	x.byID[c.ID] = len(x.entries)
	x.entries = append(x.entries, e)
	x.cats[c.Category]++
}

func (x *index) remove(id uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *index) removeLocked(id uint64) {
	i, ok := x.byID[id]
	if !ok {
		return
	}
	x.entries[i].dead = true
	x.cats[x.entries[i].category]--
	delete(x.byID, id)
	x.dead++
	if x.dead > 1024 && x.dead > len(x.entries)/4 {
		x.compact()
	}
}

// compact drops dead entries' text.
func (x *index) compact() {
	arena := make([]byte, 0, len(x.arena))
	entries := make([]entry, 0, len(x.entries)-x.dead)
	for i, e := range x.entries {
		if e.dead {
			continue
		}
		text := x.arena[e.start:x.end(i)]
		e.start = uint32(len(arena))
		arena = append(arena, text...)
		x.byID[e.id] = len(entries)
		entries = append(entries, e)
	}
	x.arena, x.entries, x.dead = arena, entries, 0
}

// end is the offset where entry i's text ends.
func (x *index) end(i int) int {
	if i+1 < len(x.entries) {
		return int(x.entries[i+1].start)
	}
	return len(x.arena)
}

func (x *index) inCategory(id uint64) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.cats[id]
}

func (x *index) size() (live int, arenaBytes int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID), len(x.arena)
}

// ids returns the live customers the viewer may see, ascending.
func (x *index) ids(viewer string) []uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]uint64, 0, len(x.byID))
	for _, e := range x.entries {
		if !e.dead && x.visible(e, viewer) {
			out = append(out, e.id)
		}
	}
	slices.Sort(out)
	return out
}

func (x *index) visible(e entry, viewer string) bool {
	return e.owner == 0 || x.owners[e.owner] == viewer
}

// Hit is one search result: the customer and how well it matched.
type Hit struct {
	ID    uint64
	Score int
}

// query terms: lower-cased, digits of number-like terms normalised.
func terms(q string) []string {
	// A whole query that reads as a number is one term: "138 0013 8000".
	if d, ok := SearchDigits(q); ok {
		if d == "" {
			return nil
		}
		return []string{d}
	}
	var out []string
	for t := range strings.FieldsFuncSeq(q, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == '，' || r == '、' || r == ';' || r == '；'
	}) {
		if d, ok := SearchDigits(t); ok {
			if d != "" {
				out = append(out, d)
			}
			continue
		}
		if f := string(appendFolded(nil, t)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// search returns up to limit of the best matches of every term of q
// among the customers viewer may see, best first, and whether the
// candidates were cut at maxCandidates.
func (x *index) search(q, viewer string, limit int) ([]Hit, bool) {
	ts := terms(q)
	if len(ts) == 0 {
		return nil, false
	}
	var want sig
	bts := make([][]byte, len(ts))
	gappy := make([]bool, len(ts))
	for i, t := range ts {
		bts[i] = []byte(t)
		if gappy[i] = fuzzyTerm(t); gappy[i] {
			// Its characters may stand apart: only the pairs within
			// each character must be there.
			for _, r := range t {
				want.addPairs(utf8.AppendRune(nil, r))
			}
		} else {
			want.addPairs(bts[i])
		}
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var hits []Hit
	truncated := false
	for i := range x.entries {
		e := &x.entries[i]
		if e.dead || !e.sig.holds(&want) || !x.visible(*e, viewer) {
			continue
		}
		text := x.arena[e.start:x.end(i)]
		score := 0
		for j, t := range bts {
			s := bestMatch(text, t)
			if s == 0 && gappy[j] {
				s = gappyMatch(text, t)
			}
			if s == 0 {
				score = 0
				break
			}
			score += s
		}
		if score == 0 {
			continue
		}
		if len(hits) == maxCandidates {
			truncated = true
			break
		}
		hits = append(hits, Hit{ID: e.id, Score: score})
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID) // newer first among equals
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, truncated
}

// bestMatch scores the best occurrence of t in one entry's text; 0 when
// there is none.
func bestMatch(text, t []byte) int {
	best := 0
	for off := 0; ; {
		j := bytes.Index(text[off:], t)
		if j < 0 {
			return best
		}
		at := off + j
		// The field: back to its tag.
		k := at - 1
		for k > 0 && text[k] >= 0x20 {
			k--
		}
		tag := text[k]
		fend := at + len(t)
		for fend < len(text) && text[fend] >= 0x20 {
			fend++
		}
		s := 1
		if tag < tagLast {
			s = tagWeight[tag]
		}
		if at == k+1 {
			s += bonusPrefix
			if fend == at+len(t) {
				s += bonusExact - bonusPrefix
			}
		}
		// The more of the field the term covers, the better: zhangs is
		// closer to zhangsan than to zhangsanfeng.
		s += bonusCover * len(t) / (fend - k - 1)
		best = max(best, s)
		off = at + 1
	}
}

// A Chinese term of 2 to maxGappyRunes characters also matches with other
// characters between its own, within one field and at most as many again
// ("无锡科技" finds 无锡伟科技有限公司, "鼓楼中山" 鼓楼区中山北路): a
// caller gives a company or an address as they say it, not as it was
// written. Such a match ranks below any exact one.
const maxGappyRunes = 8

// fuzzyTerm reports whether t may match with gaps: Han characters only.
func fuzzyTerm(t string) bool {
	n := 0
	for _, r := range t {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
		n++
	}
	return n >= 2 && n <= maxGappyRunes
}

// gappyMatch scores the best occurrence of t's characters in order within
// one field of text, spanning at most twice t; 0 when there is none. The
// score, a quarter of the field's weight and less for a wider span, stays
// below that of any exact match (40 at least).
func gappyMatch(text, t []byte) int {
	first, size := utf8.DecodeRune(t)
	rest := t[size:]
	best := 0
	for off := 0; ; {
		j := bytes.IndexRune(text[off:], first)
		if j < 0 {
			return best
		}
		at := off + j
		off = at + size
		limit := at + 2*len(t) // Han runes are all 3 bytes in UTF-8
		p, q := off, rest
		for len(q) > 0 && p < len(text) && p < limit && text[p] >= 0x20 {
			r, n := utf8.DecodeRune(q)
			rr, m := utf8.DecodeRune(text[p:])
			if rr == r {
				q = q[n:]
			}
			p += m
		}
		if len(q) > 0 || p > limit {
			continue
		}
		k := at - 1
		for k > 0 && text[k] >= 0x20 {
			k--
		}
		s := 1
		if tag := text[k]; tag < tagLast {
			s = tagWeight[tag] / 4
		}
		s += bonusCover * len(t) / (p - at)
		best = max(best, s)
	}
}
