package workorder

import (
	"strings"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kv"
)

// Contact is a number an order offers to call: the customer's, or one a
// phone field of its category or of a step recorded (the crew's).
type Contact struct {
	// Key names the contact in a call request: ContactCustomer,
	// "fields.<key>" or "steps.<step>.<key>".
	Key    string `json:"key"`
	Label  string `json:"label"` // the field's label; "" for the customer
	Name   string `json:"name,omitempty"`
	Number string `json:"number"`
}

// ContactCustomer is the key of the number the order was opened with.
const ContactCustomer = "customer"

// Contacts lists the numbers order id offers to call, the customer's
// first, then its category's phone fields, then its steps' in the
// lifecycle's order.
func (s *Service) Contacts(id uint64) (out []Contact, err error) {
	err = s.st.View(func(tx kv.Tx) error {
		o, err := getOrder(tx, id)
		if err != nil {
			return err
		}
		out = []Contact{}
		if o.Phone != "" {
			out = append(out, Contact{Key: ContactCustomer, Name: o.Contact, Number: o.Phone})
		}
		k, err := loadKind(tx, o.Category)
		if err != nil {
			// A category removed since: its steps still name their crew.
			k.lifecycle, err = loadLifecycle(tx, o.Lifecycle)
			if err != nil {
				return err
			}
		}
		out = appendContacts(out, "fields.", k.fields, o.Fields)
		for _, st := range k.lifecycle.Steps {
			out = appendContacts(out, "steps."+st.ID+".", st.Fields, o.Steps[st.ID])
		}
		return nil
	})
	return out, err
}

func appendContacts(out []Contact, prefix string, defs []FieldDef, vals map[string]string) []Contact {
	for _, d := range defs {
		if d.Type != FieldPhone || vals[d.Key] == "" {
			continue
		}
		c := Contact{Key: prefix + d.Key, Label: d.Label, Number: vals[d.Key]}
		if who, ok := strings.CutSuffix(d.Key, "_phone"); ok {
			c.Name = vals[who]
		}
		out = append(out, c)
	}
	return out
}

// Contact returns order id's contact key (Contacts).
func (s *Service) Contact(id uint64, key string) (Contact, error) {
	cs, err := s.Contacts(id)
	if err != nil {
		return Contact{}, err
	}
	for _, c := range cs {
		if c.Key == key {
			return c, nil
		}
	}
	return Contact{}, crm.Invalid("call", "contact", "the order has no number %q", key)
}
