package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"callbox/firmware/export"
	"callbox/firmware/mail"
	"callbox/firmware/store"
	"callbox/firmware/webhook"
	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/sms"
	"callbox/webui"
)

// The outside interfaces (issue 12): the SMS outbox on a modem, email,
// webhooks with the event journal and the TCP event stream, and the push
// to an outside database. Their settings are JSON under these keys.
const (
	settingSMS    = "outside.sms"
	settingMail   = "outside.mail"
	settingExport = "outside.export"
)

// smsSettings are the modem's settings.
type smsSettings struct {
	Port string `json:"port"` // e.g. /dev/ttyUSB2; empty: SMS off
	Baud int    `json:"baud,omitempty"`
	PIN  string `json:"pin,omitempty"`
}

// outsideRun is the running outside interfaces.
type outsideRun struct {
	db     *store.DB
	log    *slog.Logger
	sms    *sms.Outbox
	mailer *mail.Mailer
	hooks  *webhook.Dispatcher
	stream *webhook.Stream
	push   *export.Pusher
	tokens *tokenStore
}

// startOutside starts the SMS outbox, the webhook dispatcher (reading the
// call centre's bus when it runs), the TCP event stream (when an address
// is configured) and the push, each with its stored settings. A part whose
// settings do not load is logged and left off; the rest work.
func (a *App) startOutside(ctx context.Context) error {
	a.mu.Lock()
	db := a.db
	a.mu.Unlock()
	log := a.log.With("component", "outside")
	o := &outsideRun{db: db, log: log, tokens: &tokenStore{db: db}}
	o.sms = sms.NewOutbox(sms.Config{Store: &smsStore{db: db}, Log: log})
	o.sms.SetPort(smsPort(loadSetting[smsSettings](db, log, settingSMS)))
	o.sms.Start(context.Background())
	o.mailer = &mail.Mailer{Settings: func() (mail.Settings, error) {
		var s mail.Settings
		return s, getSetting(db, settingMail, &s)
	}}
	var bus *ccevent.Bus
	if _, b := a.CallCentre(); b != nil {
		bus = b
	}
	jstore, err := newJournalStore(db)
	if err != nil {
		o.sms.Close()
		return err
	}
	o.hooks = webhook.New(webhook.Config{Store: jstore, Bus: bus, Log: log})
	if err := o.hooks.Start(context.Background()); err != nil {
		o.sms.Close()
		return err
	}
	if addr := a.cfg.EventStreamAddr; addr != "" {
		o.stream, err = o.hooks.ListenStream(context.Background(), addr, func(tok string) error {
			_, err := webui.VerifyToken(context.Background(), o.tokens, tok, "events:read", time.Now())
			return err
		})
		if err != nil {
			log.Error("event stream not started", "addr", addr, "err", err)
		} else {
			log.Info("event stream listening", "addr", o.stream.Addr())
		}
	}
	o.push = export.New(export.Config{Sources: []export.Source{&cdrSource{db: db}, &factSource{db: db}},
		Cursors: &exportCursors{db: db}, Log: log})
	o.push.SetSettings(loadSetting[export.Settings](db, log, settingExport))
	o.push.Start(context.Background())
	a.mu.Lock()
	a.outside = o
	a.mu.Unlock()
	return nil
}

func (a *App) stopOutside(ctx context.Context) error {
	a.mu.Lock()
	o := a.outside
	a.outside = nil
	a.mu.Unlock()
	if o == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if o.stream != nil {
			o.stream.Close()
		}
		o.hooks.Close()
		o.push.Close()
		o.sms.Close()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("outside interfaces did not stop: %w", ctx.Err())
	}
}

// outsideOf returns the running outside interfaces, or nil.
func (a *App) outsideOf() *outsideRun {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.outside
}

// EventStreamAddr is the TCP event stream's listen address, or "" when it
// is off.
func (a *App) EventStreamAddr() string {
	o := a.outsideOf()
	if o == nil || o.stream == nil {
		return ""
	}
	return o.stream.Addr().String()
}

// SendMail sends a message through the SMTP server of the settings: the
// one call for the box's parts that mail (voicemail, reports, work-order
// notices). An error wraps mail.ErrNotConfigured when no server is set.
func (a *App) SendMail(ctx context.Context, m mail.Message) error {
	o := a.outsideOf()
	if o == nil {
		return errOutsideOff
	}
	return o.mailer.Send(ctx, m)
}

// SMSStatus is the modem's state for the console's status (nil when the
// outside interfaces are not running).
func (a *App) SMSStatus() *sms.Status {
	o := a.outsideOf()
	if o == nil {
		return nil
	}
	st := o.sms.Status()
	return &st
}

// smsStatusLine is the modem's line in the console's status.
func smsStatusLine(st sms.Status) string {
	l := "sms: modem " + st.State
	if st.Port != "" {
		l += " on " + st.Port
	}
	if st.Operator != "" {
		l += fmt.Sprintf(" (%s, signal %d)", st.Operator, st.Signal)
	}
	l += fmt.Sprintf(", %d queued, %d sent, %d received, %d failed", st.Queued, st.Sent, st.Received, st.Failed)
	if st.Error != "" {
		l += ": " + st.Error
	}
	return l
}

func smsPort(s smsSettings) sms.Port {
	if s.Port == "" {
		return sms.Port{}
	}
	return sms.Port{Name: s.Port, PIN: s.PIN, Open: func() (io.ReadWriteCloser, error) { return sms.OpenSerial(s.Port, s.Baud) }}
}

func getSetting(db *store.DB, key string, v any) error {
	var raw string
	err := db.View(func(tx *store.Tx) (err error) {
		raw, err = tx.String(key, "")
		return err
	})
	if err != nil || raw == "" {
		return err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("app: setting %s: %w", key, err)
	}
	return nil
}

func putSetting(db *store.DB, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return db.Update(func(tx *store.Tx) error { return tx.SetSetting(key, string(data)) })
}

// loadSetting reads a setting, logging (and using the zero value for) one
// that does not load, so a bad setting leaves its part off.
func loadSetting[T any](db *store.DB, log *slog.Logger, key string) T {
	var v T
	if err := getSetting(db, key, &v); err != nil {
		log.Error("setting unreadable; that part is off", "key", key, "err", err)
		var zero T
		return zero
	}
	return v
}

// listForExport lists a record written now for the outside-database push.
func listForExport(tx *store.Tx, list store.Records, key []byte) error {
	seq, err := tx.NextSeq(list)
	if err != nil {
		return err
	}
	return tx.Put(list, store.Key(nil).AppendUint64(seq), key)
}

// u64 is a big-endian key.
func u64(v uint64) []byte { return store.Key(nil).AppendUint64(v) }

// errStop ends a walk early.
var errStop = errors.New("stop")

// rangeN walks r over [from, to) until fn has taken limit records; fn
// says whether it took the one it was given.
func rangeN(tx *store.Tx, r store.Records, from, to []byte, limit int, fn func(k, v []byte) (bool, error)) error {
	n := 0
	err := tx.Range(r, from, to, func(k, v []byte) error {
		if n == limit {
			return errStop
		}
		took, err := fn(k, v)
		if took {
			n++
		}
		return err
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// smsStore implements sms.Store over the box's store.
type smsStore struct{ db *store.DB }

func queueKey(m *sms.Outgoing) []byte { return store.Key(nil).AppendTime(m.At).AppendUint64(m.ID) }

func refKey(to string, ref int) []byte {
	return store.Key(nil).AppendString(sms.MatchKey(to)).AppendUint64(uint64(ref))
}

func (s *smsStore) Queue(msgs []*sms.Outgoing) error {
	return s.db.Update(func(tx *store.Tx) error {
		for _, m := range msgs {
			id, err := tx.NextSeq(store.SMSOut)
			if err != nil {
				return err
			}
			m.ID = id
			data, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if err := tx.Put(store.SMSOut, u64(id), data); err != nil {
				return err
			}
			if err := tx.Put(store.SMSQueue, queueKey(m), nil); err != nil {
				return err
			}
		}
		return nil
	})
}

func getJSON[T any](tx *store.Tx, r store.Records, key []byte) (T, error) {
	var v T
	data, err := tx.Get(r, key)
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(data, &v)
}

func (s *smsStore) Due(now time.Time, limit int) ([]sms.Outgoing, error) {
	var out []sms.Outgoing
	err := s.db.View(func(tx *store.Tx) error {
		to := store.Key(nil).AppendTime(now.Add(time.Nanosecond))
		return rangeN(tx, store.SMSQueue, nil, to, limit, func(k, _ []byte) (bool, error) {
			id, _, err := store.CutUint64(k[12:])
			if err != nil {
				return false, err
			}
			m, err := getJSON[sms.Outgoing](tx, store.SMSOut, u64(id))
			if err != nil {
				return false, err
			}
			out = append(out, m)
			return true, nil
		})
	})
	return out, err
}

func (s *smsStore) Update(m sms.Outgoing) error {
	return s.db.Update(func(tx *store.Tx) error {
		old, err := getJSON[sms.Outgoing](tx, store.SMSOut, u64(m.ID))
		if err != nil {
			return err
		}
		if err := tx.Delete(store.SMSQueue, queueKey(&old)); err != nil {
			return err
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := tx.Put(store.SMSOut, u64(m.ID), data); err != nil {
			return err
		}
		if m.State == sms.Queued {
			if err := tx.Put(store.SMSQueue, queueKey(&m), nil); err != nil {
				return err
			}
		}
		for _, p := range m.Parts {
			if !p.Sent.IsZero() {
				if err := tx.Put(store.SMSRefs, refKey(m.To, p.Ref), u64(m.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *smsStore) FindSent(key string, ref int) (sms.Outgoing, bool, error) {
	var m sms.Outgoing
	found := false
	err := s.db.View(func(tx *store.Tx) error {
		id, err := tx.Get(store.SMSRefs, store.Key(nil).AppendString(key).AppendUint64(uint64(ref)))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		m, err = getJSON[sms.Outgoing](tx, store.SMSOut, id)
		found = err == nil
		return err
	})
	return m, found, err
}

func (s *smsStore) Receive(m *sms.Incoming) error {
	return s.db.Update(func(tx *store.Tx) error {
		id, err := tx.NextSeq(store.SMSIn)
		if err != nil {
			return err
		}
		m.ID = id
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return tx.Put(store.SMSIn, u64(id), data)
	})
}

func (s *smsStore) Queued() (int, error) {
	var n int
	err := s.db.View(func(tx *store.Tx) (err error) {
		n, err = tx.Count(store.SMSQueue)
		return err
	})
	return n, err
}

// latest returns the newest limit records of r, newest first. It walks r
// (the store offers no reverse cursor): for the web admin's lists.
func latest(db *store.DB, r store.Records, limit int) ([]json.RawMessage, error) {
	var ring []json.RawMessage
	err := db.View(func(tx *store.Tx) error {
		return tx.Each(r, nil, func(_, v []byte) error {
			if len(ring) == limit {
				ring = ring[1:]
			}
			ring = append(ring, json.RawMessage(append([]byte{}, v...)))
			return nil
		})
	})
	slices.Reverse(ring)
	return ring, err
}

// journalStore implements webhook.Store over the box's store. The
// journal's head is kept in memory, found once at start.
type journalStore struct {
	db   *store.DB
	mu   sync.Mutex
	head uint64
	logs int
}

// journalKeep is how many events the journal keeps; older ones go as new
// ones come (a subscriber further behind than that resumes at the oldest).
const journalKeep = 200_000

// webhookLogKeep is how many delivery attempts are kept per subscriber.
const webhookLogKeep = 500

func newJournalStore(db *store.DB) (*journalStore, error) {
	j := &journalStore{db: db}
	err := db.View(func(tx *store.Tx) error {
		return tx.Each(store.EventJournal, nil, func(k, _ []byte) error {
			j.head, _, _ = store.CutUint64(k)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: event journal: %w", err)
	}
	return j, nil
}

func (j *journalStore) Append(evs []ccevent.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	head := j.head
	err := j.db.Update(func(tx *store.Tx) error {
		for _, e := range evs {
			data, err := json.Marshal(e)
			if err != nil {
				return err
			}
			head++
			if err := tx.Put(store.EventJournal, u64(head), data); err != nil {
				return err
			}
		}
		if head > journalKeep && head/1000 != j.head/1000 {
			_, err := tx.DeleteRange(store.EventJournal, nil, u64(head-journalKeep+1))
			return err
		}
		return nil
	})
	if err == nil {
		j.head = head
	}
	return err
}

func (j *journalStore) After(pos uint64, limit int) ([]webhook.Entry, error) {
	var out []webhook.Entry
	err := j.db.View(func(tx *store.Tx) error {
		return rangeN(tx, store.EventJournal, u64(pos+1), nil, limit, func(k, v []byte) (bool, error) {
			p, _, _ := store.CutUint64(k)
			e := webhook.Entry{Pos: p}
			if err := json.Unmarshal(v, &e.Event); err != nil {
				return false, err
			}
			out = append(out, e)
			return true, nil
		})
	})
	return out, err
}

func (j *journalStore) Head() (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.head, nil
}

func (j *journalStore) Subscribers() ([]webhook.Subscriber, error) {
	return allJSON[webhook.Subscriber](j.db, store.Webhooks)
}

// allJSON reads every record of r, each a JSON T, in key order.
func allJSON[T any](db *store.DB, r store.Records) ([]T, error) {
	var out []T
	err := db.View(func(tx *store.Tx) error {
		return tx.Each(r, nil, func(_, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}

func (j *journalStore) PutSubscriber(s webhook.Subscriber) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return j.db.Update(func(tx *store.Tx) error { return tx.Put(store.Webhooks, []byte(s.ID), data) })
}

func (j *journalStore) DeleteSubscriber(id string) error {
	return j.db.Update(func(tx *store.Tx) error {
		if err := tx.Delete(store.Webhooks, []byte(id)); err != nil {
			return err
		}
		from := store.Key(nil).AppendString(id)
		_, err := tx.DeleteRange(store.WebhookLog, from, store.Key(nil).AppendString(id+"\x00"))
		return err
	})
}

func (j *journalStore) SetCursor(id string, pos uint64) error {
	return j.db.Update(func(tx *store.Tx) error {
		s, err := getJSON[webhook.Subscriber](tx, store.Webhooks, []byte(id))
		if err != nil {
			return err
		}
		s.Cursor = pos
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		return tx.Put(store.Webhooks, []byte(id), data)
	})
}

func (j *journalStore) Log(d webhook.Delivery) error {
	j.mu.Lock()
	j.logs++
	trim := j.logs%100 == 0
	j.mu.Unlock()
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	prefix := store.Key(nil).AppendString(d.Subscriber)
	return j.db.Update(func(tx *store.Tx) error {
		seq, err := tx.NextSeq(store.WebhookLog)
		if err != nil {
			return err
		}
		if err := tx.Put(store.WebhookLog, prefix.AppendUint64(seq), data); err != nil {
			return err
		}
		if !trim {
			return nil
		}
		var keys [][]byte
		if err := tx.Each(store.WebhookLog, prefix, func(k, _ []byte) error {
			keys = append(keys, append([]byte{}, k...))
			return nil
		}); err != nil {
			return err
		}
		if len(keys) > webhookLogKeep {
			_, err = tx.DeleteRange(store.WebhookLog, keys[0], keys[len(keys)-webhookLogKeep])
		}
		return err
	})
}

func (j *journalStore) Deliveries(id string, limit int) ([]webhook.Delivery, error) {
	var out []webhook.Delivery
	err := j.db.View(func(tx *store.Tx) error {
		return tx.Each(store.WebhookLog, store.Key(nil).AppendString(id), func(_, v []byte) error {
			var d webhook.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if len(out) == limit {
				out = out[1:]
			}
			out = append(out, d)
			return nil
		})
	})
	slices.Reverse(out)
	return out, err
}

// exportCursors keeps the push's cursors.
type exportCursors struct{ db *store.DB }

func (c *exportCursors) Cursor(table string) (uint64, error) {
	var v uint64
	err := c.db.View(func(tx *store.Tx) error {
		data, err := tx.Get(store.ExportCursors, []byte(table))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, _, err = store.CutUint64(data)
		return err
	})
	return v, err
}

func (c *exportCursors) SetCursor(table string, seq uint64) error {
	return c.db.Update(func(tx *store.Tx) error { return tx.Put(store.ExportCursors, []byte(table), u64(seq)) })
}

// listed reads the records a push list names after seq.
func listed(db *store.DB, list, records store.Records, seq uint64, limit int, row func(seq uint64, v []byte) (export.Row, error)) ([]export.Row, error) {
	var out []export.Row
	err := db.View(func(tx *store.Tx) error {
		return rangeN(tx, list, u64(seq+1), nil, limit, func(k, key []byte) (bool, error) {
			s, _, _ := store.CutUint64(k)
			v, err := tx.Get(records, key)
			if errors.Is(err, store.ErrNotFound) {
				return false, nil // removed since (retention): nothing to push
			}
			if err != nil {
				return false, err
			}
			r, err := row(s, v)
			if err != nil {
				return false, err
			}
			out = append(out, r)
			return true, nil
		})
	})
	return out, err
}

// cdrSource pushes call detail records.
type cdrSource struct{ db *store.DB }

func (*cdrSource) Table() export.Table {
	return export.Table{Name: "cdr", Columns: []export.Column{
		{Name: "caller", Kind: export.Text}, {Name: "callee", Kind: export.Text},
		{Name: "start_time", Kind: export.Time}, {Name: "answer_time", Kind: export.Time}, {Name: "end_time", Kind: export.Time},
		{Name: "disposition", Kind: export.Text}, {Name: "trunk", Kind: export.Text},
		{Name: "duration_s", Kind: export.Float}, {Name: "billable_s", Kind: export.Int},
		{Name: "cause", Kind: export.Text}, {Name: "record", Kind: export.JSON},
	}}
}

func (s *cdrSource) After(seq uint64, limit int) ([]export.Row, error) {
	return listed(s.db, store.ExportCDR, store.CDRs, seq, limit, func(seq uint64, v []byte) (export.Row, error) {
		var c CDR
		if err := json.Unmarshal(v, &c); err != nil {
			return export.Row{}, err
		}
		return export.Row{Seq: seq, ID: c.ID, Values: []any{c.From, c.To, c.Start, c.Answer, c.End, c.Disposition, c.Trunk,
			c.DurationS, c.BillableS, c.Cause, string(v)}}, nil
	})
}

// factSource pushes the call centre's fact rows (one per queue call).
type factSource struct{ db *store.DB }

func (*factSource) Table() export.Table {
	return export.Table{Name: "queue_call", Columns: []export.Column{
		{Name: "grp", Kind: export.Int}, {Name: "number", Kind: export.Text}, {Name: "customer_type", Kind: export.Text},
		{Name: "queued", Kind: export.Time}, {Name: "answered", Kind: export.Time}, {Name: "agent", Kind: export.Text},
		{Name: "ended", Kind: export.Time}, {Name: "disposition", Kind: export.Text},
		{Name: "wait_s", Kind: export.Float}, {Name: "talk_s", Kind: export.Float}, {Name: "wrap_up_s", Kind: export.Float},
		{Name: "record", Kind: export.JSON},
	}}
}

func (s *factSource) After(seq uint64, limit int) ([]export.Row, error) {
	return listed(s.db, store.ExportFacts, store.CCFacts, seq, limit, func(seq uint64, v []byte) (export.Row, error) {
		var f cc.Fact
		if err := json.Unmarshal(v, &f); err != nil {
			return export.Row{}, err
		}
		return export.Row{Seq: seq, ID: f.Call, Values: []any{int64(f.Group), f.Number, f.CustomerType, f.Queued, f.Answered,
			f.Agent, f.Ended, f.Disposition, f.WaitSeconds, f.TalkSeconds, f.WrapUpSeconds, string(v)}}, nil
	})
}

// tokenStore implements webui.APITokens.
type tokenStore struct{ db *store.DB }

func (s *tokenStore) Tokens(context.Context) ([]webui.APIToken, error) {
	return allJSON[webui.APIToken](s.db, store.APITokens)
}

func (s *tokenStore) Token(_ context.Context, id string) (webui.APIToken, error) {
	var t webui.APIToken
	if id == "" {
		return t, webui.ErrNotFound
	}
	err := s.db.View(func(tx *store.Tx) (err error) {
		t, err = getJSON[webui.APIToken](tx, store.APITokens, []byte(id))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("app: token %s: %w", id, webui.ErrNotFound)
	}
	return t, err
}

func (s *tokenStore) PutToken(_ context.Context, t webui.APIToken) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *store.Tx) error { return tx.Put(store.APITokens, []byte(t.ID), data) })
}

// TokenUsed stores the last use to the minute: one write a minute per
// token, not one per request.
func (s *tokenStore) TokenUsed(ctx context.Context, id string, at time.Time) error {
	t, err := s.Token(ctx, id)
	if err != nil {
		return err
	}
	if at.Sub(t.LastUsed) < time.Minute {
		return nil
	}
	t.LastUsed = at.Truncate(time.Second)
	return s.PutToken(ctx, t)
}
