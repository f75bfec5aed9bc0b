package workorder

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kv"
)

// NewOrder is what opening an order takes.
type NewOrder struct {
	Category    uint64            `json:"category"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Customer    uint64            `json:"customer,omitempty"`
	Contact     string            `json:"contact,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
	Assignee    string            `json:"assignee,omitempty"`
	Group       uint64            `json:"group,omitempty"`
	Due         time.Time         `json:"due,omitzero"`
}

// kind is a category with what it inherits from its 大类.
type kind struct {
	cat       Category
	lifecycle Lifecycle
	fields    []FieldDef
}

func loadKind(tx kv.Tx, id uint64) (kind, error) {
	var k kind
	if err := crm.Load(tx, BucketMeta, kv.Key{metaCategory}.U64(id), "", &k.cat); err != nil {
		return k, crm.Invalid("order", "category", "no category %d", id)
	}
	lc := k.cat.Lifecycle
	if k.cat.Parent != 0 {
		var p Category
		if err := crm.Load(tx, BucketMeta, kv.Key{metaCategory}.U64(k.cat.Parent), fmt.Sprintf("category %d", k.cat.Parent), &p); err != nil {
			return k, err
		}
		k.fields = append(k.fields, p.Fields...)
		if lc == "" {
			lc = p.Lifecycle
		}
	}
	k.fields = append(k.fields, k.cat.Fields...)
	if err := crm.Load(tx, BucketMeta, kv.Key{metaLifecycle}.Str(lc), fmt.Sprintf("lifecycle %q", lc), &k.lifecycle); err != nil {
		return k, err
	}
	return k, nil
}

func loadLifecycle(tx kv.Tx, id string) (Lifecycle, error) {
	var l Lifecycle
	err := crm.Load(tx, BucketMeta, kv.Key{metaLifecycle}.Str(id), fmt.Sprintf("lifecycle %q", id), &l)
	return l, err
}

func getOrder(tx kv.Tx, id uint64) (Order, error) {
	var o Order
	err := crm.Load(tx, BucketOrders, orderKey(id), fmt.Sprintf("work order %d", id), &o)
	return o, err
}

// Create opens an order. Its state is its lifecycle's initial one; an
// order whose initial state is final (an enquiry) is saved closed at once.
func (s *Service) Create(a crm.Actor, in NewOrder) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o Order
	err := s.st.Update(func(tx kv.Tx) (err error) {
		o, err = s.create(tx, a, in)
		return err
	})
	return o, err
}

func (s *Service) create(tx kv.Tx, a crm.Actor, in NewOrder) (Order, error) {
	const e = "order"
	k, err := loadKind(tx, in.Category)
	if err != nil {
		return Order{}, err
	}
	if k.cat.Disabled {
		return Order{}, crm.Invalid(e, "category", "category %q is disabled", k.cat.Name)
	}
	if slices.ContainsFunc(mustCategories(tx), func(c Category) bool { return c.Parent == in.Category }) {
		return Order{}, crm.Invalid(e, "category", "choose a 小类 of %q", k.cat.Name)
	}
	in.Title, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description)
	if in.Title == "" {
		in.Title = k.cat.Name
		if c := strings.TrimSpace(in.Contact); c != "" {
			in.Title += " · " + c
		}
	}
	for _, f := range []struct {
		name, v   string
		max       int
		req, many bool
	}{{"title", in.Title, 128, true, false}, {"description", in.Description, crm.MaxTextLen, true, true},
		{"contact", in.Contact, crm.MaxNameLen, false, false}, {"phone", in.Phone, 32, false, false}} {
		if err := crm.CheckText(e, f.name, f.v, f.max, f.req, f.many); err != nil {
			return Order{}, err
		}
	}
	now := s.now()
	fields, err := fill(e, "fields.", k.fields, in.Fields, now)
	if err != nil {
		return Order{}, err
	}
	o := Order{Category: in.Category, Lifecycle: k.lifecycle.ID, State: k.lifecycle.Initial, Title: in.Title,
		Description: in.Description, Customer: in.Customer, Contact: strings.TrimSpace(in.Contact),
		Phone: strings.TrimSpace(in.Phone), Fields: fields, Creator: a.Login, Created: now, Updated: now, Version: 1}
	if len(o.Fields) == 0 {
		o.Fields = nil
	}
	if o.ID, err = tx.NextSeq(BucketOrders); err != nil {
		return Order{}, err
	}
	final := s.isFinal(k.lifecycle, o.State)
	if final {
		o.Closed = now
	}
	if err := s.audit(tx, o.ID, Audit{Time: now, Actor: a.Login, Action: "create", To: o.State}); err != nil {
		return Order{}, err
	}
	if in.Customer != 0 {
		if err := tx.Put(BucketIndex, kv.Key{idxCustomer}.U64(in.Customer).U64(^o.ID), nil); err != nil {
			return Order{}, err
		}
	}
	if !final {
		if err := tx.Put(BucketIndex, kv.Key{idxOpen}.U64(^o.ID), nil); err != nil {
			return Order{}, err
		}
		if in.Assignee != "" || in.Group != 0 {
			if err := s.assign(tx, a, &o, in.Assignee, in.Group, in.Due, now); err != nil {
				return Order{}, err
			}
		}
	}
	return o, kv.PutJSON(tx, BucketOrders, orderKey(o.ID), o)
}

func mustCategories(tx kv.Tx) []Category {
	cs, _ := kv.EachJSON[Category](tx, BucketMeta, []byte{metaCategory})
	return cs
}

func (s *Service) isFinal(l Lifecycle, state string) bool {
	st, _ := l.State(state)
	return st.Final
}

// audit appends an entry to the order's trail.
func (s *Service) audit(tx kv.Tx, order uint64, a Audit) error {
	seq, err := tx.NextSeq(BucketAudit)
	if err != nil {
		return err
	}
	a.Seq = seq
	return kv.PutJSON(tx, BucketAudit, kv.Key(nil).U64(order).U64(seq), a)
}

// Get returns an order.
func (s *Service) Get(id uint64) (o Order, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		o, err = getOrder(tx, id)
		return err
	})
	return o, err
}

// Trail returns an order's audit trail, oldest first.
func (s *Service) Trail(id uint64) (out []Audit, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		if _, err := getOrder(tx, id); err != nil {
			return err
		}
		out, err = kv.EachJSON[Audit](tx, BucketAudit, kv.Key(nil).U64(id))
		return err
	})
	return out, err
}

// may reports whether a is one of who for order o.
func may(tx kv.Tx, a crm.Actor, who []string, o *Order) (bool, error) {
	for _, w := range who {
		switch w {
		case a.Role:
			return true, nil
		case WhoCreator:
			if o.Creator == a.Login {
				return true, nil
			}
		case WhoAssignee:
			ok, err := isAssignee(tx, a, o)
			if ok || err != nil {
				return ok, err
			}
		}
	}
	return false, nil
}

func isAssignee(tx kv.Tx, a crm.Actor, o *Order) (bool, error) {
	if o.Assignee != "" && o.Assignee == a.Login {
		return true, nil
	}
	if o.Group == 0 {
		return false, nil
	}
	gs, err := groupsOf(tx, a.Login)
	return slices.Contains(gs, o.Group), err
}

// mayManage refuses what only supervisors, the creator and the assignee
// may do (assign, edit).
func mayManage(tx kv.Tx, a crm.Actor, o *Order, what string) error {
	if a.Supervisor() || o.Creator == a.Login {
		return nil
	}
	ok, err := isAssignee(tx, a, o)
	if err != nil || ok {
		return err
	}
	return crm.Forbidden(a, fmt.Sprintf("%s order %d", what, o.ID))
}

// Steps returns the steps a may take on order id now.
func (s *Service) Steps(a crm.Actor, id uint64) (out []Step, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		o, err := getOrder(tx, id)
		if err != nil {
			return err
		}
		l, err := loadLifecycle(tx, o.Lifecycle)
		if err != nil {
			return err
		}
		for _, st := range l.Steps {
			if !slices.Contains(st.From, o.State) {
				continue
			}
			if ok, err := may(tx, a, st.Who, &o); err != nil {
				return err
			} else if ok {
				out = append(out, st)
			}
		}
		return nil
	})
	return out, err
}

// change runs fn on order id in one transaction and stores the order as
// fn leaves it; writes are serialised, so an order's read-modify-write is
// whole.
func (s *Service) change(id uint64, fn func(tx kv.Tx, o *Order) error) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o Order
	err := s.st.Update(func(tx kv.Tx) (err error) {
		if o, err = getOrder(tx, id); err != nil {
			return err
		}
		if err := fn(tx, &o); err != nil {
			return err
		}
		return kv.PutJSON(tx, BucketOrders, orderKey(o.ID), o)
	})
	return o, err
}

// Take takes step on order id with the values the step records. version,
// when not 0, must be the order's current one (no one else moved it
// meanwhile). It returns the order, and the order the step opened (0 if
// none).
func (s *Service) Take(a crm.Actor, id uint64, step string, version uint64, values map[string]string) (Order, uint64, error) {
	var opened uint64
	o, err := s.change(id, func(tx kv.Tx, o *Order) (err error) {
		if version != 0 && version != o.Version {
			return fmt.Errorf("%w: order %d was changed meanwhile (version %d, yours %d)", crm.ErrConflict, id, o.Version, version)
		}
		l, err := loadLifecycle(tx, o.Lifecycle)
		if err != nil {
			return err
		}
		st, ok := l.Step(step)
		if !ok {
			return crm.Invalid("step", "step", "lifecycle %q has no step %q", l.ID, step)
		}
		if !slices.Contains(st.From, o.State) {
			return fmt.Errorf("%w: order %d is %q; step %q leaves %s", crm.ErrConflict, id, o.State, st.Name, strings.Join(st.From, ", "))
		}
		if ok, err := may(tx, a, st.Who, o); err != nil {
			return err
		} else if !ok {
			return crm.Forbidden(a, fmt.Sprintf("take step %q (%s) of order %d", st.Name, strings.Join(st.Who, ", "), id))
		}
		now := s.now()
		vals, err := fill("step", "", st.Fields, values, now)
		if err != nil {
			return err
		}
		from := o.State
		if o.Steps == nil {
			o.Steps = map[string]map[string]string{}
		}
		o.Steps[st.ID] = vals
		o.State, o.Updated = st.To, now
		o.Version++
		if err := s.audit(tx, o.ID, Audit{Time: now, Actor: a.Login, Action: "step", Step: st.ID, From: from, To: st.To, Data: vals}); err != nil {
			return err
		}
		if s.isFinal(l, o.State) {
			o.Closed = now
			if err := s.unindexOpen(tx, o); err != nil {
				return err
			}
		}
		if st.Opens != nil && vals[st.Opens.When] != "" {
			if opened, err = s.openFrom(tx, a, o, st, vals[st.Opens.When]); err != nil {
				return err
			}
		}
		return nil
	})
	return o, opened, err
}

// openFrom opens the order a step asks for (a complaint at the revisit),
// linked both ways.
func (s *Service) openFrom(tx kv.Tx, a crm.Actor, o *Order, st Step, text string) (uint64, error) {
	i := slices.IndexFunc(mustCategories(tx), func(c Category) bool { return c.Code == st.Opens.Category })
	if i < 0 {
		return 0, fmt.Errorf("%w: step %q opens an order of category code %q, which no category has", crm.ErrConflict, st.ID, st.Opens.Category)
	}
	cat := mustCategories(tx)[i]
	n, err := s.create(tx, a, NewOrder{Category: cat.ID, Title: fmt.Sprintf("%s · %s %d", cat.Name, st.Name, o.ID),
		Description: text, Customer: o.Customer, Contact: o.Contact, Phone: o.Phone})
	if err != nil {
		return 0, fmt.Errorf("workorder: step %q opens a %q order: %w", st.ID, cat.Name, err)
	}
	n.Links = append(n.Links, Link{Kind: LinkComplaintOf, Order: o.ID})
	if err := kv.PutJSON(tx, BucketOrders, orderKey(n.ID), n); err != nil {
		return 0, err
	}
	o.Links = append(o.Links, Link{Kind: LinkComplaint, Order: n.ID})
	now := s.now()
	if err := s.audit(tx, o.ID, Audit{Time: now, Actor: a.Login, Action: "link", Data: map[string]string{LinkComplaint: fmt.Sprint(n.ID)}}); err != nil {
		return 0, err
	}
	if err := s.audit(tx, n.ID, Audit{Time: now, Actor: a.Login, Action: "link", Data: map[string]string{LinkComplaintOf: fmt.Sprint(o.ID)}}); err != nil {
		return 0, err
	}
	if o.Creator != a.Login {
		return n.ID, s.notify(tx, o.Creator, Notice{Order: n.ID, Kind: NoticeOpened, By: a.Login, Time: now})
	}
	return n.ID, nil
}

// unindexOpen drops a closed order from the open lists.
func (s *Service) unindexOpen(tx kv.Tx, o *Order) error {
	keys := [][]byte{kv.Key{idxOpen}.U64(^o.ID)}
	if o.Assignee != "" {
		keys = append(keys, kv.Key{idxUser}.Str(o.Assignee).U64(^o.ID))
	}
	if o.Group != 0 {
		keys = append(keys, kv.Key{idxGroup}.U64(o.Group).U64(^o.ID))
	}
	for _, k := range keys {
		if err := tx.Delete(BucketIndex, k); err != nil {
			return err
		}
	}
	return nil
}

// Assign gives an open order to a user, a group, or both, with a due time
// (zero: none). Supervisors, the creator and the current assignee (handing
// it on) may.
func (s *Service) Assign(a crm.Actor, id uint64, user string, group uint64, due time.Time) (Order, error) {
	return s.change(id, func(tx kv.Tx, o *Order) (err error) {
		if err := mayManage(tx, a, o, "assign"); err != nil {
			return err
		}
		l, err := loadLifecycle(tx, o.Lifecycle)
		if err != nil {
			return err
		}
		if s.isFinal(l, o.State) {
			return fmt.Errorf("%w: order %d is closed", crm.ErrConflict, id)
		}
		if err := s.unindexOpen(tx, o); err != nil {
			return err
		}
		if err := tx.Put(BucketIndex, kv.Key{idxOpen}.U64(^o.ID), nil); err != nil {
			return err
		}
		o.Version++
		if err := s.assign(tx, a, o, user, group, due, s.now()); err != nil {
			return err
		}
		return nil
	})
}

// assign sets the assignee, indexes, audits and notifies; the caller
// writes the order.
func (s *Service) assign(tx kv.Tx, a crm.Actor, o *Order, user string, group uint64, due, now time.Time) error {
	user = strings.TrimSpace(user)
	if user != "" && (len(user) > 32 || strings.ContainsAny(user, " \x00")) {
		return crm.Invalid("order", "assignee", "a login name")
	}
	if group != 0 {
		var g Group
		if err := crm.Load(tx, BucketMeta, kv.Key{metaGroup}.U64(group), "", &g); err != nil {
			return crm.Invalid("order", "group", "no group %d", group)
		}
	}
	if !due.IsZero() && due.Before(o.Created) {
		return crm.Invalid("order", "due", "the due time is before the order was opened")
	}
	data := map[string]string{}
	if user != o.Assignee {
		data["assignee"] = o.Assignee + " → " + user
	}
	if group != o.Group {
		data["group"] = fmt.Sprintf("%d → %d", o.Group, group)
	}
	if !due.Equal(o.Due) {
		data["due"] = fmtTime(o.Due) + " → " + fmtTime(due)
	}
	changed := user != o.Assignee || group != o.Group
	o.Assignee, o.Group, o.Due, o.Updated = user, group, due.UTC(), now
	if changed {
		// A new assignee acknowledges afresh.
		o.AckedBy, o.Acked = "", time.Time{}
	}
	if user != "" {
		if err := tx.Put(BucketIndex, kv.Key{idxUser}.Str(user).U64(^o.ID), nil); err != nil {
			return err
		}
	}
	if group != 0 {
		if err := tx.Put(BucketIndex, kv.Key{idxGroup}.U64(group).U64(^o.ID), nil); err != nil {
			return err
		}
	}
	if len(data) == 0 {
		return nil
	}
	if err := s.audit(tx, o.ID, Audit{Time: now, Actor: a.Login, Action: "assign", Data: data}); err != nil {
		return err
	}
	if user != "" && user != a.Login && changed {
		return s.notify(tx, user, Notice{Order: o.ID, Kind: NoticeAssigned, By: a.Login, Time: now})
	}
	return nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// Ack is the assignee's receipt (接收确认): it records who opened the order
// when, and tells the creator.
func (s *Service) Ack(a crm.Actor, id uint64) (Order, error) {
	return s.change(id, func(tx kv.Tx, o *Order) (err error) {
		ok, err := isAssignee(tx, a, o)
		if err != nil {
			return err
		}
		if !ok {
			return crm.Forbidden(a, fmt.Sprintf("acknowledge order %d, which is not assigned to them", id))
		}
		if o.AckedBy != "" {
			return nil // acknowledged already
		}
		now := s.now()
		o.AckedBy, o.Acked, o.Updated = a.Login, now, now
		o.Version++
		if err := s.audit(tx, o.ID, Audit{Time: now, Actor: a.Login, Action: "ack"}); err != nil {
			return err
		}
		if o.Creator != a.Login {
			if err := s.notify(tx, o.Creator, Notice{Order: o.ID, Kind: NoticeAck, By: a.Login, Time: now}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Edit is what may change on an open order besides its state: nil fields
// stay.
type Edit struct {
	Title       *string           `json:"title"`
	Description *string           `json:"description"`
	Contact     *string           `json:"contact"`
	Phone       *string           `json:"phone"`
	Fields      map[string]string `json:"fields"`
}

// Update changes an open order's texts and fields; the creator, the
// assignee and supervisors may. Every changed field is in the audit.
func (s *Service) Update(a crm.Actor, id uint64, version uint64, ed Edit) (Order, error) {
	return s.change(id, func(tx kv.Tx, o *Order) (err error) {
		if version != 0 && version != o.Version {
			return fmt.Errorf("%w: order %d was changed meanwhile", crm.ErrConflict, id)
		}
		if err := mayManage(tx, a, o, "edit"); err != nil {
			return err
		}
		k, err := loadKind(tx, o.Category)
		if err != nil {
			return err
		}
		if s.isFinal(k.lifecycle, o.State) {
			return fmt.Errorf("%w: order %d is closed", crm.ErrConflict, id)
		}
		data := map[string]string{}
		set := func(name string, dst *string, v *string, max int, req, many bool) error {
			if v == nil || *v == *dst {
				return nil
			}
			nv := strings.TrimSpace(*v)
			if err := crm.CheckText("order", name, nv, max, req, many); err != nil {
				return err
			}
			data[name] = *dst + " → " + nv
			*dst = nv
			return nil
		}
		for _, f := range []struct {
			name      string
			dst, v    *string
			max       int
			req, many bool
		}{{"title", &o.Title, ed.Title, 128, true, false}, {"description", &o.Description, ed.Description, crm.MaxTextLen, true, true},
			{"contact", &o.Contact, ed.Contact, crm.MaxNameLen, false, false}, {"phone", &o.Phone, ed.Phone, 32, false, false}} {
			if err := set(f.name, f.dst, f.v, f.max, f.req, f.many); err != nil {
				return err
			}
		}
		if ed.Fields != nil {
			merged := maps.Clone(o.Fields)
			if merged == nil {
				merged = map[string]string{}
			}
			maps.Copy(merged, ed.Fields)
			nf, err := fill("order", "fields.", k.fields, merged, s.now())
			if err != nil {
				return err
			}
			for key, v := range nf {
				if o.Fields[key] != v {
					data["fields."+key] = o.Fields[key] + " → " + v
				}
			}
			for key := range o.Fields {
				if _, ok := nf[key]; !ok {
					data["fields."+key] = o.Fields[key] + " → "
				}
			}
			o.Fields = nf
		}
		if len(data) == 0 {
			return nil
		}
		now := s.now()
		o.Updated = now
		o.Version++
		if err := s.audit(tx, o.ID, Audit{Time: now, Actor: a.Login, Action: "edit", Data: data}); err != nil {
			return err
		}
		return nil
	})
}

// LinkCall records a call made from the order (the call centre dials it
// and records it) on the order and its trail.
func (s *Service) LinkCall(a crm.Actor, id uint64, c CallLink) (Order, error) {
	return s.change(id, func(tx kv.Tx, o *Order) (err error) {
		if err := crm.CheckText("call", "call", c.Call, 128, true, false); err != nil {
			return err
		}
		now := s.now()
		c.Time, c.By = now, a.Login
		o.Calls = append(o.Calls, c)
		o.Updated = now
		o.Version++
		if err := s.audit(tx, o.ID, Audit{Time: now, Actor: a.Login, Action: "call",
			Data: map[string]string{"call": c.Call, "number": c.Number, "recording": c.Recording}}); err != nil {
			return err
		}
		return nil
	})
}

// Filter selects orders for List.
type Filter struct {
	Mine     bool   // open orders assigned to the actor or their groups
	Open     bool   // open orders only
	State    string // in this state
	Customer uint64
	Category uint64 // this category or, for a 大类, its 小类
	Before   uint64 // orders with a smaller id (paging); 0: from the newest
	Limit    int
}

// List returns orders newest first.
func (s *Service) List(a crm.Actor, f Filter) (out []Order, err error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	out = []Order{}
	err = s.st.View(func(tx kv.Tx) error {
		cats := map[uint64]uint64{} // category -> parent
		for _, c := range mustCategories(tx) {
			cats[c.ID] = c.Parent
		}
		keep := func(o *Order) bool {
			return (f.State == "" || o.State == f.State) && (f.Customer == 0 || o.Customer == f.Customer) &&
				(f.Category == 0 || o.Category == f.Category || cats[o.Category] == f.Category) &&
				(f.Before == 0 || o.ID < f.Before) && (!f.Open || o.Closed.IsZero())
		}
		var ids []uint64
		collect := func(prefix []byte) error {
			return tx.Each(BucketIndex, prefix, func(k, _ []byte) error {
				inv, _, err := kv.CutU64(k[len(k)-8:])
				ids = append(ids, ^inv)
				return err
			})
		}
		switch {
		case f.Mine:
			if err := collect(kv.Key{idxUser}.Str(a.Login)); err != nil {
				return err
			}
			gs, err := groupsOf(tx, a.Login)
			if err != nil {
				return err
			}
			for _, g := range gs {
				if err := collect(kv.Key{idxGroup}.U64(g)); err != nil {
					return err
				}
			}
			slices.SortFunc(ids, func(x, y uint64) int { return cmp.Compare(y, x) })
			ids = slices.Compact(ids)
		case f.Customer != 0:
			if err := collect(kv.Key{idxCustomer}.U64(f.Customer)); err != nil {
				return err
			}
		case f.Open:
			if err := collect([]byte{idxOpen}); err != nil {
				return err
			}
		default:
			return tx.Each(BucketOrders, nil, func(k, v []byte) error {
				var o Order
				if err := json.Unmarshal(v, &o); err != nil {
					return fmt.Errorf("workorder: order %x: damaged record: %w", k, err)
				}
				if keep(&o) {
					out = append(out, o)
				}
				if len(out) == f.Limit {
					return errFull
				}
				return nil
			})
		}
		for _, id := range ids {
			o, err := getOrder(tx, id)
			if err != nil {
				return err
			}
			if keep(&o) {
				out = append(out, o)
			}
			if len(out) == f.Limit {
				break
			}
		}
		return nil
	})
	if err == errFull {
		err = nil
	}
	return out, err
}

var errFull = errors.New("full")

// Pending is what waits for a user: open orders assigned to them or their
// groups, and unread notices.
type Pending struct {
	Orders  int `json:"orders"`
	Notices int `json:"notices"`
}

// Total is the number the banner shows ("you have N unprocessed items").
func (p Pending) Total() int { return p.Orders + p.Notices }

// PendingFor counts what waits for login; it reads only the user's index
// keys, so every page can show it.
func (s *Service) PendingFor(login string) (p Pending, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		seen := map[uint64]bool{}
		count := func(k, _ []byte) error {
			inv, _, err := kv.CutU64(k[len(k)-8:])
			seen[inv] = true
			return err
		}
		if err := tx.Each(BucketIndex, kv.Key{idxUser}.Str(login), count); err != nil {
			return err
		}
		gs, err := groupsOf(tx, login)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if err := tx.Each(BucketIndex, kv.Key{idxGroup}.U64(g), count); err != nil {
				return err
			}
		}
		p.Orders = len(seen)
		ns, err := kv.EachJSON[Notice](tx, BucketIndex, kv.Key{idxNotice}.Str(login))
		for _, n := range ns {
			if !n.Read {
				p.Notices++
			}
		}
		return err
	})
	return p, err
}

// maxNotices is how many notices a user keeps; older ones go.
const maxNotices = 200

func (s *Service) notify(tx kv.Tx, login string, n Notice) error {
	seq, err := tx.NextSeq(BucketIndex)
	if err != nil {
		return err
	}
	n.ID = seq
	prefix := kv.Key{idxNotice}.Str(login)
	if err := kv.PutJSON(tx, BucketIndex, append(prefix, kv.Key(nil).U64(^seq)...), n); err != nil {
		return err
	}
	var old [][]byte
	i := 0
	err = tx.Each(BucketIndex, prefix, func(k, _ []byte) error {
		if i++; i > maxNotices {
			old = append(old, slices.Clone(k))
		}
		return nil
	})
	for _, k := range old {
		if err := tx.Delete(BucketIndex, k); err != nil {
			return err
		}
	}
	return err
}

// Notices returns login's notices, newest first.
func (s *Service) Notices(login string) (out []Notice, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		out, err = kv.EachJSON[Notice](tx, BucketIndex, kv.Key{idxNotice}.Str(login))
		return err
	})
	return out, err
}

// MarkRead marks login's notices read.
func (s *Service) MarkRead(login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Update(func(tx kv.Tx) error {
		prefix := kv.Key{idxNotice}.Str(login)
		type kn struct {
			k []byte
			n Notice
		}
		var unread []kn
		err := tx.Each(BucketIndex, prefix, func(k, v []byte) error {
			var n Notice
			if err := crm.Load(tx, BucketIndex, k, "", &n); err == nil && !n.Read {
				unread = append(unread, kn{slices.Clone(k), n})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, u := range unread {
			u.n.Read = true
			if err := kv.PutJSON(tx, BucketIndex, u.k, u.n); err != nil {
				return err
			}
		}
		return nil
	})
}

// CustomerOrders lists a customer's orders for the customer card
// (crm.OrderHistory).
func (s *Service) CustomerOrders(customer uint64, limit int) ([]crm.OrderRef, error) {
	os, err := s.List(crm.Actor{}, Filter{Customer: customer, Limit: limit})
	if err != nil {
		return nil, err
	}
	names, err := s.StateNames()
	if err != nil {
		return nil, err
	}
	out := make([]crm.OrderRef, 0, len(os))
	for _, o := range os {
		out = append(out, crm.OrderRef{ID: o.ID, Title: o.Title, State: names[o.Lifecycle+"/"+o.State], Created: o.Created, Assignee: o.Assignee})
	}
	return out, nil
}

// StateNames maps "lifecycle/state" to the state's name, for lists.
func (s *Service) StateNames() (map[string]string, error) {
	ls, err := s.Lifecycles()
	names := map[string]string{}
	for _, l := range ls {
		for _, st := range l.States {
			names[l.ID+"/"+st.ID] = st.Name
		}
	}
	return names, err
}

var _ crm.OrderHistory = (*Service)(nil)
