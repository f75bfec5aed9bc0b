package cc

import (
	"errors"
	"fmt"
	"time"

	"callbox/telephony/conference"
	"callbox/telephony/ivr"
	"callbox/telephony/media"
	"callbox/telephony/prompt"
)

// Conference rooms on the service's calls: a room's number dialled from an
// extension (an FXS phone, a SIP phone), a route's or a forward's handoff
// to it, an inbound route's room target or an IVR transfer to its number
// joins the caller to the room. The room's dialogue (PIN,
// keys) runs over the caller's dialogue; the room's audio mixes the
// parties' channels, each left alone in its own app call.

// Rooms are the meet-me conference rooms the dial plan reaches.
type Rooms interface {
	// IsRoom reports whether number is a room's. It is asked on the
	// switch's goroutine and must not block.
	IsRoom(number string) bool
	// Join runs a party's time in room over call, ch being the media
	// channel of the party's leg, until the party hangs up or the room
	// lets it go.
	Join(call conference.Call, room string, from conference.Caller, ch *media.Channel) error
}

// isRoom reports whether number is a conference room's.
func (s *Service) isRoom(number string) bool {
	return s.opts.Rooms != nil && number != "" && s.opts.Rooms.IsRoom(number)
}

// joinRoom answers the caller and runs the room's dialogue on the call.
func (s *Service) joinRoom(ses *session, room string) {
	ses.ac.Answer(ses.caller)
	s.startDialog(ses, func(d *dialog) { _ = d.room(room) })
}

// room runs the caller's time in a conference room (a dialled room, a
// route's, an IVR transfer's) and hangs up after it; it returns
// ivr.ErrHangup, so a flow that sent the caller there ends.
func (d *dialog) room(room string) error {
	defer d.hangup()
	ch, err := d.mediaChannel()
	if err != nil || ch == nil {
		return ivr.ErrHangup // gone before the room could take the leg
	}
	from := conference.Caller{Number: d.number}
	if err := d.s.opts.Rooms.Join(confCall{d}, room, from, ch); err != nil && !errors.Is(err, conference.ErrHangup) {
		d.s.log.Info("conference join ended", "room", room, "call", d.id, "err", err)
	}
	return ivr.ErrHangup
}

// mediaChannel asks the switch for the media channel of the dialogue's leg
// (nil once it is gone).
func (d *dialog) mediaChannel() (*media.Channel, error) {
	t := d.token()
	var ch *media.Channel // written on the switch's goroutine before the push
	d.ac.MediaChannel(d.leg, func(c *media.Channel) {
		ch = c
		d.push(msg{kind: msgReply, token: t})
	})
	for {
		m, err := d.next()
		if err != nil {
			return nil, err
		}
		if m.kind == msgReply && m.token == t {
			return ch, nil
		}
		if err := d.handle(m); err != nil {
			return nil, err
		}
	}
}

// confCall is conference.Call over a dialogue.
type confCall struct{ d *dialog }

var _ conference.Call = confCall{}

// confErr gives the room the hang-up it knows.
func confErr(err error) error {
	if errors.Is(err, ivr.ErrHangup) {
		return fmt.Errorf("%w: %w", conference.ErrHangup, err)
	}
	return err
}

// Say implements conference.Call: the prompts, with the number said after
// the first when the sound counts.
func (c confCall) Say(s conference.Sound, cut bool) error {
	names := s.Prompts
	if s.Count && len(names) > 0 {
		names = append(append([]string{names[0]}, prompt.Count(s.Number, c.d.lang)...), names[1:]...)
	}
	return confErr(c.d.sayNames(cut, names...))
}

// Collect implements conference.Call.
func (c confCall) Collect(max int, term string, wait time.Duration) (string, error) {
	k, err := c.d.collect(ivr.CollectRequest{Max: max, Terminator: term, FirstTimeout: wait, InterDigit: wait})
	return k, confErr(err)
}

// Hangup implements conference.Call.
func (c confCall) Hangup() { c.d.hangup() }
