// Package htmlpage renders the web admin's HTML templates without
// html/template. Templates keep text/template's syntax and are parsed by
// text/template/parse; this package executes the trees itself and escapes
// every action for the HTML context it stands in, decided once at load.
//
// Why not html/template: its executor looks methods up by a name known only
// at run time (reflect's MethodByName), and one such call makes the linker
// keep every exported method of every type that reaches an interface, about
// 3.4 MiB of callboxd. Here a value offers methods to templates only by
// implementing MethodCaller, a switch over names written in the program.
//
// Escaping is contextual, like html/template's, for the contexts the pages
// use: element content and RCDATA (<title>, <textarea>) are HTML-escaped;
// a quoted attribute value is HTML-escaped; a URL attribute (href, src,
// action, formaction, ... and names holding src, uri or url) has its
// scheme checked at its start (relative, http, https, mailto and tel pass,
// anything else becomes "#ZgotmplZ") and is percent-encoded, fully in its
// query; a <script type="application/json"> takes only a JSON value. An
// action anywhere else (another script, a style, an on* or style
// attribute, an unquoted value, a tag or attribute name, a comment) is
// refused when the template is loaded. HTML comments are removed.
package htmlpage

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"text/template/parse"
)

// MethodCaller is how a value offers methods to templates: {{.Name args}}
// on it calls CallMethod("Name", args); ok false means it has no such
// method, and the field or map key of that name is used instead.
type MethodCaller interface {
	CallMethod(name string, args []any) (result any, ok bool, err error)
}

// Set is a group of templates that may call each other, parsed with the
// same functions: one page and the shared layout and parts.
type Set struct {
	funcs map[string]reflect.Value
	names map[string]any // funcs for the parser, builtins included
	trees map[string]*parse.Tree
	// esc holds the escaper of every printing action, decided by Seal.
	esc    map[*parse.ActionNode]escaper
	sealed bool
	// done maps (template, context) to the name of its escaped copy.
	done map[string]string
	// ends is the context each escaped copy ends in.
	ends map[string]context
}

// New makes an empty set with the given functions (each a func returning
// one value, or a value and an error).
func New(funcs map[string]any) *Set {
	s := &Set{funcs: map[string]reflect.Value{}, names: map[string]any{}, trees: map[string]*parse.Tree{},
		esc: map[*parse.ActionNode]escaper{}, done: map[string]string{}, ends: map[string]context{}}
	for _, b := range builtinNames {
		s.names[b] = true
	}
	for k, f := range funcs {
		s.funcs[k] = reflect.ValueOf(f)
		s.names[k] = f
	}
	return s
}

// Parse adds the templates of one file (its text under name, and its
// {{define}}s).
func (s *Set) Parse(name, text string) error {
	if s.sealed {
		return fmt.Errorf("page: %s: parse after the set was sealed", name)
	}
	t := parse.New(name)
	if _, err := t.Parse(text, "", "", s.trees, s.names); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	return nil
}

// Seal decides the context of every action of every template (each read
// from element content; templates they call from where they call them)
// and refuses the set if an action stands where no escaping is safe.
func (s *Set) Seal() error {
	for _, name := range slices.Sorted(maps.Keys(s.trees)) {
		if _, _, err := s.escapeTree(name, context{st: stText}); err != nil {
			return err
		}
	}
	s.sealed = true
	return nil
}

// Execute renders template name with data into w. The whole page is
// rendered first, so an error writes nothing.
func (s *Set) Execute(w io.Writer, name string, data any) error {
	if !s.sealed {
		return fmt.Errorf("page: %s: execute before Seal", name)
	}
	t := s.trees[name]
	if t == nil {
		return fmt.Errorf("page: no template %q", name)
	}
	st := &exec{set: s, tree: t}
	v := reflect.ValueOf(data)
	st.vars = []variable{{"$", v}}
	if err := st.walk(v, t.Root); err != nil {
		return err
	}
	_, err := io.WriteString(w, st.out.String())
	return err
}

// escapeTree escapes template name entered in context c and returns the
// name of the escaped copy (name itself for element content) and the
// context it ends in.
func (s *Set) escapeTree(name string, c context) (string, context, error) {
	key := name
	if c != (context{st: stText}) {
		key = fmt.Sprintf("%s$%v", name, c)
	}
	if n, ok := s.done[key]; ok {
		end, ok := s.ends[n]
		if !ok { // recursion: assume it ends where it began
			end = c
		}
		return n, end, nil
	}
	t := s.trees[name]
	if t == nil {
		return "", c, fmt.Errorf("page: no template %q", name)
	}
	if key != name {
		t = t.Copy()
		t.Name = key
		s.trees[key] = t
	}
	s.done[key] = key
	e := escaping{set: s, tree: t}
	end, err := e.list(c, t.Root)
	if err != nil {
		return "", c, err
	}
	s.ends[key] = end
	return key, end, nil
}

// escaping walks one tree deciding its actions' contexts.
type escaping struct {
	set  *Set
	tree *parse.Tree
}

func (e *escaping) errorf(n parse.Node, format string, args ...any) error {
	loc, _ := e.tree.ErrorContext(n)
	return fmt.Errorf("page: %s: %s", loc, fmt.Sprintf(format, args...))
}

func (e *escaping) list(c context, l *parse.ListNode) (context, error) {
	if l == nil {
		return c, nil
	}
	for _, n := range l.Nodes {
		var err error
		if c, err = e.node(c, n); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (e *escaping) node(c context, n parse.Node) (context, error) {
	switch n := n.(type) {
	case *parse.TextNode:
		c2, out, err := feed(c, n.Text)
		if err != nil {
			return c, e.errorf(n, "%v", err)
		}
		n.Text = out
		return c2, nil
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return c, nil // declares variables, writes nothing
		}
		esc, err := escaperFor(c)
		if err != nil {
			return c, e.errorf(n, "%v", err)
		}
		e.set.esc[n] = esc
		return after(c), nil
	case *parse.IfNode:
		return e.branches(c, n, n.List, n.ElseList, false)
	case *parse.WithNode:
		return e.branches(c, n, n.List, n.ElseList, false)
	case *parse.RangeNode:
		return e.branches(c, n, n.List, n.ElseList, true)
	case *parse.TemplateNode:
		name, end, err := e.set.escapeTree(n.Name, c)
		if err != nil {
			return c, err
		}
		n.Name = name
		return end, nil
	case *parse.BreakNode, *parse.ContinueNode, *parse.CommentNode:
		return c, nil
	}
	return c, e.errorf(n, "unexpected node %s", n)
}

// branches escapes the two branches of if, with or range, which must end
// in the same context (a range's body also where it began).
func (e *escaping) branches(c context, n parse.Node, list, elseList *parse.ListNode, loop bool) (context, error) {
	c1, err := e.list(c, list)
	if err != nil {
		return c, err
	}
	if loop && c1 != c {
		return c, e.errorf(n, "{{range}} body ends in %s, not where it began (%s)", c1, c)
	}
	c2 := c
	if elseList != nil {
		if c2, err = e.list(c, elseList); err != nil {
			return c, err
		}
	}
	if c1 != c2 {
		return c, e.errorf(n, "branches end in different contexts: %s and %s", c1, c2)
	}
	return c1, nil
}

var (
	errBreak    = errors.New("page: break")
	errContinue = errors.New("page: continue")
)

// variable is one $name of the running template.
type variable struct {
	name  string
	value reflect.Value
}

// exec is one execution of a template.
type exec struct {
	set  *Set
	tree *parse.Tree
	vars []variable
	out  strings.Builder
	node parse.Node // the node being run, for errors
}

func (s *exec) errorf(format string, args ...any) error {
	loc := s.tree.Name
	if s.node != nil {
		loc, _ = s.tree.ErrorContext(s.node)
	}
	return fmt.Errorf("page: %s: %s", loc, fmt.Sprintf(format, args...))
}

func (s *exec) walk(dot reflect.Value, n parse.Node) error {
	s.node = n
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			if err := s.walk(dot, c); err != nil {
				return err
			}
		}
	case *parse.TextNode:
		s.out.Write(n.Text)
	case *parse.ActionNode:
		v, err := s.pipeline(dot, n.Pipe)
		if err != nil {
			return err
		}
		if len(n.Pipe.Decl) == 0 {
			return s.print(n, v)
		}
	case *parse.IfNode:
		return s.ifWith(dot, n.Pipe, n.List, n.ElseList, false)
	case *parse.WithNode:
		return s.ifWith(dot, n.Pipe, n.List, n.ElseList, true)
	case *parse.RangeNode:
		return s.rangeNode(dot, n)
	case *parse.TemplateNode:
		return s.template(dot, n)
	case *parse.BreakNode:
		return errBreak
	case *parse.ContinueNode:
		return errContinue
	case *parse.CommentNode:
	default:
		return s.errorf("unknown node %s", n)
	}
	return nil
}

func (s *exec) ifWith(dot reflect.Value, pipe *parse.PipeNode, list, elseList *parse.ListNode, with bool) error {
	mark := len(s.vars)
	defer func() { s.vars = s.vars[:mark] }()
	v, err := s.pipeline(dot, pipe)
	if err != nil {
		return err
	}
	if truth(v) {
		if with {
			dot = v
		}
		return s.walk(dot, list)
	}
	if elseList != nil {
		return s.walk(dot, elseList)
	}
	return nil
}

func (s *exec) rangeNode(dot reflect.Value, r *parse.RangeNode) error {
	mark := len(s.vars)
	defer func() { s.vars = s.vars[:mark] }()
	v, err := s.pipeline(dot, r.Pipe)
	if err != nil {
		return err
	}
	v = indirectInterface(v)
	body := func(key, elem reflect.Value) (bool, error) {
		if len(r.Pipe.Decl) > 0 {
			if r.Pipe.IsAssign {
				if len(r.Pipe.Decl) > 1 {
					s.setVar(r.Pipe.Decl[0].Ident[0], key)
					s.setVar(r.Pipe.Decl[1].Ident[0], elem)
				} else {
					s.setVar(r.Pipe.Decl[0].Ident[0], elem)
				}
			} else if len(r.Pipe.Decl) > 1 {
				s.vars[len(s.vars)-2].value = key
				s.vars[len(s.vars)-1].value = elem
			} else {
				s.vars[len(s.vars)-1].value = elem
			}
		}
		inner := len(s.vars)
		err := s.walk(elem, r.List)
		s.vars = s.vars[:inner]
		switch {
		case errors.Is(err, errBreak):
			return false, nil
		case errors.Is(err, errContinue):
			return true, nil
		}
		return err == nil, err
	}
	n := 0
	if v.IsValid() {
		switch v.Kind() {
		case reflect.Array, reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				n++
				if more, err := body(reflect.ValueOf(i), v.Index(i)); err != nil || !more {
					return err
				}
			}
		case reflect.Map:
			keys := v.MapKeys()
			slices.SortFunc(keys, compareKeys)
			for _, k := range keys {
				n++
				if more, err := body(k, v.MapIndex(k)); err != nil || !more {
					return err
				}
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			for i := int64(0); i < v.Int(); i++ {
				n++
				iv := reflect.ValueOf(int(i))
				if more, err := body(iv, iv); err != nil || !more {
					return err
				}
			}
		default:
			return s.errorf("range can't iterate over %v", v.Type())
		}
	}
	if n == 0 && r.ElseList != nil {
		return s.walk(dot, r.ElseList)
	}
	return nil
}

// compareKeys orders map keys for range: numbers and strings by value.
func compareKeys(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.String:
		return strings.Compare(a.String(), b.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmpOrdered(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cmpOrdered(a.Uint(), b.Uint())
	case reflect.Float32, reflect.Float64:
		return cmpOrdered(a.Float(), b.Float())
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func cmpOrdered[T int64 | uint64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *exec) template(dot reflect.Value, n *parse.TemplateNode) error {
	t := s.set.trees[n.Name]
	if t == nil {
		return s.errorf("no template %q", n.Name)
	}
	v := dot
	if n.Pipe != nil {
		var err error
		if v, err = s.pipeline(dot, n.Pipe); err != nil {
			return err
		}
	}
	inner := &exec{set: s.set, tree: t, vars: []variable{{"$", v}}}
	err := inner.walk(v, t.Root)
	s.out.WriteString(inner.out.String())
	return err
}

func (s *exec) setVar(name string, v reflect.Value) {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			s.vars[i].value = v
			return
		}
	}
}

func (s *exec) varValue(name string) (reflect.Value, error) {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			return s.vars[i].value, nil
		}
	}
	return reflect.Value{}, s.errorf("undefined variable: %s", name)
}

func (s *exec) pipeline(dot reflect.Value, pipe *parse.PipeNode) (reflect.Value, error) {
	if pipe == nil {
		return reflect.Value{}, nil
	}
	var v reflect.Value
	for i, cmd := range pipe.Cmds {
		var final reflect.Value
		if i > 0 {
			final = v
		}
		var err error
		if v, err = s.command(dot, cmd, final, i > 0); err != nil {
			return v, err
		}
		// An interface holding a value is the value, as text/template has it.
		if v.IsValid() && v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 {
			v = v.Elem()
		}
	}
	for _, d := range pipe.Decl {
		if pipe.IsAssign {
			s.setVar(d.Ident[0], v)
		} else {
			s.vars = append(s.vars, variable{d.Ident[0], v})
		}
	}
	return v, nil
}

// print writes an action's value, escaped for its context.
func (s *exec) print(n *parse.ActionNode, v reflect.Value) error {
	esc, ok := s.set.esc[n]
	if !ok {
		return s.errorf("action not escaped")
	}
	val, valid := interfaceOf(v)
	switch x := val.(type) {
	case JSON:
		if esc != escJSON {
			return s.errorf("a JSON value outside a JSON script")
		}
		writeJSON(&s.out, string(x))
		return nil
	case HTML:
		if esc == escText {
			s.out.WriteString(string(x))
			return nil
		}
	}
	if esc == escJSON {
		return s.errorf("a JSON script takes only a page.JSON value, not %v", v.Type())
	}
	if !valid {
		return nil
	}
	write(&s.out, esc, stringify(val))
	return nil
}

// interfaceOf is v as an interface value, nil for an invalid v or a nil interface.
func interfaceOf(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	if v.Kind() == reflect.Interface && v.IsNil() {
		return nil, false
	}
	if !v.CanInterface() {
		return nil, false
	}
	return v.Interface(), true
}

// stringify prints a value as html/template does: pointers are followed
// to a value that is not a pointer, a Stringer or an error.
func stringify(a any) string {
	switch x := a.(type) {
	case string:
		return x
	case HTML:
		return string(x)
	case fmt.Stringer:
		return x.String()
	case error:
		return x.Error()
	}
	v := reflect.ValueOf(a)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
		if !v.CanInterface() {
			break
		}
		switch x := v.Interface().(type) {
		case fmt.Stringer:
			return x.String()
		case error:
			return x.Error()
		}
	}
	if v.IsValid() && v.CanInterface() {
		return fmt.Sprint(v.Interface())
	}
	return fmt.Sprint(a)
}

// truth is text/template's truth of a value.
func truth(v reflect.Value) bool {
	v = indirectInterface(v)
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() > 0
	case reflect.Bool:
		return v.Bool()
	case reflect.Complex64, reflect.Complex128:
		return v.Complex() != 0
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.Interface, reflect.UnsafePointer:
		return !v.IsNil()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() != 0
	case reflect.Float32, reflect.Float64:
		return v.Float() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() != 0
	}
	return true
}

// indirectInterface is the value inside an interface.
func indirectInterface(v reflect.Value) reflect.Value {
	for v.IsValid() && v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}
