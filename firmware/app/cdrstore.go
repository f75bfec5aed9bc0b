package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/switch/cdr"
	"callbox/webui"
)

// cdrQueue is how many finished calls may wait for the store.
const cdrQueue = 1024

// cdrWriter is the switch's cdr.Sink: Write queues the record without
// blocking the frame clock, and a goroutine stores what is queued in
// batches, one bbolt transaction (and one fsync) per batch.
type cdrWriter struct {
	db      *store.DB
	log     *slog.Logger
	q       chan cdr.Record
	dropped atomic.Uint64
	written atomic.Uint64
	wg      sync.WaitGroup
	// area is the customer directory's local area code, for the
	// call-party index (records.go); nil: none.
	area func() string
}

func newCDRWriter(db *store.DB, log *slog.Logger) *cdrWriter {
	return &cdrWriter{db: db, log: log, q: make(chan cdr.Record, cdrQueue)}
}

// Write implements cdr.Sink. A full queue (the disk stalled for over a
// thousand calls) drops the record and counts it.
func (w *cdrWriter) Write(r cdr.Record) {
	select {
	case w.q <- r:
	default:
		w.dropped.Add(1)
	}
}

// start stores records until ctx ends, then stores what is still queued.
func (w *cdrWriter) start(ctx context.Context) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		batch := make([]cdr.Record, 0, 64)
		for {
			select {
			case r := <-w.q:
				batch = append(batch[:0], r)
			drain:
				for len(batch) < cap(batch) {
					select {
					case r := <-w.q:
						batch = append(batch, r)
					default:
						break drain
					}
				}
				w.store(batch)
			case <-ctx.Done():
				for {
					select {
					case r := <-w.q:
						w.store([]cdr.Record{r})
					default:
						return
					}
				}
			}
		}
	}()
}

// wait returns once the writer has stored what was queued at the stop.
func (w *cdrWriter) wait() { w.wg.Wait() }

func (w *cdrWriter) store(batch []cdr.Record) {
	err := w.db.Update(func(tx *store.Tx) error {
		area := ""
		if w.area != nil {
			area = w.area()
		}
		for i := range batch {
			c := toStoredCDR(batch[i])
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			key := cdrKey(batch[i].Start, batch[i].ID)
			if err := tx.Put(store.CDRs, key, v); err != nil {
				return err
			}
			if err := indexCDR(tx, &c, key, area); err != nil {
				return err
			}
			if err := listForExport(tx, store.ExportCDR, key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.log.Error("cdr not stored", "records", len(batch), "err", err)
		return
	}
	w.written.Add(uint64(len(batch)))
}

// cdrKey orders records by start time, then id (unique per call).
func cdrKey(start time.Time, id string) []byte {
	return store.Key(nil).AppendTime(start).AppendString(id)
}

// CDR is a stored call detail record, in the JSON the web API serves.
type CDR struct {
	ID          string    `json:"id"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Start       time.Time `json:"start"`
	Answer      time.Time `json:"answer,omitzero"`
	End         time.Time `json:"end"`
	Disposition string    `json:"disposition"`
	Trunk       string    `json:"trunk,omitempty"`
	DurationS   float64   `json:"duration_s"`
	BillableS   int64     `json:"billable_s"`
	Cause       string    `json:"cause,omitempty"`
	Legs        []CDRLeg  `json:"legs"`
}

// CDRLeg is one channel's part in a stored call.
type CDRLeg struct {
	Channel string    `json:"channel"`
	Kind    string    `json:"kind"`
	Party   string    `json:"party,omitempty"`
	Trunk   string    `json:"trunk,omitempty"`
	Start   time.Time `json:"start"`
	Answer  time.Time `json:"answer,omitzero"`
	End     time.Time `json:"end"`
	Cause   string    `json:"cause,omitempty"`
}

func toStoredCDR(r cdr.Record) CDR {
	r.Finish()
	c := CDR{
		ID: r.ID, From: r.From, To: r.To, Start: r.Start.UTC(), Answer: utcOrZero(r.Answer), End: r.End.UTC(),
		Disposition: r.Disposition.String(), Trunk: r.Trunk, DurationS: r.Duration.Seconds(),
		BillableS: r.BillableSeconds(), Cause: r.Cause, Legs: make([]CDRLeg, 0, len(r.Legs)),
	}
	for _, l := range r.Legs {
		c.Legs = append(c.Legs, CDRLeg{Channel: l.Channel, Kind: l.Kind, Party: l.Party, Trunk: l.Trunk,
			Start: l.Start.UTC(), Answer: utcOrZero(l.Answer), End: l.End.UTC(), Cause: l.Cause})
	}
	return c
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// listCDRs returns up to limit records that started in [from, to) (a zero
// to is open-ended), oldest first, and the start time to ask from for the
// next page (zero when there is none).
func listCDRs(db *store.DB, from, to time.Time, limit int) (out []CDR, next time.Time, err error) {
	var end []byte
	if !to.IsZero() {
		end = store.Key(nil).AppendTime(to)
	}
	err = db.View(func(tx *store.Tx) error {
		return tx.Range(store.CDRs, store.Key(nil).AppendTime(from), end, func(k, v []byte) error {
			var c CDR
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			if len(out) == limit {
				next = c.Start
				return errPageFull
			}
			out = append(out, c)
			return nil
		})
	})
	if err == errPageFull {
		err = nil
	}
	return out, next, err
}

type pageFull struct{}

func (pageFull) Error() string { return "app: page full" }

var errPageFull error = pageFull{}

// callLog is the web admin's call log (webui.CallLog) on the store.
type callLog struct{ a *App }

// CallLog implements webui.CallLog on the store: the records of
// /api/v1/cdr, in the JSON of CDR.
func (s callLog) CallLog(ctx context.Context, from, to time.Time, limit int) ([]json.RawMessage, time.Time, error) {
	list, next, err := s.a.CDRs(from, to, limit)
	if err != nil {
		return nil, time.Time{}, err
	}
	out := make([]json.RawMessage, 0, len(list))
	for _, c := range list {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, time.Time{}, err
		}
		out = append(out, b)
	}
	return out, next, nil
}

// The web admin serves the call log when its System has one.
var _ webui.CallLog = callLog{}
