package ccconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// The web API edits the configuration one object at a time. Each kind of
// object has an API path (its Kind), a key field, and a place in the
// document; List, Get, Put and Delete work on a Config in memory, and the
// caller validates the result as a whole and stores it (firmware/app does,
// in one transaction).

// Kinds of objects, named as their API paths.
const (
	KindGroups        = "groups"
	KindAgents        = "agents"
	KindCustomerTypes = "customer-types"
	KindBlacklist     = "blacklist"
	KindInboundRoutes = "inbound-routes"
	KindCalendars     = "calendars"
	KindBindings      = "bindings"
	KindCallerIDs     = "caller-ids"
)

// Errors Put, Get and Delete wrap, for callers that branch on them.
var (
	// ErrNotFound: no object of the kind has the key (or no such kind).
	ErrNotFound = errors.New("ccconf: no such object")
	// ErrTaken: a new object's key is another's.
	ErrTaken = errors.New("ccconf: key taken")
)

// kind adapts one kind of object: its key field, its list in the document,
// how to decode one.
type kind struct {
	object  string // the Obj constant
	numeric bool   // the key is a number (id)
	field   string // the document's field ("customer_types")
	key     string // the key field ("id", "name", "number", "pc")
	list    func(c *Config) []json.RawMessage
	find    func(c *Config, key string) int
	// decode reads one object strictly and returns its key and a function
	// putting it at index i (appending when i < 0), which returns the
	// index used.
	decode func(raw []byte) (key string, put func(c *Config, i int) int, err error)
	remove func(c *Config, i int)
}

func marshalAll[T any](list []T) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(list))
	for _, v := range list {
		b, _ := json.Marshal(v) // plain structs of strings, numbers, lists and maps
		out = append(out, b)
	}
	return out
}

func putAt[T any](list *[]T, i int, v T) int {
	if i < 0 {
		*list = append(*list, v)
		return len(*list) - 1
	}
	(*list)[i] = v
	return i
}

// decodeOne decodes one object strictly, naming errors after the kind.
func decodeOne[T any](raw []byte, object string) (T, error) {
	var v T
	if err := decodeStrict(raw, &v, object); err != nil {
		return v, fromPBX(err, "", objRef{kind: object})
	}
	return v, nil
}

// makeKind builds a kind from its list accessor and its key.
func makeKind[T any](object, field, keyField string, numeric bool, list func(c *Config) *[]T, key func(v *T) string, norm func(v *T)) kind {
	return kind{
		object: object, field: field, key: keyField, numeric: numeric,
		list: func(c *Config) []json.RawMessage { return marshalAll(*list(c)) },
		find: func(c *Config, k string) int {
			return slices.IndexFunc(*list(c), func(v T) bool { return key(&v) == k })
		},
		decode: func(raw []byte) (string, func(*Config, int) int, error) {
			v, err := decodeOne[T](raw, object)
			if err != nil {
				return "", nil, err
			}
			if norm != nil {
				norm(&v)
			}
			return key(&v), func(c *Config, i int) int { return putAt(list(c), i, v) }, nil
		},
		remove: func(c *Config, i int) {
			l := list(c)
			*l = slices.Delete(*l, i, i+1)
		},
	}
}

var kinds = map[string]kind{
	KindGroups: makeKind(ObjGroup, "groups", "id", true, func(c *Config) *[]Group { return &c.Groups },
		func(g *Group) string { return strconv.Itoa(g.ID) }, (*Group).normalize),
	KindAgents: makeKind(ObjAgent, "agents", "id", false, func(c *Config) *[]Agent { return &c.Agents },
		func(a *Agent) string { return a.ID }, (*Agent).normalize),
	KindCustomerTypes: makeKind(ObjCustomerType, "customer_types", "id", true, func(c *Config) *[]CustomerType { return &c.CustomerTypes },
		func(t *CustomerType) string { return strconv.Itoa(t.ID) }, nil),
	KindBlacklist: makeKind(ObjBlacklist, "blacklist", "number", false, func(c *Config) *[]BlacklistEntry { return &c.Blacklist },
		func(b *BlacklistEntry) string { return b.Number }, nil),
	KindInboundRoutes: makeKind(ObjInboundRoute, "inbound_routes", "name", false, func(c *Config) *[]InboundRoute { return &c.InboundRoutes },
		func(r *InboundRoute) string { return r.Name }, nil),
	KindCalendars: makeKind(ObjCalendar, "calendars", "name", false, func(c *Config) *[]Calendar { return &c.Calendars },
		func(cal *Calendar) string { return cal.Name }, nil),
	KindBindings: makeKind(ObjBinding, "bindings", "pc", false, func(c *Config) *[]Binding { return &c.Bindings },
		func(b *Binding) string { return b.PC }, nil),
	KindCallerIDs: makeKind(ObjCallerID, "caller_ids", "number", false, func(c *Config) *[]CallerID { return &c.CallerIDs },
		func(id *CallerID) string { return id.Number }, nil),
}

// Kinds lists the object kinds, in the document's order.
func Kinds() []string {
	return []string{KindGroups, KindAgents, KindCustomerTypes, KindBlacklist, KindInboundRoutes, KindCalendars,
		KindBindings, KindCallerIDs}
}

// KeyField names a kind's key field ("id", "name", "number", "pc").
func KeyField(k string) string { return kinds[k].key }

func kindOf(k string) (kind, error) {
	kd, ok := kinds[k]
	if !ok {
		return kind{}, fmt.Errorf("%w: kind %q", ErrNotFound, k)
	}
	return kd, nil
}

// List returns the objects of a kind as JSON, in order.
func (c *Config) List(k string) ([]json.RawMessage, error) {
	kd, err := kindOf(k)
	if err != nil {
		return nil, err
	}
	return kd.list(c), nil
}

// Get returns one object as JSON.
func (c *Config) Get(k, key string) (json.RawMessage, error) {
	kd, err := kindOf(k)
	if err != nil {
		return nil, err
	}
	i := kd.find(c, key)
	if i < 0 {
		return nil, fmt.Errorf("%w: %s %q", ErrNotFound, k, key)
	}
	return kd.list(c)[i], nil
}

// Put decodes obj and puts it in c: as a new object when key is "", else
// in place of the object key (whose key it must keep). It returns the
// object's JSON path in the document ("groups[2]"), so the caller can
// tell a problem of the object from one its change caused elsewhere. An
// agent that gives neither pin nor pin_hash keeps its stored PIN. Put does
// not validate: the caller validates the whole configuration.
func (c *Config) Put(k, key string, obj []byte) (path, newKey string, err error) {
	kd, err := kindOf(k)
	if err != nil {
		return "", "", err
	}
	i := -1
	if key != "" {
		if i = kd.find(c, key); i < 0 {
			return "", "", fmt.Errorf("%w: %s %q", ErrNotFound, k, key)
		}
		obj = withKey(obj, kd.key, key, kd.numeric)
	}
	newKey, put, err := kd.decode(obj)
	if err != nil {
		return "", "", err
	}
	ref := objRef{kind: kd.object, key: newKey, numeric: kd.numeric}
	switch {
	case key == "" && kd.find(c, newKey) >= 0:
		return "", "", fmt.Errorf("%w: %w", ErrTaken, newFieldError("", ref, kd.key, ReasonKeyTaken, newKey))
	case key != "" && newKey != key:
		return "", "", newFieldError("", objRef{kind: kd.object, key: key, numeric: kd.numeric}, kd.key, ReasonKeyImmutable)
	}
	var old *Config
	if k == KindAgents && i >= 0 {
		prev := Config{Agents: []Agent{c.Agents[i]}}
		old = &prev
	}
	i = put(c, i)
	c.KeepPINs(old)
	c.Normalize()
	return kd.field + "[" + strconv.Itoa(i) + "]", newKey, nil
}

// withKey gives an object sent without its key field the URL's key.
func withKey(obj []byte, field, key string, numeric bool) []byte {
	var o map[string]json.RawMessage
	if json.Unmarshal(obj, &o) != nil || o == nil {
		return obj // the strict decoding names the problem
	}
	if _, ok := o[field]; ok {
		return obj
	}
	o[field], _ = json.Marshal(key)
	if n, err := strconv.Atoi(key); numeric && err == nil {
		o[field], _ = json.Marshal(n)
	}
	out, err := json.Marshal(o)
	if err != nil {
		return obj
	}
	return out
}

// Delete removes an object. What used it then fails validation, naming
// the object that refers to it.
func (c *Config) Delete(k, key string) error {
	kd, err := kindOf(k)
	if err != nil {
		return err
	}
	i := kd.find(c, key)
	if i < 0 {
		return fmt.Errorf("%w: %s %q", ErrNotFound, k, key)
	}
	kd.remove(c, i)
	return nil
}
