package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"callbox/firmware/cli/configcli"
	"callbox/firmware/store"
	ccapp "callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
	"callbox/telephony/switch/dialplan"
	"callbox/webui"
)

// The call-centre configuration (telephony/ccconf) in the running box. The
// store keeps it (configcli's LoadCallCentre and SaveCallCentre, flows as
// versions); this file keeps what is in force: the compiled Snapshot the
// call-centre service reads, the IVR flow repository, and the hooks that
// put an edited configuration in force before it is stored (the ACD
// engine's Reconfigure, which keeps calls and agents' states and refuses
// to remove an agent in a call). Every edit, from the web API or an
// import through the control socket, goes the same way, one at a time:
// check everything against the stored PBX configuration and flows, apply,
// store in one transaction (undoing the apply if that fails), publish.
//
// The call-centre service (cc.go) builds its ACD and IVR engines from the
// snapshot in force and registers its Reconfigure here; its IVR engine
// runs the flows of this repository, so a saved flow version is what the
// next call runs, and a call keeps the version it started with.

// ccApplier puts a new configuration in force; undo puts the previous one
// back.
type ccApplier func(next *ccconf.Snapshot) (undo func(), err error)

// ccApplierEntry is a registered applier (a pointer, so that it can be
// taken out again).
type ccApplierEntry struct{ fn ccApplier }

// callCentre is the configuration in force and what follows it.
type callCentre struct {
	edit  sync.Mutex // one edit at a time: check, apply, store, publish
	snap  atomic.Pointer[ccconf.Snapshot]
	flows *ivr.Repository

	mu       sync.Mutex
	appliers []*ccApplierEntry
}

// startCallCentre loads the stored configuration and flows after the PBX
// configuration (and --import) and before the telephony. A configuration
// with problems (older firmware, a PBX edited offline) is reported and
// used as far as it goes: the rest of the box keeps working.
func (a *App) startCallCentre(ctx context.Context) error {
	return a.withDB(func(db *store.DB) error {
		cc := &callCentre{flows: &ivr.Repository{Store: NewIVRStore(db)}}
		if err := cc.flows.Load(); err != nil {
			a.log.Error("ivr flows not all loaded", "err", err, "loaded", len(cc.flows.IDs()))
		}
		var cfg ccconf.Config
		var pbx *pbxconf.Config
		err := db.View(func(tx *store.Tx) (err error) {
			if p, err := configcli.Load(tx); err == nil {
				pbx = &p
			}
			cfg, _, err = configcli.LoadCallCentre(tx)
			return err
		})
		if err != nil {
			a.log.Error("call-centre configuration unreadable; starting with none", "err", err)
			cfg = ccconf.Default()
		} else if err := cfg.Validate(ccconf.Context{PBX: pbx, Flows: cc.flows, Prompts: a.promptCheck(), Documents: a.faxDocs()}); err != nil {
			a.log.Warn("call-centre configuration has problems; fix them in the web admin", "err", err)
		}
		cc.snap.Store(cfg.Compile())
		a.mu.Lock()
		a.cc = cc
		a.mu.Unlock()
		a.log.Info("call-centre configuration loaded", "groups", len(cfg.Groups), "agents", len(cfg.Agents),
			"inbound_routes", len(cfg.InboundRoutes), "flows", len(cc.flows.IDs()))
		return nil
	})
}

func (a *App) stopCallCentre(ctx context.Context) error {
	a.mu.Lock()
	a.cc = nil
	a.mu.Unlock()
	return nil
}

func (a *App) callCentre() (*callCentre, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cc == nil {
		return nil, errors.New("app: call centre not running")
	}
	return a.cc, nil
}

// callCentreSnapshot returns the configuration in force, or nil while the
// call centre is not running.
func (a *App) callCentreSnapshot() *ccconf.Snapshot {
	cc, err := a.callCentre()
	if err != nil {
		return nil
	}
	return cc.snap.Load()
}

// onCallCentreChange registers fn to put each edited configuration in
// force before it is stored; an error refuses the edit. The call-centre
// service registers its Reconfigure, and takes it out (remove) when it
// stops.
func (a *App) onCallCentreChange(fn ccApplier) (remove func(), err error) {
	cc, err := a.callCentre()
	if err != nil {
		return nil, err
	}
	e := &ccApplierEntry{fn}
	cc.mu.Lock()
	cc.appliers = append(cc.appliers, e)
	cc.mu.Unlock()
	return func() {
		cc.mu.Lock()
		cc.appliers = slices.DeleteFunc(cc.appliers, func(x *ccApplierEntry) bool { return x == e })
		cc.mu.Unlock()
	}, nil
}

// apply runs every applier on next; on a refusal the ones already run are
// undone.
func (cc *callCentre) apply(next *ccconf.Snapshot) (undo func(), err error) {
	cc.mu.Lock()
	appliers := slices.Clone(cc.appliers)
	cc.mu.Unlock()
	var undos []func()
	undo = func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
	}
	for _, e := range appliers {
		u, err := e.fn(next)
		if err != nil {
			undo()
			return nil, err
		}
		if u != nil {
			undos = append(undos, u)
		}
	}
	return undo, nil
}

// applyCallCentre is configcli's Apply hook for imports through the
// control socket: it holds the edit lock until the import finishes, puts
// the configuration in force, and publishes or undoes it.
func (a *App) applyCallCentre(c ccconf.Config) (func(*configcli.Imported), error) {
	cc, err := a.callCentre()
	if err != nil {
		return nil, nil // nothing running to apply to: the next start loads it
	}
	cc.edit.Lock()
	undo, err := cc.apply(c.Compile())
	if err != nil {
		cc.edit.Unlock()
		return nil, err
	}
	return func(stored *configcli.Imported) {
		defer cc.edit.Unlock()
		if stored == nil {
			undo()
			return
		}
		cc.publish(stored.CallCentre, stored.NewFlows, a)
	}, nil
}

// publish puts stored flow versions in the repository and the stored
// configuration in force for new lookups; the switch's dial plan follows
// when the call centre's numbers (feature codes, internal numbers)
// changed.
func (cc *callCentre) publish(c ccconf.Config, newFlows []*ivr.Flow, a *App) {
	for _, f := range newFlows {
		if err := cc.flows.Restore(f); err != nil {
			a.log.Error("stored flow version not loaded", "flow", f.ID, "version", f.Version, "err", err)
		}
	}
	next := c.Compile()
	prev := cc.snap.Swap(next)
	if prev == nil || !slices.Equal(ccapp.DialPlan(prev).Patterns, ccapp.DialPlan(next).Patterns) {
		a.pbxChanged()
	}
}

// ccDialPlan returns the call centre's numbers (feature codes, internal
// numbers of the inbound routes, conference rooms) for the switch's dial
// plan, from the configuration in force; exts are the PBX's extensions.
func (a *App) ccDialPlan(exts []string) []dialplan.App {
	snap := a.callCentreSnapshot()
	if snap == nil {
		a.rooms.set.Store(nil)
		return nil
	}
	app := ccapp.DialPlan(snap)
	app.Patterns = append(app.Patterns, a.roomPatterns(exts, app.Patterns)...)
	return []dialplan.App{app}
}

// promptCheck is the prompt catalogue as the configuration's validation
// asks it (ccconf.Context.Prompts), or nil while it is not open.
func (a *App) promptCheck() ivr.PromptCatalogue {
	if c := a.Prompts(); c != nil {
		return c
	}
	return nil
}

// changeCallCentre runs an edit of the stored configuration: change
// modifies a copy and returns the JSON path of what it changed ("" for a
// deletion or the whole). A problem there is the request's (ErrInvalid),
// one elsewhere means another object depends on what changed
// (ErrConflict). The result is checked, applied, stored and published.
func (a *App) changeCallCentre(change func(c *ccconf.Config) (path string, err error)) (ccconf.Config, []*ivr.Flow, error) {
	fail := func(err error) (ccconf.Config, []*ivr.Flow, error) { return ccconf.Config{}, nil, err }
	cc, err := a.callCentre()
	if err != nil {
		return fail(err)
	}
	cc.edit.Lock()
	defer cc.edit.Unlock()
	var c ccconf.Config
	var pbx *pbxconf.Config
	err = a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) (err error) {
			if p, err := configcli.Load(tx); err == nil {
				pbx = &p
			}
			c, _, err = configcli.LoadCallCentre(tx)
			return err
		})
	})
	if err != nil {
		return fail(err)
	}
	at, err := change(&c)
	if err != nil {
		return fail(ccError(err, "."))
	}
	c.Normalize()
	if err := c.Validate(ccconf.Context{PBX: pbx, Flows: cc.flows, Prompts: a.promptCheck(), Documents: a.faxDocs(), Rooms: a.roomExists}); err != nil {
		return fail(ccError(err, at))
	}
	if err := c.HashPINs(); err != nil {
		return fail(ccError(err, at))
	}
	undo, err := cc.apply(c.Compile())
	if err != nil {
		return fail(fmt.Errorf("app: %w: %w", webui.ErrConflict, err))
	}
	var newFlows []*ivr.Flow
	err = a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error {
			// Again against the store as it is now: a PBX edit may have
			// come in between.
			ctx := ccconf.Context{Prompts: a.promptCheck(), Documents: a.faxDocs(), Rooms: a.roomExists}
			p, err := configcli.Load(tx)
			switch {
			case err == nil:
				ctx.PBX = &p
			case !errors.Is(err, configcli.ErrNone):
				return err
			}
			stored, err := configcli.LoadFlows(tx)
			if err != nil {
				return err
			}
			ctx.Flows = stored
			if err := c.Validate(ctx); err != nil {
				return ccError(err, at)
			}
			if newFlows, err = configcli.SaveFlows(tx, stored, c.Flows); err != nil {
				return err
			}
			return configcli.SaveCallCentre(tx, c)
		})
	})
	if err != nil {
		undo()
		if errors.Is(err, store.ErrNoSpace) {
			return fail(fmt.Errorf("%w: %w", webui.ErrNoSpace, err))
		}
		return fail(err)
	}
	cc.publish(c, newFlows, a)
	return c, newFlows, nil
}

// ccError classifies a configuration error for the web API: at is the
// JSON path of what the request changed, "." for everything (the request
// is at fault whatever the problem), "" for a deletion (a problem is in
// what depended on the deleted object).
func ccError(err error, at string) error {
	var fe *ccconf.FieldError
	switch {
	case errors.Is(err, ccconf.ErrNotFound):
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	case errors.Is(err, ccconf.ErrTaken):
		return fmt.Errorf("%w: %w", webui.ErrConflict, err)
	case !errors.As(err, &fe):
		return fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	case at == "." || fe.Path == at || strings.HasPrefix(fe.Path, at+".") || strings.HasPrefix(fe.Path, at+"["):
		return fmt.Errorf("%w: %w", webui.ErrInvalid, fe)
	}
	return fmt.Errorf("%w: %w", webui.ErrConflict, fe)
}

// ccStore is the web admin's CallCentre interface (webui.CallCentre).
type ccStore struct{ a *App }

var _ webui.CallCentre = ccStore{}

// view runs fn on the stored configuration.
func (s ccStore) view(fn func(c *ccconf.Config) error) error {
	return s.a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			c, _, err := configcli.LoadCallCentre(tx)
			if err != nil {
				return err
			}
			return fn(&c)
		})
	})
}

// CCList implements webui.CallCentre.
func (s ccStore) CCList(ctx context.Context, kind string) (out []json.RawMessage, err error) {
	err = s.view(func(c *ccconf.Config) (err error) { out, err = c.List(kind); return err })
	return out, ccReadError(err)
}

// CCGet implements webui.CallCentre.
func (s ccStore) CCGet(ctx context.Context, kind, key string) (out json.RawMessage, err error) {
	err = s.view(func(c *ccconf.Config) (err error) { out, err = c.Get(kind, key); return err })
	return out, ccReadError(err)
}

// ccReadError classifies errors of reads.
func ccReadError(err error) error {
	if err != nil && errors.Is(err, ccconf.ErrNotFound) {
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	}
	return err
}

// CCCreate implements webui.CallCentre.
func (s ccStore) CCCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error) {
	return s.put(kind, "", obj)
}

// CCUpdate implements webui.CallCentre.
func (s ccStore) CCUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	return s.put(kind, key, obj)
}

func (s ccStore) put(kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	var newKey string
	c, _, err := s.a.changeCallCentre(func(c *ccconf.Config) (path string, err error) {
		path, newKey, err = c.Put(kind, key, obj)
		return path, err
	})
	if err != nil {
		return nil, err
	}
	return c.Get(kind, newKey)
}

// CCDelete implements webui.CallCentre. Deleting what another object
// uses (a group agents are in) is a conflict naming it.
func (s ccStore) CCDelete(ctx context.Context, kind, key string) error {
	_, _, err := s.a.changeCallCentre(func(c *ccconf.Config) (string, error) { return "", c.Delete(kind, key) })
	return err
}

// CCDocument implements webui.CallCentre.
func (s ccStore) CCDocument(ctx context.Context) (json.RawMessage, error) {
	var doc []byte
	err := s.a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			c, err := configcli.ExportCallCentre(tx)
			if err == nil {
				doc, err = ccconf.Marshal(c)
			}
			return err
		})
	})
	return doc, err
}

// CCReplace implements webui.CallCentre: the document replaces the stored
// one whole (agents without pin or pin_hash keep their PINs; flows whose
// content changed become new versions).
func (s ccStore) CCReplace(ctx context.Context, doc json.RawMessage) (json.RawMessage, error) {
	_, _, err := s.a.changeCallCentre(func(c *ccconf.Config) (string, error) {
		next, err := ccconf.Parse(doc)
		if err != nil {
			return "", err
		}
		next.KeepPINs(c)
		*c = next
		return ".", nil // everything is the request's
	})
	if err != nil {
		return nil, err
	}
	return s.CCDocument(ctx)
}

// FlowList implements webui.CallCentre.
func (s ccStore) FlowList(ctx context.Context) ([]webui.FlowSummary, error) {
	cc, err := s.a.callCentre()
	if err != nil {
		return nil, err
	}
	var out []webui.FlowSummary
	for _, id := range cc.flows.IDs() {
		f, err := cc.flows.Flow(id, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, webui.FlowSummary{ID: f.ID, Name: f.Name, Version: f.Version})
	}
	return out, nil
}

// FlowGet implements webui.CallCentre.
func (s ccStore) FlowGet(ctx context.Context, id string, version int) (json.RawMessage, error) {
	cc, err := s.a.callCentre()
	if err != nil {
		return nil, err
	}
	f, err := cc.flows.Flow(id, version)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	}
	return json.Marshal(f)
}

// FlowVersions implements webui.CallCentre.
func (s ccStore) FlowVersions(ctx context.Context, id string) ([]int, error) {
	cc, err := s.a.callCentre()
	if err != nil {
		return nil, err
	}
	vs := cc.flows.Versions(id)
	if len(vs) == 0 {
		return nil, fmt.Errorf("app: %w: flow %q", webui.ErrNotFound, id)
	}
	return vs, nil
}

// FlowSave implements webui.CallCentre: the flow is checked with the
// configuration (its queues' groups, its calendars, its sub-flows) and
// saved as a new version when its content changed.
func (s ccStore) FlowSave(ctx context.Context, id string, flow json.RawMessage) (json.RawMessage, bool, error) {
	f, err := ccconf.ParseFlow(flow)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	}
	cc, err := s.a.callCentre()
	if err != nil {
		return nil, false, err
	}
	_, saved, err := s.a.changeCallCentre(func(c *ccconf.Config) (string, error) {
		c.Flows = []*ivr.Flow{f}
		return "flows[0]", nil
	})
	if err != nil {
		return nil, false, err
	}
	stored, err := cc.flows.Flow(id, 0)
	if err != nil {
		return nil, false, err
	}
	b, err := json.Marshal(stored)
	return b, len(saved) > 0, err
}
