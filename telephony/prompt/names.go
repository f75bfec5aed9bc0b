package prompt

import "strings"

// Languages of the catalogue.
const (
	Chinese = "zh-CN" // the default
	English = "en"
)

// Languages lists the catalogue's languages, the default first.
var Languages = []string{Chinese, English}

// Lang returns the catalogue language for a tag: "" and the Chinese tags
// (zh, zh-CN, zh-Hans, cmn) give zh-CN, the English ones (en, en-US,
// en-GB) give en; anything else is refused.
func Lang(tag string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	base, _, _ := strings.Cut(strings.ReplaceAll(t, "_", "-"), "-")
	switch {
	case t == "":
		return Chinese, nil
	case base == "zh" || base == "cmn":
		return Chinese, nil
	case base == "en":
		return English, nil
	}
	return "", refuse(codeLang, nil)
}

// other returns the fallback language.
func other(lang string) string {
	if lang == Chinese {
		return English
	}
	return Chinese
}

// MaxNameLen bounds a prompt name.
const MaxNameLen = 64

// ValidName reports whether name is a prompt name: 1 to 64 letters,
// digits, '-', '_' and '.', with '/' between non-empty parts that do not
// start with '.' (nothing can leave the prompt directory or hide in it).
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || part[0] == '.' {
			return false
		}
		for _, c := range part {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			default:
				return false
			}
		}
	}
	return true
}

// checkName refuses a bad name or language and returns the language's
// canonical tag.
func checkName(name, lang string) (string, error) {
	if !ValidName(name) {
		return "", refuse(codeName, nil)
	}
	return Lang(lang)
}
