package ivr

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// ErrNoFlow is returned for a flow id or version that was never saved.
var ErrNoFlow = errors.New("ivr: no such flow")

// FlowStore persists flow versions; firmware/store implements it (ivr
// does not know the database).
type FlowStore interface {
	// PutFlow stores one version of a flow as JSON.
	PutFlow(id string, version int, data []byte) error
	// EachFlow calls fn for every stored version, the versions of each
	// flow in ascending order.
	EachFlow(fn func(id string, version int, data []byte) error) error
}

// Repository keeps every saved version of every flow. Saving validates
// the flow and gives it the next version number; old versions stay, so a
// call that started on one keeps running it. Flows it returns are shared
// and must not be modified.
type Repository struct {
	// Prompts, when set, is the catalogue saved flows are checked
	// against.
	Prompts PromptCatalogue
	// Documents, when set, is the fax documents saved flows' fax nodes
	// are checked against.
	Documents DocumentCatalogue
	// Store, when set, persists each saved version before Save returns;
	// a version the store refused is not kept. Load reads it back.
	Store FlowStore

	mu    sync.RWMutex
	flows map[string][]*Flow // versions in order: index i is version i+1
}

// Save validates f and stores a copy of it as the flow's next version,
// which it returns. A flow that fails validation is not stored; the
// error is a ValidationErrors.
func (r *Repository) Save(f *Flow) (int, error) {
	if err := Validate(f, ValidateOptions{Prompts: r.Prompts, Flows: r, Documents: r.Documents}); err != nil {
		return 0, err
	}
	c, err := cloneFlow(f)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flows == nil {
		r.flows = make(map[string][]*Flow)
	}
	c.Version = len(r.flows[c.ID]) + 1
	if r.Store != nil {
		data, err := json.Marshal(c)
		if err != nil {
			return 0, fmt.Errorf("ivr: save %q: %w", c.ID, err)
		}
		// Under the lock, so that versions reach the store in order.
		if err := r.Store.PutFlow(c.ID, c.Version, data); err != nil {
			return 0, fmt.Errorf("ivr: save %q version %d: %w", c.ID, c.Version, err)
		}
	}
	r.flows[c.ID] = append(r.flows[c.ID], c)
	return c.Version, nil
}

// Load restores every version kept in the Store, as at start-up.
func (r *Repository) Load() error {
	if r.Store == nil {
		return errors.New("ivr: load: no store")
	}
	return r.Store.EachFlow(func(id string, version int, data []byte) error {
		f, err := ParseFlow(data)
		if err != nil {
			return fmt.Errorf("ivr: load %q version %d: %w", id, version, err)
		}
		if f.ID != id || f.Version != version {
			return fmt.Errorf("ivr: load: stored as %q version %d, holds %q version %d", id, version, f.ID, f.Version)
		}
		return r.Restore(f)
	})
}

// SaveJSON parses and saves a flow.
func (r *Repository) SaveJSON(data []byte) (int, error) {
	f, err := ParseFlow(data)
	if err != nil {
		return 0, err
	}
	return r.Save(f)
}

// Restore puts back a version read from the store, with its number: the
// versions of one flow must come in order, 1 first. It does not validate
// against the catalogue, so a prompt deleted since the flow was saved
// does not lose the flow (at run time the engine copes with the missing
// file).
func (r *Repository) Restore(f *Flow) error {
	if err := Validate(f, ValidateOptions{}); err != nil {
		return err
	}
	c, err := cloneFlow(f)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flows == nil {
		r.flows = make(map[string][]*Flow)
	}
	if want := len(r.flows[c.ID]) + 1; c.Version != want {
		return fmt.Errorf("ivr: restore %q: version %d out of order, want %d", c.ID, c.Version, want)
	}
	r.flows[c.ID] = append(r.flows[c.ID], c)
	return nil
}

// Flow returns a version of a flow; version 0 is the latest.
func (r *Repository) Flow(id string, version int) (*Flow, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	vs := r.flows[id]
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrNoFlow, id)
	}
	if version == 0 {
		return vs[len(vs)-1], nil
	}
	if version < 0 || version > len(vs) {
		return nil, fmt.Errorf("%w: %q version %d", ErrNoFlow, id, version)
	}
	return vs[version-1], nil
}

// Versions lists the saved versions of a flow.
func (r *Repository) Versions(id string) []int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]int, len(r.flows[id]))
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// IDs lists the saved flows.
func (r *Repository) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]string, 0, len(r.flows))
	for id := range r.flows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// cloneFlow deep-copies a flow through its JSON form, so the stored
// version shares nothing with the caller's and is indexed.
func cloneFlow(f *Flow) (*Flow, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("ivr: copy flow: %w", err)
	}
	c, err := ParseFlow(data)
	if err != nil {
		return nil, fmt.Errorf("ivr: copy flow: %w", err)
	}
	return c, nil
}

// DirCatalogue is a PromptCatalogue over a directory of prompt files: a
// name is present when DIR/name plus one of Extensions is a file.
type DirCatalogue struct {
	Dir string
	// Extensions to try; nil is DefaultPromptExtensions.
	Extensions []string
}

// DefaultPromptExtensions are the prompt formats the box plays.
var DefaultPromptExtensions = []string{".wav", ".ulaw", ".alaw", ".sln", ".gsm", ".g722"}

// HasPrompt reports whether a prompt file exists.
func (c DirCatalogue) HasPrompt(name string) bool {
	if !isPromptName(name) {
		return false
	}
	exts := c.Extensions
	if exts == nil {
		exts = DefaultPromptExtensions
	}
	for _, ext := range exts {
		if fi, err := os.Stat(filepath.Join(c.Dir, filepath.FromSlash(name)+ext)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
