package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"callbox/firmware/store"
	"callbox/telephony/ivr"
)

// IVRStore keeps every saved version of every IVR flow in the store: it
// implements ivr.FlowStore. A version once stored is never replaced, since
// calls may be running it and the version number is what logs refer to.
type IVRStore struct{ db *store.DB }

var _ ivr.FlowStore = (*IVRStore)(nil)

// NewIVRStore returns the IVR's view of an open store.
func NewIVRStore(db *store.DB) *IVRStore { return &IVRStore{db: db} }

// flowKey is the flow id then the big-endian version, so one flow's
// versions are adjacent and ascend.
func flowKey(id string, version int) store.Key {
	return store.Key(nil).AppendString(id).AppendUint64(uint64(version))
}

// PutFlow implements ivr.FlowStore. data must be JSON and version at least
// 1. Storing the same bytes again under a version is a no-op (a retried
// save); other bytes under a stored version are refused with an error
// wrapping store.ErrConflict, so a repository that forgot to Load cannot
// overwrite history.
func (s *IVRStore) PutFlow(id string, version int, data []byte) error {
	var bad error
	switch {
	case id == "":
		bad = &store.FieldError{Entity: "ivr flow", Field: "id", Reason: "must not be empty"}
	case version < 1:
		bad = &store.FieldError{Entity: "ivr flow", Field: "version", Reason: fmt.Sprintf("must be at least 1, have %d", version)}
	case !json.Valid(data):
		bad = &store.FieldError{Entity: "ivr flow", Field: "data", Reason: "must be JSON"}
	}
	if bad != nil {
		return fmt.Errorf("app: flow %q version %d: %w", id, version, bad)
	}
	key := flowKey(id, version)
	err := s.db.Update(func(tx *store.Tx) error {
		old, err := tx.Get(store.IVRFlows, key)
		switch {
		case err == nil && bytes.Equal(old, data):
			return nil
		case err == nil:
			return fmt.Errorf("already stored with other contents: %w", store.ErrConflict)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return tx.Put(store.IVRFlows, key, data)
	})
	if err != nil {
		return fmt.Errorf("app: flow %q version %d: %w", id, version, err)
	}
	return nil
}

type flowRow struct {
	id      string
	version int
	data    []byte
}

// EachFlow implements ivr.FlowStore: flows in id order, each one's
// versions ascending. It reads everything first and calls fn outside the
// transaction, so fn may itself write to the store.
func (s *IVRStore) EachFlow(fn func(id string, version int, data []byte) error) error {
	var rows []flowRow
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(store.IVRFlows, nil, func(k, v []byte) error {
			id, rest, err := store.CutString(k)
			if err != nil {
				return fmt.Errorf("key %x: %w", k, err)
			}
			v64, rest, err := store.CutUint64(rest)
			if err != nil || len(rest) != 0 || v64 < 1 || v64 > math.MaxInt {
				return fmt.Errorf("key %x: not a flow id and version", k)
			}
			rows = append(rows, flowRow{id, int(v64), bytes.Clone(v)})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("app: ivr flows: %w", err)
	}
	for _, r := range rows {
		if err := fn(r.id, r.version, r.data); err != nil {
			return err
		}
	}
	return nil
}
