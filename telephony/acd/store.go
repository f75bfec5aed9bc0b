package acd

import (
	"slices"
	"sync"
	"time"
)

// The engine persists through these three small interfaces; firmware/store
// implements them over bbolt and MemStore implements them in memory. Every
// method must be safe for concurrent use. Values are plain data and can be
// encoded as JSON.

// ConfigStore keeps the ACD configuration.
type ConfigStore interface {
	// LoadConfig returns the stored configuration; ok is false when none was saved.
	LoadConfig() (c Config, ok bool, err error)
	SaveConfig(c Config) error
}

// StatusLog keeps the agent status log: one entry per state change.
type StatusLog interface {
	AppendStatus(e StatusEntry) error
	// StatusEntries returns an agent's entries with from <= At < to, oldest first.
	StatusEntries(agent AgentID, from, to time.Time) ([]StatusEntry, error)
}

// StatusEntry is one agent state change.
type StatusEntry struct {
	Agent  AgentID   `json:"agent"`
	At     time.Time `json:"at"`
	From   State     `json:"from"`
	To     State     `json:"to"`
	Reason string    `json:"reason,omitempty"`
	Call   CallID    `json:"call,omitempty"`
}

// CallbackStore keeps pending callbacks so they survive a restart.
type CallbackStore interface {
	// PutCallback inserts or replaces the callback with cb.Call.
	PutCallback(cb Callback) error
	DeleteCallback(call CallID) error
	// Callbacks returns every pending callback, in any order.
	Callbacks() ([]Callback, error)
}

// Callback is a caller who left the queue keeping their place.
type Callback struct {
	Call     CallID    `json:"call"`
	Number   string    `json:"number"`
	Type     int       `json:"type"`   // customer type id
	Groups   []int     `json:"groups"` // as routed when queued
	Queued   time.Time `json:"queued"` // original entry time: the place in the queue
	Tries    int       `json:"tries"`
	NotUntil time.Time `json:"not_until"` // next attempt not before
}

// MemStore implements ConfigStore, StatusLog and CallbackStore in memory,
// for tests and the simulator.
type MemStore struct {
	mu        sync.Mutex
	config    *Config
	status    []StatusEntry
	callbacks map[CallID]Callback
	// DiscardStatus drops status entries (the simulator needs no log).
	DiscardStatus bool
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{callbacks: map[CallID]Callback{}} }

// LoadConfig implements ConfigStore.
func (m *MemStore) LoadConfig() (Config, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.config == nil {
		return Config{}, false, nil
	}
	return *m.config, true, nil
}

// SaveConfig implements ConfigStore.
func (m *MemStore) SaveConfig(c Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.config = &c
	return nil
}

// AppendStatus implements StatusLog.
func (m *MemStore) AppendStatus(e StatusEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.DiscardStatus {
		m.status = append(m.status, e)
	}
	return nil
}

// StatusEntries implements StatusLog.
func (m *MemStore) StatusEntries(agent AgentID, from, to time.Time) ([]StatusEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StatusEntry
	for _, e := range m.status {
		if e.Agent == agent && !e.At.Before(from) && e.At.Before(to) {
			out = append(out, e)
		}
	}
	return out, nil
}

// PutCallback implements CallbackStore.
func (m *MemStore) PutCallback(cb Callback) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cb.Groups = slices.Clone(cb.Groups)
	m.callbacks[cb.Call] = cb
	return nil
}

// DeleteCallback implements CallbackStore.
func (m *MemStore) DeleteCallback(call CallID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.callbacks, call)
	return nil
}

// Callbacks implements CallbackStore.
func (m *MemStore) Callbacks() ([]Callback, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Callback, 0, len(m.callbacks))
	for _, cb := range m.callbacks {
		cb.Groups = slices.Clone(cb.Groups)
		out = append(out, cb)
	}
	return out, nil
}
