package kb

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Tokens: a run of Han characters gives its overlapping pairs (and the
// character itself when the run is one character long); a run of letters
// or digits gives the lower-cased word. Pairs make search work without a
// word list: 停电信息 indexes 停电, 电信, 信息, and a query for 停电 finds it.
func tokens(s string) []string {
	var out []string
	var han []rune
	var word strings.Builder
	flushHan := func() {
		switch len(han) {
		case 0:
		case 1:
			out = append(out, string(han))
		default:
			for i := 0; i+1 < len(han); i++ {
				out = append(out, string(han[i:i+2]))
			}
		}
		han = han[:0]
	}
	flushWord := func() {
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushHan()
			if r >= 0xFF10 && r <= 0xFF5A { // full-width letters and digits
				r -= 0xFF01 - 0x21
			}
			word.WriteRune(unicode.ToLower(r))
		default:
			flushHan()
			flushWord()
		}
	}
	flushHan()
	flushWord()
	return out
}

// posting is one article's count of a token, in the title and the body.
type posting struct {
	id          uint64
	title, body uint16
}

type index struct {
	mu    sync.RWMutex
	terms map[string][]posting // sorted by id
	docs  map[uint64]doc
}

type doc struct {
	category uint64
	length   int // tokens
	tokens   []string
}

func newIndex() *index { return &index{terms: map[string][]posting{}, docs: map[uint64]doc{}} }

func (x *index) put(a *Article) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(a.ID)
	counts := map[string]*posting{}
	var order []string
	add := func(s string, title bool) int {
		ts := tokens(s)
		for _, t := range ts {
			p := counts[t]
			if p == nil {
				p = &posting{id: a.ID}
				counts[t] = p
				order = append(order, t)
			}
			if title {
				p.title = min(p.title+1, math.MaxUint16)
			} else {
				p.body = min(p.body+1, math.MaxUint16)
			}
		}
		return len(ts)
	}
	n := add(a.Title, true) + add(a.Body, false)
	for _, t := range order {
		ps := x.terms[t]
		i, _ := slices.BinarySearchFunc(ps, a.ID, func(p posting, id uint64) int { return cmp.Compare(p.id, id) })
		x.terms[t] = slices.Insert(ps, i, *counts[t])
	}
	x.docs[a.ID] = doc{category: a.Category, length: n, tokens: order}
}

func (x *index) remove(id uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *index) removeLocked(id uint64) {
	d, ok := x.docs[id]
	if !ok {
		return
	}
	for _, t := range d.tokens {
		ps := x.terms[t]
		if i, found := slices.BinarySearchFunc(ps, id, func(p posting, id uint64) int { return cmp.Compare(p.id, id) }); found {
			ps = slices.Delete(ps, i, i+1)
		}
		if len(ps) == 0 {
			delete(x.terms, t)
		} else {
			x.terms[t] = ps
		}
	}
	delete(x.docs, id)
}

func (x *index) inCategory(id uint64) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := 0
	for _, d := range x.docs {
		if d.category == id {
			n++
		}
	}
	return n
}

type hit struct {
	id    uint64
	score float64
}

// search scores articles with BM25 (k1 1.2, b 0.75), a title occurrence
// counting as three; an article needs at least half the query's distinct
// terms. The last word of the query also matches longer words it begins,
// as the agent may still be typing it.
func (x *index) search(q string, limit int) []hit {
	qs := tokens(q)
	slices.Sort(qs)
	qs = slices.Compact(qs)
	if len(qs) == 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := float64(len(x.docs))
	if n == 0 {
		return nil
	}
	avg := 0.0
	for _, d := range x.docs {
		avg += float64(d.length)
	}
	avg /= n
	score := map[uint64]float64{}
	matched := map[uint64]int{}
	last := tokens(q)
	lastWord := ""
	if len(last) > 0 {
		if w := last[len(last)-1]; w[0] < utf8.RuneSelf {
			lastWord = w
		}
	}
	for _, t := range qs {
		lists := [][]posting{x.terms[t]}
		if t == lastWord && len(t) >= 2 {
			for k, ps := range x.terms {
				if k != t && strings.HasPrefix(k, t) {
					lists = append(lists, ps)
				}
			}
		}
		seen := map[uint64]bool{}
		for _, ps := range lists {
			idf := math.Log(1 + (n-float64(len(ps))+0.5)/(float64(len(ps))+0.5))
			for _, p := range ps {
				tf := float64(p.title)*3 + float64(p.body)
				dl := float64(x.docs[p.id].length)
				score[p.id] += idf * tf * 2.2 / (tf + 1.2*(0.25+0.75*dl/avg))
				if !seen[p.id] {
					seen[p.id] = true
					matched[p.id]++
				}
			}
		}
	}
	need := (len(qs) + 1) / 2
	var hits []hit
	for id, s := range score {
		if matched[id] >= need {
			hits = append(hits, hit{id: id, score: s})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// snippet is the line of body that holds most of q's terms, shortened.
func snippet(body, q string) string {
	qs := tokens(q)
	best, bestN := "", -1
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		lower := strings.ToLower(line)
		n := 0
		for _, t := range qs {
			if strings.Contains(lower, t) {
				n++
			}
		}
		if n > bestN {
			best, bestN = line, n
		}
	}
	if r := []rune(best); len(r) > 80 {
		best = string(r[:80]) + "…"
	}
	return best
}

func sortByTitle(as []Article) {
	slices.SortFunc(as, func(a, b Article) int {
		if c := cmp.Compare(a.Title, b.Title); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
