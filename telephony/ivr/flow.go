package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Flow is one version of an IVR flow: a graph of nodes entered at Entry.
// Flows are data; they are parsed from JSON with ParseFlow and checked with
// Validate before they are saved.
type Flow struct {
	// ID names the flow; versions of one flow share it ("main", "survey").
	ID string `json:"id"`
	// Name is a label for people.
	Name string `json:"name,omitempty"`
	// Version is assigned by Repository.Save (1, 2, ...); 0 in a file
	// that has not been saved.
	Version int `json:"version,omitempty"`
	// Entry is the id of the first node.
	Entry string `json:"entry"`
	// Error is the node a run-time failure goes to when the failing node
	// has no error branch of its own; without it the engine apologises and
	// ends the flow (see Engine.Apology).
	Error string `json:"error,omitempty"`
	// Nodes lists the nodes; their ids are unique within the flow.
	Nodes []*Node `json:"nodes"`

	index map[string]*Node
}

// Node returns the node with the given id, or nil. Flows from ParseFlow
// and Repository are indexed; a flow built in code is searched.
func (f *Flow) Node(id string) *Node {
	if f.index != nil {
		return f.index[id]
	}
	for _, n := range f.Nodes {
		if n != nil && n.ID == id {
			return n
		}
	}
	return nil
}

func (f *Flow) reindex() {
	f.index = make(map[string]*Node, len(f.Nodes))
	for _, n := range f.Nodes {
		if n == nil {
			continue
		}
		if _, dup := f.index[n.ID]; !dup {
			f.index[n.ID] = n
		}
	}
}

// Node is one step of a flow. In JSON a node is one object holding the
// common fields (id, type, error) and the fields of its type, for example
//
//	{"id": "welcome", "type": "play", "prompt": "welcome", "next": "menu"}
//
// Fields a type does not know are rejected, so a misspelt field is an
// error rather than a silently ignored setting.
type Node struct {
	// ID names the node within its flow.
	ID string
	// Type is the node type, one of the Type* constants.
	Type string
	// Error is the node a run-time failure of this node goes to (a
	// missing prompt file, an HTTP lookup that failed, a transfer that
	// could not be placed); empty means the flow's Error node.
	Error string
	// Spec holds the type's fields: *Play, *Menu, *Collect, *TimeBranch,
	// *Switch, *Queue, *Transfer, *Voicemail, *Record, *Survey, *Set,
	// *HTTPLookup, *SubFlow, *Return, *Hangup or *Fax.
	Spec Spec
}

// Node types as written in the "type" field.
const (
	TypePlay      = "play"
	TypeMenu      = "menu"
	TypeCollect   = "collect"
	TypeTime      = "time"
	TypeSwitch    = "switch"
	TypeQueue     = "queue"
	TypeTransfer  = "transfer"
	TypeVoicemail = "voicemail"
	TypeRecord    = "record"
	TypeSurvey    = "survey"
	TypeSet       = "set"
	TypeHTTP      = "http"
	TypeCall      = "call"
	TypeReturn    = "return"
	TypeHangup    = "hangup"
	TypeFax       = "fax"
)

// newSpec returns an empty spec for a node type, or nil for an unknown one.
func newSpec(typ string) Spec {
	switch typ {
	case TypePlay:
		return new(Play)
	case TypeMenu:
		return new(Menu)
	case TypeCollect:
		return new(Collect)
	case TypeTime:
		return new(TimeBranch)
	case TypeSwitch:
		return new(Switch)
	case TypeQueue:
		return new(Queue)
	case TypeTransfer:
		return new(Transfer)
	case TypeVoicemail:
		return new(Voicemail)
	case TypeRecord:
		return new(Record)
	case TypeSurvey:
		return new(Survey)
	case TypeSet:
		return new(Set)
	case TypeHTTP:
		return new(HTTPLookup)
	case TypeCall:
		return new(SubFlow)
	case TypeReturn:
		return new(Return)
	case TypeHangup:
		return new(Hangup)
	case TypeFax:
		return new(Fax)
	}
	return nil
}

// Spec is the type-specific part of a node. The implementations are the
// exported structs of this package; their fields are documented with the
// JSON name each is written under.
type Spec interface {
	// edges lists the nodes this one can continue to, with the field
	// each comes from (for error messages).
	edges() []edge
	// waitsForInput reports whether the node waits for the caller (keys
	// or voice) every time it runs; a cycle needs one such node.
	waitsForInput() bool
	// prompts lists the prompts the node plays, with their fields.
	prompts() []fieldPrompt
	// check reports bad field values.
	check(r *reporter)
}

type edge struct {
	field  string
	target string
}

type fieldPrompt struct {
	field  string
	prompt *Prompt
}

// nodeHeader is the part of the JSON object common to all node types.
type nodeHeader struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
}

// UnmarshalJSON decodes a node, rejecting unknown types and fields.
func (n *Node) UnmarshalJSON(data []byte) error {
	var h nodeHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return err
	}
	n.ID, n.Type, n.Error = h.ID, h.Type, h.Error
	spec := newSpec(h.Type)
	if spec == nil {
		return fmt.Errorf("unknown node type %q", h.Type)
	}
	if err := decodeStrict(data, spec); err != nil {
		return err
	}
	n.Spec = spec
	return nil
}

// MarshalJSON encodes the node as one object: the common fields followed
// by the type's fields.
func (n *Node) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(nodeHeader{ID: n.ID, Type: n.Type, Error: n.Error})
	if err != nil {
		return nil, err
	}
	if n.Spec == nil {
		return head, nil
	}
	body, err := json.Marshal(n.Spec)
	if err != nil {
		return nil, err
	}
	if len(body) <= 2 { // "{}"
		return head, nil
	}
	out := make([]byte, 0, len(head)+len(body))
	out = append(out, head[:len(head)-1]...)
	out = append(out, ',')
	out = append(out, body[1:]...)
	return out, nil
}

// decodeStrict decodes data into v rejecting fields v does not have,
// except the common node fields. Field names must match the JSON names
// exactly (encoding/json alone would accept "PROMPT" for "prompt").
func decodeStrict(data []byte, v any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	known := jsonFields(reflect.TypeOf(v).Elem())
	var unknown []string
	for k := range raw {
		if !known[k] && k != "id" && k != "type" && k != "error" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown field %q", unknown[0])
	}
	return json.Unmarshal(data, v)
}

var fieldCache sync.Map // reflect.Type -> map[string]bool

// jsonFields returns the JSON names of a struct's fields.
func jsonFields(t reflect.Type) map[string]bool {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := make(map[string]bool, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	fieldCache.Store(t, m)
	return m
}

// ParseFlow decodes a flow from JSON. Errors in single nodes do not stop
// the parse: every node that decodes is kept, and the returned error is a
// ValidationErrors naming each node that did not. A flow returned with a
// nil error still has to pass Validate.
func ParseFlow(data []byte) (*Flow, error) {
	var raw struct {
		ID      string            `json:"id"`
		Name    string            `json:"name"`
		Version int               `json:"version"`
		Entry   string            `json:"entry"`
		Error   string            `json:"error"`
		Nodes   []json.RawMessage `json:"nodes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("ivr: flow: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("ivr: flow: data after the flow object")
	}
	f := &Flow{ID: raw.ID, Name: raw.Name, Version: raw.Version, Entry: raw.Entry, Error: raw.Error}
	var errs ValidationErrors
	for i, m := range raw.Nodes {
		n := new(Node)
		if err := n.UnmarshalJSON(m); err != nil {
			id := n.ID
			if id == "" {
				id = "#" + strconv.Itoa(i+1)
			}
			errs = append(errs, &ValidationError{Node: id, Msg: err.Error()})
			continue
		}
		f.Nodes = append(f.Nodes, n)
	}
	f.reindex()
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// Prompt is something the caller hears: a recorded prompt file, text to
// speech, or both (the file is played; the text is spoken when the file
// is missing). In JSON a bare string is shorthand for {"file": "..."}.
type Prompt struct {
	// File is the prompt's name in the prompt catalogue, without an
	// extension ("welcome", "queue-thankyou").
	File string `json:"file,omitempty"`
	// Text is spoken by text to speech; ${var} is replaced by variables.
	Text string `json:"text,omitempty"`
}

// IsZero reports whether the prompt plays nothing.
func (p Prompt) IsZero() bool { return p.File == "" && p.Text == "" }

// UnmarshalJSON accepts an object or a bare file name.
func (p *Prompt) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*p = Prompt{File: s}
		return nil
	}
	if string(data) == "null" {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return errors.New("a prompt is a file name or an object with file and text")
	}
	type plain Prompt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var q plain
	if err := dec.Decode(&q); err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	*p = Prompt(q)
	return nil
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("5s", "1m30s") or a number of seconds.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("bad duration %q", s)
		}
		*d = Duration(v)
		return nil
	}
	var sec float64
	if err := json.Unmarshal(data, &sec); err != nil {
		return fmt.Errorf("bad duration %s", data)
	}
	if sec > float64(24*time.Hour/time.Second) || sec < -float64(24*time.Hour/time.Second) {
		return fmt.Errorf("bad duration %s", data)
	}
	*d = Duration(sec * float64(time.Second))
	return nil
}
