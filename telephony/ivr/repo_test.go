package ivr

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

func TestRepository(t *testing.T) {
	r := &Repository{Prompts: catalogue{"hello": true}}
	good := `{"id":"f","version":9,"entry":"a","nodes":[{"id":"a","type":"hangup","prompt":"hello"}]}`
	v, err := r.SaveJSON([]byte(good))
	if err != nil || v != 1 {
		t.Fatalf("first save: %d %v", v, err)
	}
	// Missing prompt: refused, and nothing stored.
	_, err = r.SaveJSON([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"hangup","prompt":"bye"}]}`))
	var ves ValidationErrors
	if !errors.As(err, &ves) || len(ves) != 1 || ves[0].Node != "a" {
		t.Fatalf("invalid save: %v", err)
	}
	if v, _ := r.SaveJSON([]byte(good)); v != 2 {
		t.Fatalf("second save got version %d", v)
	}
	if got := r.Versions("f"); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Fatalf("versions %v", got)
	}
	if got := r.IDs(); !reflect.DeepEqual(got, []string{"f"}) {
		t.Fatalf("ids %v", got)
	}
	for _, v := range []int{-1, 3} {
		if _, err := r.Flow("f", v); !errors.Is(err, ErrNoFlow) {
			t.Errorf("version %d: %v", v, err)
		}
	}
	if _, err := r.Flow("g", 0); !errors.Is(err, ErrNoFlow) {
		t.Errorf("unknown flow: %v", err)
	}
	latest, _ := r.Flow("f", 0)
	if latest.Version != 2 {
		t.Errorf("latest is version %d", latest.Version)
	}

	// The store reloads versions in order.
	r2 := &Repository{}
	f1, _ := r.Flow("f", 1)
	f2, _ := r.Flow("f", 2)
	if err := r2.Restore(f2); err == nil {
		t.Error("restored version 2 before 1")
	}
	if err := r2.Restore(f1); err != nil {
		t.Fatal(err)
	}
	if err := r2.Restore(f2); err != nil {
		t.Fatal(err)
	}
	if got := r2.Versions("f"); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Fatalf("restored versions %v", got)
	}
}

func TestRepositorySaveCopies(t *testing.T) {
	r := &Repository{}
	f := mustParse(t, `{"id":"f","entry":"a","nodes":[{"id":"a","type":"hangup","prompt":"one"}]}`)
	if _, err := r.Save(f); err != nil {
		t.Fatal(err)
	}
	f.Node("a").Spec.(*Hangup).Prompt.File = "changed"
	got, _ := r.Flow("f", 1)
	if got.Node("a").Spec.(*Hangup).Prompt.File != "one" {
		t.Fatal("a saved version changed with the caller's copy")
	}
}

// TestRepositoryConcurrent saves new versions while calls run; run it
// with -race.
func TestRepositoryConcurrent(t *testing.T) {
	r := repoOf(t, `{"id":"f","entry":"m","nodes":[
		{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"}},
		{"id":"bye","type":"hangup"}]}`)
	e := &Engine{Flows: r}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				call := &scriptedCall{script: []string{"1"}}
				if res, _ := e.Run(context.Background(), call, Request{Flow: "f"}); res.End != EndHangup {
					t.Errorf("end %v", res.End)
					return
				}
			}
		}()
	}
	for i := 0; i < 50; i++ {
		if _, err := r.SaveJSON([]byte(`{"id":"f","entry":"m","nodes":[
			{"id":"m","type":"menu","prompt":"main","options":{"1":"bye"}},
			{"id":"bye","type":"hangup"}]}`)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if n := len(r.Versions("f")); n != 51 {
		t.Fatalf("%d versions", n)
	}
}

func TestDirCatalogue(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "digits"), 0o755)
	for _, name := range []string{"welcome.wav", "digits/1.ulaw", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "dir.wav"), 0o755)
	c := DirCatalogue{Dir: dir}
	for name, want := range map[string]bool{
		"welcome": true, "digits/1": true, "notes": false, "missing": false,
		"dir": false, "../" + filepath.Base(dir) + "/welcome": false, "/etc/passwd": false,
	} {
		if got := c.HasPrompt(name); got != want {
			t.Errorf("HasPrompt(%q) = %v", name, got)
		}
	}
}

// memStore is a FlowStore in memory.
type memStore struct {
	rows []memRow
	fail error
}

type memRow struct {
	id      string
	version int
	data    []byte
}

func (m *memStore) PutFlow(id string, version int, data []byte) error {
	if m.fail != nil {
		return m.fail
	}
	m.rows = append(m.rows, memRow{id, version, append([]byte(nil), data...)})
	return nil
}

func (m *memStore) EachFlow(fn func(id string, version int, data []byte) error) error {
	for _, r := range m.rows {
		if err := fn(r.id, r.version, r.data); err != nil {
			return err
		}
	}
	return nil
}

func TestRepositoryStore(t *testing.T) {
	st := &memStore{}
	r := &Repository{Store: st}
	for _, p := range []string{"one", "two"} {
		if _, err := r.SaveJSON([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"hangup","prompt":"` + p + `"}]}`)); err != nil {
			t.Fatal(err)
		}
	}
	st.fail = errors.New("disk full")
	if _, err := r.SaveJSON([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"hangup"}]}`)); !errors.Is(err, st.fail) {
		t.Fatalf("save with a failing store: %v", err)
	}
	if n := len(r.Versions("f")); n != 2 {
		t.Fatalf("a version the store refused was kept: %d versions", n)
	}
	st.fail = nil
	r2 := &Repository{Store: st}
	if err := r2.Load(); err != nil {
		t.Fatal(err)
	}
	for v, want := range map[int]string{1: "one", 2: "two"} {
		f, err := r2.Flow("f", v)
		if err != nil || f.Node("a").Spec.(*Hangup).Prompt.File != want {
			t.Fatalf("version %d after load: %v", v, err)
		}
	}
	// A row that does not hold what its key says is refused.
	st.rows[1].version = 3
	if err := (&Repository{Store: st}).Load(); err == nil {
		t.Fatal("loaded a mislabelled version")
	}
}
