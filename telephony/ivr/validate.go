package ivr

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ValidationError is one problem found in a flow. Node names the node it
// is about; it is empty for problems of the flow as a whole.
type ValidationError struct {
	Node  string
	Field string
	Msg   string
}

// Error formats the problem as `node "id": field: message`.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Node == "" {
		b.WriteString("flow")
	} else {
		fmt.Fprintf(&b, "node %q", e.Node)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationErrors is every problem found in a flow, in flow order.
type ValidationErrors []*ValidationError

// Error lists every problem, one per line.
func (es ValidationErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return "ivr: invalid flow:\n" + strings.Join(lines, "\n")
}

// PromptCatalogue tells which prompt files exist. The live box answers
// from its prompt store; `callboxctl ivr check --prompts DIR` from a
// directory (see DirCatalogue).
type PromptCatalogue interface {
	HasPrompt(name string) bool
}

// FlowSource finds saved flows by id and version (0 = the latest).
// Repository implements it.
type FlowSource interface {
	Flow(id string, version int) (*Flow, error)
}

// ValidateOptions gives Validate what it checks references against. A nil
// field skips that check.
type ValidateOptions struct {
	// Prompts, when set, must hold every prompt file a node names.
	Prompts PromptCatalogue
	// Flows, when set, must hold every sub-flow a node calls.
	Flows FlowSource
	// Calendars, when set, must hold every calendar a time branch names.
	Calendars CalendarSource
	// Documents, when set, must hold every document a fax node sends.
	Documents DocumentCatalogue
}

// DocumentCatalogue tells which fax documents exist (the box's fax
// documents for fax on demand).
type DocumentCatalogue interface {
	HasDocument(name string) bool
}

// Validate checks a flow before it is saved: node ids and types, every
// field value, every target, reachability from the entry, loops that
// never wait for the caller, prompts and sub-flows. It returns nil or a
// ValidationErrors in which each error names its node.
func Validate(f *Flow, opt ValidateOptions) error {
	var errs ValidationErrors
	add := func(node, field, format string, args ...any) {
		errs = append(errs, &ValidationError{Node: node, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if f == nil {
		add("", "", "no flow")
		return errs
	}
	if !isFlowID(f.ID) {
		add("", "id", "bad flow id %q (1-64 letters, digits, '_', '-', '.')", f.ID)
	}
	if f.Version < 0 {
		add("", "version", "must not be negative")
	}
	if len(f.Nodes) == 0 {
		add("", "nodes", "the flow has no nodes")
	}
	g := newGraph(f)
	seen := make(map[string]bool, len(f.Nodes))
	for i, n := range f.Nodes {
		switch {
		case n == nil:
			add(fmt.Sprintf("#%d", i+1), "", "null node")
			continue
		case !isNodeID(n.ID):
			add(orIndex(n.ID, i), "id", "bad node id %q (1-64 letters, digits, '_', '-', '.')", n.ID)
		case seen[n.ID]:
			add(n.ID, "id", "duplicate node id")
		}
		seen[n.ID] = true
		if newSpec(n.Type) == nil {
			add(orIndex(n.ID, i), "type", "unknown node type %q", n.Type)
			continue
		}
		if n.Spec == nil || typeOf(n.Spec) != n.Type {
			add(orIndex(n.ID, i), "type", "node of type %q has no %s fields", n.Type, n.Type)
			continue
		}
		r := &reporter{node: orIndex(n.ID, i), errs: &errs}
		n.Spec.check(r)
		for _, e := range n.Spec.edges() {
			if e.target != "" && g.node(e.target) == nil {
				add(r.node, e.field, "target %q is not a node", e.target)
			}
		}
		if n.Error != "" && g.node(n.Error) == nil {
			add(r.node, "error", "target %q is not a node", n.Error)
		}
		for _, p := range n.Spec.prompts() {
			checkPrompt(r, p.field, *p.prompt, opt.Prompts)
		}
		if tb, ok := n.Spec.(*TimeBranch); ok && tb.Calendar != "" && opt.Calendars != nil {
			if _, found := opt.Calendars.Calendar(tb.Calendar); !found {
				add(r.node, "calendar", "no calendar %q", tb.Calendar)
			}
		}
		if fx, ok := n.Spec.(*Fax); ok && fx.Send != "" && isName(fx.Send, false) && opt.Documents != nil && !opt.Documents.HasDocument(fx.Send) {
			add(r.node, "send", "no fax document %q", fx.Send)
		}
		if sf, ok := n.Spec.(*SubFlow); ok && sf.Flow != "" {
			if sf.Flow == f.ID {
				add(r.node, "flow", "calls its own flow %q", sf.Flow)
			} else if opt.Flows != nil {
				if _, err := opt.Flows.Flow(sf.Flow, sf.Version); err != nil {
					add(r.node, "flow", "sub-flow %q version %d: %v", sf.Flow, sf.Version, err)
				}
			}
		}
	}
	if f.Entry == "" {
		add("", "entry", "no entry node")
	} else if g.node(f.Entry) == nil {
		add("", "entry", "entry %q is not a node", f.Entry)
	}
	if f.Error != "" && g.node(f.Error) == nil {
		add("", "error", "error node %q is not a node", f.Error)
	}
	if g.node(f.Entry) != nil {
		for _, id := range g.unreachable() {
			add(id, "", "unreachable from the entry %q", f.Entry)
		}
	}
	for _, cycle := range g.silentCycles(opt.Flows) {
		add(cycle[0], "", "loop that never waits for the caller: %s -> %s", strings.Join(cycle, " -> "), cycle[0])
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func orIndex(id string, i int) string {
	if id == "" {
		return fmt.Sprintf("#%d", i+1)
	}
	return id
}

func typeOf(s Spec) string {
	switch s.(type) {
	case *Play:
		return TypePlay
	case *Menu:
		return TypeMenu
	case *Collect:
		return TypeCollect
	case *TimeBranch:
		return TypeTime
	case *Switch:
		return TypeSwitch
	case *Queue:
		return TypeQueue
	case *Transfer:
		return TypeTransfer
	case *Voicemail:
		return TypeVoicemail
	case *Fax:
		return TypeFax
	case *Record:
		return TypeRecord
	case *Survey:
		return TypeSurvey
	case *Set:
		return TypeSet
	case *HTTPLookup:
		return TypeHTTP
	case *SubFlow:
		return TypeCall
	case *Return:
		return TypeReturn
	case *Hangup:
		return TypeHangup
	}
	return ""
}

func checkPrompt(r *reporter, field string, p Prompt, cat PromptCatalogue) {
	if p.File != "" {
		if !isPromptName(p.File) {
			r.errorf(field, "bad prompt file name %q", p.File)
		} else if cat != nil && !cat.HasPrompt(p.File) {
			r.errorf(field, "prompt %q is not in the prompt catalogue", p.File)
		}
	}
	if p.Text != "" {
		r.template(field+".text", p.Text)
	}
}

// graph is a flow with a private node index, so that validating a flow
// never writes to it (a saved flow may be running on other calls).
type graph struct {
	f   *Flow
	idx map[string]*Node
}

func newGraph(f *Flow) *graph {
	g := &graph{f: f, idx: make(map[string]*Node, len(f.Nodes))}
	for _, n := range f.Nodes {
		if n == nil {
			continue
		}
		if _, dup := g.idx[n.ID]; !dup {
			g.idx[n.ID] = n
		}
	}
	return g
}

func (g *graph) node(id string) *Node { return g.idx[id] }

// successors lists the nodes a node may continue to, including the error
// branch a run-time failure takes (its own or the flow's).
func (g *graph) successors(n *Node) []string {
	f := g.f
	var out []string
	if n.Spec != nil {
		for _, e := range n.Spec.edges() {
			if e.target != "" && g.node(e.target) != nil {
				out = append(out, e.target)
			}
		}
	}
	if !canFail(n.Spec) {
		return out
	}
	errTarget := n.Error
	if errTarget == "" {
		errTarget = f.Error
	}
	if errTarget != "" && g.node(errTarget) != nil {
		out = append(out, errTarget)
	}
	return out
}

// canFail reports whether a node can take an error branch at run time:
// hangup, return, switch and set nodes cannot.
func canFail(s Spec) bool {
	switch s.(type) {
	case *Hangup, *Return, *Switch, *Set, nil:
		return false
	}
	return true
}

// unreachable lists, in flow order, the nodes no path from the entry
// reaches.
func (g *graph) unreachable() []string {
	f := g.f
	seen := map[string]bool{f.Entry: true}
	stack := []string{f.Entry}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range g.successors(g.node(id)) {
			if !seen[s] {
				seen[s] = true
				stack = append(stack, s)
			}
		}
	}
	var out []string
	for _, n := range f.Nodes {
		if n != nil && isNodeID(n.ID) && !seen[n.ID] {
			out = append(out, n.ID)
			seen[n.ID] = true // report a duplicate id once
		}
	}
	return out
}

// silentCycles finds the cycles made only of nodes that do not wait for
// the caller: a call caught in one would spin (or retry a failing
// transfer or lookup) forever. Each cycle is returned once, as the
// strongly connected component's nodes in flow order.
func (g *graph) silentCycles(flows FlowSource) [][]string {
	f := g.f
	silent := func(n *Node) bool {
		if n == nil || n.Spec == nil {
			return false
		}
		if n.Spec.waitsForInput() {
			return false
		}
		if sf, ok := n.Spec.(*SubFlow); ok && flows != nil {
			if sub, err := flows.Flow(sf.Flow, sf.Version); err == nil && hasInput(sub) {
				return false
			}
		}
		return true
	}
	// Tarjan's algorithm over the silent nodes.
	order := make(map[string]int)
	for i, n := range f.Nodes {
		if n != nil {
			if _, ok := order[n.ID]; !ok {
				order[n.ID] = i
			}
		}
	}
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var out [][]string
	next := 0
	var visit func(id string)
	visit = func(id string) {
		index[id], low[id] = next, next
		next++
		stack = append(stack, id)
		onStack[id] = true
		self := false
		for _, s := range g.successors(g.node(id)) {
			if !silent(g.node(s)) {
				continue
			}
			if s == id {
				self = true
			}
			if _, ok := index[s]; !ok {
				visit(s)
				low[id] = min(low[id], low[s])
			} else if onStack[s] {
				low[id] = min(low[id], index[s])
			}
		}
		if low[id] != index[id] {
			return
		}
		var comp []string
		for {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[top] = false
			comp = append(comp, top)
			if top == id {
				break
			}
		}
		if len(comp) > 1 || self {
			sort.Slice(comp, func(i, j int) bool { return order[comp[i]] < order[comp[j]] })
			out = append(out, comp)
		}
	}
	for _, n := range f.Nodes {
		if n == nil || !silent(n) {
			continue
		}
		if _, ok := index[n.ID]; !ok {
			visit(n.ID)
		}
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i][0]] < order[out[j][0]] })
	return out
}

// hasInput reports whether a flow has a node that waits for the caller.
func hasInput(f *Flow) bool {
	for _, n := range f.Nodes {
		if n != nil && n.Spec != nil && n.Spec.waitsForInput() {
			return true
		}
	}
	return false
}

// reporter collects the field errors of one node.
type reporter struct {
	node string
	errs *ValidationErrors
}

func (r *reporter) errorf(field, format string, args ...any) {
	*r.errs = append(*r.errs, &ValidationError{Node: r.node, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// require reports an empty required field and returns whether it is set.
func (r *reporter) require(field, v string) bool {
	if v == "" {
		r.errorf(field, "required")
		return false
	}
	return true
}

func (r *reporter) requirePrompt(field string, p Prompt) {
	if p.IsZero() {
		r.errorf(field, "a prompt is required (file or text)")
	}
}

func (r *reporter) intRange(field string, v, lo, hi int) {
	if v < lo || v > hi {
		r.errorf(field, "%d is out of range %d..%d", v, lo, hi)
	}
}

// durationRange checks an optional duration: 0 (the default) or lo..hi.
func (r *reporter) durationRange(field string, d Duration, lo, hi time.Duration) {
	if d != 0 && (d.D() < lo || d.D() > hi) {
		r.errorf(field, "%v is out of range %v..%v", d.D(), lo, hi)
	}
}

func (r *reporter) varName(field, name string) {
	if !isVarName(name) {
		r.errorf(field, "bad variable name %q", name)
	}
}

// template checks ${var} syntax and returns whether it is well formed.
func (r *reporter) template(field, s string) bool {
	if err := checkTemplate(s); err != nil {
		r.errorf(field, "%v", err)
		return false
	}
	return true
}

func isFlowID(s string) bool { return isName(s, false) }
func isNodeID(s string) bool { return isName(s, false) }

func isVarName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func isName(s string, slash bool) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		case c == '/' && slash:
		default:
			return false
		}
	}
	return true
}

// isPromptName accepts catalogue names such as "digits/1" but nothing
// that could leave the prompt directory.
func isPromptName(s string) bool {
	if !isName(s, true) || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return false
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}
