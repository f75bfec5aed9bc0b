package app

import (
	"bytes"
	"fmt"

	"callbox/firmware/cli/configcli"
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

// PutFlow implements ivr.FlowStore. data must be JSON and version at least
// 1. Storing the same bytes again under a version is a no-op (a retried
// save); other bytes under a stored version are refused with an error
// wrapping store.ErrConflict, so a repository that forgot to Load cannot
// overwrite history. An import stores versions the same way
// (configcli.PutFlowVersion), in its own transaction.
func (s *IVRStore) PutFlow(id string, version int, data []byte) error {
	err := s.db.Update(func(tx *store.Tx) error { return configcli.PutFlowVersion(tx, id, version, data) })
	if err != nil {
		return fmt.Errorf("app: %w", err)
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
		return configcli.EachFlowVersion(tx, func(id string, version int, data []byte) error {
			rows = append(rows, flowRow{id, version, bytes.Clone(data)})
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
