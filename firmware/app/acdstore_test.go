package app

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/acd"
)

// openStore opens (or creates) the store at path and closes it when the
// test ends, unless the test closed it first.
func openStore(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// acdBackend is what both acd.MemStore and ACDStore implement.
type acdBackend interface {
	acd.ConfigStore
	acd.StatusLog
	acd.CallbackStore
}

var day0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

// acdOp is one call on a backend; its result is compared between backends.
type acdOp struct {
	desc string
	do   func(b acdBackend) (any, error)
}

func appendOp(agent acd.AgentID, at time.Time, from, to acd.State, reason string) acdOp {
	e := acd.StatusEntry{Agent: agent, At: at, From: from, To: to, Reason: reason, Call: acd.CallID("c-" + reason)}
	return acdOp{fmt.Sprintf("append %q %s %s", agent, at.Format(time.TimeOnly+".000000000"), to),
		func(b acdBackend) (any, error) { return nil, b.AppendStatus(e) }}
}

func entriesOp(agent acd.AgentID, from, to time.Time) acdOp {
	return acdOp{fmt.Sprintf("entries %q [%s, %s)", agent, from.Format(time.TimeOnly+".000000000"), to.Format(time.TimeOnly+".000000000")),
		func(b acdBackend) (any, error) {
			es, err := b.StatusEntries(agent, from, to)
			return oldestFirst(es), err
		}}
}

// oldestFirst is StatusEntries' contract applied to MemStore, which
// returns entries in the order they were appended: oldest first, ties in
// append order. Entries appended in time order are left as they are.
func oldestFirst(es []acd.StatusEntry) []acd.StatusEntry {
	slices.SortStableFunc(es, func(a, b acd.StatusEntry) int { return a.At.Compare(b.At) })
	return es
}

func putCallbackOp(cb acd.Callback) acdOp {
	return acdOp{fmt.Sprintf("put callback %s tries %d", cb.Call, cb.Tries),
		func(b acdBackend) (any, error) { return nil, b.PutCallback(cb) }}
}

func deleteCallbackOp(call acd.CallID) acdOp {
	return acdOp{"delete callback " + string(call), func(b acdBackend) (any, error) { return nil, b.DeleteCallback(call) }}
}

var callbacksOp = acdOp{"callbacks", func(b acdBackend) (any, error) {
	cbs, err := b.Callbacks()
	slices.SortFunc(cbs, func(x, y acd.Callback) int { return strings.Compare(string(x.Call), string(y.Call)) })
	return cbs, err
}}

func saveConfigOp(c acd.Config) acdOp {
	return acdOp{fmt.Sprintf("save config (%d groups)", len(c.Groups)), func(b acdBackend) (any, error) { return nil, b.SaveConfig(c) }}
}

var loadConfigOp = acdOp{"load config", func(b acdBackend) (any, error) {
	c, ok, err := b.LoadConfig()
	return struct {
		C  acd.Config
		OK bool
	}{c, ok}, err
}}

// sampleConfig exercises every kind of field the configuration has.
func sampleConfig() acd.Config {
	return acd.Config{
		Groups: []acd.Group{
			{ID: 1, Name: "售后服务", Priority: 2, Rule: acd.AgentLevel, Enabled: true, Description: "after-sales",
				RingTimeout: 20 * time.Second, MinSkill: 3, Relax: []acd.RelaxStep{{After: 30 * time.Second, MinSkill: 1}},
				MaxWait: 5 * time.Minute, Overflow: acd.Target{Kind: acd.TargetIVR, Flow: "night"}, MaxQueue: 20,
				Join: acd.EmptyNoLoggedIn, Leave: acd.EmptyNoAvailable, Prompt: "hold", PromptEvery: 30 * time.Second},
			{ID: 2, Name: "sales", Rule: acd.RingProgressive, ProgressStep: 3 * time.Second,
				Overflow: acd.Target{Kind: acd.TargetVoicemail, Mailbox: "800"}},
		},
		Agents: []acd.Agent{
			{ID: "1001", Name: "王芳", Level: 3, Groups: []acd.Membership{{Group: 1, Skill: 5}, {Group: 2, Skill: 1}},
				Mode: acd.ModeOutside, Device: "13800000000", AutoAnswer: true, WrapUp: 15 * time.Second, MaxNoAnswer: 2},
			{ID: "1002", Groups: []acd.Membership{{Group: 2, Skill: 2}}, Mode: acd.ModeSoftphone, Device: "sip1002"},
		},
		CustomerTypes: []acd.CustomerType{{ID: 1, Name: "VIP", Priority: 9, Numbers: []string{"13900000000"},
			Prefixes: []string{"010"}, Categories: []string{"gold"}, Groups: []int{1, 2}}},
		Default:         acd.CustomerType{ID: 0, Name: "default", Groups: []int{2}},
		Blacklist:       []string{"4000000000"},
		MaxNoAnswer:     4,
		NoAnswer:        acd.NoAnswerSignOut,
		SLThreshold:     15 * time.Second,
		CallbackTimeout: time.Minute,
		CallbackRetry:   2 * time.Minute,
		CallbackTries:   5,
		HandleWindow:    30,
	}
}

// runBoth applies ops to a MemStore and an ACDStore and fails at the
// first result or error that differs.
func runBoth(t *testing.T, ops []acdOp) *ACDStore {
	t.Helper()
	mem := acd.NewMemStore()
	st := NewACDStore(openStore(t, filepath.Join(t.TempDir(), "callbox.db")))
	for i, op := range ops {
		want, werr := op.do(mem)
		got, gerr := op.do(st)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("op %d (%s): error %v, MemStore %v", i, op.desc, gerr, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("op %d (%s):\n got %+v\nwant %+v", i, op.desc, got, want)
		}
	}
	return st
}

func TestACDStoreMatchesMemStore(t *testing.T) {
	at := func(d time.Duration) time.Time { return day0.Add(d) }
	cb := func(call string, tries int, groups []int) acd.Callback {
		return acd.Callback{Call: acd.CallID(call), Number: "138" + call, Type: tries % 2, Groups: groups,
			Queued: at(time.Duration(tries) * time.Minute), Tries: tries, NotUntil: at(time.Hour)}
	}
	for _, tc := range []struct {
		name string
		ops  []acdOp
	}{
		{"empty store", []acdOp{loadConfigOp, callbacksOp, entriesOp("1001", day0, at(24*time.Hour))}},
		{"config saved and replaced", []acdOp{
			saveConfigOp(sampleConfig()), loadConfigOp,
			saveConfigOp(acd.Config{}), loadConfigOp,
			saveConfigOp(acd.Config{Groups: []acd.Group{{ID: 7, Name: "x", Enabled: true}}}), loadConfigOp,
		}},
		{"one agent's day", []acdOp{
			appendOp("1001", at(0), acd.Offline, acd.Idle, "login"),
			appendOp("1001", at(90*time.Second), acd.Idle, acd.Ringing, ""),
			appendOp("1001", at(95*time.Second), acd.Ringing, acd.Talking, ""),
			appendOp("1001", at(5*time.Minute), acd.Talking, acd.WrapUp, ""),
			appendOp("1001", at(5*time.Minute+30*time.Second), acd.WrapUp, acd.Idle, ""),
			appendOp("1001", at(4*time.Hour), acd.Idle, acd.Break, "lunch 午饭"),
			appendOp("1001", at(9*time.Hour), acd.Break, acd.Offline, "logout"),
			entriesOp("1001", day0, at(24*time.Hour)),
			entriesOp("1001", at(90*time.Second), at(5*time.Minute)),                    // from inclusive, to exclusive
			entriesOp("1001", at(90*time.Second+1), at(5*time.Minute+1)),                // a nanosecond later
			entriesOp("1001", at(90*time.Second-1), at(90*time.Second)),                 // ends just before an entry
			entriesOp("1001", at(5*time.Minute), at(5*time.Minute)),                     // empty range
			entriesOp("1001", at(time.Hour), at(time.Minute)),                           // reversed range
			entriesOp("1001", day0.AddDate(0, 0, -1), day0),                             // the day before
			entriesOp("1001", time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), // everything
			entriesOp("1002", day0, at(24*time.Hour)),                                   // another agent
		}},
		{"agents whose ids share a prefix", []acdOp{
			appendOp("100", at(1), acd.Offline, acd.Idle, "a"),
			appendOp("1001", at(1), acd.Offline, acd.Idle, "b"),
			appendOp("10", at(2), acd.Offline, acd.Busy, "c"),
			appendOp("100\x00", at(3), acd.Offline, acd.Idle, "d"),
			appendOp("", at(4), acd.Offline, acd.Idle, "e"),
			entriesOp("100", day0, at(time.Hour)),
			entriesOp("1001", day0, at(time.Hour)),
			entriesOp("10", day0, at(time.Hour)),
			entriesOp("100\x00", day0, at(time.Hour)),
			entriesOp("", day0, at(time.Hour)),
			entriesOp("1", day0, at(time.Hour)),
		}},
		{"same instant keeps append order", []acdOp{
			appendOp("a", at(time.Second), acd.Idle, acd.Ringing, "1"),
			appendOp("a", at(time.Second), acd.Ringing, acd.Idle, "2"),
			appendOp("b", at(time.Second), acd.Idle, acd.Busy, "x"),
			appendOp("a", at(time.Second), acd.Idle, acd.Ringing, "3"),
			entriesOp("a", at(time.Second), at(time.Second+1)),
		}},
		{"zones and times before 1970", []acdOp{
			appendOp("a", time.Unix(-86400, 5).UTC(), acd.Offline, acd.Idle, "old"),
			appendOp("a", time.Unix(0, 0).UTC(), acd.Idle, acd.Offline, "epoch"),
			entriesOp("a", time.Unix(-86400, 5).UTC(), time.Unix(0, 1).UTC()),
			entriesOp("a", time.Unix(-86400, 5).In(time.FixedZone("CST", 8*3600)), time.Unix(0, 0).In(time.FixedZone("CST", 8*3600))),
		}},
		{"callbacks", []acdOp{
			putCallbackOp(cb("c1", 0, []int{1, 2})), callbacksOp,
			putCallbackOp(cb("c2", 1, nil)), putCallbackOp(cb("c0", 2, []int{})), callbacksOp,
			putCallbackOp(cb("c1", 3, []int{2})), callbacksOp, // replaced
			deleteCallbackOp("c1"), callbacksOp,
			deleteCallbackOp("c1"), deleteCallbackOp("nothing"), callbacksOp, // deleting what is absent
			deleteCallbackOp("c0"), deleteCallbackOp("c2"), callbacksOp,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runBoth(t, tc.ops) })
	}
}

// TestACDStoreRandomAgainstMemStore runs random operation sequences on
// both stores. Status times mostly move forward, with ties and with
// occasional steps back (a wall clock set back), where the expected order
// is MemStore's sorted oldest first.
func TestACDStoreRandomAgainstMemStore(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 200
	}
	agents := []acd.AgentID{"1", "10", "100", "2", "王"}
	calls := []acd.CallID{"c1", "c2", "c10", "c3"}
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			now := day0
			var times []time.Time // of appended entries: bounds that land on one test inclusion
			instant := func() time.Time {
				if len(times) > 0 && rng.IntN(2) == 0 {
					return times[rng.IntN(len(times))]
				}
				return day0.Add(time.Duration(rng.Int64N(int64(now.Sub(day0)) + 2*int64(time.Second))))
			}
			var ops []acdOp
			for range n {
				switch r := rng.IntN(100); {
				case r < 45:
					switch s := rng.IntN(10); {
					case s < 2: // same instant
					case s < 3: // backwards
						now = now.Add(-time.Duration(rng.Int64N(int64(time.Minute))))
					default:
						now = now.Add(time.Duration(rng.Int64N(int64(10 * time.Minute))))
					}
					times = append(times, now)
					ops = append(ops, appendOp(agents[rng.IntN(len(agents))], now,
						acd.State(rng.IntN(7)), acd.State(rng.IntN(7)), fmt.Sprint(rng.IntN(5))))
				case r < 65:
					ops = append(ops, entriesOp(agents[rng.IntN(len(agents))], instant(), instant()))
				case r < 80:
					var groups []int
					if rng.IntN(3) > 0 {
						groups = make([]int, rng.IntN(3))
						for i := range groups {
							groups[i] = rng.IntN(10)
						}
					}
					ops = append(ops, putCallbackOp(acd.Callback{Call: calls[rng.IntN(len(calls))], Number: fmt.Sprint(rng.Int()),
						Type: rng.IntN(3), Groups: groups, Queued: instant(), Tries: rng.IntN(4), NotUntil: instant()}))
				case r < 90:
					ops = append(ops, deleteCallbackOp(calls[rng.IntN(len(calls))]))
				case r < 95:
					ops = append(ops, callbacksOp)
				case r < 98:
					c := sampleConfig()
					c.Groups = c.Groups[:rng.IntN(3)]
					c.MaxNoAnswer = rng.IntN(9)
					ops = append(ops, saveConfigOp(c))
				default:
					ops = append(ops, loadConfigOp)
				}
			}
			for _, a := range agents { // the whole log at the end
				ops = append(ops, entriesOp(a, time.Time{}, now.Add(time.Hour)))
			}
			ops = append(ops, callbacksOp, loadConfigOp)
			runBoth(t, ops)
		})
	}
}

// TestACDStoreSurvivesRestart closes and reopens the store file between
// writing and reading.
func TestACDStoreSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.db")
	db := openStore(t, path)
	st := NewACDStore(db)
	mem := acd.NewMemStore()
	cfg := sampleConfig()
	for _, b := range []acdBackend{st, mem} {
		must(t, b.SaveConfig(cfg))
		for i := range 50 {
			must(t, b.AppendStatus(acd.StatusEntry{Agent: acd.AgentID(fmt.Sprint(1001 + i%3)), At: day0.Add(time.Duration(i) * time.Minute),
				From: acd.Idle, To: acd.Busy, Reason: fmt.Sprint(i)}))
		}
		for i := range 5 {
			must(t, b.PutCallback(acd.Callback{Call: acd.CallID(fmt.Sprint("cb", i)), Number: "010-1234", Groups: []int{i},
				Queued: day0.Add(time.Duration(i) * time.Second)}))
		}
		must(t, b.DeleteCallback("cb3"))
	}
	must(t, db.Close())

	st = NewACDStore(openStore(t, path))
	got, ok, err := st.LoadConfig()
	if err != nil || !ok || !reflect.DeepEqual(got, cfg) {
		t.Errorf("config after restart: ok %v, %v\n got %+v\nwant %+v", ok, err, got, cfg)
	}
	for _, agent := range []acd.AgentID{"1001", "1002", "1003"} {
		got, err := st.StatusEntries(agent, day0, day0.Add(time.Hour))
		want, _ := mem.StatusEntries(agent, day0, day0.Add(time.Hour))
		if err != nil || len(got) != 17 && len(got) != 16 || !reflect.DeepEqual(got, want) {
			t.Errorf("agent %s after restart: %d entries, %v; want %d", agent, len(got), err, len(want))
		}
	}
	cbs, err := st.Callbacks()
	want, _ := mem.Callbacks()
	slices.SortFunc(want, func(x, y acd.Callback) int { return cmp.Compare(x.Call, y.Call) })
	if err != nil || !reflect.DeepEqual(cbs, want) {
		t.Errorf("callbacks after restart: %v\n got %+v\nwant %+v", err, cbs, want)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPruneStatus removes old entries of every agent, including agents
// whose ids are prefixes of others', and keeps the rest.
func TestPruneStatus(t *testing.T) {
	st := NewACDStore(openStore(t, filepath.Join(t.TempDir(), "callbox.db")))
	mem := acd.NewMemStore()
	agents := []acd.AgentID{"", "1", "1\x00", "10", "1\x01", "2", "坐席"} // valid UTF-8: JSON would replace a bad byte
	for i := range 300 {
		e := acd.StatusEntry{Agent: agents[i%len(agents)], At: day0.Add(time.Duration(i) * 15 * time.Minute), To: acd.State(i % 7)}
		must(t, st.AppendStatus(e))
		must(t, mem.AppendStatus(e))
	}
	end := day0.AddDate(0, 0, 10)
	for _, before := range []time.Time{day0, day0.Add(24*time.Hour + 7*time.Minute), day0.Add(24 * time.Hour), day0.AddDate(0, 0, 2), end} {
		removed, err := st.PruneStatus(before)
		must(t, err)
		want := 0
		for _, a := range agents {
			all, _ := mem.StatusEntries(a, time.Time{}, end)
			kept, _ := mem.StatusEntries(a, before, end)
			got, err := st.StatusEntries(a, time.Time{}, end)
			must(t, err)
			if !reflect.DeepEqual(got, kept) {
				t.Fatalf("prune before %v: agent %q keeps %d entries, want %d", before, a, len(got), len(kept))
			}
			want += len(all) - len(kept)
		}
		mem = acd.NewMemStore() // what is left, as the reference for the next round
		for _, a := range agents {
			kept, _ := st.StatusEntries(a, time.Time{}, end)
			for _, e := range kept {
				mem.AppendStatus(e)
			}
		}
		if removed != want {
			t.Errorf("prune before %v removed %d, want %d", before, removed, want)
		}
	}
}

// TestACDStoreConcurrent: the engine and the web desks use one store from
// many goroutines (run it with -race).
func TestACDStoreConcurrent(t *testing.T) {
	st := NewACDStore(openStore(t, filepath.Join(t.TempDir(), "callbox.db")))
	const writers, each = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*2)
	for w := range writers {
		agent := acd.AgentID(fmt.Sprint(1001 + w))
		wg.Go(func() {
			for i := range each {
				if err := st.AppendStatus(acd.StatusEntry{Agent: agent, At: day0.Add(time.Duration(i) * time.Second), Reason: fmt.Sprint(i)}); err != nil {
					errs <- err
					return
				}
				if err := st.PutCallback(acd.Callback{Call: acd.CallID(fmt.Sprint(agent, "-", i%3)), Tries: i}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			last := 0
			for last < each {
				es, err := st.StatusEntries(agent, day0, day0.Add(time.Hour))
				if err != nil {
					errs <- err
					return
				}
				if len(es) < last {
					errs <- fmt.Errorf("agent %s: %d entries after %d", agent, len(es), last)
					return
				}
				for i, e := range es {
					if e.Reason != fmt.Sprint(i) {
						errs <- fmt.Errorf("agent %s: entry %d is %q", agent, i, e.Reason)
						return
					}
				}
				last = len(es)
				if _, err := st.Callbacks(); err != nil {
					errs <- err
					return
				}
				time.Sleep(time.Millisecond) // leave the CPU to the writers

			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if cbs, err := st.Callbacks(); err != nil || len(cbs) != writers*3 {
		t.Errorf("%d callbacks, %v; want %d", len(cbs), err, writers*3)
	}
}

// TestACDStoreErrors: values JSON cannot encode, a closed store and
// damaged records give errors that say what failed, never a silent
// success.
func TestACDStoreErrors(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "callbox.db"))
	st := NewACDStore(db)
	if err := st.AppendStatus(acd.StatusEntry{Agent: "a", At: day0, To: acd.State(200)}); err == nil {
		t.Error("appended a status entry with an unknown state")
	}
	if err := st.SaveConfig(acd.Config{Groups: []acd.Group{{Rule: acd.Rule(99)}}}); err == nil {
		t.Error("saved a configuration with an unknown rule")
	}
	if _, ok, err := st.LoadConfig(); ok || err != nil {
		t.Errorf("a refused save left a configuration: ok %v, %v", ok, err)
	}
	// Damaged values (written past the adapter) are reported with the key.
	must(t, db.Update(func(tx *store.Tx) error {
		if err := tx.Put(store.ACDStatus, statusPrefix("a").AppendTime(day0).AppendUint64(1), []byte("{")); err != nil {
			return err
		}
		if err := tx.Put(store.ACDConfig, acdConfigKey, []byte(`{"groups":"x"}`)); err != nil {
			return err
		}
		return tx.Put(store.ACDCallbacks, callbackKey("x"), []byte("[]"))
	}))
	if _, err := st.StatusEntries("a", day0, day0.Add(time.Second)); err == nil || !strings.Contains(err.Error(), "agent a status log") {
		t.Errorf("damaged status entry: %v", err)
	}
	if _, _, err := st.LoadConfig(); err == nil {
		t.Error("damaged configuration loaded")
	}
	if _, err := st.Callbacks(); err == nil {
		t.Error("damaged callback loaded")
	}
	must(t, db.Close())
	for name, err := range map[string]error{
		"append":   st.AppendStatus(acd.StatusEntry{Agent: "a", At: day0}),
		"callback": st.PutCallback(acd.Callback{Call: "x"}),
		"delete":   st.DeleteCallback("x"),
		"save":     st.SaveConfig(acd.Config{}),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "app: ") {
			t.Errorf("%s on a closed store: %v", name, err)
		}
	}
}

// recorder implements acd.Actions, logging every action as a line and
// keeping the rings not yet answered.
type recorder struct {
	mu    sync.Mutex
	lines []string
	rings []acd.RingRequest
}

func (r *recorder) add(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, a...))
}

func (r *recorder) Ring(q acd.RingRequest) {
	r.add("ring %s %s", q.Agent, q.Call)
	r.mu.Lock()
	r.rings = append(r.rings, q)
	r.mu.Unlock()
}
func (r *recorder) StopRing(a acd.AgentID, c acd.CallID) { r.add("stopring %s %s", a, c) }
func (r *recorder) Connect(c acd.CallID, a acd.AgentID)  { r.add("connect %s %s", c, a) }
func (r *recorder) Play(c acd.CallID, p string)          { r.add("play %s %s", c, p) }
func (r *recorder) Announce(c acd.CallID, pos int, d time.Duration) {
	r.add("announce %s %d %s", c, pos, d)
}
func (r *recorder) Route(c acd.CallID, t acd.Target) { r.add("route %s %d", c, t.Kind) }
func (r *recorder) CallBack(c acd.CallID, n string, a acd.AgentID) {
	r.add("callback %s %s %s", c, n, a)
}
func (r *recorder) Notify(n acd.Notice) {
	r.add("notify %d %s %s %v", n.Kind, n.Agent, n.Call, n.Err)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lines
	r.lines = nil
	return l
}

func engineConfig() acd.Config {
	return acd.Config{
		Groups: []acd.Group{{ID: 1, Name: "support", Enabled: true, RingTimeout: 10 * time.Second},
			{ID: 2, Name: "sales", Rule: acd.RoundRobin, Enabled: true}},
		Agents: []acd.Agent{
			{ID: "a", Level: 1, Groups: []acd.Membership{{Group: 1, Skill: 5}}, WrapUp: 20 * time.Second},
			{ID: "b", Level: 2, Groups: []acd.Membership{{Group: 1, Skill: 3}, {Group: 2, Skill: 3}}, MaxNoAnswer: 2},
			{ID: "c", Level: 3, Groups: []acd.Membership{{Group: 2, Skill: 1}}},
		},
		CustomerTypes: []acd.CustomerType{{ID: 1, Name: "vip", Priority: 5, Prefixes: []string{"139"}, Groups: []int{1, 2}}},
		Default:       acd.CustomerType{ID: 0, Name: "default"},
	}
}

// TestACDEngineCallbackSurvivesRestart runs the engine on the store: a
// caller asks for a callback, the box restarts (the store file is closed
// and reopened, the engine rebuilt from the stored configuration), and
// the callback is still waiting at its original place and is dialled when
// an agent logs in.
func TestACDEngineCallbackSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.db")
	db := openStore(t, path)
	st := NewACDStore(db)
	must(t, st.SaveConfig(engineConfig()))
	clk := acd.NewVirtualClock(day0)
	rec := &recorder{}
	e, err := acd.Load(st, acd.Options{Clock: clk, Actions: rec, Status: st, Callbacks: st})
	must(t, err)
	if out, _, err := e.Offer(acd.CallInfo{ID: "early", Number: "13912345678"}); err != nil || out != acd.Queued {
		t.Fatalf("offer: %v %v", out, err)
	}
	clk.Advance(time.Minute)
	must(t, e.RequestCallback("early", "13800000000"))
	must(t, e.SetState("b", acd.Busy, "meeting")) // a status entry before the restart
	must(t, db.Close())

	st = NewACDStore(openStore(t, path))
	clk.Advance(time.Minute)
	e, err = acd.Load(st, acd.Options{Clock: clk, Actions: rec, Status: st, Callbacks: st})
	must(t, err)
	rec.take()
	if out, _, err := e.Offer(acd.CallInfo{ID: "late", Number: "13912345679"}); err != nil || out != acd.Queued {
		t.Fatalf("offer after restart: %v %v", out, err)
	}
	w := e.Waiting()
	if len(w) != 2 || w[0].Call != "early" || !w[0].Callback || w[0].Waited != 2*time.Minute || w[1].Call != "late" {
		t.Fatalf("waiting after restart: %+v", w)
	}
	must(t, e.Login("a"))
	if got := rec.take(); !slices.Contains(got, "callback early 13800000000 a") {
		t.Fatalf("actions after login: %q, want the callback dialled", got)
	}
	must(t, e.CallbackConnected("early"))
	if cbs, err := st.Callbacks(); err != nil || len(cbs) != 0 {
		t.Fatalf("callback still stored after it connected: %+v, %v", cbs, err)
	}
	es, err := st.StatusEntries("b", day0, day0.Add(time.Hour))
	if err != nil || len(es) != 1 || es[0].To != acd.Busy || es[0].Reason != "meeting" || !es[0].At.Equal(day0.Add(time.Minute)) {
		t.Errorf("agent b's log across the restart: %+v, %v", es, err)
	}
	es, err = st.StatusEntries("a", day0, day0.Add(time.Hour))
	// Three changes at one instant, in the order they happened.
	if err != nil || len(es) != 3 || es[0].To != acd.Idle || es[1].To != acd.Ringing || es[1].Call != "early" || es[2].To != acd.Talking {
		t.Errorf("agent a's log after the restart: %+v, %v", es, err)
	}
}

// TestACDEngineOnBothStores drives two engines through the same random
// day, one on acd.MemStore and one on ACDStore: they must act alike and
// leave the same status log and callbacks.
func TestACDEngineOnBothStores(t *testing.T) {
	steps := 400
	if testing.Short() {
		steps = 120
	}
	type side struct {
		clk *acd.VirtualClock
		rec *recorder
		e   *acd.Engine
		st  acdBackend
	}
	mk := func(st acdBackend) *side {
		s := &side{clk: acd.NewVirtualClock(day0), rec: &recorder{}, st: st}
		e, err := acd.New(engineConfig(), acd.Options{Clock: s.clk, Actions: s.rec, Status: st, Callbacks: st, Seed: 7})
		must(t, err)
		s.e = e
		return s
	}
	sides := []*side{mk(acd.NewMemStore()), mk(NewACDStore(openStore(t, filepath.Join(t.TempDir(), "callbox.db"))))}
	rng := rand.New(rand.NewPCG(5, 6))
	agents := []acd.AgentID{"a", "b", "c"}
	var calls []acd.CallID
	nextCall := 0
	for step := range steps {
		r := rng.IntN(100)
		agent := agents[rng.IntN(len(agents))]
		var call acd.CallID
		if len(calls) > 0 {
			call = calls[rng.IntN(len(calls))]
		}
		advance := time.Duration(rng.Int64N(int64(20 * time.Second)))
		var ring acd.RingRequest
		if rings := sides[0].rec.rings; len(rings) > 0 {
			ring = rings[rng.IntN(len(rings))]
		}
		number := fmt.Sprintf("13%d", rng.IntN(3))
		state := []acd.State{acd.Idle, acd.Idle, acd.Break, acd.Busy, acd.Offline}[rng.IntN(5)]
		var errs []string
		for _, s := range sides {
			var err error
			switch {
			case r < 20:
				err = s.e.SetState(agent, state, "step")
			case r < 40:
				_, _, err = s.e.Offer(acd.CallInfo{ID: acd.CallID(fmt.Sprint("k", nextCall)), Number: number})
			case r < 55 && ring.Call != "":
				err = s.e.Answer(ring.Agent, ring.Call)
			case r < 60 && ring.Call != "":
				err = s.e.Reject(ring.Agent, ring.Call)
			case r < 70 && call != "":
				err = s.e.Hangup(call)
			case r < 75 && call != "":
				err = s.e.RequestCallback(call, "")
			case r < 80 && call != "":
				err = s.e.CallbackConnected(call)
			case r < 83 && call != "":
				err = s.e.CallbackFailed(call)
			default:
				s.clk.Advance(advance)
			}
			errs = append(errs, fmt.Sprint(err))
		}
		if r >= 20 && r < 40 {
			calls = append(calls, acd.CallID(fmt.Sprint("k", nextCall)))
			nextCall++
		}
		if errs[0] != errs[1] {
			t.Fatalf("step %d: MemStore engine %s, ACDStore engine %s", step, errs[0], errs[1])
		}
		la, lb := sides[0].rec.take(), sides[1].rec.take()
		if !slices.Equal(la, lb) {
			t.Fatalf("step %d: actions differ:\n mem   %q\n store %q", step, la, lb)
		}
		for _, l := range la {
			if strings.HasPrefix(l, fmt.Sprint("notify ", int(acd.NoticeStoreError))) {
				t.Fatalf("step %d: %s", step, l)
			}
		}
		// Only rings still pending may be answered or rejected.
		for _, s := range sides {
			s.rec.rings = slices.DeleteFunc(s.rec.rings, func(q acd.RingRequest) bool {
				st, err := s.e.Agent(q.Agent)
				return err != nil || st.State != acd.Ringing
			})
		}
	}
	end := sides[0].clk.Now().Add(time.Second)
	total := 0
	for _, a := range agents {
		want, _ := sides[0].st.StatusEntries(a, day0, end)
		got, err := sides[1].st.StatusEntries(a, day0, end)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("agent %s log: %d entries (%v), MemStore %d", a, len(got), err, len(want))
		}
		total += len(got)
	}
	want, _ := sides[0].st.Callbacks()
	got, _ := sides[1].st.Callbacks()
	slices.SortFunc(want, func(x, y acd.Callback) int { return cmp.Compare(x.Call, y.Call) })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("callbacks:\n got %+v\nwant %+v", got, want)
	}
	if total < steps/10 {
		t.Errorf("only %d status entries in %d steps: the day exercised too little", total, steps)
	}
	t.Logf("%d steps, %d calls, %d status entries, %d pending callbacks", steps, len(calls), total, len(got))
}

// BenchmarkAppendStatus is one durable status entry (a committed, synced
// transaction): the cost of every agent state change.
func BenchmarkAppendStatus(b *testing.B) {
	st := NewACDStore(openStore(b, filepath.Join(b.TempDir(), "callbox.db")))
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		e := acd.StatusEntry{Agent: acd.AgentID(fmt.Sprint(1001 + i%30)), At: day0.Add(time.Duration(i) * time.Second),
			From: acd.Idle, To: acd.Ringing, Call: acd.CallID(fmt.Sprint("call-", i))}
		if err := st.AppendStatus(e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkStatusEntriesDay reads one agent's day from a log of 30 agents
// over 30 days, 200 state changes per agent per day (180,000 entries).
func BenchmarkStatusEntriesDay(b *testing.B) {
	const agents, days, perDay = 30, 30, 200
	db := openStore(b, filepath.Join(b.TempDir(), "callbox.db"))
	st := NewACDStore(db)
	// Filled directly in a few large transactions: 180,000 synced appends
	// would take minutes. The keys are the adapter's own.
	for d := range days {
		err := db.Update(func(tx *store.Tx) error {
			for a := range agents {
				for i := range perDay {
					e := acd.StatusEntry{Agent: acd.AgentID(fmt.Sprint(1001 + a)), From: acd.Idle, To: acd.State(i % 7),
						At: day0.AddDate(0, 0, d).Add(time.Duration(i) * 4 * time.Minute), Call: "call-12345"}
					seq, err := tx.NextSeq(store.ACDStatus)
					if err != nil {
						return err
					}
					if err := tx.Put(store.ACDStatus, statusPrefix(e.Agent).AppendTime(e.At).AppendUint64(seq), mustJSON(b, e)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		must(b, err)
	}
	from := day0.AddDate(0, 0, days/2)
	es, err := st.StatusEntries("1015", from, from.AddDate(0, 0, 1))
	if err != nil || len(es) != perDay {
		b.Fatalf("%d entries, %v; want %d", len(es), err, perDay)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.StatusEntries("1015", from, from.AddDate(0, 0, 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/day")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perDay), "ns/entry")
	if size, err := db.Size(); err == nil {
		b.ReportMetric(float64(size)/(agents*days*perDay), "file-bytes/entry")
	}
}

func mustJSON(b *testing.B, e acd.StatusEntry) []byte {
	data, err := json.Marshal(e)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// envKillChild makes TestACDStoreKill9Child the writer that
// TestACDStoreKill9 kills; its value is the store path.
const envKillChild = "CALLBOX_APP_ACD_KILL9_CHILD"

// killEntry and killCallback are record i of the kill test: a status
// entry, and a callback in slot i%killSlots that record i replaces.
const killSlots = 5

func killEntry(i int) acd.StatusEntry {
	return acd.StatusEntry{Agent: acd.AgentID(fmt.Sprint(1001 + i%3)), At: day0.Add(time.Duration(i) * time.Second),
		From: acd.Idle, To: acd.Talking, Reason: fmt.Sprint(i), Call: acd.CallID(fmt.Sprint("call-", i))}
}

func killCallback(i int) acd.Callback {
	return acd.Callback{Call: acd.CallID(fmt.Sprint("slot-", i%killSlots)), Number: fmt.Sprint(13800000000 + int64(i)),
		Groups: []int{i % 7}, Queued: day0.Add(time.Duration(i) * time.Second), Tries: i}
}

// killLog reads every status entry of the kill test, in record order.
func killLog(st *ACDStore) ([]acd.StatusEntry, error) {
	var all []acd.StatusEntry
	for a := range 3 {
		es, err := st.StatusEntries(acd.AgentID(fmt.Sprint(1001+a)), time.Time{}, day0.AddDate(1, 0, 0))
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	slices.SortFunc(all, func(x, y acd.StatusEntry) int { return x.At.Compare(y.At) })
	return all, nil
}

// TestACDStoreKill9Child is not a test: run by TestACDStoreKill9, it
// appends records until killed, printing "ack i" once record i's status
// entry and callback have both been stored.
func TestACDStoreKill9Child(t *testing.T) {
	path := os.Getenv(envKillChild)
	if path == "" {
		t.Skip("the writer process of TestACDStoreKill9")
	}
	db, err := store.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st := NewACDStore(db)
	log, err := killLog(st)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	next := len(log)
	if next > 0 { // the kill may have fallen between the entry and its callback
		if err := st.PutCallback(killCallback(next - 1)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for i := next; ; i++ {
		if err := st.AppendStatus(killEntry(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := st.PutCallback(killCallback(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("ack %d\n", i)
	}
}

// TestACDStoreKill9 kills a process writing status entries and callbacks
// through ACDStore with SIGKILL at random moments: after each kill every
// acknowledged record is there, intact, and the callbacks are those of
// the last records written.
func TestACDStoreKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	const kills = 12 // the store's own test kills 60 times; this checks the adapter
	t.Run(fmt.Sprintf("kills=%d", kills), func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "callbox.db")
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
		acked := -1
		for k := range kills {
			if last := killACDChild(t, path, time.Duration(rng.IntN(30_000))*time.Microsecond); last >= 0 {
				if last < acked {
					t.Fatalf("kill %d: child acknowledged %d after %d", k, last, acked)
				}
				acked = last
			}
			db, err := store.Open(path)
			if err != nil {
				t.Fatalf("after kill %d: %v", k, err)
			}
			st := NewACDStore(db)
			log, err := killLog(st)
			if err != nil {
				t.Fatal(err)
			}
			n := len(log)
			if n < acked+1 || n > acked+2 {
				t.Fatalf("after kill %d: %d entries, %d acknowledged", k, n, acked+1)
			}
			for i, e := range log {
				if !reflect.DeepEqual(e, killEntry(i)) {
					t.Fatalf("after kill %d: entry %d is %+v", k, i, e)
				}
			}
			cbs, err := st.Callbacks()
			if err != nil {
				t.Fatal(err)
			}
			for _, cb := range cbs {
				// Each slot holds its newest record below n; the newest
				// entry's callback may still be the one before it.
				newest := n - 1 - ((n-1)%killSlots-cb.Tries%killSlots+killSlots)%killSlots
				if !reflect.DeepEqual(cb, killCallback(newest)) && !(newest == n-1 && reflect.DeepEqual(cb, killCallback(newest-killSlots))) {
					t.Fatalf("after kill %d (%d entries): callback %+v", k, n, cb)
				}
			}
			if want := min(n, killSlots); len(cbs) < want-1 || len(cbs) > want {
				t.Fatalf("after kill %d: %d callbacks for %d entries", k, len(cbs), n)
			}
			db.Close()
		}
		t.Logf("%d kills, %d records acknowledged and verified", kills, acked+1)
	})
}

// killACDChild starts the writer, kills it delay after its first
// acknowledgement, and returns the last index it acknowledged (-1: none).
func killACDChild(t *testing.T, path string, delay time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestACDStoreKill9Child$")
	cmd.Env = append(os.Environ(), envKillChild+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	acks := make(chan int)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var i int
			if _, err := fmt.Sscanf(sc.Text(), "ack %d", &i); err == nil {
				acks <- i
			}
		}
	}()
	last := -1
	timer := time.After(10 * time.Second)
wait:
	for {
		select {
		case i, ok := <-acks:
			if !ok {
				break wait
			}
			if last < 0 {
				timer = time.After(delay)
			}
			last = i
		case <-timer:
			break wait
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for i := range acks {
		last = i
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("writer exited without being killed: %s", stderr.String())
	}
	return last
}
