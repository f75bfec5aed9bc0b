package acd

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRules checks every routing rule on one prepared group: agents a, b,
// c (levels 1, 3, 2; skills 5, 1, 3), logged in c, a, b (c idle longest),
// with today's counters a: 5 calls / 10 min, b: 1 / 20 min, c: 3 / 1 min,
// and a as the last agent of number 100.
func TestRules(t *testing.T) {
	tests := []struct {
		rule   Rule
		number string
		rrLast AgentID
		want   []string // agents rung at once
	}{
		{LongestIdle, "200", "", []string{"c"}},
		{AgentLevel, "200", "", []string{"b"}},
		{LastAgent, "100", "", []string{"a"}},
		{LastAgent, "200", "", []string{"c"}},   // unknown number: longest idle
		{RoundRobin, "200", "", []string{"a"}},  // first member at first
		{RoundRobin, "200", "a", []string{"b"}}, // next after the last rung
		{RoundRobin, "200", "c", []string{"a"}}, // wraps round
		{FewestCalls, "200", "", []string{"b"}},
		{LeastTalkTime, "200", "", []string{"c"}},
		{RingAll, "200", "", []string{"a", "b", "c"}},
		{Linear, "200", "", []string{"a"}},
		{RingProgressive, "200", "", []string{"c"}},
	}
	for _, tc := range tests {
		t.Run(tc.rule.String()+"/"+tc.number+string(tc.rrLast), func(t *testing.T) {
			v := newEnv(t, oneGroup(tc.rule))
			v.login("c", "a", "b")
			prime(v, tc.rrLast)
			v.take()
			v.offer("x", tc.number)
			got := rung(v.take())
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("rang %v, want %v", got, tc.want)
			}
		})
	}
}

func prime(v *env, rrLast AgentID) {
	e := v.e
	for id, c := range map[AgentID]struct {
		n int
		d time.Duration
	}{"a": {5, 10 * time.Minute}, "b": {1, 20 * time.Minute}, "c": {3, time.Minute}} {
		a := e.agents[e.agentIdx[id]]
		a.answered, a.talk = c.n, c.d
	}
	e.lastAgent["100"] = e.agentIdx["a"]
	if rrLast != "" {
		e.groups[0].rrLast = e.agentIdx[rrLast]
	}
}

func rung(lines []string) []string {
	var out []string
	for _, l := range lines {
		if f := strings.Fields(l); f[0] == "ring" {
			out = append(out, f[1])
		}
	}
	return out
}

// TestRandomRule checks that Random reaches every eligible agent with
// roughly equal frequency (each of 3 within 25-42 % of 600 draws).
func TestRandomRule(t *testing.T) {
	v := newEnv(t, oneGroup(Random))
	v.login("a", "b", "c")
	count := map[string]int{}
	for i := range 600 {
		id := CallID("r" + string(rune('0'+i%10)) + time.Duration(i).String())
		v.offer(string(id), "1")
		got := rung(v.take())
		if len(got) != 1 {
			t.Fatalf("rang %v", got)
		}
		count[got[0]]++
		v.ok(v.e.Hangup(id)) // abandon: the agent is idle again
		v.take()
	}
	for _, a := range []string{"a", "b", "c"} {
		if count[a] < 150 || count[a] > 250 {
			t.Errorf("agent %s chosen %d of 600", a, count[a])
		}
	}
}

// TestRoundRobinCycles answers calls in turn and checks the rotation.
func TestRoundRobinCycles(t *testing.T) {
	v := newEnv(t, oneGroup(RoundRobin))
	v.login("a", "b", "c")
	var got []string
	for i, id := range []string{"1", "2", "3", "4", "5"} {
		v.offer(id, "9")
		r := rung(v.take())
		got = append(got, r...)
		v.ok(v.e.Answer(AgentID(r[0]), CallID(id)))
		v.ok(v.e.Hangup(CallID(id)))
		_ = i
	}
	if want := []string{"a", "b", "c", "a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// TestRingAllFirstAnswerWins checks the others stop ringing.
func TestRingAllFirstAnswerWins(t *testing.T) {
	v := newEnv(t, oneGroup(RingAll))
	v.login("a", "b", "c")
	v.take()
	v.offer("x", "1")
	v.take()
	v.ok(v.e.Answer("b", "x"))
	v.expect("stopring a x", "stopring c x", "connect x b")
	if v.state("a") != Idle || v.state("c") != Idle || v.state("b") != Talking {
		t.Fatal("states after ring-all answer wrong")
	}
	if err := v.e.Answer("a", "x"); err == nil {
		t.Fatal("second answer accepted")
	}
}

// TestRingProgressive checks that one more agent joins every step.
func TestRingProgressive(t *testing.T) {
	cfg := oneGroup(RingProgressive)
	cfg.Groups[0].ProgressStep = 4 * time.Second
	cfg.Groups[0].RingTimeout = 30 * time.Second
	v := newEnv(t, cfg)
	v.login("c", "a", "b")
	v.take()
	v.offer("x", "1")
	v.expect("ring c x")
	v.clk.Advance(4 * time.Second)
	v.expect("ring a x")
	v.clk.Advance(4 * time.Second)
	v.expect("ring b x")
	v.clk.Advance(4 * time.Second)
	v.expect()
	v.ok(v.e.Answer("a", "x"))
	v.expect("stopring c x", "stopring b x", "connect x a")
}

// TestGroupOrderAndPriority: a customer type's groups are tried by group
// priority; the order of service is type priority, then waiting time.
func TestGroupOrderAndPriority(t *testing.T) {
	cfg := Config{
		Groups: []Group{
			{ID: 1, Priority: 1, Enabled: true},
			{ID: 2, Priority: 9, Enabled: true},
		},
		Agents: []Agent{
			{ID: "g1", Groups: []Membership{{1, 1}}},
			{ID: "g2", Groups: []Membership{{2, 1}}},
		},
		CustomerTypes: []CustomerType{
			{ID: 1, Name: "vip", Priority: 10, Numbers: []string{"888"}, Groups: []int{1, 2}},
		},
		Default: CustomerType{ID: 0, Priority: 0, Groups: []int{1, 2}},
	}
	v := newEnv(t, cfg)
	v.login("g2")
	v.take()
	v.offer("x", "888") // vip: group 2 first (priority 9), g2 rings
	v.expect("ring g2 x")
	v.ok(v.e.Answer("g2", "x"))
	v.take()
	// Now nobody is free: an ordinary caller waits first, then a vip.
	v.offer("plain", "555")
	v.clk.Advance(10 * time.Second)
	v.offer("vip", "888")
	v.login("g1")
	v.expect("ring g1 vip") // the vip overtakes despite the shorter wait
	var order []CallID
	for _, w := range v.e.Waiting() {
		order = append(order, w.Call)
	}
	if !slices.Equal(order, []CallID{"vip", "plain"}) {
		t.Fatalf("waiting order %v", order)
	}
}

// TestClassify covers exact numbers, longest prefix, category, default and
// blacklist.
func TestClassify(t *testing.T) {
	cfg := Config{
		Groups: []Group{{ID: 1, Enabled: true}},
		CustomerTypes: []CustomerType{
			{ID: 1, Priority: 5, Prefixes: []string{"0851"}},
			{ID: 2, Priority: 1, Prefixes: []string{"08"}},
			{ID: 3, Priority: 9, Numbers: []string{"085112345"}},
			{ID: 4, Priority: 7, Categories: []string{"gold"}},
		},
		Default:   CustomerType{ID: 99, Priority: -1},
		Blacklist: []string{"666"},
	}
	v := newEnv(t, cfg)
	for _, tc := range []struct {
		number, cat string
		want        int
		black       bool
	}{
		{"085112345", "", 3, false},
		{"085199999", "", 1, false},
		{"0852", "", 2, false},
		{"0852", "gold", 4, false},
		{"085112345", "gold", 3, false},
		{"123", "", 99, false},
		{"666", "", 99, true},
	} {
		ct, black := v.e.Classify(tc.number, tc.cat)
		if ct.ID != tc.want || black != tc.black {
			t.Errorf("Classify(%q,%q) = %d,%v want %d,%v", tc.number, tc.cat, ct.ID, black, tc.want, tc.black)
		}
	}
	out, _, err := v.e.Offer(CallInfo{ID: "b", Number: "666"})
	if err != nil || out != Blocked {
		t.Fatalf("blacklisted offer: %d %v", out, err)
	}
	if len(v.e.Waiting()) != 0 {
		t.Fatal("blacklisted caller queued")
	}
}

// TestRelaxation: a call needing skill 5 rings only the expert at first,
// then after each step a wider pool.
func TestRelaxation(t *testing.T) {
	cfg := oneGroup(LongestIdle)
	cfg.Groups[0].MinSkill = 6
	cfg.Groups[0].Retry = time.Minute
	cfg.Groups[0].Relax = []RelaxStep{{After: 10 * time.Second, MinSkill: 3}, {After: 30 * time.Second, MinSkill: 0}}
	v := newEnv(t, cfg)
	v.login("b", "c") // skills 1 and 3; a (skill 5) stays offline
	v.take()
	v.offer("x", "1")
	v.expect() // nobody has skill 6
	v.clk.Advance(9 * time.Second)
	v.expect()
	v.clk.Advance(time.Second)
	v.expect("ring c x") // skill 3 allowed after 10 s
	v.ok(v.e.Reject("c", "x"))
	v.expect() // b (skill 1) still too weak; c was tried
	v.clk.Advance(20 * time.Second)
	v.expect("ring b x")
}
