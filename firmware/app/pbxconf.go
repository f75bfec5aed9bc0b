package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"callbox/board"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/store"
	"callbox/telephony/pbxconf"
	"callbox/webui"
)

// startPBXConf runs after the store opens and before anything that places
// calls: it applies --import (refusing an invalid file, naming the field,
// with the store unchanged, which stops the boot) and otherwise makes sure
// a configuration exists, the board's FXS ports as extensions 201 and up.
func (a *App) startPBXConf(ctx context.Context) error {
	return a.withDB(func(db *store.DB) error {
		if a.cfg.Import != "" {
			// Nothing is running yet: the call centre takes the imported
			// configuration when it starts.
			r, err := configcli.Import(db, a.cfg.Import, configcli.Hooks{Check: a.checkPBX})
			if err != nil {
				return fmt.Errorf("import %s: %w", a.cfg.Import, err)
			}
			a.log.Info("configuration imported", "file", a.cfg.Import, "stored", r.Summary())
			if r.PBX != nil {
				for _, w := range r.PBX.Warnings() {
					a.log.Warn("pbx configuration: " + w)
					fmt.Fprintf(a.cfg.Out, "callbox: warning: %s: %s\n", a.cfg.Import, w)
				}
				a.warnWeakSecrets(*r.PBX)
			}
			// Once per process: a console restart must not undo what the
			// administrator changed since the boot.
			a.cfg.Import = ""
			return nil
		}
		var seeded *pbxconf.Config
		err := db.Update(func(tx *store.Tx) error {
			c, err := configcli.Load(tx)
			if errors.Is(err, configcli.ErrNone) {
				a.mu.Lock()
				fxs := a.board.Count(board.FXS)
				a.mu.Unlock()
				def := pbxconf.Default(fxs)
				seeded = &def
				return configcli.Save(tx, def)
			}
			if err != nil {
				return err
			}
			if err := a.checkPBX(c); err != nil {
				// Keep booting: the other extensions and trunks still work,
				// and the administrator fixes the ports in the web admin.
				a.log.Warn("pbx configuration names ports this board lacks", "err", err)
			}
			a.warnWeakSecrets(c)
			return nil
		})
		if seeded != nil && err == nil {
			a.log.Info("pbx configuration created with the defaults", "extensions", len(seeded.Extensions))
		}
		return err
	})
}

// warnWeakSecrets logs each SIP extension whose stored secret is weak: it
// keeps working (refusing it would cut the phone off), but is a target.
func (a *App) warnWeakSecrets(c pbxconf.Config) {
	for _, fe := range c.WeakSecrets() {
		a.log.Warn("weak SIP extension secret: set a strong one (the web admin can generate it)",
			"extension", fe.Key, "reason", fe.Reason)
	}
}

// checkPBX refuses a configuration using analog ports the board lacks.
func (a *App) checkPBX(c pbxconf.Config) error {
	a.mu.Lock()
	b := a.board
	a.mu.Unlock()
	return c.CheckPorts(b.Count(board.FXS), b.Count(board.FXO))
}

// pbxConfigCommand is the config command the console and control socket
// serve (callboxctl config export|import while the daemon runs).
func (a *App) pbxConfigCommand() configcli.Daemon {
	return configcli.Daemon{
		DB: func() *store.DB {
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.db
		},
		Hooks: configcli.Hooks{Check: a.checkPBX, Apply: a.applyCallCentre},
		Imported: func(r configcli.Imported) {
			a.log.Info("configuration imported through the control socket", "stored", r.Summary())
			if r.PBX != nil {
				for _, w := range r.PBX.Warnings() {
					a.log.Warn("pbx configuration: " + w)
				}
				a.pbxChanged()
			}
		},
	}
}

// pbxStore is the web admin's PBX interface (webui.PBX) on the store.
type pbxStore struct{ a *App }

// Each change loads
// the whole configuration, applies the change, validates the result
// (including the board's ports) and saves it, in one transaction.

// pbxKind adapts one object kind: its place in the configuration.
type pbxKind struct {
	object string // pbxconf.ObjExtension, ObjTrunk or ObjRoute
	key    string // "number" or "name"
	list   func(c *pbxconf.Config) []json.RawMessage
	find   func(c *pbxconf.Config, key string) int
	decode func(raw []byte) (key string, put func(c *pbxconf.Config, i int) int, err error)
	remove func(c *pbxconf.Config, i int)
}

func marshalAll[T any](list []T) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(list))
	for _, v := range list {
		b, _ := json.Marshal(v) // plain structs of strings, ints and maps
		out = append(out, b)
	}
	return out
}

// putAt stores v at index i of list, or appends it when i < 0, returning
// the index used.
func putAt[T any](list *[]T, i int, v T) int {
	if i < 0 {
		*list = append(*list, v)
		return len(*list) - 1
	}
	(*list)[i] = v
	return i
}

var pbxKinds = map[string]pbxKind{
	webui.PBXExtensions: {
		object: pbxconf.ObjExtension,
		key:    "number",
		list:   func(c *pbxconf.Config) []json.RawMessage { return marshalAll(c.Extensions) },
		find: func(c *pbxconf.Config, key string) int {
			return slices.IndexFunc(c.Extensions, func(e pbxconf.Extension) bool { return e.Number == key })
		},
		decode: func(raw []byte) (string, func(*pbxconf.Config, int) int, error) {
			e, err := pbxconf.DecodeExtension(raw)
			if err == nil {
				err = e.ValidateObject()
			}
			return e.Number, func(c *pbxconf.Config, i int) int { return putAt(&c.Extensions, i, e) }, err
		},
		remove: func(c *pbxconf.Config, i int) { c.Extensions = slices.Delete(c.Extensions, i, i+1) },
	},
	webui.PBXTrunks: {
		object: pbxconf.ObjTrunk,
		key:    "name",
		list:   func(c *pbxconf.Config) []json.RawMessage { return marshalAll(c.Trunks) },
		find: func(c *pbxconf.Config, key string) int {
			return slices.IndexFunc(c.Trunks, func(t pbxconf.Trunk) bool { return t.Name == key })
		},
		decode: func(raw []byte) (string, func(*pbxconf.Config, int) int, error) {
			t, err := pbxconf.DecodeTrunk(raw)
			if err == nil {
				err = t.ValidateObject()
			}
			return t.Name, func(c *pbxconf.Config, i int) int { return putAt(&c.Trunks, i, t) }, err
		},
		remove: func(c *pbxconf.Config, i int) { c.Trunks = slices.Delete(c.Trunks, i, i+1) },
	},
	webui.PBXRoutes: {
		object: pbxconf.ObjRoute,
		key:    "name",
		list:   func(c *pbxconf.Config) []json.RawMessage { return marshalAll(c.Routes) },
		find: func(c *pbxconf.Config, key string) int {
			return slices.IndexFunc(c.Routes, func(r pbxconf.Route) bool { return r.Name == key })
		},
		decode: func(raw []byte) (string, func(*pbxconf.Config, int) int, error) {
			r, err := pbxconf.DecodeRoute(raw)
			if err == nil {
				err = r.ValidateObject()
			}
			return r.Name, func(c *pbxconf.Config, i int) int { return putAt(&c.Routes, i, r) }, err
		},
		remove: func(c *pbxconf.Config, i int) { c.Routes = slices.Delete(c.Routes, i, i+1) },
	},
}

func kindOf(kind string) (pbxKind, error) {
	k, ok := pbxKinds[kind]
	if !ok {
		return pbxKind{}, fmt.Errorf("app: %w: pbx kind %q", webui.ErrNotFound, kind)
	}
	return k, nil
}

// keyError is a refused key, named for webui (JSONField) with a pbxconf
// reason code it translates (ReasonCode, ObjectRef).
type keyError struct {
	kind, key, field string
	code             pbxconf.ReasonCode
	args             []any
}

func (e *keyError) Error() string {
	return "app: pbx: " + e.field + ": " + pbxconf.ReasonText(e.code, e.args...)
}
func (e *keyError) JSONField() string             { return e.field }
func (e *keyError) ReasonCode() (string, []any)   { return string(e.code), e.args }
func (e *keyError) ObjectRef() (kind, key string) { return e.kind, e.key }

// pbxView runs fn on the stored configuration.
func (s pbxStore) pbxView(fn func(c *pbxconf.Config) error) error {
	return s.a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			c, err := configcli.Load(tx)
			if err != nil {
				return err
			}
			return fn(&c)
		})
	})
}

// pbxChange applies fn to the stored configuration and saves the result if
// it validates. fn returns the JSON path prefix of the object it changed
// ("" for a deletion): a validation problem there is the request's fault
// (ErrInvalid); one elsewhere means another object depends on what changed
// (ErrConflict).
func (s pbxStore) pbxChange(fn func(c *pbxconf.Config) (string, error)) error {
	err := s.a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error {
			c, err := configcli.Load(tx)
			if err != nil {
				return err
			}
			before := c.Clone()
			at, err := fn(&c)
			if err != nil {
				return err
			}
			// A SIP secret set or changed here must be strong.
			if err := errors.Join(c.Validate(), c.CheckNewSecrets(&before), s.a.checkPBX(c)); err != nil {
				var fe *pbxconf.FieldError
				if errors.As(err, &fe) && at != "" && strings.HasPrefix(fe.Path, at) {
					return fmt.Errorf("%w: %w", webui.ErrInvalid, fe)
				}
				if fe != nil {
					return fmt.Errorf("%w: %w", webui.ErrConflict, fe)
				}
				return fmt.Errorf("%w: %w", webui.ErrInvalid, err)
			}
			// The call centre must not lose what it uses (an agent's
			// extension, a route's trunk): the object using it is named.
			if err := configcli.CheckCallCentre(tx, &before, &c); err != nil {
				return fmt.Errorf("%w: %w", webui.ErrConflict, err)
			}
			return configcli.Save(tx, c)
		})
	})
	if err == nil {
		s.a.pbxChanged() // the switch and registrar follow the store
	}
	if errors.Is(err, store.ErrNoSpace) {
		return fmt.Errorf("%w: %w", webui.ErrNoSpace, err)
	}
	return err
}

// PBXList implements webui.PBX.
func (s pbxStore) PBXList(ctx context.Context, kind string) (out []json.RawMessage, err error) {
	k, err := kindOf(kind)
	if err != nil {
		return nil, err
	}
	err = s.pbxView(func(c *pbxconf.Config) error { out = k.list(c); return nil })
	return out, err
}

// PBXGet implements webui.PBX.
func (s pbxStore) PBXGet(ctx context.Context, kind, key string) (out json.RawMessage, err error) {
	k, err := kindOf(kind)
	if err != nil {
		return nil, err
	}
	err = s.pbxView(func(c *pbxconf.Config) error {
		i := k.find(c, key)
		if i < 0 {
			return fmt.Errorf("app: %w: %s %q", webui.ErrNotFound, kind, key)
		}
		out = k.list(c)[i]
		return nil
	})
	return out, err
}

// PBXCreate implements webui.PBX.
func (s pbxStore) PBXCreate(ctx context.Context, kind string, obj json.RawMessage) (out json.RawMessage, err error) {
	return s.pbxPut(kind, "", obj)
}

// PBXUpdate implements webui.PBX.
func (s pbxStore) PBXUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	return s.pbxPut(kind, key, obj)
}

// pbxPut creates (key == "") or replaces the object key.
func (s pbxStore) pbxPut(kind, key string, obj json.RawMessage) (out json.RawMessage, err error) {
	k, err := kindOf(kind)
	if err != nil {
		return nil, err
	}
	err = s.pbxChange(func(c *pbxconf.Config) (string, error) {
		i := -1
		if key != "" {
			if i = k.find(c, key); i < 0 {
				return "", fmt.Errorf("app: %w: %s %q", webui.ErrNotFound, kind, key)
			}
		}
		newKey, put, derr := k.decode(obj)
		if derr != nil {
			return "", fmt.Errorf("%w: %w", webui.ErrInvalid, derr)
		}
		if key == "" {
			if k.find(c, newKey) >= 0 {
				return "", fmt.Errorf("%w: %w", webui.ErrConflict, &keyError{k.object, newKey, k.key, pbxconf.ReasonKeyTaken, []any{newKey}})
			}
		} else {
			if newKey != key {
				return "", fmt.Errorf("%w: %w", webui.ErrInvalid, &keyError{k.object, key, k.key, pbxconf.ReasonKeyImmutable, nil})
			}
		}
		i = put(c, i)
		out = k.list(c)[i]
		return fmt.Sprintf("%s[%d]", kind, i), nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PBXDelete implements webui.PBX. Deleting what another object uses (a
// trunk in a route, an extension a DID rings) is a conflict naming it.
func (s pbxStore) PBXDelete(ctx context.Context, kind, key string) error {
	k, err := kindOf(kind)
	if err != nil {
		return err
	}
	return s.pbxChange(func(c *pbxconf.Config) (string, error) {
		i := k.find(c, key)
		if i < 0 {
			return "", fmt.Errorf("app: %w: %s %q", webui.ErrNotFound, kind, key)
		}
		k.remove(c, i)
		return "", nil
	})
}

// The web admin finds the PBX configuration on its System.
var _ webui.PBX = pbxStore{}
