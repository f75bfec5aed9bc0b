package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"callbox/telephony/pbxconf"
)

// docPBX is a PBX over a whole pbxconf.Config document in memory, validated as the
// daemon's store validates it: a problem in the object changed is the
// request's (ErrInvalid), one elsewhere means another object depends on
// it (ErrConflict).
type docPBX struct {
	mu sync.Mutex
	c  pbxconf.Config
}

func newDocPBX(c pbxconf.Config) *docPBX { return &docPBX{c: c} }

func (m *docPBX) objects(kind string) (list []json.RawMessage, keys []string) {
	add := func(v any, key string) {
		b, _ := json.Marshal(v)
		list, keys = append(list, b), append(keys, key)
	}
	switch kind {
	case PBXExtensions:
		for _, e := range m.c.Extensions {
			add(e, e.Number)
		}
	case PBXTrunks:
		for _, t := range m.c.Trunks {
			add(t, t.Name)
		}
	case PBXRoutes:
		for _, r := range m.c.Routes {
			add(r, r.Name)
		}
	}
	return list, keys
}

func (m *docPBX) PBXList(ctx context.Context, kind string) ([]json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list, _ := m.objects(kind)
	return list, nil
}

func (m *docPBX) PBXGet(ctx context.Context, kind, key string) (json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list, keys := m.objects(kind)
	if i := slices.Index(keys, key); i >= 0 {
		return list[i], nil
	}
	return nil, fmt.Errorf("mem: %w: %s %q", ErrNotFound, kind, key)
}

func (m *docPBX) PBXCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error) {
	return m.change(kind, "", obj)
}

func (m *docPBX) PBXUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	return m.change(kind, key, obj)
}

func (m *docPBX) PBXDelete(ctx context.Context, kind, key string) error {
	_, err := m.change(kind, key, nil)
	return err
}

// change creates (key ""), replaces or (obj nil) deletes an object.
func (m *docPBX) change(kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, keys := m.objects(kind)
	i := slices.Index(keys, key)
	if key != "" && i < 0 {
		return nil, fmt.Errorf("mem: %w: %s %q", ErrNotFound, kind, key)
	}
	c := m.c.Clone()
	var newKey string
	var err error
	switch kind {
	case PBXExtensions:
		var e pbxconf.Extension
		if obj != nil {
			e, err = pbxconf.DecodeExtension(obj)
			newKey = e.Number
		}
		c.Extensions = edit(c.Extensions, i, e, obj == nil)
	case PBXTrunks:
		var t pbxconf.Trunk
		if obj != nil {
			t, err = pbxconf.DecodeTrunk(obj)
			newKey = t.Name
		}
		c.Trunks = edit(c.Trunks, i, t, obj == nil)
	case PBXRoutes:
		var r pbxconf.Route
		if obj != nil {
			r, err = pbxconf.DecodeRoute(obj)
			newKey = r.Name
		}
		c.Routes = edit(c.Routes, i, r, obj == nil)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if key == "" && slices.Contains(keys, newKey) {
		return nil, fmt.Errorf("%w: %s %q exists", ErrConflict, kind, newKey)
	}
	if err := errors.Join(c.Validate(), c.CheckNewSecrets(&m.c)); err != nil {
		var fe *pbxconf.FieldError
		at := fmt.Sprintf("%s[%d]", kind, max(i, len(keys)*btoi(key == "")))
		if errors.As(err, &fe) && obj != nil && strings.HasPrefix(fe.Path, at) {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, fe)
		}
		return nil, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	m.c = c
	if obj == nil {
		return nil, nil
	}
	list, keys := m.objects(kind)
	return list[slices.Index(keys, newKey)], nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// edit replaces list[i] with v, appends it (i < 0) or deletes list[i].
func edit[T any](list []T, i int, v T, del bool) []T {
	switch {
	case del:
		return slices.Delete(list, i, i+1)
	case i < 0:
		return append(list, v)
	}
	list[i] = v
	return list
}
