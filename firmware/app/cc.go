package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"callbox/board"
	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
	"callbox/telephony/sip/registrar"
	"callbox/telephony/switch/dialplan"
	"callbox/webui/passwd"
)

// ccRun is the running call centre: the service (with its ACD and IVR
// engines) over the running switch, its event bus, and the watcher that
// tells it when agents' phones go away and come back.
type ccRun struct {
	log    *slog.Logger
	svc    *cc.Service
	bus    *ccevent.Bus
	flows  *ivr.Repository
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ccConfigKey is the one record of the call centre's configuration beyond
// the ACD's in store.CCConfig (telephony/ccconf's document will replace it).
var ccConfigKey = []byte("config")

// ccExtras is what the stored call-centre configuration adds to the ACD's.
type ccExtras struct {
	Groups         map[int]cc.GroupOptions         `json:"groups,omitempty"`
	Agents         map[acd.AgentID]cc.AgentOptions `json:"agents,omitempty"`
	Routes         []cc.Route                      `json:"routes,omitempty"`
	Blacklist      []cc.Blocked                    `json:"blacklist,omitempty"`
	CallerIDs      []cc.CallerID                   `json:"caller_ids,omitempty"`
	Codes          cc.Codes                        `json:"codes"`
	Language       string                          `json:"language,omitempty"`
	Hotline        string                          `json:"hotline,omitempty"`
	OutboundPrefix string                          `json:"outbound_prefix,omitempty"`
}

// loadCC reads the call centre's configuration: the ACD's and the rest.
func loadCC(db *store.DB) (cc.Config, error) {
	a, _, err := NewACDStore(db).LoadConfig()
	if err != nil {
		return cc.Config{}, err
	}
	var x ccExtras
	err = db.View(func(tx *store.Tx) error {
		data, err := tx.Get(store.CCConfig, ccConfigKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(data, &x)
	})
	if err != nil {
		return cc.Config{}, fmt.Errorf("app: call-centre configuration: %w", err)
	}
	return cc.Config{ACD: a, Groups: x.Groups, Agents: x.Agents, Routes: x.Routes, Blacklist: x.Blacklist,
		CallerIDs: x.CallerIDs, Codes: x.Codes, Language: x.Language, Hotline: x.Hotline, OutboundPrefix: x.OutboundPrefix}, nil
}

// saveCC stores a call-centre configuration (the ACD's part where the ACD
// keeps it).
func saveCC(db *store.DB, c cc.Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	x := ccExtras{Groups: c.Groups, Agents: c.Agents, Routes: c.Routes, Blacklist: c.Blacklist, CallerIDs: c.CallerIDs,
		Codes: c.Codes, Language: c.Language, Hotline: c.Hotline, OutboundPrefix: c.OutboundPrefix}
	data, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("app: call-centre configuration: %w", err)
	}
	if err := NewACDStore(db).SaveConfig(c.ACD); err != nil {
		return err
	}
	return db.Update(func(tx *store.Tx) error { return tx.Put(store.CCConfig, ccConfigKey, data) })
}

// ccDialPlan returns the call centre's numbers for the switch's dial plan
// (feature codes, internal service numbers); none when it cannot be read.
func ccDialPlan(db *store.DB, log *slog.Logger) []dialplan.App {
	c, err := loadCC(db)
	if err != nil {
		log.Warn("call-centre numbers left out of the dial plan", "err", err)
		return nil
	}
	return []dialplan.App{c.DialPlan()}
}

// startCC builds the call centre on the running switch: the ACD engine
// from the stored configuration (agents' states and callbacks restored),
// the IVR engine on the stored flows, the prompts and recordings in the
// data directory, and facts and device bindings in the store.
func (a *App) startCC(ctx context.Context) error {
	t := a.telephony()
	if t == nil {
		return nil
	}
	a.mu.Lock()
	db := a.db
	a.mu.Unlock()
	cfg, err := loadCC(db)
	if err != nil {
		return err
	}
	log := a.log.With("component", "cc")
	flows := &ivr.Repository{Store: NewIVRStore(db)}
	if err := flows.Load(); err != nil {
		return fmt.Errorf("ivr flows: %w", err)
	}
	acdStore := NewACDStore(db)
	ccs := &factStore{db: db}
	bus := ccevent.New(0, nil)
	svc, err := cc.New(cfg, cc.Options{
		Switch: t.sw, Bus: bus, Clock: acd.RealClock{}, Flows: flows, HTTP: &ivr.NetHTTP{},
		Prompts:  newFilePrompts(filepath.Join(a.cfg.DataDir, "prompts"), cfg.Language),
		Recorder: newWAVRecorder(filepath.Join(a.cfg.DataDir, "recordings"), log),
		Status:   acdStore, Callbacks: acdStore, Devices: ccs, Facts: ccs,
		VerifyPIN: func(hash, pin string) bool {
			ok, err := passwd.Verify(hash, pin)
			return err == nil && ok
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r := &ccRun{log: log, svc: svc, bus: bus, flows: flows, cancel: cancel}
	svc.Start(runCtx)
	t.devices.Store(&deviceSink{svc.DeviceState})
	if pb := t.pb; pb != nil {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.watchPorts(runCtx, a, 2*time.Second)
		}()
	}
	a.mu.Lock()
	a.ccSvc = r
	a.mu.Unlock()
	log.Info("call centre running", "groups", len(cfg.ACD.Groups), "agents", len(cfg.ACD.Agents), "routes", len(cfg.Routes))
	return nil
}

// stopCC stops the call centre before the telephony: no new call is
// offered to it, its dialogues end, and the calls in progress are left to
// the switch, which ends them as it stops.
func (a *App) stopCC(ctx context.Context) error {
	a.mu.Lock()
	r := a.ccSvc
	a.ccSvc = nil
	a.mu.Unlock()
	if r == nil {
		return nil
	}
	if t := a.telephony(); t != nil {
		t.devices.Store(nil)
	}
	r.cancel()
	done := make(chan error, 1)
	go func() {
		r.wg.Wait()
		done <- r.svc.Close()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("call centre did not stop: %w", ctx.Err())
	}
}

// CallCentre returns the running call-centre service and its event bus
// (for the web API), or nil.
func (a *App) CallCentre() (*cc.Service, *ccevent.Bus) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ccSvc == nil {
		return nil, nil
	}
	return a.ccSvc.svc, a.ccSvc.bus
}

// deviceSink forwards device health to the call centre.
type deviceSink struct{ state func(ext string, up bool) }

// Registered implements sip.RegistrationObserver: a SIP extension's phone
// is there.
func (t *telephonyRun) Registered(b registrar.Binding) {
	if d := t.devices.Load(); d != nil {
		d.state(b.Extension, true)
	}
}

// Unregistered implements sip.RegistrationObserver: a phone's binding
// went (unregistered, expired, or unreachable by OPTIONS); the extension
// is down when it has no contact left.
func (t *telephonyRun) Unregistered(b registrar.Binding, reason string) {
	d := t.devices.Load()
	if d == nil {
		return
	}
	if t.ep != nil && len(t.ep.Contacts(b.Extension)) > 0 {
		return
	}
	t.log.Info("sip extension has no phone left", "extension", b.Extension, "reason", reason)
	d.state(b.Extension, false)
}

// watchPorts tells the call centre when an FXS port fails or recovers, so
// that an agent bound to its phone is not offered calls meanwhile.
func (r *ccRun) watchPorts(ctx context.Context, a *App, every time.Duration) {
	down := map[string]bool{}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := a.telephony()
		if t == nil || t.pb == nil {
			continue
		}
		for _, p := range t.pb.Ports() {
			if p.Kind() != board.FXS {
				continue
			}
			failed := p.Err() != nil
			if failed == down[p.Name()] {
				continue
			}
			down[p.Name()] = failed
			conf, err := a.loadPBX()
			if err != nil {
				continue
			}
			for _, e := range conf.Extensions {
				if e.Kind == pbxconf.KindFXS && fxsName(e.Port) == p.Name() {
					r.log.Warn("fxs port changed health", "port", p.Name(), "extension", e.Number, "failed", failed)
					r.svc.DeviceState(e.Number, !failed)
				}
			}
		}
	}
}

// ApplyCallCentre stores a new call-centre configuration and puts it in
// force without dropping calls: the ACD engine's (acd.Engine.Reconfigure)
// and the service's, and the switch's dial plan for its numbers. Nothing
// is stored when it is invalid.
func (a *App) ApplyCallCentre(c cc.Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := a.withDB(func(db *store.DB) error { return saveCC(db, c) }); err != nil {
		return err
	}
	if svc, _ := a.CallCentre(); svc != nil {
		if err := svc.Reconfigure(c); err != nil {
			return err
		}
	}
	a.pbxChanged() // the dial plan takes the call centre's numbers
	return nil
}

// CallFacts returns the stored fact rows of queue calls (for reports and
// their CSV, cc.WriteFactsCSV).
func (a *App) CallFacts() ([]cc.Fact, error) {
	var out []cc.Fact
	err := a.withDB(func(db *store.DB) error {
		var err error
		out, err = (&factStore{db: db}).Facts()
		return err
	})
	return out, err
}
