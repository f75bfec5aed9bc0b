package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/acd"
)

// ACDStore keeps the ACD engine's data in the store: it implements
// acd.ConfigStore, acd.StatusLog and acd.CallbackStore with JSON values.
// Every write is one committed transaction, so what a method acknowledged
// survives a crash or power cut. It is safe for concurrent use.
type ACDStore struct{ db *store.DB }

var (
	_ acd.ConfigStore   = (*ACDStore)(nil)
	_ acd.StatusLog     = (*ACDStore)(nil)
	_ acd.CallbackStore = (*ACDStore)(nil)
)

// NewACDStore returns the ACD's view of an open store.
func NewACDStore(db *store.DB) *ACDStore { return &ACDStore{db: db} }

// The configuration is one record; the status log is keyed by agent, time
// and sequence number, so one agent's time range is a single cursor seek
// and entries at the same instant keep the order they were appended in.
var acdConfigKey = []byte("config")

// statusPrefix selects one agent's status entries.
func statusPrefix(agent acd.AgentID) store.Key {
	return store.Key(nil).AppendString(string(agent))
}

func callbackKey(call acd.CallID) store.Key {
	return store.Key(nil).AppendString(string(call))
}

// LoadConfig implements acd.ConfigStore.
func (s *ACDStore) LoadConfig() (c acd.Config, ok bool, err error) {
	err = s.db.View(func(tx *store.Tx) error {
		data, err := tx.Get(store.ACDConfig, acdConfigKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		return json.Unmarshal(data, &c)
	})
	if err != nil {
		return acd.Config{}, false, fmt.Errorf("app: load acd config: %w", err)
	}
	return c, ok, nil
}

// SaveConfig implements acd.ConfigStore.
func (s *ACDStore) SaveConfig(c acd.Config) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("app: save acd config: %w", err)
	}
	if err := s.db.Update(func(tx *store.Tx) error { return tx.Put(store.ACDConfig, acdConfigKey, data) }); err != nil {
		return fmt.Errorf("app: save acd config: %w", err)
	}
	return nil
}

// AppendStatus implements acd.StatusLog.
func (s *ACDStore) AppendStatus(e acd.StatusEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("app: agent %s status: %w", e.Agent, err)
	}
	err = s.db.Update(func(tx *store.Tx) error {
		seq, err := tx.NextSeq(store.ACDStatus)
		if err != nil {
			return err
		}
		return tx.Put(store.ACDStatus, statusPrefix(e.Agent).AppendTime(e.At).AppendUint64(seq), data)
	})
	if err != nil {
		return fmt.Errorf("app: agent %s status: %w", e.Agent, err)
	}
	return nil
}

// StatusEntries implements acd.StatusLog: the agent's entries with
// from <= At < to, oldest first; entries at the same instant in the order
// they were appended.
func (s *ACDStore) StatusEntries(agent acd.AgentID, from, to time.Time) ([]acd.StatusEntry, error) {
	if !from.Before(to) {
		return nil, nil
	}
	var out []acd.StatusEntry
	lo := statusPrefix(agent).AppendTime(from)
	hi := statusPrefix(agent).AppendTime(to)
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Range(store.ACDStatus, lo, hi, func(k, v []byte) error {
			var e acd.StatusEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("entry %x: %w", k, err)
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: agent %s status log: %w", agent, err)
	}
	return out, nil
}

// PruneStatus removes every agent's status entries from before the given
// time and returns how many it removed. The log grows with every state
// change, by about 280 bytes of file an entry (BenchmarkStatusEntriesDay):
// some 1.7 MB a day for 30 agents changing state 200 times each, so the box
// should keep a retention period and prune what is older.
func (s *ACDStore) PruneStatus(before time.Time) (n int, err error) {
	err = s.db.Update(func(tx *store.Tx) error {
		var start []byte // the first key not yet visited; nil is the beginning
		for {
			agent, ok, err := firstAgent(tx, start)
			if err != nil || !ok {
				return err
			}
			p := statusPrefix(agent)
			m, err := tx.DeleteRange(store.ACDStatus, p, statusPrefix(agent).AppendTime(before))
			if err != nil {
				return err
			}
			n += m
			// Past this agent's keys: the prefix ends in the string
			// terminator 0x00 0x01, and every longer id continues the
			// 0x00 with 0xFF, so raising the 0x01 skips exactly them.
			p[len(p)-1]++
			start = p
		}
	})
	if err != nil {
		return 0, fmt.Errorf("app: prune status log: %w", err)
	}
	return n, nil
}

var errFound = errors.New("found")

// firstAgent returns the agent of the first status key at or after start.
func firstAgent(tx *store.Tx, start []byte) (agent acd.AgentID, ok bool, err error) {
	err = tx.Range(store.ACDStatus, start, nil, func(k, v []byte) error {
		id, _, err := store.CutString(k)
		if err != nil {
			return fmt.Errorf("entry %x: %w", k, err)
		}
		agent, ok = acd.AgentID(id), true
		return errFound
	})
	if err == errFound {
		err = nil
	}
	return agent, ok, err
}

// PutCallback implements acd.CallbackStore.
func (s *ACDStore) PutCallback(cb acd.Callback) error {
	data, err := json.Marshal(cb)
	if err != nil {
		return fmt.Errorf("app: callback %s: %w", cb.Call, err)
	}
	if err := s.db.Update(func(tx *store.Tx) error { return tx.Put(store.ACDCallbacks, callbackKey(cb.Call), data) }); err != nil {
		return fmt.Errorf("app: callback %s: %w", cb.Call, err)
	}
	return nil
}

// DeleteCallback implements acd.CallbackStore; deleting a callback that is
// not stored is not an error.
func (s *ACDStore) DeleteCallback(call acd.CallID) error {
	if err := s.db.Update(func(tx *store.Tx) error { return tx.Delete(store.ACDCallbacks, callbackKey(call)) }); err != nil {
		return fmt.Errorf("app: delete callback %s: %w", call, err)
	}
	return nil
}

// Callbacks implements acd.CallbackStore, in call id order.
func (s *ACDStore) Callbacks() ([]acd.Callback, error) {
	out := []acd.Callback{}
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(store.ACDCallbacks, nil, func(k, v []byte) error {
			var cb acd.Callback
			if err := json.Unmarshal(v, &cb); err != nil {
				return fmt.Errorf("record %x: %w", k, err)
			}
			out = append(out, cb)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: callbacks: %w", err)
	}
	return out, nil
}
