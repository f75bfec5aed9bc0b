package voicemail

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"callbox/telephony/pin"
)

// Waits of the menus.
const (
	menuWait  = 6 * time.Second // for a menu's key
	entryWait = 8 * time.Second // for a number's first key
	digitWait = 4 * time.Second // between a number's keys
	menuTries = 3               // menus said with no key before goodbye
)

// minMessage is the shortest message kept: shorter ones are a caller who
// hung up at the beep.
const minMessage = time.Second

// Deposit runs the deposit dialogue: the caller hears the box's greeting
// (its own or the default one; a key skips it), leaves a message after the
// beep (the box's maximum length; # or silence ends it, a hang-up keeps
// it) and hears it was saved. The message is filed as new, the box's
// phones light up and the owner is notified. A full or unknown box is
// told to the caller and returned as ErrFull or ErrNotFound.
func (s *Service) Deposit(c Call, box string, from Caller) error {
	d := &deposit{s: s, c: c, from: from}
	return run(d.greet, d, box)
}

// step is a state of a dialogue: it acts and returns the next state
// (nil: the dialogue is over).
type step func() (step, error)

// dialogue is what run needs of one.
type dialogue interface{ setBox(string) error }

// run walks a dialogue's states from first.
func run(first step, d dialogue, box string) error {
	if err := d.setBox(box); err != nil {
		return err
	}
	for st := first; st != nil; {
		var err error
		if st, err = st(); err != nil {
			return err
		}
	}
	return nil
}

type deposit struct {
	s    *Service
	c    Call
	from Caller
	box  Box
	id   string
	at   time.Time
}

func (d *deposit) setBox(n string) error {
	b, err := d.s.Box(n)
	if err != nil {
		_ = d.c.Say(Prompt{Name: PromptUnavailable}, false)
		d.c.Hangup()
		return err
	}
	d.box = b
	return nil
}

// greet: the greeting, unless the box is full.
func (d *deposit) greet() (step, error) {
	full, err := d.s.full(d.box)
	if err != nil {
		return nil, err
	}
	if full {
		d.s.log.Info("voicemail box full: message refused", "box", d.box.Number, "caller", d.from.Number)
		_ = d.c.Say(Prompt{Name: PromptFull}, false)
		d.c.Hangup()
		return nil, fmt.Errorf("%w: %s", ErrFull, d.box.Number)
	}
	p := Prompt{Name: PromptGreeting}
	if d.box.Greeting {
		p = Prompt{File: d.s.GreetingPath(d.box.Number)}
	}
	if err := d.c.Say(p, true); err != nil {
		return nil, ignoreHangup(err)
	}
	return d.record, nil
}

// record: the message after the beep.
func (d *deposit) record() (step, error) {
	if err := os.MkdirAll(d.s.boxDir(d.box.Number), 0o750); err != nil {
		return nil, fmt.Errorf("voicemail: %w", err)
	}
	d.at = d.s.cfg.Now()
	d.id = newID(d.at)
	path := d.s.messagePath(d.box.Number, d.id)
	rec, err := d.c.Record(RecordSpec{Path: path, Beep: true, Max: d.box.MaxMessage, Silence: d.s.cfg.Silence, Term: "#"})
	hungUp := errors.Is(err, ErrHangup)
	if err != nil && !hungUp {
		os.Remove(path)
		return nil, err
	}
	if !rec.Spoken || rec.Duration < minMessage {
		os.Remove(path)
		if hungUp {
			return nil, nil
		}
		_ = d.c.Say(Prompt{Name: PromptNothingRecorded}, false)
		return d.bye, nil
	}
	d.s.mu.Lock()
	_, err = d.s.addMessage(d.box, d.id, d.from, rec.Duration, d.at)
	d.s.mu.Unlock()
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	if hungUp {
		return nil, nil
	}
	if err := d.c.Say(Prompt{Name: PromptSaved}, false); err != nil {
		return nil, ignoreHangup(err)
	}
	d.c.Hangup()
	return nil, nil
}

func (d *deposit) bye() (step, error) {
	_ = d.c.Say(Prompt{Name: PromptGoodbye}, false)
	d.c.Hangup()
	return nil, nil
}

// ignoreHangup: a caller who leaves ends the dialogue, which is no error.
func ignoreHangup(err error) error {
	if errors.Is(err, ErrHangup) {
		return nil
	}
	return err
}

// Retrieve runs the retrieval dialogue. With box set (the feature code
// from one of the box's phones) only the PIN is asked; otherwise the box
// number too. Wrong PINs are limited (PINTries a call, then goodbye; a box
// locks after LockAfter in a row). Then: the counts of new and saved
// messages and the main menu: play new or saved messages (each: repeat,
// save, delete, call back the caller, next), the options (record the
// greeting, back to the default greeting, change the PIN), exit.
func (s *Service) Retrieve(c Call, box string) error {
	r := &retrieval{s: s, c: c, given: box}
	err := run(r.login, r, box)
	return ignoreHangup(err)
}

type retrieval struct {
	s     *Service
	c     Call
	given string
	box   Box
	msgs  []Message // the list being played
	cur   int
	quiet int // menus in a row with no key
}

func (r *retrieval) setBox(string) error { return nil }

// login: box number (unless given) and PIN.
func (r *retrieval) login() (step, error) {
	for try := 0; try < r.s.cfg.PINTries; try++ {
		number := r.given
		if number == "" {
			if err := r.c.Say(Prompt{Name: PromptBox}, true); err != nil {
				return nil, err
			}
			n, err := r.c.Collect(16, "#", entryWait, digitWait)
			if err != nil {
				return nil, err
			}
			number = n
		}
		if err := r.c.Say(Prompt{Name: PromptPIN}, true); err != nil {
			return nil, err
		}
		code, err := r.c.Collect(8, "#", entryWait, digitWait)
		if err != nil {
			return nil, err
		}
		b, err := r.s.login(number, code)
		switch {
		case err == nil:
			r.box = b
			r.s.log.Info("voicemail box opened by phone", "box", b.Number)
			return r.counts, nil
		case errors.Is(err, ErrLocked):
			_ = r.c.Say(Prompt{Name: PromptLocked}, false)
			r.c.Hangup()
			return nil, nil
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
		r.s.log.Info("voicemail wrong PIN", "box", number)
		if err := r.c.Say(Prompt{Name: PromptWrongPIN}, false); err != nil {
			return nil, err
		}
	}
	return r.bye, nil
}

func (r *retrieval) bye() (step, error) {
	_ = r.c.Say(Prompt{Name: PromptGoodbye}, false)
	r.c.Hangup()
	return nil, nil
}

// split returns the box's new and saved messages, oldest first.
func (r *retrieval) split() (newMsgs, saved []Message, err error) {
	all, err := r.s.idx.messages(r.box.Number)
	for _, m := range all {
		if m.State == StateNew {
			newMsgs = append(newMsgs, m)
		} else {
			saved = append(saved, m)
		}
	}
	return newMsgs, saved, err
}

// counts: "you have N new messages and M saved messages".
func (r *retrieval) counts() (step, error) {
	n, sv, err := r.split()
	if err != nil {
		return nil, err
	}
	if len(n)+len(sv) == 0 {
		if err := r.c.Say(Prompt{Name: PromptNoMessages}, true); err != nil {
			return nil, err
		}
		return r.menu, nil
	}
	for _, p := range []Prompt{{Name: PromptYouHave}, {Number: strconv.Itoa(len(n))}, {Name: PromptNewMessages},
		{Number: strconv.Itoa(len(sv))}, {Name: PromptSavedMessages}} {
		if err := r.c.Say(p, true); err != nil {
			return nil, err
		}
	}
	return r.menu, nil
}

// menu: the main menu.
func (r *retrieval) menu() (step, error) {
	k, err := r.ask(PromptMainMenu)
	if err != nil || k == "" {
		return r.silent(r.menu), err
	}
	n, sv, err := r.split()
	if err != nil {
		return nil, err
	}
	switch k {
	case "1":
		r.msgs = n
		if len(n) == 0 {
			r.msgs = sv
		}
	case "2":
		r.msgs = sv
	case "0":
		return r.options, nil
	case "*":
		return r.bye, nil
	default:
		return r.invalid(r.menu)
	}
	r.cur = 0
	if len(r.msgs) == 0 {
		if err := r.c.Say(Prompt{Name: PromptNoMore}, false); err != nil {
			return nil, err
		}
		return r.menu, nil
	}
	return r.play, nil
}

// ask says a menu and waits for one key.
func (r *retrieval) ask(menu string) (string, error) {
	if err := r.c.Say(Prompt{Name: menu}, true); err != nil {
		return "", err
	}
	k, err := r.c.Collect(1, "", menuWait, 0)
	if k != "" {
		r.quiet = 0
	}
	return k, err
}

// silent counts a menu that got no key: after menuTries, goodbye.
func (r *retrieval) silent(again step) step {
	if r.quiet++; r.quiet >= menuTries {
		return r.bye
	}
	return again
}

func (r *retrieval) invalid(again step) (step, error) {
	if err := r.c.Say(Prompt{Name: PromptInvalid}, false); err != nil {
		return nil, err
	}
	return again, nil
}

// play: "message N from <number>", then the message; a new one becomes
// saved once played.
func (r *retrieval) play() (step, error) {
	m := r.msgs[r.cur]
	ps := []Prompt{{Name: PromptMessage}, {Number: strconv.Itoa(r.cur + 1)}}
	if m.Caller != "" {
		ps = append(ps, Prompt{Name: PromptFrom}, Prompt{Digits: m.Caller})
	}
	ps = append(ps, Prompt{File: r.s.messagePath(r.box.Number, m.ID)})
	for _, p := range ps {
		if err := r.c.Say(p, true); err != nil {
			return nil, err
		}
	}
	if m.State == StateNew {
		if err := r.s.SetState(r.box.Number, m.ID, StateSaved); err != nil {
			return nil, err
		}
		r.msgs[r.cur].State = StateSaved
	}
	return r.after, nil
}

// after: the message menu.
func (r *retrieval) after() (step, error) {
	k, err := r.ask(PromptMessageMenu)
	if err != nil || k == "" {
		return r.silent(r.after), err
	}
	m := r.msgs[r.cur]
	switch k {
	case "1":
		return r.play, nil
	case "2":
		if err := r.s.SetState(r.box.Number, m.ID, StateSaved); err != nil {
			return nil, err
		}
		if err := r.c.Say(Prompt{Name: PromptMessageSaved}, false); err != nil {
			return nil, err
		}
		return r.next, nil
	case "3":
		if err := r.s.DeleteMessage(r.box.Number, m.ID); err != nil {
			return nil, err
		}
		if err := r.c.Say(Prompt{Name: PromptMessageDeleted}, false); err != nil {
			return nil, err
		}
		return r.next, nil
	case "4":
		if m.Caller == "" {
			if err := r.c.Say(Prompt{Name: PromptNoCallback}, false); err != nil {
				return nil, err
			}
			return r.after, nil
		}
		r.s.log.Info("voicemail call back", "box", r.box.Number, "id", m.ID, "number", m.Caller)
		return nil, r.c.CallBack(m.Caller)
	case "#", "6":
		return r.next, nil
	case "*":
		return r.menu, nil
	}
	return r.invalid(r.after)
}

func (r *retrieval) next() (step, error) {
	if r.cur++; r.cur < len(r.msgs) {
		return r.play, nil
	}
	if err := r.c.Say(Prompt{Name: PromptNoMore}, false); err != nil {
		return nil, err
	}
	return r.menu, nil
}

// options: the mailbox options menu.
func (r *retrieval) options() (step, error) {
	k, err := r.ask(PromptOptions)
	if err != nil || k == "" {
		return r.silent(r.options), err
	}
	switch k {
	case "1":
		return r.greeting, nil
	case "2":
		if err := r.s.DeleteGreeting(r.box.Number); err != nil {
			return nil, err
		}
		if err := r.c.Say(Prompt{Name: PromptGreetingDefault}, false); err != nil {
			return nil, err
		}
		return r.options, nil
	case "3":
		return r.pin, nil
	case "*":
		return r.menu, nil
	}
	return r.invalid(r.options)
}

// greeting: record a new greeting by phone.
func (r *retrieval) greeting() (step, error) {
	if err := r.c.Say(Prompt{Name: PromptRecordGreeting}, false); err != nil {
		return nil, err
	}
	var rec Recorded
	err := r.s.setGreeting(r.box.Number, func(tmp string) error {
		var err error
		rec, err = r.c.Record(RecordSpec{Path: tmp, Beep: true, Max: MaxGreeting, Silence: 3 * time.Second, Term: "#"})
		if err != nil {
			return err
		}
		if !rec.Spoken || rec.Duration < minMessage {
			return errNothing
		}
		return nil
	})
	switch {
	case errors.Is(err, errNothing):
		if err := r.c.Say(Prompt{Name: PromptNothingRecorded}, false); err != nil {
			return nil, err
		}
		return r.options, nil
	case err != nil:
		return nil, err
	}
	if err := r.c.Say(Prompt{Name: PromptGreetingSaved}, false); err != nil {
		return nil, err
	}
	return r.options, nil
}

var errNothing = errors.New("voicemail: nothing recorded")

// pin: change the PIN (entered twice).
func (r *retrieval) pin() (step, error) {
	var pins [2]string
	for i, p := range []string{PromptNewPIN, PromptNewPINAgain} {
		if err := r.c.Say(Prompt{Name: p}, true); err != nil {
			return nil, err
		}
		v, err := r.c.Collect(8, "#", entryWait, digitWait)
		if err != nil {
			return nil, err
		}
		pins[i] = v
	}
	if pins[0] != pins[1] || !pin.Valid(pins[0]) {
		if err := r.c.Say(Prompt{Name: PromptPINMismatch}, false); err != nil {
			return nil, err
		}
		return r.options, nil
	}
	if err := r.s.setPIN(r.box.Number, pins[0]); err != nil {
		return nil, err
	}
	r.s.log.Info("voicemail PIN changed by phone", "box", r.box.Number)
	if err := r.c.Say(Prompt{Name: PromptPINChanged}, false); err != nil {
		return nil, err
	}
	return r.options, nil
}
