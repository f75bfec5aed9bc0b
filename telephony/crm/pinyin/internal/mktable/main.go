// Command mktable writes the pinyin table of package pinyin (table.txt)
// from the Unicode Character Database's Unihan_Readings.txt, as Debian's
// unicode-data package installs it (bzip2-compressed or plain):
//
//	go run ./telephony/crm/pinyin/internal/mktable \
//	    -unihan /usr/share/unicode/Unihan_Readings.txt.bz2 \
//	    -out telephony/crm/pinyin/table.txt
//
// It keeps, for every ideograph of the CJK Unified Ideographs block and its
// Extension A (U+3400-U+9FFF), the first kMandarin value (the customary
// reading in the mainland), without tone marks and with ü written v, and
// writes one line per syllable: the syllable, a space, then its characters
// in code point order. Line order is alphabetical, so a new Unihan release
// gives a readable diff.
package main

import (
	"bufio"
	"compress/bzip2"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

func main() {
	in := flag.String("unihan", "/usr/share/unicode/Unihan_Readings.txt.bz2", "Unihan_Readings.txt, plain or .bz2 (Debian package unicode-data)")
	out := flag.String("out", "table.txt", "the table to write")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		log.Fatalf("mktable: %v (install the Debian package unicode-data)", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(*in, ".bz2") {
		r = bzip2.NewReader(f)
	}
	bySyl, err := readings(r)
	if err != nil {
		log.Fatalf("mktable: %v", err)
	}
	var b strings.Builder
	syls := make([]string, 0, len(bySyl))
	for s := range bySyl {
		syls = append(syls, s)
	}
	slices.Sort(syls)
	n := 0
	for _, s := range syls {
		rs := bySyl[s]
		slices.Sort(rs)
		b.WriteString(s)
		b.WriteByte(' ')
		for _, c := range rs {
			b.WriteRune(c)
		}
		b.WriteByte('\n')
		n += len(rs)
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		log.Fatalf("mktable: %v", err)
	}
	fmt.Printf("mktable: %d characters, %d syllables\n", n, len(syls))
}

// readings maps each toneless syllable to the ideographs read so.
func readings(r io.Reader) (map[string][]rune, error) {
	out := map[string][]rune{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) < 3 || parts[1] != "kMandarin" || !strings.HasPrefix(parts[0], "U+") {
			continue
		}
		cp, err := strconv.ParseUint(parts[0][2:], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("bad code point %q", parts[0])
		}
		if cp < 0x3400 || cp > 0x9FFF {
			continue
		}
		first, _, _ := strings.Cut(parts[2], " ")
		syl, err := toneless(first)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", parts[0], err)
		}
		out[syl] = append(out[syl], rune(cp))
	}
	return out, sc.Err()
}

// toneless drops the tone marks of a syllable: "lǘ" -> "lv".
func toneless(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case strings.ContainsRune("āáǎà", r):
			b.WriteByte('a')
		case strings.ContainsRune("ēéěèê", r):
			b.WriteByte('e')
		case strings.ContainsRune("īíǐì", r):
			b.WriteByte('i')
		case strings.ContainsRune("ōóǒò", r):
			b.WriteByte('o')
		case strings.ContainsRune("ūúǔù", r):
			b.WriteByte('u')
		case strings.ContainsRune("üǖǘǚǜ", r):
			b.WriteByte('v')
		case r == 'ḿ' || r == 'm':
			b.WriteByte('m')
		case r == 'ń' || r == 'ň' || r == 'ǹ':
			b.WriteByte('n')
		default:
			return "", fmt.Errorf("unexpected %q (%U) in %q", r, r, s)
		}
	}
	if b.Len() == 0 || !utf8.ValidString(s) {
		return "", fmt.Errorf("empty reading %q", s)
	}
	return b.String(), nil
}
