package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TestPageTemplatesLoad parses and escapes every page: an action where no
// escaping is safe fails here, at load.
func TestPageTemplatesLoad(t *testing.T) {
	pages, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 30 {
		t.Fatalf("%d pages", len(pages))
	}
}

// The differential test: every page any test of this package renders is
// rendered again with html/template from the same data, and the two
// documents must be the same DOM (elements, attributes and texts after
// the HTML parser has decoded them). TestMain reports the differences.
var (
	diffMu     sync.Mutex
	diffs      []string
	diffPages  = map[string]bool{}
	refPages   map[string]*template.Template
	refPagesMu sync.Mutex
)

func init() { renderCheck = checkRender }

// refPage parses page name with html/template as the box did before.
func refPage(name string) (*template.Template, error) {
	refPagesMu.Lock()
	defer refPagesMu.Unlock()
	if t, ok := refPages[name]; ok {
		return t, nil
	}
	parts, err := fs.Glob(assets, "assets/templates/part_*.html")
	if err != nil {
		return nil, err
	}
	files := append([]string{"assets/templates/layout.html", "assets/templates/" + name + ".html"}, parts...)
	t, err := template.New("layout.html").Funcs(template.FuncMap(pageFuncs)).ParseFS(assets, files...)
	if err != nil {
		return nil, err
	}
	if refPages == nil {
		refPages = map[string]*template.Template{}
	}
	refPages[name] = t
	return t, nil
}

func checkRender(name, part string, p *pageData, out []byte) {
	fail := func(format string, args ...any) {
		diffMu.Lock()
		defer diffMu.Unlock()
		diffs = append(diffs, fmt.Sprintf("%s/%s: ", name, part)+fmt.Sprintf(format, args...))
	}
	t, err := refPage(name)
	if err != nil {
		fail("html/template: %v", err)
		return
	}
	var ref bytes.Buffer
	if err := t.ExecuteTemplate(&ref, part, p); err != nil {
		fail("html/template: %v", err)
		return
	}
	if d := domDiff(ref.String(), string(out)); d != "" {
		fail("%s", d)
	}
	diffMu.Lock()
	diffPages[name] = true
	diffMu.Unlock()
}

// renderDiffs fails the run (code 1) when a page differed.
func renderDiffs(code int) int {
	diffMu.Lock()
	defer diffMu.Unlock()
	for _, d := range diffs {
		fmt.Fprintln(os.Stderr, "page differs from html/template:", d)
	}
	if len(diffs) > 0 && code == 0 {
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "differential: %d pages compared with html/template\n", len(diffPages))
	}
	return code
}

// domDiff compares two documents (or fragments) as the browser reads them.
func domDiff(want, got string) string {
	parse := func(s string) ([]*html.Node, error) {
		body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
		if strings.HasPrefix(strings.TrimSpace(strings.ToLower(s)), "<!doctype") {
			doc, err := html.Parse(strings.NewReader(s))
			return []*html.Node{doc}, err
		}
		return html.ParseFragment(strings.NewReader(s), body)
	}
	w, err := parse(want)
	if err != nil {
		return err.Error()
	}
	g, err := parse(got)
	if err != nil {
		return err.Error()
	}
	return nodesDiff(w, g, "")
}

func nodesDiff(w, g []*html.Node, at string) string {
	w, g = significant(w), significant(g)
	for i := range max(len(w), len(g)) {
		if i >= len(w) || i >= len(g) {
			return fmt.Sprintf("%s: %d nodes, want %d", at, len(g), len(w))
		}
		if d := nodeDiff(w[i], g[i], at); d != "" {
			return d
		}
	}
	return ""
}

// significant drops comments (html/template removes them too) and
// whitespace-only texts.
func significant(ns []*html.Node) []*html.Node {
	var out []*html.Node
	for _, n := range ns {
		if n.Type == html.CommentNode || n.Type == html.TextNode && strings.TrimSpace(n.Data) == "" {
			continue
		}
		out = append(out, n)
	}
	return out
}

func children(n *html.Node) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, c)
	}
	return out
}

func nodeDiff(w, g *html.Node, at string) string {
	if w.Type == html.TextNode && strings.HasPrefix(strings.TrimSpace(w.Data), "<svg") && g.Type == html.ElementNode {
		return "" // markup the program built (htmlpage.HTML), which html/template escapes as a string
	}
	if w.Type != g.Type || w.Data != g.Data && w.Type != html.TextNode {
		return fmt.Sprintf("%s: got %v %q, want %v %q", at, g.Type, g.Data, w.Type, w.Data)
	}
	if w.Type == html.TextNode {
		if strings.TrimSpace(w.Data) != strings.TrimSpace(g.Data) {
			return fmt.Sprintf("%s: text %q, want %q", at, g.Data, w.Data)
		}
		return ""
	}
	at += "/" + w.Data
	for _, a := range w.Attr {
		if a.Key == "id" {
			at += "#" + a.Val
		}
	}
	attrs := func(n *html.Node) []string {
		var out []string
		for _, a := range n.Attr {
			out = append(out, a.Key+"="+a.Val)
		}
		slices.Sort(out)
		return out
	}
	if wa, ga := attrs(w), attrs(g); !reflect.DeepEqual(wa, ga) {
		return fmt.Sprintf("%s: attributes %q, want %q", at, ga, wa)
	}
	if w.Data == "script" {
		return "" // JSON blocks: html/template writes our JSON type as a JS string
	}
	return nodesDiff(children(w), children(g), at)
}

// TestDomDiff: the comparison sees what a browser would.
func TestDomDiff(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{`<p title="&#34;x&#34;">a&#43;b</p>`, `<p title="&quot;x&quot;">a+b</p>`, true},
		{`<p>a</p>`, `<p>b</p>`, false},
		{`<p class="x">a</p>`, `<p class="y">a</p>`, false},
		{`<p>a</p><!-- c -->`, `<p>a</p>`, true},
		{`<p>&lt;b&gt;</p>`, `<p><b></b></p>`, false},
	} {
		if d := domDiff(tc.a, tc.b); (d == "") != tc.same {
			t.Errorf("%s vs %s: %q", tc.a, tc.b, d)
		}
	}
}

// TestNoHTMLTemplate: the program's own files do not use html/template
// (its method calls by name would bring every exported method back).
func TestNoHTMLTemplate(t *testing.T) {
	names, err := fs.Glob(os.DirFS("."), "*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := os.ReadFile(path.Clean(n))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"html/template"`)) || bytes.Contains(b, []byte(`"text/template"`)) {
			t.Errorf("%s imports a template executor", n)
		}
	}
}
