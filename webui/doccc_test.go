package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"callbox/telephony/ccconf"
	"callbox/telephony/pbxconf"
)

// docCC is a CallCentre over a whole ccconf.Config document in memory,
// edited and validated as the daemon's store does it (against a PBX
// configuration), with the flows only listed.
type docCC struct {
	mu    sync.Mutex
	c     ccconf.Config
	pbx   *pbxconf.Config
	flows []FlowSummary
}

// newDocCC loads telephony/ccconf's sample document.
func newDocCC(t testing.TB, pbx *pbxconf.Config) *docCC {
	t.Helper()
	raw, err := os.ReadFile("../telephony/ccconf/testdata/callcentre.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ccconf.Parse(raw)
	if err == nil {
		err = c.HashPINs()
	}
	if err != nil {
		t.Fatal(err)
	}
	d := &docCC{c: c, pbx: pbx}
	for _, f := range c.Flows {
		d.flows = append(d.flows, FlowSummary{ID: f.ID, Name: f.Name, Version: 1})
	}
	return d
}

func (d *docCC) CCList(ctx context.Context, kind string) ([]json.RawMessage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c.List(kind)
}

func (d *docCC) CCGet(ctx context.Context, kind, key string) (json.RawMessage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	raw, err := d.c.Get(kind, key)
	return raw, d.classify(err, ".")
}

func (d *docCC) CCCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error) {
	return d.put(kind, "", obj)
}

func (d *docCC) CCUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	return d.put(kind, key, obj)
}

func (d *docCC) put(kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	var newKey string
	err := d.change(func(c *ccconf.Config) (at string, err error) {
		at, newKey, err = c.Put(kind, key, obj)
		return at, err
	})
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c.Get(kind, newKey)
}

func (d *docCC) CCDelete(ctx context.Context, kind, key string) error {
	return d.change(func(c *ccconf.Config) (string, error) { return "", c.Delete(kind, key) })
}

// change edits a copy and keeps it only if the whole document validates.
func (d *docCC) change(fn func(c *ccconf.Config) (string, error)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	raw, err := ccconf.Marshal(d.c)
	if err != nil {
		return err
	}
	c, err := ccconf.Parse(raw)
	if err != nil {
		return err
	}
	at, err := fn(&c)
	if err != nil {
		return d.classify(err, ".")
	}
	c.Normalize()
	if err := c.Validate(ccconf.Context{PBX: d.pbx}); err != nil {
		return d.classify(err, at)
	}
	if err := c.HashPINs(); err != nil {
		return d.classify(err, at)
	}
	d.c = c
	return nil
}

// classify wraps webui's sentinels as firmware/app does: a problem at the
// object changed is the request's, one elsewhere a conflict.
func (d *docCC) classify(err error, at string) error {
	var fe *ccconf.FieldError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ccconf.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, ccconf.ErrTaken):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case !errors.As(err, &fe):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case at == "." || fe.Path == at || strings.HasPrefix(fe.Path, at+".") || strings.HasPrefix(fe.Path, at+"["):
		return fmt.Errorf("%w: %w", ErrInvalid, fe)
	}
	return fmt.Errorf("%w: %w", ErrConflict, fe)
}

func (d *docCC) CCDocument(ctx context.Context) (json.RawMessage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return ccconf.Marshal(d.c)
}

func (d *docCC) CCReplace(ctx context.Context, doc json.RawMessage) (json.RawMessage, error) {
	return nil, errors.New("doccc: not in these tests")
}

func (d *docCC) FlowList(ctx context.Context) ([]FlowSummary, error) { return d.flows, nil }

func (d *docCC) FlowGet(ctx context.Context, id string, version int) (json.RawMessage, error) {
	return nil, ErrNotFound
}

func (d *docCC) FlowVersions(ctx context.Context, id string) ([]int, error) { return nil, ErrNotFound }

func (d *docCC) FlowSave(ctx context.Context, id string, flow json.RawMessage) (json.RawMessage, bool, error) {
	return nil, false, errors.New("doccc: not in these tests")
}
