package crm

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"callbox/telephony/crm/kv"
)

// Comm is a communication record (沟通记录): what a customer asked or
// ordered in one service, by phone or noted by hand, with the call, the
// recording and the work order it belongs to.
type Comm struct {
	ID        uint64    `json:"id"`
	Customer  uint64    `json:"customer"`
	Type      uint64    `json:"type"` // a CommType
	Text      string    `json:"text"`
	Call      string    `json:"call,omitempty"`      // the call log's or the call centre's call id
	Recording string    `json:"recording,omitempty"` // the recording's id
	WorkOrder uint64    `json:"work_order,omitempty"`
	Agent     string    `json:"agent"` // who wrote it
	Time      time.Time `json:"time"`
}

func commIndexKey(customer uint64, t time.Time, id uint64) []byte {
	return kv.Key{idxComm}.U64(customer).Time(t).U64(id)
}

// AddComm records a communication with a customer a may see. Agent and
// Time are set here.
func (d *Directory) AddComm(a Actor, c Comm) (Comm, error) {
	const e = "comm"
	c.Text = strings.TrimSpace(c.Text)
	if err := CheckText(e, "text", c.Text, MaxTextLen, true, true); err != nil {
		return c, err
	}
	for _, f := range []struct{ name, v string }{{"call", c.Call}, {"recording", c.Recording}} {
		if err := CheckText(e, f.name, f.v, 128, false, false); err != nil {
			return c, err
		}
	}
	err := d.st.Update(func(tx kv.Tx) error {
		cust, err := getCustomer(tx, c.Customer)
		if err != nil || !visible(a, &cust) {
			return Invalid(e, "customer", "no customer %d", c.Customer)
		}
		var t CommType
		if err := Load(tx, BucketMeta, metaKey(metaCommType, c.Type), "", &t); err != nil || t.Disabled {
			return Invalid(e, "type", "no communication type %d in use", c.Type)
		}
		if c.ID, err = tx.NextSeq(BucketComms); err != nil {
			return err
		}
		c.Agent, c.Time = a.Login, d.now()
		if err := tx.Put(BucketIndex, commIndexKey(c.Customer, c.Time, c.ID), nil); err != nil {
			return err
		}
		return kv.PutJSON(tx, BucketComms, kv.Key(nil).U64(c.ID), c)
	})
	return c, err
}

// Comms returns a customer's communication records, newest first, at most
// limit.
func (d *Directory) Comms(a Actor, customer uint64, limit int) ([]Comm, error) {
	if _, err := d.Get(a, customer); err != nil {
		return nil, err
	}
	out := []Comm{}
	err := d.st.View(func(tx kv.Tx) error {
		var ids []uint64
		err := tx.Each(BucketIndex, kv.Key{idxComm}.U64(customer), func(k, _ []byte) error {
			id, _, err := kv.CutU64(k[len(k)-8:])
			ids = append(ids, id)
			return err
		})
		if err != nil {
			return err
		}
		slices.Reverse(ids)
		for _, id := range ids[:min(len(ids), limit)] {
			var c Comm
			if err := Load(tx, BucketComms, kv.Key(nil).U64(id), fmt.Sprintf("communication %d", id), &c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}
