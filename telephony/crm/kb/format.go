package kb

import "strings"

// Block is a block of an article's body as Blocks reads it.
type Block struct {
	Kind  string `json:"kind"` // "h" heading, "p" paragraph, "ul" bullet item, "ol" numbered item
	Spans []Span `json:"spans"`
}

// Span is a run of text, bold or not.
type Span struct {
	Text string `json:"text"`
	Bold bool   `json:"bold,omitempty"`
}

// Blocks reads an article's simple formatting: a line starting "# " is a
// heading, "- " or "* " a bullet item, "1. " (any number) a numbered
// item; other consecutive lines make a paragraph; **text** is bold.
// Nothing else is markup, so pasted text shows as written.
func Blocks(body string) []Block {
	var out []Block
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, Block{Kind: "p", Spans: spans(strings.Join(para, "\n"))})
			para = nil
		}
	}
	for line := range strings.SplitSeq(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "# "):
			flush()
			out = append(out, Block{Kind: "h", Spans: spans(strings.TrimSpace(t[2:]))})
		case strings.HasPrefix(t, "- "), strings.HasPrefix(t, "* "):
			flush()
			out = append(out, Block{Kind: "ul", Spans: spans(strings.TrimSpace(t[2:]))})
		case numbered(t) > 0:
			flush()
			out = append(out, Block{Kind: "ol", Spans: spans(strings.TrimSpace(t[numbered(t):]))})
		default:
			para = append(para, t)
		}
	}
	flush()
	return out
}

// numbered returns the length of a "12. " prefix, or 0.
func numbered(t string) int {
	i := 0
	for i < len(t) && i < 3 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(t) && t[i] == '.' && t[i+1] == ' ' {
		return i + 2
	}
	return 0
}

func spans(s string) []Span {
	var out []Span
	for {
		i := strings.Index(s, "**")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+2:], "**")
		if j < 0 {
			break
		}
		if i > 0 {
			out = append(out, Span{Text: s[:i]})
		}
		if j > 0 {
			out = append(out, Span{Text: s[i+2 : i+2+j], Bold: true})
		}
		s = s[i+2+j+2:]
	}
	if s != "" {
		out = append(out, Span{Text: s})
	}
	return out
}
