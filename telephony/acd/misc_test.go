package acd

import (
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestImports enforces the layering: telephony never imports board,
// firmware, webui, gin or bbolt (checked on the sources, no go list).
func TestImports(t *testing.T) {
	banned := []string{"callbox/board", "callbox/firmware", "callbox/webui", "github.com/gin-gonic", "go.etcd.io/bbolt"}
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("*/*.go")
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("found only %d files", len(files))
	}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			for _, b := range banned {
				if strings.HasPrefix(p, b) {
					t.Errorf("%s imports %s", f, p)
				}
			}
		}
	}
}

func TestVirtualClock(t *testing.T) {
	c := NewVirtualClock(t0)
	var got []string
	add := func(s string) func() { return func() { got = append(got, s+"@"+c.Now().Sub(t0).String()) } }
	c.AfterFunc(3*time.Second, add("c"))
	c.AfterFunc(time.Second, add("a"))
	x := c.AfterFunc(2*time.Second, add("x"))
	c.AfterFunc(time.Second, add("b")) // same instant as a: after it
	c.AfterFunc(-time.Second, add("now"))
	if !x.Stop() || x.Stop() {
		t.Fatal("Stop results wrong")
	}
	if c.Pending() != 4 {
		t.Fatalf("pending %d", c.Pending())
	}
	c.Advance(2 * time.Second)
	if n, _ := c.Next(); !n.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("next %s", n)
	}
	c.Advance(10 * time.Second)
	want := []string{"now@0s", "a@1s", "b@1s", "c@3s"}
	if !reflect.DeepEqual(got, want) || !c.Now().Equal(t0.Add(12*time.Second)) {
		t.Fatalf("got %v at %s", got, c.Now())
	}
	if c.Step() {
		t.Fatal("step with nothing pending")
	}
}

func TestValidate(t *testing.T) {
	good := oneGroup(LongestIdle)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		mut  func(c *Config)
		want string
	}{
		"dup group":      {func(c *Config) { c.Groups = append(c.Groups, c.Groups[0]) }, "duplicate id"},
		"bad rule":       {func(c *Config) { c.Groups[0].Rule = 99 }, "unknown rule"},
		"relax order":    {func(c *Config) { c.Groups[0].Relax = []RelaxStep{{After: 2}, {After: 1}} }, "ascending"},
		"overflow self":  {func(c *Config) { c.Groups[0].Overflow = Target{Kind: TargetGroup, Group: 1} }, "overflow"},
		"dup agent":      {func(c *Config) { c.Agents[1].ID = "a" }, "agent a: duplicate"},
		"empty agent":    {func(c *Config) { c.Agents[1].ID = "" }, "empty id"},
		"agent group":    {func(c *Config) { c.Agents[0].Groups[0].Group = 7 }, "unknown group 7"},
		"type group":     {func(c *Config) { c.CustomerTypes = []CustomerType{{ID: 1, Groups: []int{4}}} }, "unknown group 4"},
		"dup type":       {func(c *Config) { c.CustomerTypes = []CustomerType{{ID: 0}} }, "customer type 0: duplicate"},
		"default groups": {func(c *Config) { c.Default.Groups = []int{9} }, "unknown group 9"},
	} {
		c := oneGroup(LongestIdle)
		c.Agents = append([]Agent(nil), c.Agents...)
		c.Agents[0].Groups = append([]Membership(nil), c.Agents[0].Groups...)
		tc.mut(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if _, err := New(c, Options{Clock: NewVirtualClock(t0), Actions: &rec{}}); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestConfigJSON: a configuration survives a JSON round trip (what a store
// does), with rules and states by name.
func TestConfigJSON(t *testing.T) {
	c := oneGroup(RingProgressive)
	c.Groups[0].Relax = []RelaxStep{{After: time.Minute, MinSkill: 1}}
	c.Groups[0].Overflow = Target{Kind: TargetIVR, Flow: "night"}
	c.CustomerTypes = []CustomerType{{ID: 1, Priority: 3, Prefixes: []string{"0851"}, Groups: []int{1}}}
	c.Blacklist = []string{"666"}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"rule":"ring_progressive"`) {
		t.Fatalf("rule not by name: %s", b)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip:\n%+v\n%+v", back, c)
	}
	s := NewMemStore()
	if _, ok, _ := s.LoadConfig(); ok {
		t.Fatal("empty store has a config")
	}
	_ = s.SaveConfig(c)
	if got, ok, _ := s.LoadConfig(); !ok || !reflect.DeepEqual(got, c) {
		t.Fatal("store round trip")
	}
	e := StatusEntry{Agent: "a", At: t0, From: Idle, To: Break, Reason: "lunch"}
	b, _ = json.Marshal(e)
	if !strings.Contains(string(b), `"to":"break"`) {
		t.Fatalf("state not by name: %s", b)
	}
}

// FuzzParseRule: every accepted name round-trips and nothing else parses.
func FuzzParseRule(f *testing.F) {
	for _, r := range Rules() {
		f.Add(r.String())
	}
	f.Add("")
	f.Add("LONGEST_IDLE")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "acd: ") {
				t.Fatalf("error %v", err)
			}
			return
		}
		if r.String() != s {
			t.Fatalf("%q parsed as %v", s, r)
		}
		var back Rule
		b, _ := r.MarshalText()
		if back.UnmarshalText(b) != nil || back != r {
			t.Fatal("text round trip")
		}
	})
}

// FuzzParseState is FuzzParseRule for agent states.
func FuzzParseState(f *testing.F) {
	for s := range numStates {
		f.Add(s.String())
	}
	f.Add("wrapup")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseState(s)
		if err != nil {
			return
		}
		if st.String() != s || st >= numStates {
			t.Fatalf("%q parsed as %v", s, st)
		}
	})
}

// FuzzConfigJSON: any JSON the store could hold either fails validation
// or builds an engine that routes a call without panicking, and Validate
// never accepts what New rejects.
func FuzzConfigJSON(f *testing.F) {
	b, _ := json.Marshal(oneGroup(LongestIdle))
	f.Add(string(b))
	f.Add(`{"groups":[{"id":1,"enabled":true,"rule":"ring_all"}],"agents":[{"id":"x","groups":[{"group":1,"skill":1}]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var c Config
		if json.Unmarshal([]byte(s), &c) != nil || c.Validate() != nil {
			return
		}
		if len(c.Agents) > 50 || len(c.Groups) > 50 {
			return
		}
		clk := NewVirtualClock(t0)
		e, err := New(c, Options{Clock: clk, Actions: nopActions{}})
		if err != nil {
			t.Fatalf("valid config refused: %v", err)
		}
		for _, a := range c.Agents {
			_ = e.Login(a.ID)
		}
		_, _, _ = e.Offer(CallInfo{ID: "f", Number: "1"})
		clk.Advance(time.Hour)
		_ = e.Queues()
	})
}

type failingLog struct{ MemStore }

func (*failingLog) AppendStatus(StatusEntry) error { return errors.New("disk full") }

// TestStoreErrorNotice: a failing status log does not stop the engine;
// supervisors are told.
func TestStoreErrorNotice(t *testing.T) {
	r := &rec{}
	e, err := New(oneAgent(), Options{Clock: NewVirtualClock(t0), Actions: r, Status: &failingLog{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Logout("a"); err != nil { // offline -> offline: no change, no entry
		t.Fatal(err)
	}
	if err := e.Login("a"); err != nil {
		t.Fatal(err)
	}
	if len(r.notices) != 1 || r.notices[0].Kind != NoticeStoreError || r.notices[0].Err == nil {
		t.Fatalf("notices %+v", r.notices)
	}
	if s, _ := e.Agent("a"); s.State != Idle {
		t.Fatal("state change lost")
	}
}

// TestRealClock runs a ring timeout on the wall clock.
func TestRealClock(t *testing.T) {
	cfg := oneAgent()
	cfg.Groups[0].RingTimeout = 20 * time.Millisecond
	r := &rec{}
	e, err := New(cfg, Options{Clock: RealClock{}, Actions: r})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.Login("a")
	_, _, _ = e.Offer(CallInfo{ID: "x", Number: "1"})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		n := len(r.lines)
		r.mu.Unlock()
		if n >= 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) < 2 || r.lines[0] != "ring a x" || r.lines[1] != "stopring a x" {
		t.Fatalf("actions %q", r.lines)
	}
}
