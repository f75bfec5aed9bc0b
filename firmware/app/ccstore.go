package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
)

// factStore keeps the call centre's fact rows and agents' device bindings in
// the store: it implements cc.FactStore and cc.DeviceStore. Each write is
// one committed transaction.
type factStore struct{ db *store.DB }

var (
	_ cc.FactStore   = (*factStore)(nil)
	_ cc.DeviceStore = (*factStore)(nil)
	_ cc.FactReader  = (*factStore)(nil)
)

// PutFact implements cc.FactStore: the row of f.Call, inserted or
// replaced.
func (s *factStore) PutFact(f cc.Fact) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("app: fact %s: %w", f.Call, err)
	}
	key := store.Key(nil).AppendString(f.Call)
	err = s.db.Update(func(tx *store.Tx) error {
		if err := tx.Put(store.CCFacts, key, data); err != nil {
			return err
		}
		return listForExport(tx, store.ExportFacts, key)
	})
	if err != nil {
		return fmt.Errorf("app: fact %s: %w", f.Call, err)
	}
	return nil
}

// Facts returns every stored fact row, in call id order (which starts
// with the call's time).
func (s *factStore) Facts() ([]cc.Fact, error) {
	var out []cc.Fact
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(store.CCFacts, nil, func(k, v []byte) error {
			var f cc.Fact
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("fact %x: %w", k, err)
			}
			out = append(out, f)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: facts: %w", err)
	}
	return out, nil
}

// FactsSince implements cc.FactReader: call ids begin with the call's
// time (UTC, 20060102T150405), so the rows from a time on are one range
// of keys.
func (s *factStore) FactsSince(from time.Time) ([]cc.Fact, error) {
	var out []cc.Fact
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Range(store.CCFacts, []byte(from.UTC().Format("20060102T150405")), nil, func(k, v []byte) error {
			var f cc.Fact
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("fact %x: %w", k, err)
			}
			out = append(out, f)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: facts since %s: %w", from.Format(time.RFC3339), err)
	}
	return out, nil
}

// PutDevice implements cc.DeviceStore.
func (s *factStore) PutDevice(agent acd.AgentID, d cc.Device) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("app: agent %s device: %w", agent, err)
	}
	key := store.Key(nil).AppendString(string(agent))
	if err := s.db.Update(func(tx *store.Tx) error { return tx.Put(store.CCDevices, key, data) }); err != nil {
		return fmt.Errorf("app: agent %s device: %w", agent, err)
	}
	return nil
}

// DeleteDevice implements cc.DeviceStore.
func (s *factStore) DeleteDevice(agent acd.AgentID) error {
	key := store.Key(nil).AppendString(string(agent))
	err := s.db.Update(func(tx *store.Tx) error {
		if err := tx.Delete(store.CCDevices, key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("app: agent %s device: %w", agent, err)
	}
	return nil
}

// Devices implements cc.DeviceStore.
func (s *factStore) Devices() (map[acd.AgentID]cc.Device, error) {
	out := map[acd.AgentID]cc.Device{}
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(store.CCDevices, nil, func(k, v []byte) error {
			id, _, err := store.CutString(k)
			if err != nil {
				return fmt.Errorf("device %x: %w", k, err)
			}
			var d cc.Device
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("device %x: %w", k, err)
			}
			out[acd.AgentID(id)] = d
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: device bindings: %w", err)
	}
	return out, nil
}
