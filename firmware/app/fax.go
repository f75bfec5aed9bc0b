package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/fax"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
	callswitch "callbox/telephony/switch"
	"callbox/webui"
)

// fax.go runs the fax service on the switch (telephony/fax): the calls
// its settings name as faxes are received, the web admin sends
// documents, and every fax is kept as a record in the store's fax bucket
// with its pages as a TIFF Class F file in DATA/fax.

// faxSettingsKey is the store setting holding fax.Settings as JSON.
const faxSettingsKey = "fax.settings"

// faxDir is where the pages are kept, under the data directory.
const faxDir = "fax"

// faxRun is the running fax service.
type faxRun struct {
	svc    *fax.Service
	store  *faxStore
	mailer *faxMailer
}

func (a *App) startFax(ctx context.Context) error {
	t := a.telephony()
	if t == nil {
		return nil
	}
	a.mu.Lock()
	db := a.db
	a.mu.Unlock()
	st, err := loadFaxSettings(db)
	if err != nil {
		return err
	}
	fs := &faxStore{db: db, dir: filepath.Join(a.cfg.DataDir, faxDir)}
	svc, err := fax.New(a.faxLines(st), fax.Options{Switch: t.sw, Store: fs, Jobs: fs, Logger: a.log.With("component", "fax")})
	if err != nil {
		return err
	}
	fs.mailer = startFaxMailer(a, fs)
	svc.Start(context.Background())
	a.mu.Lock()
	a.fax = &faxRun{svc: svc, store: fs, mailer: fs.mailer}
	a.mu.Unlock()
	return nil
}

// stopFax ends the faxes under way (kept as failed) before the telephony
// stops.
func (a *App) stopFax(ctx context.Context) error {
	a.mu.Lock()
	r := a.fax
	a.fax = nil
	a.mu.Unlock()
	if r == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() {
		err := r.svc.Close()
		r.mailer.close()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("fax did not stop: %w", ctx.Err())
	}
}

func (a *App) faxRunning() *faxRun {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fax
}

// faxLines adds, for each FXO trunk the settings name (by its name in the
// PBX configuration, "pstn1"), the line the switch reports its calls on
// ("fxo1"): the administrator names trunks as the PBX page shows them.
func (a *App) faxLines(st fax.Settings) fax.Settings {
	c, err := a.loadPBX()
	if err != nil {
		return st
	}
	st.Trunks = slices.Clone(st.Trunks)
	for _, t := range c.Trunks {
		if t.Kind == pbxconf.KindFXO && slices.Contains(st.Trunks, t.Name) {
			st.Trunks = append(st.Trunks, fxoName(t.Port))
		}
	}
	return st
}

func loadFaxSettings(db *store.DB) (fax.Settings, error) {
	var st fax.Settings
	err := db.View(func(tx *store.Tx) error {
		v, err := tx.String(faxSettingsKey, "")
		if err != nil || v == "" {
			return err
		}
		return json.Unmarshal([]byte(v), &st)
	})
	if err != nil {
		return fax.Settings{}, fmt.Errorf("fax settings: %w", err)
	}
	return st, nil
}

// faxStore is fax.Store over the store and the data directory.
type faxStore struct {
	db  *store.DB
	dir string
	mu  sync.Mutex // one writer of the files at a time
	// mailer hears each fax kept (nil: none mailed).
	mailer *faxMailer
}

// faxFile is the pages' file of a fax.
func (s *faxStore) faxFile(id string) string { return filepath.Join(s.dir, id+".tif") }

// Save implements fax.Store: the pages first (written whole, then
// renamed), then the record, so a record never names missing pages.
func (s *faxStore) Save(ctx context.Context, r fax.Record, pages []*t4.Page) error {
	if len(pages) > 0 {
		b, err := tiff.Encode(pages, tiff.WriteOptions{Coding: t4.MMR, Software: "callbox", Description: r.Ident})
		if err != nil {
			return fmt.Errorf("app: fax %s: %w", r.ID, err)
		}
		s.mu.Lock()
		err = writeFileAtomic(s.dir, s.faxFile(r.ID), b)
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("app: fax %s: %w", r.ID, err)
		}
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.db.Update(func(tx *store.Tx) error { return tx.Put(store.Fax, []byte(r.ID), v) }); err != nil {
		return err
	}
	if s.mailer != nil {
		s.mailer.received(r)
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file in dir.
func writeFileAtomic(dir, path string, b []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".fax-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// jobFile is a scheduled job's document.
func (s *faxStore) jobFile(id string) string { return filepath.Join(s.dir, "jobs", id+".tif") }

// SaveJob implements fax.JobStore: the document first, then the job.
func (s *faxStore) SaveJob(ctx context.Context, j fax.Job, doc []byte) error {
	if doc != nil {
		s.mu.Lock()
		err := writeFileAtomic(filepath.Dir(s.jobFile(j.ID)), s.jobFile(j.ID), doc)
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("app: fax job %s: %w", j.ID, err)
		}
	}
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *store.Tx) error { return tx.Put(store.FaxJobs, []byte(j.ID), v) })
}

// Jobs implements fax.JobStore.
func (s *faxStore) Jobs(ctx context.Context) ([]fax.Job, error) {
	var js []fax.Job
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(store.FaxJobs, nil, func(k, v []byte) error {
			var j fax.Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("app: fax job %s: %w", k, err)
			}
			js = append(js, j)
			return nil
		})
	})
	return js, err
}

// JobDocument implements fax.JobStore.
func (s *faxStore) JobDocument(ctx context.Context, id string) ([]byte, error) {
	return os.ReadFile(s.jobFile(id))
}

// get reads a fax's record.
func (s *faxStore) get(id string) (fax.Record, error) {
	var r fax.Record
	err := s.db.View(func(tx *store.Tx) error {
		v, err := tx.Get(store.Fax, []byte(id))
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &r)
	})
	if errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("app: %w: fax %q", webui.ErrNotFound, id)
	}
	return r, err
}

// pages reads a fax's pages.
func (s *faxStore) tiff(id string) ([]byte, error) {
	if _, err := s.get(id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.faxFile(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("app: %w: fax %q has no pages", webui.ErrNotFound, id)
	}
	return b, err
}

// webFax is webui.Fax over the running service and the store.
type webFax struct{ a *App }

func (w webFax) run() (*faxRun, error) {
	r := w.a.faxRunning()
	if r == nil {
		return nil, errors.New("app: the fax service is not running")
	}
	return r, nil
}

func (w webFax) FaxList(ctx context.Context, direction, call string, limit int) ([]json.RawMessage, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	var all []json.RawMessage
	err = r.store.db.View(func(tx *store.Tx) error {
		return tx.Each(store.Fax, nil, func(_, v []byte) error {
			if direction != "" && !bytes.Contains(v, []byte(`"direction":"`+direction+`"`)) {
				return nil
			}
			if call != "" {
				var rec struct {
					CallID string `json:"call_id"`
				}
				if json.Unmarshal(v, &rec) != nil || rec.CallID != call {
					return nil
				}
			}
			all = append(all, append(json.RawMessage(nil), v...))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	// Ids start with the time: newest first is the keys' reverse order.
	out := make([]json.RawMessage, 0, min(limit, len(all)))
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, all[i])
	}
	return out, nil
}

func (w webFax) FaxGet(ctx context.Context, id string) (json.RawMessage, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	rec, err := r.store.get(id)
	if err != nil {
		return nil, err
	}
	return json.Marshal(rec)
}

func (w webFax) FaxTIFF(ctx context.Context, id string) ([]byte, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	return r.store.tiff(id)
}

func (w webFax) FaxPagePNG(ctx context.Context, id string, page int) ([]byte, error) {
	b, err := w.FaxTIFF(ctx, id)
	if err != nil {
		return nil, err
	}
	imgs, err := tiff.Decode(b)
	if err != nil && len(imgs) == 0 {
		return nil, fmt.Errorf("app: fax %s: %w", id, err)
	}
	if page > len(imgs) {
		return nil, fmt.Errorf("app: %w: fax %q has %d pages", webui.ErrNotFound, id, len(imgs))
	}
	p, ok := imgs[page-1].(*t4.Page)
	if !ok {
		return nil, fmt.Errorf("app: fax %s: page %d is not a fax page", id, page)
	}
	var out bytes.Buffer
	if err := fax.WritePNG(&out, p, 2); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (w webFax) FaxSend(ctx context.Context, number string, doc []byte, by string) (json.RawMessage, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	rec, err := r.svc.Send(ctx, number, doc)
	if err != nil {
		return nil, faxWebError(err)
	}
	w.a.log.Info("fax sent from the web admin", "id", rec.ID, "to", number, "by", by, "pages", rec.Document)
	return json.Marshal(rec)
}

func (w webFax) FaxJobs(ctx context.Context) ([]json.RawMessage, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	for _, j := range r.svc.Jobs() {
		v, err := json.Marshal(j)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (w webFax) FaxAddJob(ctx context.Context, j webui.FaxJob, doc []byte, by string) (json.RawMessage, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	job, err := r.svc.AddJob(ctx, j.Numbers, doc, j.At, j.Retries, j.Backoff)
	if err != nil {
		return nil, faxWebError(err)
	}
	w.a.log.Info("fax job scheduled from the web admin", "id", job.ID, "numbers", len(job.Numbers), "at", job.At, "by", by)
	return json.Marshal(job)
}

// FaxSettings returns the settings as stored (the service's have the FXO
// lines added, faxLines).
func (w webFax) FaxSettings(ctx context.Context) (json.RawMessage, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	st, err := loadFaxSettings(r.store.db)
	if err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

func (w webFax) FaxSetSettings(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	r, err := w.run()
	if err != nil {
		return nil, err
	}
	var st fax.Settings
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: %s", webui.ErrInvalid, err)
	}
	if err := st.Validate(); err != nil {
		return nil, faxWebError(err)
	}
	v, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	err = r.store.db.Update(func(tx *store.Tx) error { return tx.SetSetting(faxSettingsKey, string(v)) })
	if errors.Is(err, store.ErrNoSpace) {
		return nil, fmt.Errorf("%w: %w", webui.ErrNoSpace, err)
	}
	if err != nil {
		return nil, err
	}
	if err := r.svc.SetSettings(w.a.faxLines(st)); err != nil {
		return nil, faxWebError(err)
	}
	return v, nil
}

// faxWebError words the service's refusals for the web admin.
func faxWebError(err error) error {
	if errors.Is(err, fax.ErrInvalid) {
		return fmt.Errorf("%w: %s", webui.ErrInvalid, strings.TrimPrefix(err.Error(), fax.ErrInvalid.Error()+": "))
	}
	if errors.Is(err, fax.ErrBusy) {
		return fmt.Errorf("%w: %w", webui.ErrConflict, err)
	}
	return err
}

// faxDocsDir holds the fax documents of fax on demand (an IVR fax node's
// "send"), one TIFF Class F file per name, under the fax directory.
const faxDocsDir = "docs"

// faxDocs is the box's fax documents: a flow's fax node names one.
type faxDocs struct{ dir string }

func (a *App) faxDocs() faxDocs {
	return faxDocs{dir: filepath.Join(a.cfg.DataDir, faxDir, faxDocsDir)}
}

// path is a document's file, or "" for a name a flow may not use.
func (d faxDocs) path(name string) string {
	if name == "" || len(name) > 64 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != "" ||
		strings.HasPrefix(name, ".") {
		return ""
	}
	return filepath.Join(d.dir, name+".tif")
}

// HasDocument implements ivr.DocumentCatalogue.
func (d faxDocs) HasDocument(name string) bool {
	p := d.path(name)
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

// Document reads a document.
func (d faxDocs) Document(name string) ([]byte, error) {
	p := d.path(name)
	if p == "" {
		return nil, fmt.Errorf("app: bad fax document name %q", name)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("app: fax document %q: %w", name, err)
	}
	return b, nil
}

// ccFax is cc.FaxService over the running fax service and the documents.
type ccFax struct{ a *App }

// OnLeg implements cc.FaxService.
func (f ccFax) OnLeg(c *callswitch.AppCall, leg callswitch.LegID, call, number string, doc []byte, done func(fax.Record)) (fax.Record, error) {
	r := f.a.faxRunning()
	if r == nil {
		return fax.Record{}, errors.New("app: the fax service is not running")
	}
	return r.svc.OnLeg(c, leg, call, number, doc, done)
}

// Document implements cc.FaxService.
func (f ccFax) Document(name string) ([]byte, error) { return f.a.faxDocs().Document(name) }

// agentFax runs an agent's fax-send (a named fax document) or fax-receive
// and answers with the fax's record (the fax goes on; poll the record).
func (l *ccLive) agentFax(ctx context.Context, s *cc.Service, id acd.AgentID, op string, req webui.CCRequest) (json.RawMessage, error) {
	var doc []byte
	if op == "fax-send" {
		if req.Document == "" {
			return nil, invalid("document", "required")
		}
		var err error
		if doc, err = l.a.faxDocs().Document(req.Document); err != nil {
			return nil, invalid("document", "no fax document "+strconv.Quote(req.Document))
		}
	}
	rec, err := s.AgentFax(ctx, id, doc)
	if err != nil {
		return nil, liveErr(faxWebError(err))
	}
	return json.Marshal(rec)
}

// FaxDocuments implements webui.Fax: the fax documents' names.
func (w webFax) FaxDocuments(ctx context.Context) ([]string, error) {
	es, err := os.ReadDir(w.a.faxDocs().dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		if n, ok := strings.CutSuffix(e.Name(), ".tif"); ok && e.Type().IsRegular() && w.a.faxDocs().path(n) != "" {
			names = append(names, n)
		}
	}
	return names, nil
}

// FaxPutDocument implements webui.Fax: the document is made fax pages and
// kept as TIFF Class F, so that a fax node or an agent sends it as it was
// checked here.
func (w webFax) FaxPutDocument(ctx context.Context, name string, doc []byte, by string) error {
	d := w.a.faxDocs()
	p := d.path(name)
	if p == "" {
		return fmt.Errorf("%w: name %q: 1 to 64 letters, digits, '_', '-', '.'", webui.ErrInvalid, name)
	}
	pages, err := fax.Pages(doc, t4.YResFine)
	if err != nil {
		return fmt.Errorf("%w: %s", webui.ErrInvalid, err)
	}
	b, err := tiff.Encode(pages, tiff.WriteOptions{Coding: t4.MMR, Software: "callbox"})
	if err != nil {
		return fmt.Errorf("app: fax document %q: %w", name, err)
	}
	if err := writeFileAtomic(d.dir, p, b); err != nil {
		return fmt.Errorf("app: fax document %q: %w", name, err)
	}
	w.a.log.Info("fax document kept", "name", name, "pages", len(pages), "by", by)
	return nil
}

// FaxDeleteDocument implements webui.Fax. A document the latest version
// of a flow sends is refused (*webui.FaxDocumentInUse, naming the flow):
// the flow would fail at its fax node on every call. The check and the
// removal hold the call centre's edit lock, so that no flow saved between
// them comes to name the document.
func (w webFax) FaxDeleteDocument(ctx context.Context, name, by string) error {
	p := w.a.faxDocs().path(name)
	if p == "" {
		return fmt.Errorf("%w: fax document %q", webui.ErrNotFound, name)
	}
	if cc, err := w.a.callCentre(); err == nil {
		cc.edit.Lock()
		defer cc.edit.Unlock()
		if flow, node := flowSending(cc.flows, name); flow != "" {
			return fmt.Errorf("app: %w", &webui.FaxDocumentInUse{Document: name, Flow: flow, Node: node})
		}
	}
	err := os.Remove(p)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: fax document %q", webui.ErrNotFound, name)
	}
	if err != nil {
		return fmt.Errorf("app: fax document %q: %w", name, err)
	}
	w.a.log.Info("fax document deleted", "name", name, "by", by)
	return nil
}

// flowSending returns the first flow (and its node) whose latest version
// sends the fax document name, or "".
func flowSending(flows *ivr.Repository, name string) (flow, node string) {
	for _, id := range flows.IDs() {
		f, err := flows.Flow(id, 0)
		if err != nil {
			continue
		}
		for _, n := range f.Nodes {
			if n == nil {
				continue
			}
			if fx, ok := n.Spec.(*ivr.Fax); ok && fx.Send == name {
				return id, n.ID
			}
		}
	}
	return "", ""
}
