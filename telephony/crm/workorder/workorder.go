// Package workorder keeps work orders (工单): business categories (大类
// and 小类) with the fields each needs and common descriptions to pick
// from; lifecycles as data (states, who may move an order between them,
// what each step records); assignment to a user or a group with a due
// time; the count of unprocessed items on every page of the assignee; the
// acknowledgement that tells the creator the order was opened; and an
// audit trail of every change.
//
// The seed's 95598 fault-repair flow (受理 -> 派工 -> 到达现场 -> 抢修完成 ->
// 回复客户 -> 满意度回访 -> closed, a revisit complaint opening a linked
// complaint order) and the enquiry flow (saved and closed at once) are
// built in (Seed); administrators add their own.
//
// Records live in a kv.Store (buckets listed in Buckets). Errors use crm's
// sentinels (crm.ErrNotFound, ErrConflict, ErrForbidden, ErrInvalid).
package workorder

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kv"
)

// The buckets the package keeps its records in.
const (
	BucketMeta   kv.Bucket = "wo_meta"   // categories, lifecycles, groups
	BucketOrders kv.Bucket = "wo_orders" // ^id -> Order (newest first)
	BucketIndex  kv.Bucket = "wo_index"  // open orders per assignee and group, per customer; notices
	BucketAudit  kv.Bucket = "wo_audit"  // id seq -> Audit
)

// Buckets lists every bucket the package uses.
var Buckets = []kv.Bucket{BucketMeta, BucketOrders, BucketIndex, BucketAudit}

// Keys of BucketMeta and BucketIndex.
const (
	metaCategory  = 'c'
	metaLifecycle = 'l'
	metaGroup     = 'g'

	idxUser     = 'u' // login ^id: open orders assigned to the user
	idxGroup    = 'g' // group ^id: open orders assigned to the group
	idxCustomer = 'c' // customer ^id
	idxOpen     = 'o' // ^id: every open order
	idxNotice   = 'n' // login ^seq -> Notice
)

// Category is a business category: a 大类 (Parent 0) or a 小类 under one.
type Category struct {
	ID     uint64 `json:"id"`
	Parent uint64 `json:"parent,omitempty"`
	Name   string `json:"name"`
	// Code names the category for lifecycles (Opens.Category); optional,
	// unique.
	Code string `json:"code,omitempty"`
	// Lifecycle is the lifecycle's id; a 小类 without one uses its 大类's.
	Lifecycle string `json:"lifecycle,omitempty"`
	// Fields are what an order of the category records; a 小类's orders
	// need its 大类's fields and its own.
	Fields []FieldDef `json:"fields,omitempty"`
	// Descriptions are common descriptions to pick from (常用服务描述).
	Descriptions []string `json:"descriptions,omitempty"`
	Disabled     bool     `json:"disabled,omitempty"`
}

// Group is a set of users an order can be assigned to (a repair crew's
// desk, a back office).
type Group struct {
	ID      uint64   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Link ties two orders.
type Link struct {
	Kind  string `json:"kind"` // LinkComplaint, LinkComplaintOf
	Order uint64 `json:"order"`
}

// The link kinds.
const (
	LinkComplaint   = "complaint"    // this order opened a complaint order
	LinkComplaintOf = "complaint_of" // this complaint came from that order
)

// CallLink is a call made from the order (a callback to the customer, a
// call to the crew), with its recording.
type CallLink struct {
	Call      string    `json:"call"`
	Number    string    `json:"number,omitempty"`
	Recording string    `json:"recording,omitempty"`
	Time      time.Time `json:"time"`
	By        string    `json:"by"`
}

// Order is a work order.
type Order struct {
	ID          uint64            `json:"id"`
	Category    uint64            `json:"category"`
	Lifecycle   string            `json:"lifecycle"`
	State       string            `json:"state"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Customer    uint64            `json:"customer,omitempty"`
	Contact     string            `json:"contact,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
	// Steps holds what each step recorded, by step id (the last time it
	// was taken; the audit keeps every time).
	Steps    map[string]map[string]string `json:"steps,omitempty"`
	Assignee string                       `json:"assignee,omitempty"`
	Group    uint64                       `json:"group,omitempty"`
	Due      time.Time                    `json:"due,omitzero"`
	Creator  string                       `json:"creator"`
	Created  time.Time                    `json:"created"`
	Updated  time.Time                    `json:"updated"`
	Closed   time.Time                    `json:"closed,omitzero"`
	AckedBy  string                       `json:"acked_by,omitempty"`
	Acked    time.Time                    `json:"acked,omitzero"`
	Links    []Link                       `json:"links,omitempty"`
	Calls    []CallLink                   `json:"calls,omitempty"`
	Version  uint64                       `json:"version"`
}

// Audit is one change of an order.
type Audit struct {
	Seq    uint64            `json:"seq"`
	Time   time.Time         `json:"time"`
	Actor  string            `json:"actor"`
	Action string            `json:"action"` // create, step, assign, ack, edit, link, call
	Step   string            `json:"step,omitempty"`
	From   string            `json:"from,omitempty"`
	To     string            `json:"to,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// Notice tells a user something happened to an order: that it was
// acknowledged (opened by its assignee), assigned to them, or opened
// from theirs.
type Notice struct {
	ID    uint64    `json:"id"`
	Order uint64    `json:"order"`
	Kind  string    `json:"kind"` // NoticeAck, NoticeAssigned, NoticeOpened
	By    string    `json:"by"`
	Time  time.Time `json:"time"`
	Read  bool      `json:"read,omitempty"`
}

// The notice kinds.
const (
	NoticeAck      = "ack"
	NoticeAssigned = "assigned"
	NoticeOpened   = "opened"
)

// Options tunes a Service; the zero value works.
type Options struct {
	Now func() time.Time
}

// Service is the work-order desk. It is safe for concurrent use.
type Service struct {
	st  kv.Store
	now func() time.Time
	mu  sync.Mutex // serialises writes: an order's read-modify-write is one
}

// Open returns the service over st, shipping the built-in categories and
// lifecycles on first use (Seed).
func Open(st kv.Store, opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{st: st, now: func() time.Time { return opts.Now().UTC().Truncate(time.Second) }}
	if err := s.Seed(); err != nil {
		return nil, err
	}
	return s, nil
}

func orderKey(id uint64) []byte { return kv.Key(nil).U64(^id) }

// Categories lists every category, 大类 and 小类, by id.
func (s *Service) Categories() (out []Category, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		out, err = kv.EachJSON[Category](tx, BucketMeta, []byte{metaCategory})
		return err
	})
	return out, err
}

// SaveCategory creates (ID 0) or replaces a category.
func (s *Service) SaveCategory(a crm.Actor, c Category) (Category, error) {
	if !a.Admin() {
		return c, crm.Forbidden(a, "edit work-order categories")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.st.Update(func(tx kv.Tx) error { return s.saveCategory(tx, &c) })
	return c, err
}

func (s *Service) saveCategory(tx kv.Tx, c *Category) error {
	const e = "category"
	c.Name = strings.TrimSpace(c.Name)
	if err := crm.CheckText(e, "name", c.Name, crm.MaxNameLen, true, false); err != nil {
		return err
	}
	if c.Code != "" && !idRE.MatchString(c.Code) {
		return crm.Invalid(e, "code", "1-32 of a-z, 0-9 and _, starting with a letter")
	}
	if err := checkFieldDefs(e, "fields", c.Fields); err != nil {
		return err
	}
	if len(c.Descriptions) > 64 {
		return crm.Invalid(e, "descriptions", "at most 64")
	}
	for i, d := range c.Descriptions {
		if err := crm.CheckText(e, fmt.Sprintf("descriptions[%d]", i), d, 256, true, false); err != nil {
			return err
		}
	}
	all, err := kv.EachJSON[Category](tx, BucketMeta, []byte{metaCategory})
	if err != nil {
		return err
	}
	found := c.ID == 0
	for _, o := range all {
		if o.ID == c.ID {
			found = true
			continue
		}
		if o.Parent == c.Parent && strings.EqualFold(o.Name, c.Name) {
			return fmt.Errorf("%w: category %q exists", crm.ErrConflict, c.Name)
		}
		if c.Code != "" && o.Code == c.Code {
			return fmt.Errorf("%w: category code %q is taken", crm.ErrConflict, c.Code)
		}
		if o.Parent == c.ID && c.ID != 0 && c.Parent != 0 {
			return crm.Invalid(e, "parent", "a category with 小类 under it cannot become one")
		}
	}
	if !found {
		return fmt.Errorf("%w: category %d", crm.ErrNotFound, c.ID)
	}
	if c.Parent != 0 {
		var p Category
		if err := crm.Load(tx, BucketMeta, kv.Key{metaCategory}.U64(c.Parent), "", &p); err != nil || p.Parent != 0 {
			return crm.Invalid(e, "parent", "no 大类 %d", c.Parent)
		}
	}
	if c.Lifecycle == "" && c.Parent == 0 {
		return crm.Invalid(e, "lifecycle", "a 大类 needs a lifecycle")
	}
	if c.Lifecycle != "" {
		if _, err := tx.Get(BucketMeta, kv.Key{metaLifecycle}.Str(c.Lifecycle)); err != nil {
			return crm.Invalid(e, "lifecycle", "no lifecycle %q", c.Lifecycle)
		}
	}
	if c.ID == 0 {
		if c.ID, err = tx.NextSeq(BucketMeta); err != nil {
			return err
		}
	}
	return kv.PutJSON(tx, BucketMeta, kv.Key{metaCategory}.U64(c.ID), c)
}

// Lifecycles lists the lifecycles by id.
func (s *Service) Lifecycles() (out []Lifecycle, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		out, err = kv.EachJSON[Lifecycle](tx, BucketMeta, []byte{metaLifecycle})
		return err
	})
	return out, err
}

// SaveLifecycle creates or replaces a lifecycle. Orders in a state the
// new version lacks keep it, and can leave it only by steps that still
// name it; so a replacement may not drop a state an open order is in.
func (s *Service) SaveLifecycle(a crm.Actor, l Lifecycle) (Lifecycle, error) {
	if !a.Admin() {
		return l, crm.Forbidden(a, "edit lifecycles")
	}
	if err := l.Validate(); err != nil {
		return l, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.st.Update(func(tx kv.Tx) error {
		stuck := errors.New("stuck")
		var in string
		err := tx.Each(BucketIndex, []byte{idxOpen}, func(k, _ []byte) error {
			id, _, _ := kv.CutU64(k[1:])
			var o Order
			if err := crm.Load(tx, BucketOrders, orderKey(^id), "", &o); err != nil {
				return nil
			}
			if _, ok := l.State(o.State); o.Lifecycle == l.ID && !ok {
				in = fmt.Sprintf("order %d is in state %q", o.ID, o.State)
				return stuck
			}
			return nil
		})
		if err == stuck {
			return fmt.Errorf("%w: %s, which the new lifecycle drops", crm.ErrConflict, in)
		}
		if err != nil {
			return err
		}
		return kv.PutJSON(tx, BucketMeta, kv.Key{metaLifecycle}.Str(l.ID), l)
	})
	return l, err
}

// Groups lists the assignment groups.
func (s *Service) Groups() (out []Group, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		out, err = kv.EachJSON[Group](tx, BucketMeta, []byte{metaGroup})
		return err
	})
	return out, err
}

// SaveGroup creates (ID 0) or replaces an assignment group; supervisors
// and administrators manage them.
func (s *Service) SaveGroup(a crm.Actor, g Group) (Group, error) {
	if !a.Supervisor() {
		return g, crm.Forbidden(a, "edit work-order groups")
	}
	g.Name = strings.TrimSpace(g.Name)
	if err := crm.CheckText("group", "name", g.Name, crm.MaxNameLen, true, false); err != nil {
		return g, err
	}
	if len(g.Members) > 256 {
		return g, crm.Invalid("group", "members", "at most 256")
	}
	for i, m := range g.Members {
		if m == "" || len(m) > 32 || strings.ContainsAny(m, " \x00") {
			return g, crm.Invalid("group", fmt.Sprintf("members[%d]", i), "a login name")
		}
	}
	slices.Sort(g.Members)
	g.Members = slices.Compact(g.Members)
	if g.Members == nil {
		g.Members = []string{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.st.Update(func(tx kv.Tx) error {
		all, err := kv.EachJSON[Group](tx, BucketMeta, []byte{metaGroup})
		if err != nil {
			return err
		}
		found := g.ID == 0
		for _, o := range all {
			found = found || o.ID == g.ID
			if o.ID != g.ID && strings.EqualFold(o.Name, g.Name) {
				return fmt.Errorf("%w: group %q exists", crm.ErrConflict, g.Name)
			}
		}
		if !found {
			return fmt.Errorf("%w: group %d", crm.ErrNotFound, g.ID)
		}
		if g.ID == 0 {
			if g.ID, err = tx.NextSeq(BucketMeta); err != nil {
				return err
			}
		}
		return kv.PutJSON(tx, BucketMeta, kv.Key{metaGroup}.U64(g.ID), g)
	})
	return g, err
}

// groupsOf returns the groups login belongs to.
func groupsOf(tx kv.Tx, login string) ([]uint64, error) {
	all, err := kv.EachJSON[Group](tx, BucketMeta, []byte{metaGroup})
	var out []uint64
	for _, g := range all {
		if slices.Contains(g.Members, login) {
			out = append(out, g.ID)
		}
	}
	return out, err
}
