package htmlpage

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

func render(t *testing.T, src string, data any) string {
	t.Helper()
	s := New(map[string]any{"up": strings.ToUpper})
	if err := s.Parse("t", src); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.Execute(&b, "t", data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRefused: every context where no escaping is safe fails at load.
func TestRefused(t *testing.T) {
	for _, src := range []string{
		`<script>var x = {{.}};</script>`,
		`<script type="module">{{.}}</script>`,
		`<style>p { color: {{.}} }</style>`,
		`<a onclick="f({{.}})">x</a>`,
		`<a ONMOUSEOVER='{{.}}'>x</a>`,
		`<p style="color: {{.}}">x</p>`,
		`<img srcset="{{.}}">`,
		`<input value={{.}}>`,
		`<{{.}}>`,
		`</{{.}}>`,
		`<p>a <{{.}}`,
		`<p {{.}}="x">`,
		`<p {{.}}>`,
		`<!-- {{.}} -->`,
		`<p id="x" {{if .}}{{.}}{{end}}>`,
		`<script type="{{.}}"></script>`,
		`{{if .}}<a href="{{end}}">`,
		`{{range .}}<p title="{{end}}`,
		`{{define "x"}}<script>{{.}}</script>{{end}}<p>{{template "x" .}}</p>`,
	} {
		s := New(nil)
		if err := s.Parse("t", src); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if err := s.Seal(); err == nil {
			t.Errorf("%s: sealed, want a refusal", src)
		}
	}
}

// TestContexts checks the escaping of each context against fixed output.
func TestContexts(t *testing.T) {
	for _, tc := range []struct{ src, data, want string }{
		{`<p>{{.}}</p>`, `<b>"&'+`, `<p>&lt;b&gt;&#34;&amp;&#39;&#43;</p>`},
		{`<title>{{.}}</title>`, `</title><script>`, `<title>&lt;/title&gt;&lt;script&gt;</title>`},
		{`<textarea>{{.}}</textarea>`, `</textarea>x`, `<textarea>&lt;/textarea&gt;x</textarea>`},
		{`<p title="{{.}}">`, `" onclick="x`, `<p title="&#34; onclick=&#34;x">`},
		{`<p title='{{.}}'>`, `' x`, `<p title='&#39; x'>`},
		{`<a href="{{.}}">`, `javascript:alert(1)`, `<a href="#ZgotmplZ">`},
		{`<a href="{{.}}">`, ` JavaScript:alert(1)`, `<a href="#ZgotmplZ">`},
		{`<a href="{{.}}">`, `data:text/html,x`, `<a href="#ZgotmplZ">`},
		{`<a href="{{.}}">`, `tel:+8610`, `<a href="tel:&#43;8610">`},
		{`<a href="{{.}}">`, `https://x.example/a b?q=1&r=<`, `<a href="https://x.example/a%20b?q=1&amp;r=%3c">`},
		{`<a href="/x?q={{.}}">`, `a&b c/d`, `<a href="/x?q=a%26b%20c%2fd">`},
		{`<a href="/x/{{.}}/y">`, `javascript:1`, `<a href="/x/javascript:1/y">`},
		{`<form action="{{.}}">`, `vbscript:x`, `<form action="#ZgotmplZ">`},
		{`<p data-api="{{.}}">`, `"x`, `<p data-api="&#34;x">`},
		{`<p data-src-url="{{.}}">`, `javascript:x`, `<p data-src-url="#ZgotmplZ">`},
		{`<p>a<!-- note -->b{{.}}</p>`, `c`, `<p>abc</p>`},
		{`<p>{{.}}</p>`, "a\x00b\xffc", "<p>a\uFFFDb\uFFFDc</p>"},
		{`<p>{{up .}}</p>`, `<x>`, `<p>&lt;X&gt;</p>`},
		{`<label{{if .}} class="bad"{{end}}><option value="1"{{if .}} selected{{end}}>`, `x`, `<label class="bad"><option value="1" selected>`},
	} {
		tc.want = strings.ReplaceAll(tc.want, "%3c", "%3C")
		tc.want = strings.ReplaceAll(tc.want, "%2f", "%2F")
		tc.want = strings.ReplaceAll(tc.want, "%26", "%26")
		if got := render(t, tc.src, tc.data); got != tc.want {
			t.Errorf("%s with %q:\n got %s\nwant %s", tc.src, tc.data, got, tc.want)
		}
	}
}

// TestTrusted: JSON only in a JSON script, escaped so it cannot end it;
// HTML as is in content, escaped in attributes.
func TestTrusted(t *testing.T) {
	got := render(t, `<script type="application/json" id="m">{{.}}</script>`, JSON(`{"a":"</script><b>&"}`))
	if want := `<script type="application/json" id="m">{"a":"\u003c/script\u003e\u003cb\u003e\u0026"}</script>`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got := render(t, `<div>{{.}}</div><p title="{{.}}">`, HTML(`<b>x</b>`)); got != `<div><b>x</b></div><p title="&lt;b&gt;x&lt;/b&gt;">` {
		t.Errorf("HTML: %s", got)
	}
	s := New(nil)
	_ = s.Parse("t", `<script type="application/json">{{.}}</script><p>{{.}}</p>`)
	if err := s.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := s.Execute(&bytes.Buffer{}, "t", "plain string"); err == nil {
		t.Error("a string in a JSON script was written")
	}
	if err := s.Execute(&bytes.Buffer{}, "t", JSON("{}")); err == nil {
		t.Error("JSON in element content was written")
	}
}

type caller struct{ Name string }

func (c caller) CallMethod(name string, args []any) (any, bool, error) {
	if name == "Hello" {
		return "hello " + args[0].(string) + " " + c.Name, true, nil
	}
	return nil, false, nil
}

// TestExec covers the language: fields, maps, methods through
// MethodCaller, variables, range forms, builtins, template calls.
func TestExec(t *testing.T) {
	data := map[string]any{
		"C": caller{"bob"}, "L": []string{"a", "b", "c"}, "M": map[string]int{"y": 2, "x": 1},
		"N": 3, "S": "str", "Z": 0, "Nil": nil, "P": &caller{"pat"},
	}
	for _, tc := range []struct{ src, want string }{
		{`{{.C.Hello "x"}} {{.C.Name}} {{.P.Name}} {{.P.Hello "y"}}`, `hello x bob bob pat hello y pat`},
		{`{{range $i, $v := .L}}{{$i}}{{$v}}{{end}}`, `0a1b2c`},
		{`{{range .M}}{{.}}{{end}}{{range $k, $v := .M}}{{$k}}{{end}}`, `12xy`},
		{`{{range .Z}}x{{else}}none{{end}}{{range 2}}{{.}}{{end}}`, `none01`},
		{`{{range .L}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}`, `a`},
		{`{{range .L}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}`, `ac`},
		{`{{$x := 1}}{{if .S}}{{$x = 2}}{{end}}{{$x}}`, `2`},
		{`{{with .S}}{{.}}{{end}}{{with .Z}}no{{else}}zero{{end}}{{with .Missing}}m{{end}}`, `strzero`},
		{`{{and 1 .S}} {{or .Z .S}} {{not .Z}} {{and .Z .Nil.X}}`, `str str true 0`},
		{`{{eq .N 3}} {{eq .S "a" "str"}} {{ne .S "str"}} {{lt 1 2}} {{le 2 2}} {{gt .N 4}} {{ge .N 3}}`, `true true false true true false true`},
		{`{{len .L}} {{index .L 1}} {{index .M "y"}} {{slice .S 1 2}} {{printf "%03d" .N}} {{print "a" 1}}`, `3 b 2 t 003 a1`},
		{`{{.S | up}} {{up (print .S "x")}}`, `STR STRX`},
		{`{{define "x"}}[{{.}}]{{end}}{{template "x" .S}}{{block "y" .S}}({{.}}){{end}}`, `[str](str)`},
		{`{{.Nil}}|{{.Missing}}|{{.M.q}}`, `||`},
	} {
		if got := render(t, tc.src, data); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// FuzzNoBreakout writes hostile strings into every context and checks,
// with an HTML parser, that they stay a text or a value.
func FuzzNoBreakout(f *testing.F) {
	for _, s := range []string{"<script>alert(1)</script>", `"'><img src=x onerror=alert(1)>`, "javascript:alert(1)",
		"</title><script>", "\x00", "\xff\xfe", "</textarea>", "-->", "&lt;", " JaVaScRiPt:x", "\u2028"} {
		f.Add(s)
	}
	src := `<title>{{.}}</title><p id="t">{{.}}</p><textarea id="ta">{{.}}</textarea>` +
		`<a id="a" href="{{.}}" title='{{.}}' data-x="{{.}}">x</a><a id="q" href="/p/{{.}}?q={{.}}">y</a>` +
		`<script type="application/json" id="j">{{.J}}</script>`
	s := New(nil)
	if err := s.Parse("t", strings.ReplaceAll(src, "{{.}}", "{{.S}}")); err != nil {
		f.Fatal(err)
	}
	if err := s.Seal(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var b bytes.Buffer
		j, _ := json.Marshal(in)
		if err := s.Execute(&b, "t", map[string]any{"S": in, "J": JSON(j)}); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		// The same elements, in the same places, whatever the input.
		var tags []string
		var scripts int
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				tags = append(tags, n.Data)
				if n.Data == "script" {
					scripts++
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") {
						t.Errorf("an event handler attribute: %s", b.String())
					}
					if a.Key == "href" && strings.Contains(strings.ToLower(a.Val), "script:") && !strings.HasPrefix(a.Val, "/p/") {
						t.Errorf("script URL: %s", a.Val)
					}
				}
			}
			if n.Type == html.CommentNode {
				t.Errorf("a comment: %s", b.String())
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		want := "html head title body p textarea a a script"
		if got := strings.Join(tags, " "); got != want {
			t.Errorf("elements %q, want %q\n%s", got, want, b.String())
		}
		// Text in content comes back as written (invalid UTF-8 replaced).
		if p := find(doc, "t"); p != nil && utf8.ValidString(in) && !strings.ContainsRune(in, 0) && p.FirstChild != nil && p.FirstChild.Data != strings.ReplaceAll(in, "\r", "\n") && !strings.Contains(in, "\r") {
			t.Errorf("text %q came back as %q", in, p.FirstChild.Data)
		}
	})
}

func find(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == id {
				return n
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, id); f != nil {
			return f
		}
	}
	return nil
}
