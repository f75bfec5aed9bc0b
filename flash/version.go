package flash

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a firmware version as bundles and builds name it: dotted
// numbers with an optional leading "v" ("1.4.2", "v2.0"), optionally
// followed by git describe's "-N-gHASH" (N commits after the tag, which
// counts as newer than the tag) and "-dirty".
type Version struct {
	nums    []int
	commits int
	raw     string
}

// ParseVersion parses s; see Version.
func ParseVersion(s string) (Version, error) {
	v := Version{raw: s}
	rest := strings.TrimPrefix(s, "v")
	rest = strings.TrimSuffix(rest, "-dirty")
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		tail := rest[i+1:]
		rest = rest[:i]
		n, hash, ok := strings.Cut(tail, "-g")
		c, err := strconv.Atoi(n)
		if !ok || err != nil || c < 0 || hash == "" || strings.Trim(hash, "0123456789abcdef") != "" {
			return Version{}, fmt.Errorf("flash: version %q: want N.N.N, optionally -COMMITS-gHASH", s)
		}
		v.commits = c
	}
	if rest == "" {
		return Version{}, fmt.Errorf("flash: version %q: empty", s)
	}
	for p := range strings.SplitSeq(rest, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) || len(v.nums) == 4 {
			return Version{}, fmt.Errorf("flash: version %q: want up to four dotted numbers", s)
		}
		v.nums = append(v.nums, n)
	}
	return v, nil
}

// String returns the version as it was written.
func (v Version) String() string { return v.raw }

// IsZero reports whether v is the zero Version (no version).
func (v Version) IsZero() bool { return v.nums == nil }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than
// w. Missing numbers count as zero ("1.2" equals "1.2.0").
func (v Version) Compare(w Version) int {
	for i := range max(len(v.nums), len(w.nums)) {
		a, b := at(v.nums, i), at(w.nums, i)
		if a != b {
			return cmp(a, b)
		}
	}
	return cmp(v.commits, w.commits)
}

func at(s []int, i int) int {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func cmp(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
