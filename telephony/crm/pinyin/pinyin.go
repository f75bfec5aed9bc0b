// Package pinyin spells Chinese text in toneless Hanyu Pinyin for search:
// the full spelling ("zhangsan") and the initials ("zs") of names,
// companies and addresses, so an agent can find 张三 by typing either.
//
// The reading of each ideograph of U+3400-U+9FFF is the customary
// mainland one from the Unicode Character Database (Unihan kMandarin),
// kept in table.txt, which internal/mktable generates from Debian's
// unicode-data package. One reading per character is what a search index
// needs; the few surnames and words whose everyday reading differs from
// the character's customary one (曾 as a surname is zeng, 重庆 is
// chongqing) are corrected by small tables here. Other characters (Latin
// letters, digits) pass through lower-cased; punctuation and spaces are
// dropped.
package pinyin

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed table.txt
var tableText string

const (
	first = 0x3400
	last  = 0x9FFF
)

var (
	once      sync.Once
	syllables []string                 // index 0 is "no reading"
	reading   [last - first + 1]uint16 // index into syllables
)

func load() {
	syllables = append(syllables, "")
	for line := range strings.SplitSeq(tableText, "\n") {
		syl, chars, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		syllables = append(syllables, syl)
		n := uint16(len(syllables) - 1)
		for _, r := range chars {
			if r >= first && r <= last {
				reading[r-first] = n
			}
		}
	}
}

// Of returns the toneless reading of one character ("zhang" for 张), or
// "" when r is not an ideograph with a known reading.
func Of(r rune) string {
	if r < first || r > last {
		return ""
	}
	once.Do(load)
	return syllables[reading[r-first]]
}

// surnames are the family names whose reading differs from the
// character's customary one; Name applies them to a name's first
// character (or two, for the compound ones).
var surnames = map[string][]string{
	"曾": {"zeng"}, "单": {"shan"}, "解": {"xie"}, "仇": {"qiu"}, "朴": {"piao"}, "区": {"ou"},
	"查": {"zha"}, "乐": {"yue"}, "盖": {"ge"}, "缪": {"miao"}, "覃": {"qin"}, "翟": {"zhai"},
	"员": {"yun"}, "秘": {"bi"}, "召": {"shao"}, "种": {"chong"}, "重": {"chong"}, "繁": {"po"},
	"祭": {"zhai"}, "黑": {"he"}, "薄": {"bo"}, "贲": {"ben"}, "莘": {"shen"}, "长": {"chang"},
	"尉": {"wei"}, "尉迟": {"yu", "chi"}, "万俟": {"mo", "qi"}, "长孙": {"zhang", "sun"},
	"澹台": {"tan", "tai"}, "单于": {"chan", "yu"}, "令狐": {"ling", "hu"}, "欧阳": {"ou", "yang"},
}

// words are common words (mostly place names) whose characters read
// otherwise than their customary reading.
var words = map[string][]string{
	"重庆": {"chong", "qing"}, "厦门": {"xia", "men"}, "银行": {"yin", "hang"},
	"行业": {"hang", "ye"}, "六安": {"lu", "an"}, "蚌埠": {"beng", "bu"},
	"长沙": {"chang", "sha"}, "长春": {"chang", "chun"}, "长安": {"chang", "an"},
	"朝阳": {"chao", "yang"}, "调度": {"diao", "du"}, "供电": {"gong", "dian"},
	"电费": {"dian", "fei"}, "重新": {"chong", "xin"}, "大厦": {"da", "sha"},
	"和平": {"he", "ping"}, "乐山": {"le", "shan"}, "番禺": {"pan", "yu"},
	"丽水": {"li", "shui"}, "东莞": {"dong", "guan"}, "中山": {"zhong", "shan"},
}

// Spelling is a text spelt out: Full is the syllables run together,
// Initials their first letters; other letters and digits appear in both.
type Spelling struct {
	Full, Initials string
}

// Text spells s with each character's customary reading, corrected for
// the words of the word table.
func Text(s string) Spelling { return spell(s, false) }

// Name spells a personal name: as Text, with the surname's reading.
func Name(s string) Spelling { return spell(s, true) }

func spell(s string, name bool) Spelling {
	var full, ini strings.Builder
	full.Grow(len(s) * 2)
	if name {
		for _, n := range []int{2, 1} {
			if p, ok := prefixRunes(s, n); ok {
				if syls, ok := surnames[p]; ok {
					writeSyllables(&full, &ini, syls)
					s = s[len(p):]
					break
				}
			}
		}
	}
	for len(s) > 0 {
		if p, ok := prefixRunes(s, 2); ok {
			if syls, ok := words[p]; ok {
				writeSyllables(&full, &ini, syls)
				s = s[len(p):]
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if syl := Of(r); syl != "" {
			full.WriteString(syl)
			ini.WriteByte(syl[0])
			continue
		}
		if c, ok := plain(r); ok {
			full.WriteByte(c)
			ini.WriteByte(c)
		}
	}
	return Spelling{Full: full.String(), Initials: ini.String()}
}

func writeSyllables(full, ini *strings.Builder, syls []string) {
	for _, w := range syls {
		full.WriteString(w)
		ini.WriteByte(w[0])
	}
}

// prefixRunes returns the first n characters of s, if it has that many.
func prefixRunes(s string, n int) (string, bool) {
	i := 0
	for range n {
		if i >= len(s) {
			return "", false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], true
}

// plain folds an ASCII letter or digit (or its full-width form) to lower
// case; anything else is dropped.
func plain(r rune) (byte, bool) {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFF01 - 0x21
	}
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return byte(r), true
	case r >= 'A' && r <= 'Z':
		return byte(r) + 'a' - 'A', true
	}
	return 0, false
}
