package ivr

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var shanghai = time.FixedZone("CST", 8*3600)

// A Wednesday morning in Shanghai.
var wedMorning = time.Date(2026, 11, 18, 10, 0, 0, 0, shanghai)

func TestEngineNodes(t *testing.T) {
	const subFlow = `{"id":"sub","entry":"s1","nodes":[
		{"id":"s1","type":"play","prompt":"in-sub","next":"s2"},
		{"id":"s2","type":"return"}]}`
	tests := []struct {
		name    string
		flows   []string // saved in order; the last one is run
		call    scriptedCall
		clock   time.Time
		fetch   *fakeFetcher
		req     Request
		end     End
		log     []string
		vars    map[string]string
		surveys []SurveyAnswer
	}{
		{
			name: "play then hang up",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"b"},
				{"id":"b","type":"hangup","prompt":"goodbye"}]}`},
			end: EndHangup,
			log: []string{"play welcome", "play goodbye", "hangup"},
		},
		{
			name: "play speaks text when the file is missing",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":{"file":"welcome","text":"Hello ${caller}"},"next":"b"},
				{"id":"b","type":"hangup"}]}`},
			call: scriptedCall{missing: map[string]bool{"welcome": true}},
			req:  Request{Caller: "13800000000"},
			end:  EndHangup,
			log:  []string{"say Hello 13800000000", "hangup"},
		},
		{
			name: "missing prompt takes the node's error branch",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"b","error":"c"},
				{"id":"b","type":"hangup"},
				{"id":"c","type":"transfer","to":"8000"}]}`},
			call: scriptedCall{missing: map[string]bool{"welcome": true}},
			end:  EndTransferred,
			log:  []string{"transfer 8000"},
		},
		{
			name: "missing prompt without error branch apologises",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"b"},
				{"id":"b","type":"hangup"}]}`},
			call: scriptedCall{missing: map[string]bool{"welcome": true}},
			end:  EndFailed,
			log:  []string{"play sorry-youre-having-problems", "hangup"},
		},
		{
			name: "missing apology file is spoken",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"welcome","next":"b"},
				{"id":"b","type":"hangup"}]}`},
			call: scriptedCall{missing: map[string]bool{"welcome": true, "sorry-youre-having-problems": true}},
			end:  EndFailed,
			log:  []string{"say " + DefaultApology.Text, "hangup"},
		},
		{
			name: "menu choice",
			flows: []string{`{"id":"f","entry":"m","nodes":[
				{"id":"m","type":"menu","prompt":"main","options":{"1":"q1","2":"q2"}},
				{"id":"q1","type":"queue","group":1},
				{"id":"q2","type":"queue","group":2}]}`},
			call: scriptedCall{script: []string{"2"}, queue: QueueOutcome{Served: true}},
			end:  EndQueued,
			log:  []string{"play main", "keys 2", "queue group=2"},
		},
		{
			name: "menu timeout then invalid then valid",
			flows: []string{`{"id":"f","entry":"m","nodes":[
				{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"},
				 "timeout_prompt":"please-try-again","invalid_prompt":"invalid"},
				{"id":"bye","type":"hangup"}]}`},
			call: scriptedCall{script: []string{"", "9", "1"}},
			end:  EndHangup,
			log: []string{"play main", "keys ", "play please-try-again", "play main", "keys 9",
				"play invalid", "play main", "keys 1", "hangup"},
		},
		{
			name: "menu attempts exhausted go to the fallback",
			flows: []string{`{"id":"f","entry":"m","nodes":[
				{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"},"attempts":2,"fallback":"op"},
				{"id":"bye","type":"hangup"},
				{"id":"op","type":"transfer","to":"8000"}]}`},
			end: EndTransferred,
			log: []string{"play main", "keys ", "play main", "keys ", "transfer 8000"},
		},
		{
			name: "menu without fallback takes the flow's error node",
			flows: []string{`{"id":"f","entry":"m","error":"op","nodes":[
				{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"},"attempts":1},
				{"id":"bye","type":"hangup"},
				{"id":"op","type":"transfer","to":"8000","error":"bye"}]}`},
			call: scriptedCall{script: []string{"5"}},
			end:  EndTransferred,
			log:  []string{"play main", "keys 5", "transfer 8000"},
		},
		{
			name: "collect with terminator",
			flows: []string{`{"id":"f","entry":"c","nodes":[
				{"id":"c","type":"collect","prompt":"enter","min":4,"max":10,"terminator":"#","var":"acct","next":"bye"},
				{"id":"bye","type":"hangup"}]}`},
			call: scriptedCall{script: []string{"12345#99"}},
			end:  EndHangup,
			log:  []string{"play enter", "keys 12345", "hangup"},
			vars: map[string]string{"acct": "12345"},
		},
		{
			name: "collect too short, retried, then fail branch",
			flows: []string{`{"id":"f","entry":"c","nodes":[
				{"id":"c","type":"collect","prompt":"enter","min":4,"max":10,"attempts":2,
				 "invalid_prompt":"invalid","var":"acct","next":"bye","fail":"op"},
				{"id":"bye","type":"hangup"},
				{"id":"op","type":"transfer","to":"8000"}]}`},
			call: scriptedCall{script: []string{"12", "3"}},
			end:  EndTransferred,
			log:  []string{"play enter", "keys 12", "play invalid", "play enter", "keys 3", "transfer 8000"},
			vars: map[string]string{"acct": ""},
		},
		{
			name: "collect failure without fail branch goes on with the variable empty",
			flows: []string{`{"id":"f","entry":"c","nodes":[
				{"id":"c","type":"collect","min":1,"max":4,"var":"acct","next":"bye"},
				{"id":"bye","type":"hangup"}]}`},
			call: scriptedCall{script: []string{""}},
			end:  EndHangup,
			log:  []string{"keys ", "hangup"},
			vars: map[string]string{"acct": ""},
		},
		{
			name: "time branch open",
			flows: []string{`{"id":"f","entry":"t","nodes":[
				{"id":"t","type":"time","tz":"+08:00","hours":{"mon-fri":"09:00-18:00"},"open":"day","closed":"night"},
				{"id":"day","type":"hangup","prompt":"day"},
				{"id":"night","type":"hangup","prompt":"night"}]}`},
			clock: wedMorning,
			end:   EndHangup,
			log:   []string{"play day", "hangup"},
		},
		{
			name: "time branch closed in the evening",
			flows: []string{`{"id":"f","entry":"t","nodes":[
				{"id":"t","type":"time","tz":"+08:00","hours":{"mon-fri":"09:00-18:00"},"open":"day","closed":"night"},
				{"id":"day","type":"hangup","prompt":"day"},
				{"id":"night","type":"hangup","prompt":"night"}]}`},
			clock: wedMorning.Add(8 * time.Hour),
			end:   EndHangup,
			log:   []string{"play night", "hangup"},
		},
		{
			name: "time branch holiday",
			flows: []string{`{"id":"f","entry":"t","nodes":[
				{"id":"t","type":"time","tz":"Asia/Shanghai","hours":{"daily":"00:00-24:00"},
				 "holidays":["2026-11-17..2026-11-19"],"open":"day","closed":"night","holiday":"hol"},
				{"id":"day","type":"hangup","prompt":"day"},
				{"id":"night","type":"hangup","prompt":"night"},
				{"id":"hol","type":"hangup","prompt":"holiday"}]}`},
			clock: wedMorning,
			end:   EndHangup,
			log:   []string{"play holiday", "hangup"},
		},
		{
			name: "switch on customer type",
			flows: []string{`{"id":"f","entry":"s","nodes":[
				{"id":"s","type":"switch","var":"customer_type","cases":{"vip":"vq"},"default":"q"},
				{"id":"vq","type":"queue","customer_type":"${customer_type}"},
				{"id":"q","type":"queue","group":1}]}`},
			req:  Request{CustomerType: "vip"},
			call: scriptedCall{queue: QueueOutcome{Served: true}},
			end:  EndQueued,
			log:  []string{"queue type=vip"},
		},
		{
			name: "switch by longest prefix of the caller",
			flows: []string{`{"id":"f","entry":"s","nodes":[
				{"id":"s","type":"switch","var":"caller","match":"prefix","cases":{"08":"q1","0851":"q2"},"default":"q3"},
				{"id":"q1","type":"queue","group":1},
				{"id":"q2","type":"queue","group":2},
				{"id":"q3","type":"queue","group":3}]}`},
			req:  Request{Caller: "085188880000"},
			call: scriptedCall{queue: QueueOutcome{Served: true}},
			end:  EndQueued,
			log:  []string{"queue group=2"},
		},
		{
			name: "queue overflow to voicemail",
			flows: []string{`{"id":"f","entry":"q","nodes":[
				{"id":"q","type":"queue","group":1,"prompt":"queue-thankyou","max_wait":"2m","overflow":"vm"},
				{"id":"vm","type":"voicemail","box":"100"}]}`},
			call: scriptedCall{queue: QueueOutcome{Reason: "timeout"}},
			end:  EndVoicemail,
			log:  []string{"play queue-thankyou", "queue group=1", "voicemail 100", "hangup"},
		},
		{
			name: "queue unserved without overflow apologises",
			flows: []string{`{"id":"f","entry":"q","nodes":[
				{"id":"q","type":"queue","group":1}]}`},
			call: scriptedCall{queue: QueueOutcome{Reason: "no agents"}},
			end:  EndFailed,
			log:  []string{"queue group=1", "play sorry-youre-having-problems", "hangup"},
		},
		{
			name: "transfer busy takes the fail branch",
			flows: []string{`{"id":"f","entry":"x","nodes":[
				{"id":"x","type":"transfer","to":"8001","fail":"vm"},
				{"id":"vm","type":"voicemail","box":"8001","next":"bye"},
				{"id":"bye","type":"hangup","prompt":"goodbye"}]}`},
			call: scriptedCall{xferErr: errors.New("busy")},
			end:  EndHangup,
			log:  []string{"transfer 8001", "voicemail 8001", "play goodbye", "hangup"},
		},
		{
			name: "transfer to a variable that is not a number fails safely",
			flows: []string{`{"id":"f","entry":"x","nodes":[
				{"id":"x","type":"transfer","to":"${ext}","fail":"bye"},
				{"id":"bye","type":"hangup"}]}`},
			req: Request{Vars: map[string]string{"ext": "80;01"}},
			end: EndHangup,
			log: []string{"hangup"},
		},
		{
			name: "voicemail box from a variable that is not a mailbox",
			flows: []string{`{"id":"f","entry":"v","error":"bye","nodes":[
				{"id":"v","type":"voicemail","box":"${box}"},
				{"id":"bye","type":"hangup","prompt":"sorry"}]}`},
			req: Request{Vars: map[string]string{"box": "../etc"}},
			end: EndHangup,
			log: []string{"play sorry", "hangup"},
		},
		{
			name: "record into a variable",
			flows: []string{`{"id":"f","entry":"r","nodes":[
				{"id":"r","type":"record","prompt":"vm-intro","beep":true,"max":"30s","var":"msg","next":"bye"},
				{"id":"bye","type":"hangup"}]}`},
			end:  EndHangup,
			log:  []string{"play vm-intro", "record beep=true max=30s", "hangup"},
			vars: map[string]string{"msg": "rec-1"},
		},
		{
			name: "survey rating after an invalid key",
			flows: []string{`{"id":"f","entry":"s","nodes":[
				{"id":"s","type":"survey","question":"satisfaction","prompt":"rate","invalid_prompt":"invalid",
				 "thanks":"thanks","var":"score","next":"bye"},
				{"id":"bye","type":"hangup"}]}`},
			call:    scriptedCall{script: []string{"7", "4"}},
			clock:   wedMorning,
			end:     EndHangup,
			log:     []string{"play rate", "keys 7", "play invalid", "play rate", "keys 4", "play thanks", "hangup"},
			vars:    map[string]string{"score": "4"},
			surveys: []SurveyAnswer{{Flow: "f", Node: "s", Question: "satisfaction", Rating: 4, Rated: true, At: wedMorning}},
		},
		{
			name: "survey silence is stored as not rated",
			flows: []string{`{"id":"f","entry":"s","nodes":[
				{"id":"s","type":"survey","question":"q","prompt":"rate","min":0,"max":9,"thanks":"thanks","next":"bye"},
				{"id":"bye","type":"hangup"}]}`},
			clock:   wedMorning,
			end:     EndHangup,
			log:     []string{"play rate", "keys ", "hangup"},
			surveys: []SurveyAnswer{{Flow: "f", Node: "s", Question: "q", At: wedMorning}},
		},
		{
			name: "set with templates sees the old values",
			flows: []string{`{"id":"f","entry":"s","nodes":[
				{"id":"s","type":"set","vars":{"a":"x${b}","b":"new","c":"$$5 ${caller}"},"next":"bye"},
				{"id":"bye","type":"hangup"}]}`},
			req:  Request{Caller: "100", Vars: map[string]string{"b": "old"}},
			end:  EndHangup,
			log:  []string{"hangup"},
			vars: map[string]string{"a": "xold", "b": "new", "c": "$5 100"},
		},
		{
			name: "http lookup fills variables",
			flows: []string{`{"id":"f","entry":"h","nodes":[
				{"id":"h","type":"http","url":"http://crm.local/c?phone=${caller}",
				 "results":{"customer_type":"customer.level","name":"customer.name","first":"orders.0.id","none":"x.y"},
				 "next":"s","error":"bye"},
				{"id":"s","type":"switch","var":"customer_type","cases":{"gold":"vq"},"default":"bye"},
				{"id":"vq","type":"queue","group":9},
				{"id":"bye","type":"hangup"}]}`},
			req: Request{Caller: "+86 138"},
			fetch: &fakeFetcher{answers: map[string]string{
				"http://crm.local/c?phone=%2B86+138": `{"customer":{"level":"gold","name":"张三"},"orders":[{"id":77}]}`}},
			call: scriptedCall{queue: QueueOutcome{Served: true}},
			end:  EndQueued,
			log:  []string{"queue group=9"},
			vars: map[string]string{"customer_type": "gold", "name": "张三", "first": "77", "none": ""},
		},
		{
			name: "http failure takes the error branch",
			flows: []string{`{"id":"f","entry":"h","nodes":[
				{"id":"h","type":"http","url":"http://crm.local/c","results":{"a":"b"},"next":"q","error":"bye"},
				{"id":"q","type":"queue","group":9},
				{"id":"bye","type":"hangup","prompt":"sorry"}]}`},
			fetch: &fakeFetcher{err: context.DeadlineExceeded},
			end:   EndHangup,
			log:   []string{"play sorry", "hangup"},
		},
		{
			name: "http answer that is not JSON takes the error branch",
			flows: []string{`{"id":"f","entry":"h","nodes":[
				{"id":"h","type":"http","method":"POST","url":"http://crm.local/c","body":{"n":"${caller}"},
				 "results":{"a":"b"},"next":"q","error":"bye"},
				{"id":"q","type":"queue","group":9},
				{"id":"bye","type":"hangup","prompt":"sorry"}]}`},
			fetch: &fakeFetcher{answers: map[string]string{"http://crm.local/c": "<html>"}},
			end:   EndHangup,
			log:   []string{"play sorry", "hangup"},
		},
		{
			name: "http without a client fails to the error branch",
			flows: []string{`{"id":"f","entry":"h","nodes":[
				{"id":"h","type":"http","url":"http://crm.local/c","next":"q","error":"bye"},
				{"id":"q","type":"queue","group":9},
				{"id":"bye","type":"hangup"}]}`},
			end: EndHangup,
			log: []string{"hangup"},
		},
		{
			name: "sub-flow call and return",
			flows: []string{subFlow, `{"id":"main","entry":"a","nodes":[
				{"id":"a","type":"call","flow":"sub","next":"b"},
				{"id":"b","type":"hangup","prompt":"after"}]}`},
			end: EndHangup,
			log: []string{"play in-sub", "play after", "hangup"},
		},
		{
			name: "top flow return hangs up a caller nobody sent",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"info","next":"b"},
				{"id":"b","type":"return"}]}`},
			end: EndReturned,
			log: []string{"play info", "hangup"},
		},
		{
			name: "an agent's caller goes back to the agent on return",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"collect","prompt":"enter-id","min":18,"max":18,"var":"idcard","next":"b"},
				{"id":"b","type":"return"}]}`},
			req:  Request{Agent: "1001"},
			call: scriptedCall{script: []string{"110101199001011234"}},
			end:  EndReturned,
			log:  []string{"play enter-id", "keys 110101199001011234", "agent 1001"},
			vars: map[string]string{"idcard": "110101199001011234"},
		},
		{
			name: "an agent's caller goes back to the agent on failure",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"gone","next":"b"},
				{"id":"b","type":"return"}]}`},
			req:  Request{Agent: "1001"},
			call: scriptedCall{missing: map[string]bool{"gone": true}},
			end:  EndFailed,
			log:  []string{"play sorry-youre-having-problems", "agent 1001"},
		},
		{
			name: "agent who cannot take the caller back: hang up",
			flows: []string{`{"id":"f","entry":"b","nodes":[
				{"id":"b","type":"return"}]}`},
			req:  Request{Agent: "1001"},
			call: scriptedCall{agentErr: errors.New("agent offline")},
			end:  EndReturned,
			log:  []string{"agent 1001", "hangup"},
		},
		{
			name: "caller hangs up in a menu",
			flows: []string{`{"id":"f","entry":"m","nodes":[
				{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"}},
				{"id":"bye","type":"hangup"}]}`},
			call: scriptedCall{script: []string{"!"}},
			end:  EndCallerGone,
			log:  []string{"play main", "gone"},
		},
		{
			name: "caller hangs up during a prompt",
			flows: []string{`{"id":"f","entry":"a","nodes":[
				{"id":"a","type":"play","prompt":"long","next":"b"},
				{"id":"b","type":"hangup"}]}`},
			call: scriptedCall{hangupAt: 1},
			end:  EndCallerGone,
			log:  []string{"gone"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := repoOf(t, tt.flows...)
			main := mustParse(t, tt.flows[len(tt.flows)-1])
			e := &Engine{Flows: repo, Clock: fixedClock(tt.clock)}
			if tt.fetch != nil {
				e.HTTP = tt.fetch
			}
			req := tt.req
			req.Flow = main.ID
			call := tt.call
			res, err := e.Run(context.Background(), &call, req)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.End != tt.end {
				t.Errorf("end = %v, want %v (failures %v)", res.End, tt.end, res.Failures)
			}
			if !reflect.DeepEqual(call.log, tt.log) {
				t.Errorf("actions:\n got %q\nwant %q", call.log, tt.log)
			}
			for k, v := range tt.vars {
				if res.Vars[k] != v {
					t.Errorf("var %s = %q, want %q", k, res.Vars[k], v)
				}
			}
			if !reflect.DeepEqual(res.Surveys, tt.surveys) {
				t.Errorf("surveys = %+v, want %+v", res.Surveys, tt.surveys)
			}
			if res.Version != 1 {
				t.Errorf("version = %d", res.Version)
			}
		})
	}
}

func TestEngineKeepsStartVersion(t *testing.T) {
	v1 := `{"id":"f","entry":"m","nodes":[
		{"id":"m","type":"menu","prompt":"v1-menu","options":{"1":"bye"}},
		{"id":"bye","type":"hangup","prompt":"v1-bye"}]}`
	v2 := strings.ReplaceAll(v1, "v1-", "v2-")
	repo := repoOf(t, v1)
	call := &scriptedCall{script: []string{"1"}}
	// A new version is saved while the caller is in the menu.
	call.onCollect = func() {
		if _, err := repo.Save(mustParse(t, v2)); err != nil {
			t.Fatal(err)
		}
	}
	e := &Engine{Flows: repo}
	res, err := e.Run(context.Background(), call, Request{Flow: "f"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"play v1-menu", "keys 1", "play v1-bye", "hangup"}
	if !reflect.DeepEqual(call.log, want) || res.Version != 1 {
		t.Fatalf("v1 call: version %d, actions %q", res.Version, call.log)
	}
	call2 := &scriptedCall{script: []string{"1"}}
	res, _ = e.Run(context.Background(), call2, Request{Flow: "f"})
	if res.Version != 2 || call2.log[0] != "play v2-menu" {
		t.Fatalf("new call: version %d, actions %q", res.Version, call2.log)
	}
	if vs := repo.Versions("f"); !reflect.DeepEqual(vs, []int{1, 2}) {
		t.Fatalf("versions %v", vs)
	}
	old, err := repo.Flow("f", 1)
	if err != nil || old.Node("m").Spec.(*Menu).Prompt.File != "v1-menu" {
		t.Fatalf("version 1 lost: %v", err)
	}
}

func TestEngineAgentResume(t *testing.T) {
	repo := repoOf(t, `{"id":"f","entry":"m","nodes":[
		{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"}},
		{"id":"bye","type":"hangup"}]}`)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	call := &scriptedCall{onCollect: func() { cancel(ErrResume) }}
	res, err := (&Engine{Flows: repo}).Run(ctx, call, Request{Flow: "f", Agent: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	if res.End != EndResumed {
		t.Errorf("end = %v", res.End)
	}
	if want := []string{"play main", "agent 1001"}; !reflect.DeepEqual(call.log, want) {
		t.Errorf("actions %q, want %q", call.log, want)
	}
}

func TestEngineCancelIsHangup(t *testing.T) {
	repo := repoOf(t, `{"id":"f","entry":"m","nodes":[
		{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"}},
		{"id":"bye","type":"hangup"}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	call := &scriptedCall{onCollect: cancel}
	res, _ := (&Engine{Flows: repo}).Run(ctx, call, Request{Flow: "f", Agent: "1001"})
	if res.End != EndCallerGone {
		t.Errorf("end = %v", res.End)
	}
	if want := []string{"play main"}; !reflect.DeepEqual(call.log, want) {
		t.Errorf("actions %q, want %q", call.log, want)
	}
}

func TestEngineUnknownFlow(t *testing.T) {
	call := &scriptedCall{}
	res, err := (&Engine{Flows: &Repository{}}).Run(context.Background(), call, Request{Flow: "nope"})
	if !errors.Is(err, ErrNoFlow) {
		t.Fatalf("err = %v", err)
	}
	if res.End != EndFailed || !reflect.DeepEqual(call.log, []string{"play sorry-youre-having-problems", "hangup"}) {
		t.Fatalf("end %v actions %q", res.End, call.log)
	}
}

func TestEngineStepLimit(t *testing.T) {
	// A menu that falls back to itself waits for input each time, so it
	// validates; a silent caller would still loop, and the step limit
	// ends it.
	repo := repoOf(t, `{"id":"f","entry":"m","nodes":[
		{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"},"attempts":1,"fallback":"m"},
		{"id":"bye","type":"hangup"}]}`)
	call := &scriptedCall{}
	res, _ := (&Engine{Flows: repo, MaxSteps: 5}).Run(context.Background(), call, Request{Flow: "f"})
	if res.End != EndFailed || len(res.Trace) != 5 {
		t.Fatalf("end %v after %d steps", res.End, len(res.Trace))
	}
	if last := call.log[len(call.log)-2:]; !reflect.DeepEqual(last, []string{"play sorry-youre-having-problems", "hangup"}) {
		t.Fatalf("actions end with %q", last)
	}
}

func TestEngineSubFlowDepth(t *testing.T) {
	// a v1 has no call; b calls a; a v2 calls b: a mutual recursion that
	// only the depth limit stops.
	repo := repoOf(t,
		`{"id":"a","entry":"x","nodes":[{"id":"x","type":"hangup"}]}`,
		`{"id":"b","entry":"y","nodes":[{"id":"y","type":"call","flow":"a","next":"z"},{"id":"z","type":"return"}]}`,
		`{"id":"a","entry":"x","nodes":[{"id":"x","type":"call","flow":"b","next":"z"},{"id":"z","type":"return"}]}`)
	call := &scriptedCall{}
	res, _ := (&Engine{Flows: repo, MaxDepth: 4}).Run(context.Background(), call, Request{Flow: "a"})
	if res.End != EndFailed {
		t.Fatalf("end %v, failures %v", res.End, res.Failures)
	}
	if len(res.Trace) != 5 {
		t.Errorf("trace %v", res.Trace)
	}
}

func TestEngineErrorChainGivesUp(t *testing.T) {
	// Every node fails into the next: the engine stops after
	// maxFailuresInRow and apologises rather than wander.
	repo := repoOf(t, `{"id":"f","entry":"a","nodes":[
		{"id":"a","type":"play","prompt":"p1","next":"z","error":"b"},
		{"id":"b","type":"play","prompt":"p2","next":"z","error":"c"},
		{"id":"c","type":"play","prompt":"p3","next":"z","error":"d"},
		{"id":"d","type":"play","prompt":"p4","next":"z","error":"z"},
		{"id":"z","type":"hangup"}]}`)
	call := &scriptedCall{missing: map[string]bool{"p1": true, "p2": true, "p3": true, "p4": true}}
	res, _ := (&Engine{Flows: repo}).Run(context.Background(), call, Request{Flow: "f"})
	if res.End != EndFailed || len(res.Failures) != maxFailuresInRow+1 {
		t.Fatalf("end %v, %d failures", res.End, len(res.Failures))
	}
}

func TestEnginePinsSubFlowVersion(t *testing.T) {
	sub := `{"id":"sub","entry":"a","nodes":[{"id":"a","type":"play","prompt":"sub-v1","next":"b"},{"id":"b","type":"return"}]}`
	repo := repoOf(t, sub, `{"id":"main","entry":"c1","nodes":[
		{"id":"c1","type":"call","flow":"sub","next":"m"},
		{"id":"m","type":"menu","prompt":"main","options":{"1":"c2"}},
		{"id":"c2","type":"call","flow":"sub","next":"bye"},
		{"id":"bye","type":"hangup"}]}`)
	call := &scriptedCall{script: []string{"1"}}
	call.onCollect = func() { // sub-flow v2 is saved while the caller is in the menu
		if _, err := repo.SaveJSON([]byte(strings.ReplaceAll(sub, "sub-v1", "sub-v2"))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (&Engine{Flows: repo}).Run(context.Background(), call, Request{Flow: "main"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"play sub-v1", "play main", "keys 1", "play sub-v1", "hangup"}
	if !reflect.DeepEqual(call.log, want) {
		t.Fatalf("actions %q, want %q", call.log, want)
	}
}

func TestEngineSubFlowFailureGoesToCaller(t *testing.T) {
	repo := repoOf(t,
		`{"id":"sub","entry":"a","nodes":[{"id":"a","type":"play","prompt":"gone","next":"b"},{"id":"b","type":"return"}]}`,
		`{"id":"main","entry":"c","nodes":[
			{"id":"c","type":"call","flow":"sub","next":"bye","error":"op"},
			{"id":"op","type":"transfer","to":"8000"},
			{"id":"bye","type":"hangup"}]}`)
	call := &scriptedCall{missing: map[string]bool{"gone": true}}
	res, _ := (&Engine{Flows: repo}).Run(context.Background(), call, Request{Flow: "main"})
	if res.End != EndTransferred || !reflect.DeepEqual(call.log, []string{"transfer 8000"}) {
		t.Fatalf("end %v actions %q", res.End, call.log)
	}
	want := []Step{{"main", "c"}, {"sub", "a"}, {"main", "op"}}
	if !reflect.DeepEqual(res.Trace, want) {
		t.Fatalf("trace %v", res.Trace)
	}
}
