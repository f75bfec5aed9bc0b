package ivr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// catalogue is a prompt catalogue from a list.
type catalogue map[string]bool

func (c catalogue) HasPrompt(name string) bool { return c[name] }

// errLines parses and validates a flow and returns its errors, one string
// each.
func errLines(t *testing.T, src string, opt ValidateOptions) []string {
	t.Helper()
	f, err := ParseFlow([]byte(src))
	if err == nil {
		err = Validate(f, opt)
	} else if f == nil {
		return []string{err.Error()}
	}
	if err == nil {
		return nil
	}
	var ves ValidationErrors
	if !errors.As(err, &ves) {
		t.Fatalf("error is %T, not ValidationErrors: %v", err, err)
	}
	var out []string
	for _, e := range ves {
		out = append(out, e.Error())
	}
	return out
}

func TestValidate(t *testing.T) {
	prompts := catalogue{"welcome": true, "main": true, "bye": true}
	subs := repoOf(t, `{"id":"sub","entry":"a","nodes":[{"id":"a","type":"return"}]}`)
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "valid",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"b"},
				{"id":"b","type":"call","flow":"sub","next":"c"},
				{"id":"c","type":"hangup","prompt":"bye"}]}`,
		},
		{
			name: "unknown node type",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"plya","prompt":"welcome","next":"b"},
				{"id":"b","type":"hangup"}]}`,
			want: []string{`node "a": unknown node type "plya"`},
		},
		{
			name: "unknown field",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"menu","prompt":"main","options":{"1":"b"},"timout":"5s"},
				{"id":"b","type":"hangup"}]}`,
			want: []string{`node "a": unknown field "timout"`},
		},
		{
			name: "node without id is named by position",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"hangup"},
				{"type":"hangup","prompt":7}]}`,
			want: []string{`node "#2": a prompt is a file name or an object with file and text`},
		},
		{
			name: "targets that are not nodes",
			src: `{"id":"f","entry":"a","error":"oops","nodes":[
				{"id":"a","type":"menu","prompt":"main","options":{"1":"b","2":"nowhere"},"fallback":"b","error":"gone"},
				{"id":"b","type":"hangup"}]}`,
			want: []string{
				`node "a": options.2: target "nowhere" is not a node`,
				`node "a": error: target "gone" is not a node`,
				`flow: error: error node "oops" is not a node`,
			},
		},
		{
			name: "entry missing",
			src:  `{"id":"f","entry":"x","nodes":[{"id":"a","type":"hangup"}]}`,
			want: []string{`flow: entry: entry "x" is not a node`},
		},
		{
			name: "unreachable nodes",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"hangup"},
				{"id":"b","type":"play","prompt":"welcome","next":"c"},
				{"id":"c","type":"hangup"}]}`,
			want: []string{`node "b": unreachable from the entry "a"`, `node "c": unreachable from the entry "a"`},
		},
		{
			name: "error node is reachable through the error branch",
			src: `{"id":"f","entry":"a","error":"e","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"b"},
				{"id":"b","type":"hangup"},
				{"id":"e","type":"hangup","prompt":"bye"}]}`,
		},
		{
			name: "loop without input",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"b"},
				{"id":"b","type":"set","vars":{"x":"1"},"next":"a"}]}`,
			want: []string{`node "a": loop that never waits for the caller: a -> b -> a`},
		},
		{
			name: "self loop through an error branch",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"transfer","to":"8000","fail":"a"}]}`,
			want: []string{`node "a": loop that never waits for the caller: a -> a`},
		},
		{
			name: "retry loop through the flow's error node",
			src: `{"id":"f","entry":"a","error":"a","nodes":[
				{"id":"a","type":"http","url":"http://crm/x","next":"b"},
				{"id":"b","type":"hangup"}]}`,
			want: []string{`node "a": loop that never waits for the caller: a -> a`},
		},
		{
			name: "loop through a menu is fine",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"m"},
				{"id":"m","type":"menu","prompt":"main","options":{"9":"a","1":"b"}},
				{"id":"b","type":"hangup"}]}`,
		},
		{
			name: "missing prompts",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":{"file":"hello","text":"Hi"},"next":"m"},
				{"id":"m","type":"menu","prompt":"main","options":{"1":"b"},"invalid_prompt":"nope"},
				{"id":"b","type":"hangup","prompt":"../../etc/passwd"}]}`,
			want: []string{
				`node "a": prompt: prompt "hello" is not in the prompt catalogue`,
				`node "m": invalid_prompt: prompt "nope" is not in the prompt catalogue`,
				`node "b": prompt: bad prompt file name "../../etc/passwd"`,
			},
		},
		{
			name: "required fields",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","next":""},
				{"id":"b","type":"collect"},
				{"id":"c","type":"survey"},
				{"id":"d","type":"set","next":"a"},
				{"id":"e","type":"transfer"},
				{"id":"g","type":"queue"},
				{"id":"h","type":"voicemail"},
				{"id":"i","type":"call"},
				{"id":"j","type":"http"},
				{"id":"k","type":"switch"},
				{"id":"l","type":"record"},
				{"id":"m","type":"time"}]}`,
			want: []string{
				`node "a": prompt: a prompt is required (file or text)`,
				`node "a": next: required`,
				`node "b": max: 0 is out of range 1..64`,
				`node "b": var: bad variable name ""`,
				`node "b": next: required`,
				`node "c": question: required`,
				`node "c": prompt: a prompt is required (file or text)`,
				`node "c": next: required`,
				`node "d": vars: at least one variable is needed`,
				`node "e": to: required`,
				`node "g": group: one of group and customer_type is needed`,
				`node "h": box: required`,
				`node "i": flow: required`,
				`node "i": next: required`,
				`node "j": url: required`,
				`node "j": next: required`,
				`node "k": var: bad variable name ""`,
				`node "k": default: required`,
				`node "l": var: bad variable name ""`,
				`node "l": next: required`,
				`node "m": open: required`,
				`node "m": closed: required`,
				`node "b": unreachable from the entry "a"`,
				`node "c": unreachable from the entry "a"`,
				`node "d": unreachable from the entry "a"`,
				`node "e": unreachable from the entry "a"`,
				`node "g": unreachable from the entry "a"`,
				`node "h": unreachable from the entry "a"`,
				`node "i": unreachable from the entry "a"`,
				`node "j": unreachable from the entry "a"`,
				`node "k": unreachable from the entry "a"`,
				`node "l": unreachable from the entry "a"`,
				`node "m": unreachable from the entry "a"`,
			},
		},
		{
			name: "bad field values",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"menu","prompt":"main","options":{"12":"z","x":"z"},"timeout":"90s","attempts":11,"fallback":"b"},
				{"id":"b","type":"collect","min":5,"max":3,"terminator":"##","timeout":"0.5s","var":"9x","next":"c"},
				{"id":"c","type":"time","tz":"Mars/Olympus","hours":{"mon":"9-18"},"open":"d","closed":"d"},
				{"id":"d","type":"switch","var":"v","match":"regex","cases":{"a":"e"},"default":"e"},
				{"id":"e","type":"queue","group":-1,"max_wait":"10h","overflow":"g"},
				{"id":"g","type":"transfer","to":"80a0","fail":"h"},
				{"id":"h","type":"http","method":"DELETE","url":"ftp://x/${a","timeout":"50ms","results":{"v":"a..b"},"next":"i","error":"z"},
				{"id":"i","type":"survey","question":"q","prompt":"main","min":5,"max":3,"next":"j"},
				{"id":"j","type":"record","max":"1h","terminator":"x","var":"r","next":"k"},
				{"id":"k","type":"call","flow":"nosuch","next":"l"},
				{"id":"l","type":"set","vars":{"ok":"${unclosed"},"next":"z"},
				{"id":"z","type":"hangup"}]}`,
			want: []string{
				`node "a": options: key "12" is not one DTMF key (0-9, *, #, A-D)`,
				`node "a": options: key "x" is not one DTMF key (0-9, *, #, A-D)`,
				`node "a": timeout: 1m30s is out of range 1s..1m0s`,
				`node "a": attempts: 11 is out of range 0..10`,
				`node "b": min: min 5 is more than max 3`,
				`node "b": terminator: "##" is not one DTMF key`,
				`node "b": timeout: 500ms is out of range 1s..1m0s`,
				`node "b": var: bad variable name "9x"`,
				`node "c": tz: unknown time zone "Mars/Olympus"`,
				`node "d": match: must be "exact" or "prefix", not "regex"`,
				`node "e": group: must be positive, not -1`,
				`node "e": max_wait: 10h0m0s is out of range 1s..4h0m0s`,
				`node "g": to: "80a0" is not a number (digits, *, #, leading +)`,
				`node "h": method: must be GET or POST, not "DELETE"`,
				`node "h": url: unclosed ${ in template`,
				`node "h": timeout: 50ms is out of range 100ms..30s`,
				`node "h": results.v: bad JSON path "a..b"`,
				`node "i": min: min 5 must be below max 3`,
				`node "j": max: 1h0m0s is out of range 1s..10m0s`,
				`node "j": terminator: "x" is not one DTMF key`,
				`node "k": flow: sub-flow "nosuch" version 0: ivr: no such flow: "nosuch"`,
				`node "l": vars.ok: unclosed ${ in template`,
			},
		},
		{
			name: "bad hours",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"time","hours":{"mon-fri":"18:00-09:00"},"open":"z","closed":"z"},
				{"id":"b","type":"time","hours":{"mon-fri":"09:00-18:00","fri":"09:00-12:00"},"open":"z","closed":"z"},
				{"id":"c","type":"time","hours":{"daily":"09:00-12:00"},"holidays":["2026-10-07..2026-10-01"],"open":"z","closed":"z"},
				{"id":"d","type":"time","hours":{"funday":"09:00-12:00"},"open":"z","closed":"z"},
				{"id":"e","type":"time","hours":{"sat":"09:00-12:00,11:00-13:00"},"open":"z","closed":"z"},
				{"id":"g","type":"time","hours":{"sat":"09:00-25:00"},"special":{"2026-13-01":""},"open":"z","closed":"z"},
				{"id":"z","type":"hangup"}]}`,
			want: []string{
				`node "a": hours.mon-fri: time range "18:00-09:00" ends before it starts (split ranges that cross midnight)`,
				`node "b": hours.mon-fri: Friday is also given by "fri"`,
				`node "c": holidays: range "2026-10-07..2026-10-01" ends before it starts`,
				`node "d": hours: bad day "funday" (want mon..sun, a range such as mon-fri, or daily)`,
				`node "e": hours.sat: time ranges in "09:00-12:00,11:00-13:00" overlap`,
				`node "g": hours.sat: bad time range "09:00-25:00" (want HH:MM-HH:MM)`,
				`node "b": unreachable from the entry "a"`,
				`node "c": unreachable from the entry "a"`,
				`node "d": unreachable from the entry "a"`,
				`node "e": unreachable from the entry "a"`,
				`node "g": unreachable from the entry "a"`,
			},
		},
		{
			name: "ids",
			src: `{"id":"bad id","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"a b"},
				{"id":"a","type":"hangup"},
				{"id":"a b","type":"hangup"}]}`,
			want: []string{
				`flow: id: bad flow id "bad id" (1-64 letters, digits, '_', '-', '.')`,
				`node "a": id: duplicate node id`,
				`node "a b": id: bad node id "a b" (1-64 letters, digits, '_', '-', '.')`,
			},
		},
		{
			name: "calls itself",
			src: `{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"call","flow":"f","next":"b"},
				{"id":"b","type":"hangup"}]}`,
			want: []string{`node "a": flow: calls its own flow "f"`},
		},
		{
			name: "empty flow",
			src:  `{"id":"f","entry":"a","nodes":[]}`,
			want: []string{`flow: nodes: the flow has no nodes`, `flow: entry: entry "a" is not a node`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errLines(t, tt.src, ValidateOptions{Prompts: prompts, Flows: subs})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestParseFlowErrors(t *testing.T) {
	for _, src := range []string{``, `[]`, `{"id":"f","nodes":{}}`, `{"id":"f","bogus":1}`, `{"id":"f"} {}`} {
		if _, err := ParseFlow([]byte(src)); err == nil {
			t.Errorf("ParseFlow(%q) accepted", src)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	src := `{"id":"f","name":"Test","entry":"a","error":"z","nodes":[
		{"id":"a","type":"menu","prompt":{"file":"main","text":"Press 1"},"options":{"1":"b"},"timeout":"7s","attempts":2,"fallback":"z"},
		{"id":"b","type":"collect","min":1,"max":4,"terminator":"#","interdigit":2,"var":"x","next":"c"},
		{"id":"c","type":"time","tz":"+08:00","hours":{"mon-fri":"09:00-18:00"},"special":{"2026-09-27":"09:00-18:00"},"holidays":["2026-10-01..2026-10-07"],"open":"d","closed":"z","holiday":"z"},
		{"id":"d","type":"http","method":"POST","url":"https://crm/x","body":{"n":"${x}"},"results":{"t":"a.b"},"next":"e","error":"z"},
		{"id":"e","type":"switch","var":"t","match":"prefix","cases":{"v":"g"},"default":"z"},
		{"id":"g","type":"survey","question":"q","prompt":"rate","next":"h"},
		{"id":"h","type":"record","beep":true,"var":"r","next":"i"},
		{"id":"i","type":"set","vars":{"k":"v"},"next":"j"},
		{"id":"j","type":"queue","customer_type":"${t}","max_wait":"90s","overflow":"k"},
		{"id":"k","type":"transfer","to":"+8610","fail":"l"},
		{"id":"l","type":"voicemail","box":"1","next":"z"},
		{"id":"z","type":"hangup"}]}`
	f := mustParse(t, src)
	if err := Validate(f, ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := cloneFlow(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripIndex(c), stripIndex(f)) {
		t.Fatalf("round trip changed the flow")
	}
	if got := c.Node("b").Spec.(*Collect).InterDigit.D().String(); got != "2s" {
		t.Errorf("interdigit %s", got)
	}
}

func stripIndex(f *Flow) *Flow {
	c := *f
	c.index = nil
	return &c
}
