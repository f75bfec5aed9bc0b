package crm

import (
	"sync/atomic"
	"time"
)

// Call is a call on the customer card, from the call log.
type Call struct {
	ID          string    `json:"id"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Start       time.Time `json:"start"`
	DurationS   float64   `json:"duration_s"`
	Disposition string    `json:"disposition"`
}

// CallHistory finds calls from or to any of a customer's numbers (in the
// directory's normalised form), newest first.
type CallHistory interface {
	Calls(numbers []string, limit int) ([]Call, error)
}

// OrderRef is a work order on the customer card.
type OrderRef struct {
	ID       uint64    `json:"id"`
	Title    string    `json:"title"`
	State    string    `json:"state"`
	Created  time.Time `json:"created"`
	Assignee string    `json:"assignee,omitempty"`
}

// OrderHistory finds a customer's work orders, newest first.
type OrderHistory interface {
	CustomerOrders(customer uint64, limit int) ([]OrderRef, error)
}

// Recording is a recording on the customer card.
type Recording struct {
	ID    string    `json:"id"`
	Call  string    `json:"call,omitempty"`
	Start time.Time `json:"start"`
	URL   string    `json:"url,omitempty"`
}

// Recordings is the media services' recording index: the recordings of
// the given calls.
type Recordings interface {
	CallRecordings(calls []string) ([]Recording, error)
}

// Card is everything about one customer on one page: the screen-pop.
type Card struct {
	Customer   Customer    `json:"customer"`
	Calls      []Call      `json:"calls"`
	Comms      []Comm      `json:"comms"`
	Orders     []OrderRef  `json:"work_orders"`
	Recordings []Recording `json:"recordings"`
	// Missing names the parts that could not be read (the call log
	// unavailable, say); the rest of the card is still shown.
	Missing []string `json:"missing,omitempty"`
}

// CardItems is how many of each list a card shows.
const CardItems = 20

type history struct {
	calls  CallHistory
	orders OrderHistory
	recs   Recordings
}

// histories holds the card's sources; set once the rest of the box is up.
type histories struct{ p atomic.Pointer[history] }

// SetHistory sets the card's sources (the work orders open after the
// directory); nil parts stay empty on the card.
func (d *Directory) SetHistory(calls CallHistory, orders OrderHistory, recs Recordings) {
	d.hist.p.Store(&history{calls: calls, orders: orders, recs: recs})
}

// Card returns customer id's card as a sees it. A source that fails is
// named in Missing, never failing the whole card: a broken part leaves the
// rest working.
func (d *Directory) Card(a Actor, id uint64) (Card, error) {
	c, err := d.Get(a, id)
	if err != nil {
		return Card{}, err
	}
	card := Card{Customer: c, Calls: []Call{}, Orders: []OrderRef{}, Recordings: []Recording{}}
	if card.Comms, err = d.Comms(a, id, CardItems); err != nil {
		card.Comms = []Comm{}
		card.Missing = append(card.Missing, "comms")
	}
	h := d.hist.p.Load()
	if h == nil {
		h = &history{}
	}
	if h.calls != nil && len(c.Phones) > 0 {
		if calls, err := h.calls.Calls(c.Numbers(), CardItems); err == nil {
			card.Calls = calls
		} else {
			card.Missing = append(card.Missing, "calls")
		}
	}
	if h.orders != nil {
		if orders, err := h.orders.CustomerOrders(id, CardItems); err == nil {
			card.Orders = orders
		} else {
			card.Missing = append(card.Missing, "work_orders")
		}
	}
	if h.recs != nil {
		var ids []string
		for _, cl := range card.Calls {
			ids = append(ids, cl.ID)
		}
		for _, cm := range card.Comms {
			if cm.Call != "" {
				ids = append(ids, cm.Call)
			}
		}
		if recs, err := h.recs.CallRecordings(ids); err == nil {
			card.Recordings = recs
		} else {
			card.Missing = append(card.Missing, "recordings")
		}
	}
	return card, nil
}
