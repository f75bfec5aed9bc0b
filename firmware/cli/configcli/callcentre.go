package configcli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"callbox/firmware/store"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
)

// The call-centre configuration (telephony/ccconf) is kept in the store's
// ACD record bucket under one key, without its flows: the IVR flows live
// in their own bucket, every version kept, keyed by flow id and version
// (what firmware/app's IVRStore reads for the IVR's repository). An import
// or a web edit writes the configuration, and the flow versions it brings,
// in the same transaction as the PBX configuration it is checked against.

var ccKey = []byte("call_centre")

// LoadCallCentre returns the stored call-centre configuration, without
// flows; ok is false when none has been stored yet (the default applies).
func LoadCallCentre(tx *store.Tx) (c ccconf.Config, ok bool, err error) {
	data, err := tx.Get(store.ACDConfig, ccKey)
	if errors.Is(err, store.ErrNotFound) {
		return ccconf.Default(), false, nil
	}
	if err != nil {
		return ccconf.Config{}, false, err
	}
	c, err = ccconf.Parse(data)
	if err != nil {
		return ccconf.Config{}, false, fmt.Errorf("configcli: stored call-centre configuration: %w", err)
	}
	return c, true, nil
}

// SaveCallCentre replaces the stored call-centre configuration with c,
// without its flows (SaveFlows stores those). It refuses PINs in clear.
// It does not validate: the caller has, against the PBX configuration in
// the same transaction.
func SaveCallCentre(tx *store.Tx, c ccconf.Config) error {
	c.Flows = nil
	doc, err := ccconf.Marshal(c)
	if err != nil {
		return err
	}
	return tx.Put(store.ACDConfig, ccKey, doc)
}

// flowKey is the flow id then the big-endian version, so one flow's
// versions are adjacent and ascend.
func flowKey(id string, version int) store.Key {
	return store.Key(nil).AppendString(id).AppendUint64(uint64(version))
}

// PutFlowVersion stores one version of a flow as JSON. data must be JSON
// and version at least 1. Storing the same bytes again under a version is
// a no-op (a retried save); other bytes under a stored version are refused
// with an error wrapping store.ErrConflict: a version once stored is never
// replaced, since calls may be running it and logs name it.
func PutFlowVersion(tx *store.Tx, id string, version int, data []byte) error {
	var bad error
	switch {
	case id == "":
		bad = &store.FieldError{Entity: "ivr flow", Field: "id", Reason: "must not be empty"}
	case version < 1:
		bad = &store.FieldError{Entity: "ivr flow", Field: "version", Reason: fmt.Sprintf("must be at least 1, have %d", version)}
	case !json.Valid(data):
		bad = &store.FieldError{Entity: "ivr flow", Field: "data", Reason: "must be JSON"}
	}
	if bad != nil {
		return fmt.Errorf("flow %q version %d: %w", id, version, bad)
	}
	key := flowKey(id, version)
	old, err := tx.Get(store.IVRFlows, key)
	switch {
	case err == nil && bytes.Equal(old, data):
		return nil
	case err == nil:
		return fmt.Errorf("flow %q version %d: already stored with other contents: %w", id, version, store.ErrConflict)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return tx.Put(store.IVRFlows, key, data)
}

// EachFlowVersion calls fn for every stored flow version: flows in id
// order, each one's versions ascending.
func EachFlowVersion(tx *store.Tx, fn func(id string, version int, data []byte) error) error {
	return tx.Each(store.IVRFlows, nil, func(k, v []byte) error {
		id, rest, err := store.CutString(k)
		if err != nil {
			return fmt.Errorf("ivr flow key %x: %w", k, err)
		}
		v64, rest, err := store.CutUint64(rest)
		if err != nil || len(rest) != 0 || v64 < 1 || v64 > math.MaxInt {
			return fmt.Errorf("ivr flow key %x: not a flow id and version", k)
		}
		return fn(id, int(v64), v)
	})
}

// StoredFlows is an ivr.FlowSource over every flow version in a store
// transaction (the latest for version 0), for validating against what is
// stored.
type StoredFlows map[string][]*ivr.Flow

// LoadFlows reads every stored flow version.
func LoadFlows(tx *store.Tx) (StoredFlows, error) {
	out := StoredFlows{}
	err := EachFlowVersion(tx, func(id string, version int, data []byte) error {
		f, err := ivr.ParseFlow(data)
		if err != nil {
			return fmt.Errorf("ivr flow %q version %d: %w", id, version, err)
		}
		if len(out[id])+1 != version {
			return fmt.Errorf("ivr flow %q: version %d out of order", id, version)
		}
		out[id] = append(out[id], f)
		return nil
	})
	return out, err
}

// Flow implements ivr.FlowSource.
func (s StoredFlows) Flow(id string, version int) (*ivr.Flow, error) {
	vs := s[id]
	switch {
	case len(vs) == 0:
		return nil, fmt.Errorf("%w: %q", ivr.ErrNoFlow, id)
	case version == 0:
		return vs[len(vs)-1], nil
	case version < 0 || version > len(vs):
		return nil, fmt.Errorf("%w: %q version %d", ivr.ErrNoFlow, id, version)
	}
	return vs[version-1], nil
}

// Latest returns the latest version of every stored flow, in id order.
func (s StoredFlows) Latest() []*ivr.Flow {
	out := make([]*ivr.Flow, 0, len(s))
	for _, vs := range s {
		out = append(out, vs[len(vs)-1])
	}
	slices.SortFunc(out, func(a, b *ivr.Flow) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// content is a flow's JSON without its version: what a new version must
// change to be one.
func content(f *ivr.Flow) ([]byte, error) {
	c := *f
	c.Version = 0
	return json.Marshal(&c)
}

// SaveFlows stores each flow whose content differs from its latest stored
// version (or that is new) as the next version, and returns the versions
// it stored, with their numbers. Flows the store has unchanged are left
// alone, whatever version the file says. flows must have been validated.
func SaveFlows(tx *store.Tx, stored StoredFlows, flows []*ivr.Flow) ([]*ivr.Flow, error) {
	var saved []*ivr.Flow
	for _, f := range flows {
		next := 1
		if vs := stored[f.ID]; len(vs) > 0 {
			latest := vs[len(vs)-1]
			a, err := content(latest)
			if err != nil {
				return nil, err
			}
			b, err := content(f)
			if err != nil {
				return nil, err
			}
			if bytes.Equal(a, b) {
				continue
			}
			next = len(vs) + 1
		}
		c := *f
		c.Version = next
		data, err := json.Marshal(&c)
		if err != nil {
			return nil, fmt.Errorf("ivr flow %q: %w", f.ID, err)
		}
		if err := PutFlowVersion(tx, c.ID, next, data); err != nil {
			return nil, err
		}
		nf, err := ivr.ParseFlow(data)
		if err != nil {
			return nil, fmt.Errorf("ivr flow %q: %w", f.ID, err)
		}
		saved = append(saved, nf)
	}
	return saved, nil
}

// ExportCallCentre returns the stored call-centre configuration with the
// latest version of every stored flow.
func ExportCallCentre(tx *store.Tx) (ccconf.Config, error) {
	c, _, err := LoadCallCentre(tx)
	if err != nil {
		return ccconf.Config{}, err
	}
	flows, err := LoadFlows(tx)
	if err != nil {
		return ccconf.Config{}, err
	}
	c.Flows = flows.Latest()
	return c, nil
}

// CheckCallCentre checks the stored call-centre configuration against a
// PBX configuration about to replace before in tx: a PBX change must not
// take away an extension, trunk or route the call centre uses. It reports
// only the problems the change makes (a configuration already broken
// before, say by older firmware, does not block every PBX edit); the
// errors name the call-centre objects.
func CheckCallCentre(tx *store.Tx, before, after *pbxconf.Config) error {
	c, _, err := LoadCallCentre(tx)
	if err != nil {
		return err
	}
	flows, err := LoadFlows(tx)
	if err != nil {
		return err
	}
	errAfter := c.Validate(ccconf.Context{PBX: after, Flows: flows})
	if errAfter == nil || before == nil {
		return errAfter
	}
	old := map[string]bool{}
	for _, e := range unjoin(c.Validate(ccconf.Context{PBX: before, Flows: flows})) {
		old[e.Error()] = true
	}
	var fresh []error
	for _, e := range unjoin(errAfter) {
		if !old[e.Error()] {
			fresh = append(fresh, e)
		}
	}
	return errors.Join(fresh...)
}

// unjoin lists the errors errors.Join put together.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// Document is an import file or an export: the PBX configuration's
// document (telephony/pbxconf) with the call centre's (telephony/ccconf)
// under "call_centre". An import file may leave either part out; the
// store's is then left as it is (but still checked against the other).
type Document struct {
	PBX        *pbxconf.Config // nil: the file has no PBX part
	CallCentre *ccconf.Config  // nil: the file has no call-centre part
}

// CallCentreField is the document's member holding the call centre's part.
const CallCentreField = "call_centre"

// ParseDocument decodes a document strictly, each part by its package
// (the PBX part validated but for masked secrets, which Import fills from
// the store; the call centre's only parsed: it is validated against the
// PBX configuration in force and the stored flows). A file
// whose only members are "call_centre" (and "version") has no PBX part.
func ParseDocument(data []byte) (Document, error) {
	if len(data) > pbxconf.MaxDocument+ccconf.MaxDocument {
		return Document{}, fmt.Errorf("configcli: document larger than %d bytes", pbxconf.MaxDocument+ccconf.MaxDocument)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		// Let pbxconf name the syntax error, as for a PBX-only file.
		_, err := pbxconf.Parse(data)
		if err == nil {
			err = errors.New("configcli: not a JSON object")
		}
		return Document{}, err
	}
	var d Document
	if raw, ok := top[CallCentreField]; ok {
		delete(top, CallCentreField)
		c, err := ccconf.Parse(raw)
		if err != nil {
			return Document{}, err
		}
		d.CallCentre = &c
	}
	if _, hasVersion := top["version"]; len(top) == 0 || (hasVersion && len(top) == 1 && d.CallCentre != nil) {
		return d, nil
	}
	if d.CallCentre == nil {
		// The file as it is, so errors keep their byte offsets.
		p, err := parsePBX(data)
		if err != nil {
			return Document{}, err
		}
		d.PBX = &p
		return d, nil
	}
	rest, err := json.Marshal(top)
	if err != nil {
		return Document{}, fmt.Errorf("configcli: %w", err)
	}
	p, err := parsePBX(rest)
	if err != nil {
		return Document{}, err
	}
	d.PBX = &p
	return d, nil
}

// MarshalDocument encodes a document: the PBX part's members, then
// "call_centre", indented, ending in a newline.
func MarshalDocument(d Document) ([]byte, error) {
	var out bytes.Buffer
	if d.PBX != nil {
		p, err := pbxconf.Marshal(*d.PBX)
		if err != nil {
			return nil, err
		}
		if d.CallCentre == nil {
			return p, nil
		}
		// Reopen the PBX object to add the call centre as its last member.
		p = bytes.TrimRight(p, "\n")
		out.Write(bytes.TrimRight(p[:len(p)-1], " \n"))
		out.WriteString(",\n")
	} else {
		out.WriteString("{\n")
	}
	if d.CallCentre != nil {
		c, err := ccconf.Marshal(*d.CallCentre)
		if err != nil {
			return nil, err
		}
		out.WriteString(`  "` + CallCentreField + `": `)
		if err := json.Indent(&out, bytes.TrimSpace(c), "  ", "  "); err != nil {
			return nil, fmt.Errorf("configcli: %w", err)
		}
		out.WriteString("\n")
	}
	out.WriteString("}\n")
	return out.Bytes(), nil
}
