package app

import (
	"context"
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
	"callbox/telephony/ccconf"
	"callbox/telephony/conference"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
	"callbox/telephony/sip/registrar"
	"callbox/webui/passwd"
)

// ccRun is the running call centre: the service (with its ACD and IVR
// engines) over the running switch, its event bus, and the watcher that
// tells it when agents' phones go away and come back.
type ccRun struct {
	log    *slog.Logger
	svc    *cc.Service
	bus    *ccevent.Bus
	cancel context.CancelFunc
	// unapply takes the service's Reconfigure out of the configuration's
	// appliers.
	unapply func()
	wg      sync.WaitGroup
	// rooms joins callers to conference rooms (nil without the media
	// services); its poller stops with the service.
	rooms *confRooms
}

// startCC builds the call-centre service on the running switch, from the
// configuration in force (callcentre.go): its ACD engine with agents'
// states and callbacks restored from the store, its IVR engine over the
// same flow repository the configuration API saves into (a call keeps the
// version it started with), the prompt catalogue, recordings in the data
// directory, and facts and device bindings in the store. Every edit of the
// configuration is put in force in it before it is stored.
func (a *App) startCC(ctx context.Context) error {
	t := a.telephony()
	if t == nil {
		return nil
	}
	conf, err := a.callCentre()
	if err != nil {
		return err
	}
	a.mu.Lock()
	db := a.db
	a.mu.Unlock()
	log := a.log.With("component", "cc")
	acdStore := NewACDStore(db)
	facts := &factStore{db: db}
	bus := ccevent.New(0, nil)
	snap := conf.snap.Load()
	prompts := &catPrompts{cat: a.Prompts, log: log}
	var rooms *confRooms
	var ccRooms cc.Rooms // nil without the media services
	if m := a.mediaServices(); m != nil {
		rooms = &confRooms{a: a, conf: m.conf, eng: t.eng, prompts: prompts, log: log.With("component", "conference"),
			live: map[*conference.EngineAudio]bool{}, kick: make(chan struct{}, 1)}
		ccRooms = rooms
	}
	svc, err := cc.New(snap, cc.Options{
		Switch: t.sw, Bus: bus, Clock: acd.RealClock{}, Flows: conf.flows, HTTP: &ivr.NetHTTP{},
		Prompts:   prompts,
		Rooms:     ccRooms,
		Consent:   a.recordingConsent,
		Recorder:  a.ccRecorderOr(newWAVRecorder(filepath.Join(a.cfg.DataDir, "recordings"), log)),
		Voicemail: a.ccVoicemail(),
		Fax:       ccFax{a},
		Status:    acdStore, Callbacks: acdStore, Devices: facts, Facts: facts,
		VerifyPIN: func(hash, pin string) bool {
			ok, err := passwd.Verify(hash, pin)
			return err == nil && ok
		},
		LineTrunk: t.lineTrunk, DialOut: t.dialOut,
		Logger: log,
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r := &ccRun{log: log, svc: svc, bus: bus, cancel: cancel, rooms: rooms}
	svc.Start(runCtx)
	if rooms != nil {
		rooms.Start()
	}
	// Edits reach the service before they are stored; a refusal (an agent
	// in a call removed) refuses the edit, and a failed store undoes it.
	r.unapply, err = a.onCallCentreChange(func(next *ccconf.Snapshot) (func(), error) {
		prev := svc.Config()
		if err := svc.Reconfigure(next); err != nil {
			return nil, err
		}
		return func() { _ = svc.Reconfigure(prev) }, nil
	})
	if err != nil {
		r.cancel()
		svc.Close()
		return err
	}
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
	c := snap.Config()
	log.Info("call centre running", "groups", len(c.Groups), "agents", len(c.Agents), "inbound_routes", len(c.InboundRoutes))
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
	r.unapply()
	r.cancel()
	done := make(chan error, 1)
	go func() {
		r.wg.Wait()
		err := r.svc.Close()
		if r.rooms != nil {
			r.rooms.Close()
		}
		done <- err
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
			if fp := t.fxs[p.Name()]; fp != nil {
				failed = fp.failed() != nil
			}
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
