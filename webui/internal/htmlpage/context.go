package htmlpage

import (
	"bytes"
	"fmt"
	"strings"
)

// state is where in the HTML a byte of template text, or an action, is.
type state uint8

const (
	stText      state = iota // element content
	stTagName                // after "<" or "</", reading the element's name
	stTag                    // inside a tag, between attributes
	stAttrName               // reading an attribute's name
	stAfterName              // after an attribute's name, before "=" or the next attribute
	stBeforeVal              // after "=", before the value
	stValue                  // in an attribute value (quoted or not)
	stRCDATA                 // the text of <title> or <textarea>
	stScript                 // the body of <script>
	stStyle                  // the body of <style>
	stComment                // inside <!-- -->, stripped from the output
)

var stateNames = [...]string{"text", "tag name", "tag", "attribute name", "after attribute name",
	"before attribute value", "attribute value", "RCDATA", "script", "style", "comment"}

func (s state) String() string { return stateNames[s] }

// attrKind is how an attribute's value is read by the browser.
type attrKind uint8

const (
	attrPlain  attrKind = iota // text
	attrURL                    // a URL (href, src, action, formaction, ...)
	attrUnsafe                 // script or style (on*, style, srcset): no action may write there
)

// urlPart is where in a URL attribute value the next byte goes.
type urlPart uint8

const (
	urlStart urlPart = iota // nothing yet: the scheme is decided here
	urlPath                 // after the start, before "?" or "#"
	urlQuery                // in the query or the fragment
)

// context is the escaper's state between two pieces of template text. It
// is comparable: branches of an {{if}} must end in equal contexts.
type context struct {
	st      state
	tag     string // the element's name in a tag; the element whose end closes RCDATA, script or style
	closing bool   // the tag is an end tag
	attr    string // the attribute's name (lower case) while reading it or its value
	delim   byte   // the value's quote, 0 for an unquoted value
	kind    attrKind
	url     urlPart
	// typeVal collects a script's type attribute as it is read.
	typeVal string
	// json: the script being opened (or whose body this is) has type
	// application/json, so a JSON value may be written into it.
	json bool
}

func (c context) String() string {
	s := c.st.String()
	if c.tag != "" {
		s += " of <" + c.tag + ">"
	}
	if c.attr != "" {
		s += " attribute " + c.attr
	}
	return s
}

// urlAttrs are the attributes whose value is a URL (html/template's list).
var urlAttrs = map[string]bool{"action": true, "archive": true, "background": true, "cite": true, "classid": true,
	"codebase": true, "data": true, "formaction": true, "href": true, "icon": true, "longdesc": true,
	"manifest": true, "poster": true, "profile": true, "src": true, "usemap": true, "xmlns": true}

// kindOf classifies an attribute by its (lower-case) name.
func kindOf(name string) attrKind {
	if strings.HasPrefix(name, "on") || name == "style" || name == "srcset" {
		return attrUnsafe
	}
	name = strings.TrimPrefix(name, "data-")
	if _, local, ok := strings.Cut(name, ":"); ok {
		name = local
	}
	if urlAttrs[name] || strings.Contains(name, "src") || strings.Contains(name, "uri") || strings.Contains(name, "url") {
		return attrURL
	}
	return attrPlain
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// feed reads template text in context c and returns the context after it
// and the text to write (comments removed).
func feed(c context, text []byte) (context, []byte, error) {
	var out []byte
	keep := 0 // text[keep:i] still to be copied to out; -1 in a comment
	if c.st == stComment {
		keep = -1
	}
	i := 0
	for i < len(text) {
		b := text[i]
		switch c.st {
		case stText:
			j := bytes.IndexByte(text[i:], '<')
			if j < 0 {
				i = len(text)
				continue
			}
			i += j
			rest := text[i:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				out = append(out, text[keep:i]...)
				c.st = stComment
				i += 4
				keep = -1
			case len(rest) > 1 && isLetter(rest[1]):
				c = context{st: stTagName}
				i++
			case len(rest) > 2 && rest[1] == '/' && isLetter(rest[2]):
				c = context{st: stTagName, closing: true}
				i += 2
			case len(rest) > 2 && rest[1] == '!' && isLetter(rest[2]):
				c = context{st: stTag, tag: "!"} // <!doctype ...>
				i += 2
			default:
				i++
			}
		case stComment:
			j := bytes.Index(text[i:], []byte("-->"))
			if j < 0 {
				i = len(text)
				continue
			}
			i += j + 3
			keep = i
			c = context{st: stText}
		case stTagName:
			switch {
			case c.tag == "" && !isLetter(b):
				c = context{st: stText} // "<" then an action's output was no tag
				continue
			case isSpace(b) || b == '/':
				c.st = stTag
			case b == '>':
				c = c.endTag()
			default:
				c.tag += strings.ToLower(string(b))
			}
			i++
		case stTag:
			switch {
			case isSpace(b) || b == '/':
			case b == '>':
				c = c.endTag()
			default:
				c.st, c.attr = stAttrName, strings.ToLower(string(b))
			}
			i++
		case stAttrName:
			switch {
			case isSpace(b):
				c.st = stAfterName
			case b == '=':
				c.st = stBeforeVal
			case b == '>':
				c = c.endTag()
			case b == '/':
				c.st, c.attr = stTag, ""
			default:
				c.attr += strings.ToLower(string(b))
			}
			i++
		case stAfterName:
			switch {
			case isSpace(b):
			case b == '=':
				c.st = stBeforeVal
			case b == '>':
				c = c.endTag()
			default:
				c.st, c.attr = stAttrName, strings.ToLower(string(b))
			}
			i++
		case stBeforeVal:
			switch {
			case isSpace(b):
				i++
			case b == '>':
				c = c.endTag()
				i++
			case b == '"' || b == '\'':
				c.st, c.delim, c.kind, c.url, c.typeVal = stValue, b, kindOf(c.attr), urlStart, ""
				i++
			default:
				c.st, c.delim, c.kind, c.url, c.typeVal = stValue, 0, kindOf(c.attr), urlStart, ""
			}
		case stValue:
			end := c.delim != 0 && b == c.delim || c.delim == 0 && (isSpace(b) || b == '>')
			if end {
				c = c.endValue()
				if b != '>' {
					i++
				}
				continue
			}
			if c.kind == attrURL {
				switch {
				case b == '?' || b == '#':
					c.url = urlQuery
				case c.url == urlStart:
					c.url = urlPath
				}
			}
			if c.attr == "type" && c.tag == "script" {
				c.typeVal += string(b)
			}
			i++
		case stRCDATA, stScript, stStyle:
			j := indexEndTag(text[i:], c.tag)
			if j < 0 {
				i = len(text)
				continue
			}
			i += j + 2
			c = context{st: stTagName, closing: true}
		}
	}
	if keep >= 0 {
		out = append(out, text[keep:]...)
	}
	// A "<" at the end opens a tag whose name no action may write.
	if c.st == stText && (bytes.HasSuffix(text, []byte("<")) || bytes.HasSuffix(text, []byte("</"))) {
		c = context{st: stTagName}
	}
	// A name ends where the text does: in "<label{{if .X}} class=...",
	// both branches continue in the tag.
	switch {
	case c.st == stTagName && c.tag != "":
		c.st = stTag
	case c.st == stAttrName || c.st == stAfterName:
		c.st, c.attr = stTag, "" // a value would need "=" next to the name
	}
	return c, out, nil
}

// indexEndTag finds "</tag" (any case) in b.
func indexEndTag(b []byte, tag string) int {
	for off := 0; ; {
		j := bytes.Index(b[off:], []byte("</"))
		if j < 0 {
			return -1
		}
		j += off
		if end := j + 2 + len(tag); end <= len(b) && strings.EqualFold(string(b[j+2:end]), tag) &&
			(end == len(b) || isSpace(b[end]) || b[end] == '>' || b[end] == '/') {
			return j
		}
		off = j + 2
	}
}

// endValue leaves an attribute value for the tag.
func (c context) endValue() context {
	if c.tag == "script" && c.attr == "type" {
		c.json = strings.EqualFold(strings.TrimSpace(c.typeVal), "application/json")
	}
	c.st, c.attr, c.delim, c.kind, c.url, c.typeVal = stTag, "", 0, attrPlain, urlStart, ""
	return c
}

// endTag is the context after a tag's ">".
func (c context) endTag() context {
	if c.closing {
		return context{st: stText}
	}
	switch c.tag {
	case "script":
		return context{st: stScript, tag: c.tag, json: c.json}
	case "style":
		return context{st: stStyle, tag: c.tag}
	case "title", "textarea":
		return context{st: stRCDATA, tag: c.tag}
	}
	return context{st: stText}
}

// escaper is how an action's value is written in its context.
type escaper uint8

const (
	escText     escaper = iota // element content, RCDATA
	escAttr                    // a quoted attribute value
	escURLStart                // a URL attribute, its start: the scheme is checked
	escURLPath                 // a URL attribute before its query
	escURLQuery                // a URL attribute's query or fragment
	escJSON                    // the body of <script type="application/json">
)

// escaperFor decides how an action writes in context c, or refuses it.
func escaperFor(c context) (escaper, error) {
	switch c.st {
	case stText, stRCDATA:
		return escText, nil
	case stValue:
		if c.delim == 0 {
			return 0, fmt.Errorf("an action in the unquoted value of attribute %s: quote the value", c.attr)
		}
		switch c.kind {
		case attrUnsafe:
			return 0, fmt.Errorf("an action in attribute %s, which the browser runs as script or style", c.attr)
		case attrURL:
			switch c.url {
			case urlStart:
				return escURLStart, nil
			case urlPath:
				return escURLPath, nil
			}
			return escURLQuery, nil
		}
		if c.tag == "script" && c.attr == "type" {
			return 0, fmt.Errorf("an action in a script's type")
		}
		return escAttr, nil
	case stScript:
		if c.json {
			return escJSON, nil
		}
		return 0, fmt.Errorf("an action inside <script>: hand data over in a <script type=\"application/json\"> or a data- attribute")
	case stStyle:
		return 0, fmt.Errorf("an action inside <style>")
	case stComment:
		return 0, fmt.Errorf("an action inside an HTML comment")
	}
	return 0, fmt.Errorf("an action in a tag's or attribute's name (%s)", c)
}

// after is the context after an action wrote in c: a URL has begun.
func after(c context) context {
	if c.st == stValue && c.kind == attrURL && c.url == urlStart {
		c.url = urlPath
	}
	return c
}
