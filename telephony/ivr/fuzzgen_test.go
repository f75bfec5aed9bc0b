package ivr

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// genFlow builds a flow of random nodes and random targets from fuzz
// bytes. Most generated flows are invalid (unreachable nodes, silent
// loops, dangling targets); the valid ones exercise the engine on graphs
// nobody wrote by hand.
func genFlow(b []byte) *Flow {
	i := 0
	next := func() int {
		if i >= len(b) {
			return 0
		}
		i++
		return int(b[i-1])
	}
	n := 1 + next()%10
	id := func(k int) string { return fmt.Sprintf("n%d", k) }
	target := func() string {
		v := next()
		switch {
		case v == 255:
			return "nowhere"
		case v == 254:
			return ""
		}
		return id(v % n)
	}
	prompt := func() Prompt {
		switch next() % 4 {
		case 0:
			return Prompt{}
		case 1:
			return Prompt{Text: "t ${caller}"}
		}
		return Prompt{File: "p"}
	}
	f := &Flow{ID: "g", Entry: id(0)}
	if next()%3 == 0 {
		f.Error = target()
	}
	for k := 0; k < n; k++ {
		node := &Node{ID: id(k)}
		if next()%4 == 0 {
			node.Error = target()
		}
		switch next() % 15 {
		case 0:
			node.Type, node.Spec = TypePlay, &Play{Prompt: prompt(), Next: target()}
		case 1:
			opts := map[string]string{}
			for j := next() % 4; j >= 0; j-- {
				opts[string("0123456789*#"[next()%12])] = target()
			}
			node.Type, node.Spec = TypeMenu, &Menu{Prompt: prompt(), Options: opts, Attempts: next() % 4,
				InvalidPrompt: prompt(), Fallback: target()}
		case 2:
			lo := next() % 4
			node.Type, node.Spec = TypeCollect, &Collect{Prompt: prompt(), Min: lo, Max: lo + next()%4,
				Terminator: []string{"", "#"}[next()%2], Attempts: next() % 3, Var: "v", Next: target(), Fail: target()}
		case 3:
			node.Type, node.Spec = TypeTime, &TimeBranch{TZ: "+08:00", Hours: map[string]string{"mon-fri": "09:00-18:00"},
				Holidays: []string{"2026-10-01..2026-10-07"}, Open: target(), Closed: target(), Holiday: target()}
		case 4:
			node.Type, node.Spec = TypeSwitch, &Switch{Var: "v", Cases: map[string]string{"1": target(), "12": target()},
				Match: []string{"", "prefix"}[next()%2], Default: target()}
		case 5:
			node.Type, node.Spec = TypeQueue, &Queue{Group: 1 + next()%3, Overflow: target()}
		case 6:
			node.Type, node.Spec = TypeTransfer, &Transfer{To: []string{"8000", "${v}"}[next()%2], Fail: target()}
		case 7:
			node.Type, node.Spec = TypeVoicemail, &Voicemail{Box: "1", Next: target()}
		case 8:
			node.Type, node.Spec = TypeRecord, &Record{Prompt: prompt(), Var: "r", Next: target()}
		case 9:
			node.Type, node.Spec = TypeSurvey, &Survey{Question: "q", Prompt: prompt(), Thanks: prompt(), Var: "v", Next: target()}
		case 10:
			node.Type, node.Spec = TypeSet, &Set{Vars: map[string]string{"v": "${v}1"}, Next: target()}
		case 11:
			node.Type, node.Spec = TypeHTTP, &HTTPLookup{URL: "http://crm/${v}", Results: map[string]string{"v": "a.b"}, Next: target()}
		case 12:
			node.Type, node.Spec = TypeReturn, &Return{}
		case 13:
			node.Type, node.Spec = TypeHangup, &Hangup{Prompt: prompt()}
		default:
			node.Type, node.Spec = TypePlay, nil // a node without fields
		}
		f.Nodes = append(f.Nodes, node)
	}
	return f
}

// FuzzGeneratedFlow checks the validator against the engine on random
// graphs: a flow that validates runs to an end, and whenever the run
// comes back to a node it has visited, a node that waits for the caller
// ran in between, which is what "no loop without input" promises.
func FuzzGeneratedFlow(f *testing.F) {
	f.Add([]byte{3, 0, 0, 1, 1, 2, 0, 1, 0, 1, 2, 13, 0}, []byte{1, 2, 3})
	f.Add([]byte{1, 0, 0, 0, 0}, []byte{})
	f.Add([]byte{5, 1, 0, 2, 1, 1, 0, 3, 1, 2, 0, 9, 1, 2, 1, 2}, []byte{0xFE, 1, 1, 0xFD, 4})
	f.Add([]byte("generated flows of every kind 0123456789"), []byte("keys"))
	f.Fuzz(func(t *testing.T, shape, caller []byte) { checkGenerated(t, shape, caller) })
}

// TestGeneratedFlows runs the FuzzGeneratedFlow property over a fixed
// stream of random graphs in every plain test pass.
func TestGeneratedFlows(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	valid := 0
	for i := 0; i < 5000; i++ {
		shape, caller := make([]byte, 40+rng.Intn(40)), make([]byte, rng.Intn(64))
		rng.Read(shape)
		rng.Read(caller)
		if checkGenerated(t, shape, caller) {
			valid++
		}
	}
	if valid < 100 {
		t.Fatalf("only %d of 5000 generated flows validated: the generator is too weak", valid)
	}
}

// checkGenerated is the property; it reports whether the flow validated.
func checkGenerated(t *testing.T, shape, caller []byte) bool {
	flow := genFlow(shape)
	verr := Validate(flow, ValidateOptions{})
	if verr != nil {
		checkNamed(t, verr.(ValidationErrors))
		return false
	}
	e := &Engine{Flows: singleFlow{flow}, HTTP: randomFetcher{caller}, MaxSteps: 200,
		Clock: fixedClock(time.Date(2026, 11, 18, int(len(caller)%24), 0, 0, 0, time.UTC))}
	call := &randomCall{b: caller, t: t}
	res, err := e.Run(context.Background(), call, Request{Flow: flow.ID, Caller: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if !call.ended || res.End == 0 {
		t.Fatalf("end %v, caller left on the line: %q", res.End, call.actions)
	}
	last := map[string]int{}
	for k, st := range res.Trace {
		if j, seen := last[st.Node]; seen {
			waited := false
			for _, s := range res.Trace[j:k] {
				if n := flow.Node(s.Node); n.Spec != nil && n.Spec.waitsForInput() {
					waited = true
				}
			}
			if !waited {
				t.Fatalf("silent loop %v in a flow that validated", res.Trace[j:k+1])
			}
		}
		last[st.Node] = k
	}
	return true
}
