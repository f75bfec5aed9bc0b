package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/cc"
	"callbox/telephony/crm"
	"callbox/telephony/crm/kb"
	"callbox/telephony/crm/kv"
	"callbox/telephony/crm/workorder"
	"callbox/telephony/recording"
	"callbox/webui"
)

// kvStore hands the store to the record packages (telephony/crm and
// below) as a kv.Store: their buckets are store record buckets of the same
// names, which schema 6 created. A full disk reaches the web admin as
// webui.ErrNoSpace.
type kvStore struct{ db *store.DB }

func (s kvStore) View(f func(kv.Tx) error) error {
	return s.db.View(func(tx *store.Tx) error { return f(kvTx{tx}) })
}

func (s kvStore) Update(f func(kv.Tx) error) error {
	err := s.db.Update(func(tx *store.Tx) error { return f(kvTx{tx}) })
	if errors.Is(err, store.ErrNoSpace) {
		return fmt.Errorf("%w: %w", webui.ErrNoSpace, err)
	}
	return err
}

type kvTx struct{ tx *store.Tx }

func (t kvTx) Get(b kv.Bucket, key []byte) ([]byte, error) {
	v, err := t.tx.Get(store.Records(b), key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", kv.ErrNotFound, err)
	}
	return v, err
}

func (t kvTx) Put(b kv.Bucket, key, value []byte) error {
	return t.tx.Put(store.Records(b), key, value)
}
func (t kvTx) Delete(b kv.Bucket, key []byte) error { return t.tx.Delete(store.Records(b), key) }
func (t kvTx) NextSeq(b kv.Bucket) (uint64, error)  { return t.tx.NextSeq(store.Records(b)) }

func (t kvTx) Each(b kv.Bucket, prefix []byte, fn func(key, value []byte) error) error {
	return t.tx.Each(store.Records(b), prefix, fn)
}

// recordsRun is the customer-service records while the box runs.
type recordsRun struct {
	dir    *crm.Directory
	kb     *kb.Base
	orders *workorder.Service
	recs   crm.Recordings
}

// startRecords opens the customer directory, the knowledge base and the
// work orders over the store (their search indexes are built here), and
// indexes the call records by party once for the customer card.
func (a *App) startRecords(ctx context.Context) error {
	var db *store.DB
	if err := a.withDB(func(d *store.DB) error { db = d; return nil }); err != nil {
		return err
	}
	st := kvStore{db}
	t0 := time.Now()
	dir, err := crm.Open(st, crm.Options{Log: a.log.With("component", "crm")})
	if err != nil {
		return err
	}
	base, err := kb.Open(st, kb.Options{})
	if err != nil {
		return err
	}
	orders, err := workorder.Open(st, workorder.Options{})
	if err != nil {
		return err
	}
	recs := factRecordings{db: db, media: a.mediaServices}
	dir.SetHistory(cdrHistory{db}, orders, recs)
	n, err := backfillCDRParties(db, dir.LocalArea)
	if err != nil {
		// The card then misses older calls; the rest works.
		a.log.Error("call records not indexed by number", "err", err)
	} else if n > 0 {
		a.log.Info("call records indexed by number for the customer card", "records", n)
	}
	customers, _ := dir.Stats()
	a.log.Info("customer records open", "customers", customers, "took", time.Since(t0).Round(time.Millisecond))
	a.mu.Lock()
	a.rec = &recordsRun{dir: dir, kb: base, orders: orders, recs: recs}
	a.mu.Unlock()
	return nil
}

func (a *App) stopRecords(ctx context.Context) error {
	a.mu.Lock()
	a.rec = nil
	a.mu.Unlock()
	return nil
}

// webRecords is what the web admin serves of the records; nil before they
// are open.
func (a *App) webRecords() *webui.Records {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rec == nil {
		return nil
	}
	return &webui.Records{Customers: a.rec.dir, KB: a.rec.kb, Orders: a.rec.orders, Recordings: a.rec.recs, Dial: a.dialFromOrder}
}

// localArea is the directory's area code, for indexing call records.
func (a *App) localArea() string {
	a.mu.Lock()
	r := a.rec
	a.mu.Unlock()
	if r == nil {
		return ""
	}
	return r.dir.LocalArea()
}

// The call-party index (store.CDRParty): for each party number of a call
// record, normalised as the directory does, number 0x00, the call's start
// time inverted (newest first) and its id, with the record's key as value.
// A marker key (0xFF...) records that the records before the index existed
// were indexed.
var cdrPartyDone = []byte("\xffbackfilled")

func cdrPartyKey(number string, start time.Time, id string) []byte {
	return kv.Key(nil).Str(number).U64(^uint64(start.UnixNano())).Str(id)
}

// cdrParties returns a record's distinct party numbers that look like
// customers' numbers (extensions and short codes are left out).
func cdrParties(c *CDR, area string) []string {
	var out []string
	add := func(raw string) {
		n, err := crm.ParseNumber(raw, area)
		if err != nil || len(n.Digits) < 5 || slices.Contains(out, n.Digits) {
			return
		}
		out = append(out, n.Digits)
	}
	add(c.From)
	add(c.To)
	for _, l := range c.Legs {
		add(l.Party)
	}
	return out
}

func indexCDR(tx *store.Tx, c *CDR, key []byte, area string) error {
	for _, n := range cdrParties(c, area) {
		if err := tx.Put(store.CDRParty, cdrPartyKey(n, c.Start, c.ID), key); err != nil {
			return err
		}
	}
	return nil
}

// backfillCDRParties indexes the call records stored before the index
// existed, once.
func backfillCDRParties(db *store.DB, area func() string) (int, error) {
	n := 0
	err := db.Update(func(tx *store.Tx) error {
		if _, err := tx.Get(store.CDRParty, cdrPartyDone); err == nil {
			return nil
		}
		err := tx.Each(store.CDRs, nil, func(k, v []byte) error {
			var c CDR
			if err := json.Unmarshal(v, &c); err != nil {
				return nil // a damaged record stays out of the index
			}
			n++
			return indexCDR(tx, &c, slices.Clone(k), area())
		})
		if err != nil {
			return err
		}
		return tx.Put(store.CDRParty, cdrPartyDone, nil)
	})
	return n, err
}

// cdrHistory is the customer card's call history (crm.CallHistory).
type cdrHistory struct{ db *store.DB }

// Calls returns the newest calls of any of numbers.
func (h cdrHistory) Calls(numbers []string, limit int) ([]crm.Call, error) {
	type ref struct {
		key   []byte
		start uint64 // inverted
	}
	var refs []ref
	var out []crm.Call
	err := h.db.View(func(tx *store.Tx) error {
		for _, n := range numbers {
			i := 0
			err := tx.Each(store.CDRParty, kv.Key(nil).Str(n), func(k, v []byte) error {
				if i++; i > limit {
					return errPageFull
				}
				inv, _, err := kv.CutU64(k[len(n)+1:])
				refs = append(refs, ref{key: slices.Clone(v), start: inv})
				return err
			})
			if err != nil && err != errPageFull {
				return err
			}
		}
		slices.SortFunc(refs, func(a, b ref) int { return cmp.Compare(a.start, b.start) })
		seen := map[string]bool{}
		for _, r := range refs {
			if len(out) == limit || seen[string(r.key)] {
				continue
			}
			seen[string(r.key)] = true
			v, err := tx.Get(store.CDRs, r.key)
			if errors.Is(err, store.ErrNotFound) {
				continue // pruned
			}
			if err != nil {
				return err
			}
			var c CDR
			if err := json.Unmarshal(v, &c); err != nil {
				continue
			}
			out = append(out, crm.Call{ID: c.ID, From: c.From, To: c.To, Start: c.Start, DurationS: c.DurationS, Disposition: c.Disposition})
		}
		return nil
	})
	return out, err
}

// factRecordings is the customer card's recordings (crm.Recordings) until
// the media services keep an index of their own: the recording the call
// centre noted in a call's fact row (telephony/cc keys them by its call
// id, which the desks write into a communication record's linked call).
type factRecordings struct {
	db *store.DB
	// media is the media recorder, whose index names the recordings of
	// calls without a fact row (agents' outbound calls); nil: none.
	media func() *mediaRun
}

// CallRecordings returns the recordings of those of calls that have one.
func (r factRecordings) CallRecordings(calls []string) ([]crm.Recording, error) {
	out := []crm.Recording{}
	seen := map[string]bool{}
	var noFact []string
	err := r.db.View(func(tx *store.Tx) error {
		for _, id := range calls {
			if seen[id] {
				continue
			}
			seen[id] = true
			v, err := tx.Get(store.CCFacts, store.Key(nil).AppendString(id))
			if errors.Is(err, store.ErrNotFound) {
				noFact = append(noFact, id) // an outbound call, or one the call centre did not handle
				continue
			}
			if err != nil {
				return err
			}
			var f cc.Fact
			if err := json.Unmarshal(v, &f); err != nil || f.Recording == "" {
				continue // a damaged row leaves the rest of the card
			}
			r := crm.Recording{ID: f.Recording, Call: id, Start: f.Queued}
			if recording.ValidID(f.Recording) { // the media recorder's: playable and downloadable
				r.URL = "/api/v1/recordings/" + f.Recording + "/audio"
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("app: recordings: %w", err)
	}
	var m *mediaRun
	if r.media != nil {
		m = r.media()
	}
	for _, id := range noFact {
		if m == nil {
			break
		}
		list, err := m.rec.Search(recording.Query{Service: id, Limit: 10})
		if err != nil {
			return nil, fmt.Errorf("app: recordings: %w", err)
		}
		for i := len(list) - 1; i >= 0; i-- { // oldest first, as the call went
			out = append(out, crm.Recording{ID: list[i].ID, Call: id, Start: list[i].Start,
				URL: "/api/v1/recordings/" + list[i].ID + "/audio"})
		}
	}
	return out, nil
}
